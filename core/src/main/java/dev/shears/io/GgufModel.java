package dev.shears.io;

import dev.shears.ShearsException;
import dev.shears.model.Architecture;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.RopeScaling;
import dev.shears.model.TensorRole;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GGUF ⇄ {@link Model} for the llama family ({@code general.architecture} llama, mistral or qwen2).
 * llama.cpp stores llama/mistral query and key rows in the interleaved RoPE layout; they are converted
 * at this boundary (qwen2 uses the NeoX layout, which is already rotate-half).
 */
public final class GgufModel {
    private GgufModel() {
    }

    public static Model read(Path path) {
        try (GgufFile gguf = GgufFile.open(path)) {
            ModelConfig config = config(gguf);
            Model model = Model.zeros(config);
            Set<String> loaded = new HashSet<>();
            for (GgufFile.Tensor t : gguf.tensors().values()) {
                if (t.name().equals("rope_freqs.weight")) {
                    throw new ShearsException(path + ": rope_freqs (llama3-style frequency factors stored as a tensor) is not supported yet");
                }
                HfNames.Key key = GgufNames.parse(t.name())
                        .orElseThrow(() -> new ShearsException(path + ": unknown tensor '" + t.name() + "'"));
                if (key.role() == TensorRole.LM_HEAD && config.tiedEmbeddings()) continue;
                if (key.role().perLayer && key.layer() >= config.numLayers() || !key.role().isPresent(config, key.layer())) {
                    throw new ShearsException(path + ": unexpected tensor '" + t.name() + "' for this configuration");
                }
                int[] expected = key.role().shape(config, key.layer());
                if (!Arrays.equals(expected, t.shape())) {
                    throw new ShearsException(path + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape()) + ", the metadata implies " + Arrays.toString(expected));
                }
                model.weights().set(key.role(), key.layer(), gguf.read(t));
                loaded.add(t.name());
            }
            model.weights().forEach((role, layer, values) -> {
                if (!loaded.contains(GgufNames.name(role, layer))) throw new ShearsException(path + ": missing tensor '" + GgufNames.name(role, layer) + "'");
            });
            if (interleavedRope(config)) {
                for (int l = 0; l < config.numLayers(); l++) {
                    LayerShape s = config.layer(l);
                    if (!s.hasAttention()) continue;
                    RopeLayout.interleavedToHalves(model.weights().get(TensorRole.QUERY, l), s.numHeads(), config.headDim(), config.dim());
                    RopeLayout.interleavedToHalves(model.weights().get(TensorRole.KEY, l), s.numKvHeads(), config.headDim(), config.dim());
                }
            }
            return model;
        }
    }

    static boolean interleavedRope(ModelConfig c) {
        return c.architecture() != Architecture.QWEN2;
    }

    /** The GGUF architecture name (llama.cpp calls Mistral "llama"). */
    static String archName(Architecture a) {
        return a == Architecture.QWEN2 ? "qwen2" : "llama";
    }

    static ModelConfig config(GgufFile gguf) {
        Map<String, Object> m = gguf.metadata();
        Path path = gguf.path();
        String arch = String.valueOf(m.getOrDefault("general.architecture", ""));
        Architecture architecture = switch (arch) {
            case "llama" -> Architecture.LLAMA;
            case "mistral" -> Architecture.MISTRAL;
            case "qwen2" -> Architecture.QWEN2;
            default -> throw new ShearsException(path + ": unsupported architecture '" + arch + "' (supported: llama, mistral, qwen2)");
        };
        int dim = integer(gguf, arch + ".embedding_length");
        int numLayers = integer(gguf, arch + ".block_count");
        int[] heads = perLayer(gguf, arch + ".attention.head_count", numLayers, null);
        int[] kvHeads = perLayer(gguf, arch + ".attention.head_count_kv", numLayers, heads);
        int[] ffn = perLayer(gguf, arch + ".feed_forward_length", numLayers, null);
        int maxHeads = Arrays.stream(heads).max().orElse(1);
        int headDim = m.containsKey(arch + ".attention.key_length") ? integer(gguf, arch + ".attention.key_length") : dim / maxHeads;
        int vocab;
        if (m.get(arch + ".vocab_size") instanceof Number n) vocab = n.intValue();
        else if (m.get("tokenizer.ggml.tokens") instanceof List<?> tokens) vocab = tokens.size();
        else if (gguf.tensors().containsKey("token_embd.weight")) vocab = gguf.tensors().get("token_embd.weight").shape()[0];
        else throw new ShearsException(path + ": cannot tell the vocabulary size");
        List<LayerShape> layers = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) layers.add(new LayerShape(heads[l], kvHeads[l], ffn[l]));
        RopeScaling scaling = RopeScaling.NONE;
        Object type = m.get(arch + ".rope.scaling.type");
        if ("linear".equals(type)) scaling = RopeScaling.linear(number(gguf, arch + ".rope.scaling.factor"));
        else if (type != null && !"none".equals(type)) throw new ShearsException(path + ": unsupported rope scaling '" + type + "'");
        boolean tied = !gguf.tensors().containsKey("output.weight");
        boolean bias = gguf.tensors().containsKey("blk.0.attn_q.bias");
        try {
            return new ModelConfig(architecture, dim, headDim, vocab, layers,
                    (float) (m.get(arch + ".attention.layer_norm_rms_epsilon") instanceof Number n ? n.doubleValue() : 1e-5),
                    m.get(arch + ".rope.freq_base") instanceof Number n ? n.doubleValue() : 10000, scaling,
                    m.get(arch + ".context_length") instanceof Number n ? n.intValue() : 2048, tied, bias,
                    m.get("tokenizer.ggml.bos_token_id") instanceof Number n ? n.intValue() : 1,
                    m.get("tokenizer.ggml.eos_token_id") instanceof Number n ? n.intValue() : 2);
        } catch (IllegalArgumentException e) {
            throw new ShearsException(path + ": " + e.getMessage());
        }
    }

    private static int integer(GgufFile gguf, String key) {
        if (gguf.metadata().get(key) instanceof Number n) return n.intValue();
        throw new ShearsException(gguf.path() + ": missing metadata " + key);
    }

    private static double number(GgufFile gguf, String key) {
        if (gguf.metadata().get(key) instanceof Number n) return n.doubleValue();
        throw new ShearsException(gguf.path() + ": missing metadata " + key);
    }

    /** A per-layer value stored as a scalar or as an array with one entry per layer. */
    private static int[] perLayer(GgufFile gguf, String key, int numLayers, int[] fallback) {
        Object v = gguf.metadata().get(key);
        int[] out = new int[numLayers];
        if (v instanceof Number n) {
            Arrays.fill(out, n.intValue());
        } else if (v instanceof List<?> list && list.size() == numLayers) {
            for (int l = 0; l < numLayers; l++) out[l] = ((Number) list.get(l)).intValue();
        } else if (v == null && fallback != null) {
            return fallback.clone();
        } else {
            throw new ShearsException(gguf.path() + ": missing or malformed metadata " + key);
        }
        return out;
    }
}
