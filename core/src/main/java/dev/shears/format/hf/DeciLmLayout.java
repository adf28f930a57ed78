package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.Printable;
import dev.shears.model.Architecture;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Hugging Face Hub's layout for Llama models whose layers differ (DeciLM / Nemotron-NAS, as
 * {@code nvidia/Llama-3_1-Nemotron-51B-Instruct}): {@code "architectures": ["DeciLMForCausalLM"]},
 * {@code "model_type": "nemotron-nas"} and one {@code block_configs} entry per layer,
 * {@code {"attention": {"n_heads_in_group", "no_op", "replace_with_linear"}, "ffn": {"ffn_mult", "no_op",
 * "replace_with_linear"}}}. The readers (the model's own code on the Hub, vLLM, llama.cpp's
 * {@code convert_hf_to_gguf.py}) take every layer's query heads from {@code num_attention_heads}, the
 * head size as {@code hidden_size / num_attention_heads}, key/value heads as
 * {@code num_attention_heads / n_heads_in_group}, and the FFN width as
 * {@code int(2 · ffn_mult · hidden_size / 3)} rounded up to a multiple of 256. So only some pruned
 * shapes are expressible ({@link #inexpressible}); the others keep Shears' own key. Tensor names are
 * Llama's; a removed sub-layer has no tensors (its norm included), as in Shears.
 */
final class DeciLmLayout {
    static final String ARCHITECTURE = "DeciLMForCausalLM";
    static final String MODEL_TYPE = "nemotron-nas";
    static final String BLOCK_CONFIGS = "block_configs";
    /** The Hub repository whose code ({@code trust_remote_code}) defines the layout; {@code auto_map} points there. */
    static final String CODE = "nvidia/Llama-3_1-Nemotron-51B-Instruct";
    private static final int FFN_MULTIPLE = 256;

    private DeciLmLayout() {
    }

    /** Why {@code c} cannot be written in this layout; empty when it can. */
    static Optional<String> inexpressible(ModelConfig c) {
        if (c.architecture() != Architecture.LLAMA) return Optional.of("only Llama models have it, not " + c.architecture().hfClass);
        if (c.attentionBias()) return Optional.of("it has no attention biases");
        int heads = c.maxHeads();
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape s = c.layer(l);
            if (s.hasAttention() && s.numHeads() != heads) return Optional.of("every attention layer needs the same number of query heads (layer " + l + " has " + s.numHeads() + ", others " + heads + ")");
            if (s.hasFfn() && s.ffnDim() % FFN_MULTIPLE != 0) return Optional.of("FFN widths must be multiples of 256 (layer " + l + " has " + s.ffnDim() + ")");
        }
        if (heads > 0 && heads * c.headDim() != c.dim()) {
            return Optional.of("the head size must be hidden_size / num_attention_heads (" + c.dim() + " / " + heads + " ≠ " + c.headDim() + ")");
        }
        if (c.layers().stream().noneMatch(LayerShape::hasAttention)) return Optional.of("no layer keeps its attention");
        return Optional.empty();
    }

    /** Writes the layout's fields into {@code n}, a config.json with Llama's stock fields. */
    static void put(ObjectNode n, ModelConfig c) {
        n.putArray("architectures").add(ARCHITECTURE);
        n.put("model_type", MODEL_TYPE);
        n.putNull("intermediate_size");
        n.putNull("num_key_value_heads");
        ObjectNode auto = n.putObject("auto_map");
        auto.put("AutoConfig", CODE + "--configuration_decilm.DeciLMConfig");
        auto.put("AutoModelForCausalLM", CODE + "--modeling_decilm.DeciLMForCausalLM");
        var blocks = n.putArray(BLOCK_CONFIGS);
        for (LayerShape s : c.layers()) {
            ObjectNode block = blocks.addObject();
            ObjectNode attention = block.putObject("attention");
            if (s.hasAttention()) attention.put("n_heads_in_group", s.groupSize());
            else attention.putNull("n_heads_in_group");
            attention.put("no_op", !s.hasAttention()).put("replace_with_linear", false);
            ObjectNode ffn = block.putObject("ffn");
            if (s.hasFfn()) ffn.put("ffn_mult", ffnMult(s.ffnDim(), c.dim()));
            else ffn.putNull("ffn_mult");
            ffn.put("no_op", !s.hasFfn()).put("replace_with_linear", false);
        }
    }

    /** A multiplier the readers turn back into exactly {@code width} (a multiple of 256). */
    static double ffnMult(int width, int dim) {
        double mult = 1.5 * width / dim;
        if (intermediateSize(mult, dim) != width) throw new IllegalStateException("ffn_mult " + mult + " does not give " + width);
        return mult;
    }

    /** The readers' formula: {@code int(2 * ffn_mult * n_embd / 3)} rounded up to a multiple of 256, in the same double arithmetic. */
    static int intermediateSize(double mult, int dim) {
        int size = (int) (2 * mult * dim / 3);
        return size % FFN_MULTIPLE == 0 ? size : size + FFN_MULTIPLE - size % FFN_MULTIPLE;
    }

    /** Every layer's shape from {@code block_configs}. */
    static List<LayerShape> read(Path file, JsonNode n, int dim, int numLayers, int numHeads) {
        JsonNode blocks = n.get(BLOCK_CONFIGS);
        if (!blocks.isArray() || blocks.size() != numLayers) throw Printable.error(file + ": " + BLOCK_CONFIGS + " must list " + numLayers + " layers");
        List<LayerShape> layers = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            String at = file + ": " + BLOCK_CONFIGS + "[" + l + "]";
            JsonNode attention = blocks.get(l).path("attention"), ffn = blocks.get(l).path("ffn");
            if (attention.path("replace_with_linear").asBoolean(false) || ffn.path("replace_with_linear").asBoolean(false)) {
                throw Printable.error(at + ": sub-layers replaced with a linear map are not supported");
            }
            int heads = 0, kvHeads = 0, width = 0;
            if (!attention.path("no_op").asBoolean(false)) {
                JsonNode group = attention.path("n_heads_in_group");
                if (!group.canConvertToInt() || group.asInt() <= 0 || numHeads % group.asInt() != 0) {
                    throw Printable.error(at + ": attention.n_heads_in_group must divide num_attention_heads " + numHeads + ", got " + group);
                }
                heads = numHeads;
                kvHeads = numHeads / group.asInt();
            }
            if (!ffn.path("no_op").asBoolean(false)) {
                JsonNode mult = ffn.path("ffn_mult");
                if (!mult.isNumber() || !(mult.asDouble() > 0) || mult.asDouble() * dim > 1e9) {
                    throw Printable.error(at + ": ffn.ffn_mult must be a positive number, got " + mult);
                }
                width = intermediateSize(mult.asDouble(), dim);
            }
            layers.add(new LayerShape(heads, kvHeads, width));
        }
        return layers;
    }
}
