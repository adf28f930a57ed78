package dev.shears.format.gguf;

import dev.shears.io.Printable;
import dev.shears.io.TensorNames;
import dev.shears.model.Architecture;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.RopeScaling;
import dev.shears.model.TensorRole;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.MappedTensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * GGUF ⇄ {@link Model} for the llama family ({@code general.architecture} llama, mistral or qwen2).
 * llama.cpp stores llama/mistral query and key rows in the interleaved RoPE layout; they are converted
 * at this boundary (qwen2 uses the NeoX layout, which is already rotate-half).
 */
public final class GgufModel {
    private GgufModel() {
    }

    /** Reads a GGUF model with every weight widened to fp32 on the heap (what training needs). */
    public static Model read(Path path) {
        try (Model mapped = open(path)) {
            return mapped.dense();
        }
    }

    /**
     * Opens a GGUF model with its matrices read in place from the mapped file, in their type (F32,
     * F16, BF16, Q8_0); interleaved query/key rows are read in rotate-half order through a row
     * permutation, and vectors are widened onto the heap. The model owns the mapping: close it.
     */
    public static Model open(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = config(gguf);
            // every name and shape is checked before any weight is touched: corrupt metadata must not ask for gigabytes
            Map<String, GgufFile.Tensor> found = new java.util.HashMap<>();
            for (GgufFile.Tensor t : gguf.tensors().values()) {
                if (t.name().equals(ROPE_FREQS)) continue; // read into the config's rope scaling
                TensorNames.Key key = TensorNames.GGUF.parse(t.name())
                        .orElseThrow(() -> Printable.error(path + ": unknown tensor '" + t.name() + "'"));
                if (key.role() == TensorRole.LM_HEAD && config.tiedEmbeddings()) continue;
                if (key.role().perLayer && key.layer() >= config.numLayers() || !key.role().isPresent(config, key.layer())) {
                    throw Printable.error(path + ": unexpected tensor '" + t.name() + "' for this configuration");
                }
                int[] expected = key.role().shape(config, key.layer());
                if (!Arrays.equals(expected, t.shape())) {
                    throw Printable.error(path + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape()) + ", the metadata implies " + Arrays.toString(expected));
                }
                found.put(t.name(), t);
            }
            ModelWeights weights = ModelWeights.of(config, (role, layer) -> {
                GgufFile.Tensor t = found.get(TensorNames.GGUF.name(role, layer));
                if (t == null) throw Printable.error(path + ": missing tensor '" + TensorNames.GGUF.name(role, layer) + "'");
                int heads = interleavedHeads(config, role, layer);
                if (role.rank() == 1) {
                    // the bias of a row moves with its row (convert_hf_to_gguf permutes q_proj.bias and k_proj.bias too)
                    float[] values = gguf.mapped(t, 1, t.shape()[0]).toArray();
                    if (heads > 0) RopeLayout.interleavedToHalves(values, heads, config.headDim(), 1);
                    return DenseTensor.vector(values);
                }
                MappedTensor m = gguf.mapped(t, t.shape()[0], t.shape()[1]);
                return heads > 0 ? m.withRowOrder(RopeLayout.interleavedRows(heads, config.headDim())) : m;
            }, List.of(gguf));
            return new Model(config, weights);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /**
     * The heads whose query or key rows (and biases) a GGUF file stores in the interleaved RoPE layout
     * for this tensor, or 0 when it stores it as Shears does (other roles, NeoX-layout architectures).
     */
    static int interleavedHeads(ModelConfig c, TensorRole role, int layer) {
        if (!interleavedRope(c)) return 0;
        return switch (role) {
            case QUERY, QUERY_BIAS -> c.layer(layer).numHeads();
            case KEY, KEY_BIAS -> c.layer(layer).numKvHeads();
            default -> 0;
        };
    }

    /** The tokenizer data in a GGUF file's metadata, or empty where it has none. */
    public static java.util.Optional<GgufTokenizerData> readTokenizer(Path path) {
        try (GgufFile gguf = GgufFile.open(path)) {
            return GgufTokenizerData.read(gguf);
        }
    }

    static boolean interleavedRope(ModelConfig c) {
        return c.architecture() != Architecture.QWEN2;
    }

    /**
     * The GGUF architecture name (llama.cpp calls Mistral "llama"). A LLaMA-family model with different
     * widths per layer is written as llama.cpp's {@code deci} (Nemotron-NAS), whose loader reads per-layer
     * head counts and FFN widths and lets a layer drop its attention; llama.cpp's {@code llama} loader
     * would use layer 0's widths everywhere. A layer without its FFN has no llama.cpp architecture:
     * such a file is {@code llama} with per-layer arrays, which Shears reads.
     */
    static String archName(ModelConfig c) {
        if (c.architecture() == Architecture.QWEN2) return "qwen2";
        return !c.isUniform() && c.layers().stream().allMatch(LayerShape::hasFfn) ? "deci" : "llama";
    }

    /** Which tools load a GGUF written for {@code c}. */
    public static String readers(ModelConfig c) {
        String arch = archName(c);
        if (c.isUniform()) return "llama.cpp (architecture " + arch + ") and Shears";
        if (arch.equals("deci")) return "llama.cpp (architecture deci, per-layer widths) and Shears";
        return "Shears only: llama.cpp has no architecture for " + (arch.equals("qwen2") ? "a Qwen2 with per-layer widths" : "layers without an FFN");
    }

    static ModelConfig config(GgufFile gguf) {
        Map<String, Object> m = gguf.metadata();
        Path path = gguf.path();
        String arch = String.valueOf(m.getOrDefault("general.architecture", ""));
        Architecture architecture = switch (arch) {
            case "llama", "deci" -> Architecture.LLAMA;
            case "mistral" -> Architecture.MISTRAL;
            case "qwen2" -> Architecture.QWEN2;
            default -> throw Printable.error(path + ": unsupported architecture '" + arch + "' (supported: llama, mistral, qwen2, deci)");
        };
        int dim = integer(gguf, arch + ".embedding_length");
        int numLayers = integer(gguf, arch + ".block_count");
        if (numLayers > 100_000) throw Printable.error(path + ": implausible " + arch + ".block_count " + numLayers);
        int[] heads = perLayer(gguf, arch + ".attention.head_count", numLayers, null);
        int[] kvHeads = perLayer(gguf, arch + ".attention.head_count_kv", numLayers, heads);
        int[] ffn = perLayer(gguf, arch + ".feed_forward_length", numLayers, null);
        int maxHeads = Arrays.stream(heads).max().orElse(1);
        int headDim;
        if (m.containsKey(arch + ".attention.key_length")) headDim = integer(gguf, arch + ".attention.key_length");
        else if (maxHeads > 0 && dim % maxHeads == 0) headDim = dim / maxHeads;
        else throw Printable.error(path + ": cannot tell the head width (no " + arch + ".attention.key_length)");
        if (m.containsKey(arch + ".attention.value_length") && integer(gguf, arch + ".attention.value_length") != headDim) {
            throw Printable.error(path + ": value heads narrower or wider than key heads are not supported");
        }
        GgufFile.Tensor embedding = gguf.tensors().get(TensorNames.GGUF.name(TensorRole.EMBEDDING, -1));
        int vocab;
        if (m.containsKey(arch + ".vocab_size")) vocab = integer(gguf, arch + ".vocab_size");
        else if (m.get("tokenizer.ggml.tokens") instanceof List<?> tokens) vocab = tokens.size();
        else if (embedding != null) vocab = embedding.shape()[0];
        else throw Printable.error(path + ": cannot tell the vocabulary size");
        RopeScaling scaling = RopeScaling.NONE;
        Object type = m.get(arch + ".rope.scaling.type");
        if ("linear".equals(type)) scaling = RopeScaling.linear(number(gguf, arch + ".rope.scaling.factor"));
        else if (type != null && !"none".equals(type)) throw Printable.error(path + ": unsupported rope scaling '" + type + "'");
        double theta = m.containsKey(arch + ".rope.freq_base") ? number(gguf, arch + ".rope.freq_base") : 10000;
        if (gguf.tensors().containsKey(ROPE_FREQS)) scaling = llama3Scaling(gguf, path, headDim, theta);
        boolean tied = !gguf.tensors().containsKey(TensorNames.GGUF.name(TensorRole.LM_HEAD, -1));
        boolean bias = gguf.tensors().keySet().stream().anyMatch(n -> TensorNames.GGUF.parse(n).filter(k -> k.role() == TensorRole.QUERY_BIAS).isPresent());
        try {
            List<LayerShape> layers = new ArrayList<>();
            for (int l = 0; l < numLayers; l++) layers.add(new LayerShape(heads[l], kvHeads[l], ffn[l]));
            return new ModelConfig(architecture, dim, headDim, vocab, layers,
                    (float) (m.containsKey(arch + ".attention.layer_norm_rms_epsilon") ? number(gguf, arch + ".attention.layer_norm_rms_epsilon") : 1e-5),
                    theta, scaling,
                    m.containsKey(arch + ".context_length") ? integer(gguf, arch + ".context_length") : 2048, tied, bias,
                    tokenId(gguf, "tokenizer.ggml.bos_token_id"), tokenId(gguf, "tokenizer.ggml.eos_token_id"));
        } catch (IllegalArgumentException e) {
            throw Printable.error(path + ": " + e.getMessage());
        }
    }

    /** A positive int. */
    private static int integer(GgufFile gguf, String key) {
        Object v = gguf.metadata().get(key);
        if (v == null) throw Printable.error(gguf.path() + ": missing metadata " + key);
        if (v instanceof Long n && n > 0 && n <= Integer.MAX_VALUE) return n.intValue();
        throw Printable.error(gguf.path() + ": metadata " + key + " is " + v + ", not a positive integer");
    }

    private static int tokenId(GgufFile gguf, String key) {
        Object v = gguf.metadata().get(key);
        if (v == null) return -1;
        if (v instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) return n.intValue();
        throw Printable.error(gguf.path() + ": metadata " + key + " is " + v + ", not a token id");
    }

    /** llama.cpp's per-frequency RoPE factors (llama3 scaling); Shears also writes the parameters under {@link #ROPE_KEY}. */
    public static final String ROPE_FREQS = "rope_freqs.weight";
    public static final String ROPE_KEY = "shears.rope_scaling.";
    /** Published llama3 scalings, recognised from their factors in files without Shears' keys: Llama 3.1, Llama 3.2. */
    private static final List<RopeScaling> KNOWN_LLAMA3 = List.of(RopeScaling.llama3(8, 1, 4, 8192), RopeScaling.llama3(32, 1, 4, 8192));

    /** llama.cpp's factors: each rotary pair's wavelength is multiplied by its factor (base inverse frequency / scaled one). */
    static float[] ropeFactors(int headDim, double theta, RopeScaling scaling) {
        double[] base = RopeScaling.NONE.inverseFrequencies(headDim, theta), scaled = scaling.inverseFrequencies(headDim, theta);
        float[] factors = new float[base.length];
        for (int i = 0; i < factors.length; i++) factors[i] = (float) (base[i] / scaled[i]);
        return factors;
    }

    /** The llama3 scaling a rope_freqs tensor encodes: Shears' own parameters, else a published scaling with the same factors. */
    private static RopeScaling llama3Scaling(GgufFile gguf, Path path, int headDim, double theta) {
        GgufFile.Tensor t = gguf.tensors().get(ROPE_FREQS);
        if (t.elements() != headDim / 2) throw Printable.error(path + ": " + ROPE_FREQS + " has " + t.elements() + " factors, expected " + headDim / 2);
        float[] factors = gguf.read(t);
        List<RopeScaling> candidates = gguf.metadata().containsKey(ROPE_KEY + "factor")
                ? List.of(RopeScaling.llama3(number(gguf, ROPE_KEY + "factor"), number(gguf, ROPE_KEY + "low_freq_factor"),
                        number(gguf, ROPE_KEY + "high_freq_factor"), integer(gguf, ROPE_KEY + "original_max_position_embeddings")))
                : KNOWN_LLAMA3;
        for (RopeScaling s : candidates) {
            float[] expected = ropeFactors(headDim, theta, s);
            boolean same = true;
            for (int i = 0; i < factors.length && same; i++) same = Math.abs(factors[i] - expected[i]) <= 1e-5f * Math.abs(expected[i]);
            if (same) return s;
        }
        throw Printable.error(path + ": " + ROPE_FREQS + " holds RoPE factors of no llama3 scaling Shears recognises");
    }

    private static double number(GgufFile gguf, String key) {
        if (gguf.metadata().get(key) instanceof Number n) return n.doubleValue();
        throw Printable.error(gguf.path() + ": missing or non-numeric metadata " + key);
    }

    /** A per-layer value stored as a scalar or as an array with one entry per layer. */
    private static int[] perLayer(GgufFile gguf, String key, int numLayers, int[] fallback) {
        Object v = gguf.metadata().get(key);
        int[] out = new int[numLayers];
        if (v instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) {
            Arrays.fill(out, n.intValue());
        } else if (v instanceof List<?> list && list.size() == numLayers) {
            for (int l = 0; l < numLayers; l++) {
                if (!(list.get(l) instanceof Long n) || n < 0 || n > Integer.MAX_VALUE) {
                    throw Printable.error(gguf.path() + ": metadata " + key + " has " + list.get(l) + " for layer " + l);
                }
                out[l] = n.intValue();
            }
        } else if (v == null && fallback != null) {
            return fallback.clone();
        } else {
            throw Printable.error(gguf.path() + ": missing or malformed metadata " + key);
        }
        return out;
    }
}
