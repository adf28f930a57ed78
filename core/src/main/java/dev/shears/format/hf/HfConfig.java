package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.AtomicFiles;
import dev.shears.io.Printable;
import dev.shears.model.Architecture;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.RopeScaling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Hugging Face {@code config.json} ⇄ {@link ModelConfig}. Non-uniform models (per-layer head counts
 * or FFN widths, as pruning makes them) are written in the Hub's heterogeneous-Llama layout
 * ({@link DeciLmLayout}, {@code block_configs}) where their shape is expressible there; otherwise they
 * keep the stock fields (set to the widest layer) and add
 * {@code "shears_layer_shapes": [{"num_attention_heads", "num_key_value_heads", "intermediate_size"}, ...]},
 * which only Shears reads. Both are read back.
 */
public final class HfConfig {
    public static final String LAYER_SHAPES = "shears_layer_shapes";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfConfig() {
    }

    public static ModelConfig read(Path file) {
        return parse(file, ConfigJson.read(file, "a Hugging Face model folder").node());
    }

    static ModelConfig parse(Path file, JsonNode n) {
        String archName = n.path("architectures").path(0).asText("");
        boolean blocks = n.has(DeciLmLayout.BLOCK_CONFIGS);
        if (blocks && !archName.equals(DeciLmLayout.ARCHITECTURE) && !n.path("model_type").asText("").equals(DeciLmLayout.MODEL_TYPE)) {
            throw Printable.error(file + ": " + DeciLmLayout.BLOCK_CONFIGS + " belongs to " + DeciLmLayout.ARCHITECTURE + ", not '" + archName + "'");
        }
        Architecture arch = blocks ? Architecture.LLAMA : Architecture.fromHfClass(archName)
                .or(() -> Architecture.fromModelType(n.path("model_type").asText("")))
                .orElseThrow(() -> Printable.error(file + ": unsupported architecture '" + (archName.isEmpty() ? n.path("model_type").asText("?") : archName)
                        + "' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)"));
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw Printable.error(file + ": hidden_act '" + act + "' is not supported; Shears runs SwiGLU models (hidden_act silu)");
        }
        int dim = required(file, n, "hidden_size");
        int numLayers = required(file, n, "num_hidden_layers");
        int vocab = required(file, n, "vocab_size");
        boolean perLayer = n.has(LAYER_SHAPES);
        // with per-layer shapes the stock fields are only the widest layer's (0 where every layer lost its attention)
        int numHeads = perLayer ? optional(file, n, "num_attention_heads", 0) : required(file, n, "num_attention_heads");
        int numKvHeads = optional(file, n, "num_key_value_heads", numHeads);
        int ffnDim = perLayer || blocks ? optional(file, n, "intermediate_size", 0) : required(file, n, "intermediate_size");
        int headDim;
        if (n.hasNonNull("head_dim")) headDim = optional(file, n, "head_dim", 0);
        else if (numHeads > 0 && dim % numHeads == 0) headDim = dim / numHeads;
        else throw Printable.error(file + ": hidden_size " + dim + " is not a multiple of num_attention_heads " + numHeads + " and there is no head_dim");
        List<LayerShape> layers = new ArrayList<>();
        if (blocks) {
            layers.addAll(DeciLmLayout.read(file, n, dim, numLayers, numHeads));
        } else if (perLayer) {
            JsonNode shapes = n.get(LAYER_SHAPES);
            if (!shapes.isArray() || shapes.size() != numLayers) {
                throw Printable.error(file + ": " + LAYER_SHAPES + " must list " + numLayers + " layers");
            }
            for (JsonNode s : shapes) {
                layers.add(layerShape(file, s.path("num_attention_heads").asInt(-1), s.path("num_key_value_heads").asInt(-1), s.path("intermediate_size").asInt(-1)));
            }
        } else {
            layers.addAll(Collections.nCopies(numLayers, layerShape(file, numHeads, numKvHeads, ffnDim)));
        }
        boolean tied = n.path("tie_word_embeddings").asBoolean(false);
        // Qwen2 configs have no attention_bias field: their projections always carry biases
        boolean bias = n.path("attention_bias").asBoolean(arch == Architecture.QWEN2);
        int bos = firstId(n.path("bos_token_id")), eos = firstId(n.path("eos_token_id"));
        for (int id : new int[] {bos, eos}) {
            if (id >= vocab) throw Printable.error(file + ": bos/eos token id " + id + " is outside the vocabulary of " + vocab);
        }
        try {
            return new ModelConfig(arch, dim, headDim, vocab, layers, (float) n.path("rms_norm_eps").asDouble(1e-6),
                    n.path("rope_theta").asDouble(10000), ropeScaling(file, n.path("rope_scaling")),
                    optional(file, n, "max_position_embeddings", 2048), tied, bias, bos, eos);
        } catch (IllegalArgumentException e) {
            throw Printable.error(file + ": " + e.getMessage());
        }
    }

    private static LayerShape layerShape(Path file, int heads, int kvHeads, int ffn) {
        try {
            return new LayerShape(heads, kvHeads, ffn);
        } catch (IllegalArgumentException e) {
            throw Printable.error(file + ": " + e.getMessage());
        }
    }

    private static int required(Path file, JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || !isWholeInt(v) || v.asInt() <= 0) throw Printable.error(file + ": missing or invalid \"" + key + "\"");
        return v.asInt();
    }

    /** A non-negative whole number when present (null counts as absent), else {@code absent}. */
    private static int optional(Path file, JsonNode n, String key, int absent) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return absent;
        if (!isWholeInt(v) || v.asInt() < 0) throw Printable.error(file + ": \"" + key + "\" must be a whole number ≥ 0, got " + v);
        return v.asInt();
    }

    private static boolean isWholeInt(JsonNode v) {
        return v.isIntegralNumber() && v.canConvertToInt() || v.isFloatingPointNumber() && v.canConvertToInt() && v.asDouble() == Math.rint(v.asDouble());
    }

    private static int firstId(JsonNode id) {
        if (id.isArray()) return id.size() == 0 ? -1 : id.get(0).asInt(-1);
        return id.isNumber() ? id.asInt() : -1;
    }

    private static RopeScaling ropeScaling(Path file, JsonNode s) {
        if (s.isMissingNode() || s.isNull()) return RopeScaling.NONE;
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText();
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(s.path("factor").asDouble(1));
            case "llama3" -> RopeScaling.llama3(s.path("factor").asDouble(), s.path("low_freq_factor").asDouble(1),
                    s.path("high_freq_factor").asDouble(4), s.path("original_max_position_embeddings").asInt(8192));
            default -> throw Printable.error(file + ": unsupported rope_scaling type '" + type + "' (supported: linear, llama3)");
        };
    }

    /** The config.json of a model, with the stock fields other tools read. */
    public static ObjectNode toJson(ModelConfig c, String torchDtype) {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(c.architecture().hfClass);
        n.put("model_type", c.architecture().hfModelType);
        n.put("hidden_size", c.dim());
        n.put("intermediate_size", c.maxFfnDim());
        n.put("num_hidden_layers", c.numLayers());
        n.put("num_attention_heads", c.maxHeads());
        n.put("num_key_value_heads", c.maxKvHeads());
        n.put("head_dim", c.headDim());
        n.put("vocab_size", c.vocabSize());
        n.put("max_position_embeddings", c.maxSeqLen());
        n.put("rms_norm_eps", c.normEps());
        n.put("rope_theta", c.ropeTheta());
        switch (c.ropeScaling().type()) {
            case NONE -> n.putNull("rope_scaling");
            case LINEAR -> n.putObject("rope_scaling").put("rope_type", "linear").put("factor", c.ropeScaling().factor());
            case LLAMA3 -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", c.ropeScaling().factor())
                    .put("low_freq_factor", c.ropeScaling().lowFreqFactor()).put("high_freq_factor", c.ropeScaling().highFreqFactor())
                    .put("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
        }
        n.put("hidden_act", "silu");
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("attention_bias", c.attentionBias());
        n.put("mlp_bias", false);
        if (c.bosId() >= 0) n.put("bos_token_id", c.bosId());
        if (c.eosId() >= 0) n.put("eos_token_id", c.eosId());
        n.put("torch_dtype", torchDtype);
        if (!c.isUniform() && DeciLmLayout.inexpressible(c).isEmpty()) {
            DeciLmLayout.put(n, c);
        } else if (!c.isUniform()) {
            ArrayNode shapes = n.putArray(LAYER_SHAPES);
            for (LayerShape s : c.layers()) {
                shapes.addObject().put("num_attention_heads", s.numHeads()).put("num_key_value_heads", s.numKvHeads()).put("intermediate_size", s.ffnDim());
            }
        }
        return n;
    }

    /** Which tools load a model folder of this shape, and why no others where that matters. */
    public static String readers(ModelConfig c) {
        if (c.isUniform()) return "Hugging Face transformers and Shears";
        return DeciLmLayout.inexpressible(c)
                .map(why -> "Shears only: per-layer widths are in its own config key " + LAYER_SHAPES + " (the Hub's " + DeciLmLayout.BLOCK_CONFIGS
                        + " layout cannot hold this shape: " + why + "); export --format gguf for llama.cpp")
                .orElse("Shears, llama.cpp's convert_hf_to_gguf.py, vLLM, and transformers with trust_remote_code (" + DeciLmLayout.ARCHITECTURE
                        + " " + DeciLmLayout.BLOCK_CONFIGS + " layout, code from " + DeciLmLayout.CODE + ")");
    }

    public static void write(ModelConfig c, Path file, String torchDtype) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(toJson(c, torchDtype)) + "\n");
        } catch (IOException e) {
            throw Printable.error(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"));
    }
}
