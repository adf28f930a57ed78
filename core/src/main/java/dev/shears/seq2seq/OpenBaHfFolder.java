package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.DType;

import java.nio.file.Path;

/**
 * An OpenBA model as a Hugging Face {@code OpenBAForConditionalGeneration} folder: {@code model.safetensors} with the
 * published names of {@link OpenBaWeights#forEach} and a {@code config.json} that {@link OpenBaConfig#read} reads back
 * to the same config. A model whose every layer has {@code num_heads} heads (self and cross) and the SwiGLU width that
 * the source's {@code ffn_hidden_size} gives is stock OpenBA; any other keeps the stock keys and adds
 * {@link OpenBaConfig#LAYER_SHAPES} (the width itself, since ffn_hidden_size → width cannot be inverted), which only
 * Shears reads.
 */
public final class OpenBaHfFolder {
    private OpenBaHfFolder() {
    }

    /**
     * The config.json of {@code c}: {@code base} (the source's config.json, whose other keys such as
     * {@code eos_token_id} or {@code ffn_hidden_size} are kept) with every key the config owns set from it; {@code num_heads}
     * is the most heads of any layer.
     */
    public static ObjectNode configJson(OpenBaConfig c, ObjectNode base, DType dtype) {
        ObjectNode n = base.deepCopy();
        n.putArray("architectures").add("OpenBAForConditionalGeneration");
        n.put("model_type", "openba");
        n.put("hidden_size", c.dim());
        n.put("kv_channels", c.headDim());
        n.put("vocab_size", c.vocabSize());
        int heads = 0;
        for (OpenBaConfig.Block b : c.encoder()) heads = Math.max(heads, b.numHeads());
        for (OpenBaConfig.Block b : c.decoder()) heads = Math.max(heads, Math.max(b.numHeads(), b.crossHeads()));
        n.put("num_heads", heads);
        n.put("num_layers", c.encoder().size());
        n.put("num_decoder_layers", c.decoder().size());
        n.put("add_qkv_bias", c.qkvBias());
        n.put("add_ffn_bias", false);
        n.put("add_lm_head_bias", c.lmHeadBias());
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("max_seq_length", c.maxSrcLen());
        n.put("decoder_max_seq_length", c.maxTgtLen());
        n.put("decoder_start_token_id", c.decoderStartToken());
        n.put("pad_token_id", c.padToken());
        n.put("torch_dtype", dtype.torchName);
        n.remove(OpenBaConfig.LAYER_SHAPES);
        int stockWidth = n.has("ffn_hidden_size") ? OpenBaConfig.swigluWidth(n.path("ffn_hidden_size").asInt()) : -1;
        if (!isUniform(c, heads, stockWidth)) {
            ObjectNode shapes = n.putObject(OpenBaConfig.LAYER_SHAPES);
            ArrayNode encoder = shapes.putArray("encoder");
            for (OpenBaConfig.Block b : c.encoder()) encoder.addObject().put("num_heads", b.numHeads()).put("ffn_width", b.ffnDim());
            ArrayNode decoder = shapes.putArray("decoder");
            for (OpenBaConfig.Block b : c.decoder()) {
                decoder.addObject().put("num_heads", b.numHeads()).put("num_cross_heads", b.crossHeads()).put("ffn_width", b.ffnDim());
            }
        }
        return n;
    }

    /** A config.json with nothing but the config's own keys (always with {@link OpenBaConfig#LAYER_SHAPES}: no ffn_hidden_size to derive widths from). */
    public static ObjectNode configJson(OpenBaConfig c, DType dtype) {
        return configJson(c, JsonNodeFactory.instance.objectNode(), dtype);
    }

    /** Whether the published code builds {@code c} from the stock keys: {@code heads} everywhere and {@code width} in every MLP. */
    private static boolean isUniform(OpenBaConfig c, int heads, int width) {
        for (OpenBaConfig.Block b : c.encoder()) if (b.numHeads() != heads || b.ffnDim() != width) return false;
        for (OpenBaConfig.Block b : c.decoder()) if (b.numHeads() != heads || b.crossHeads() != heads || b.ffnDim() != width) return false;
        return true;
    }

    /**
     * Writes {@code model.safetensors} in {@code dtype} and {@code config.json} into {@code dir}, each under a temporary
     * name, moved into place together (weights before the config).
     *
     * @param config the config.json to write ({@link #configJson})
     */
    public static void write(OpenBaModel model, ObjectNode config, Path dir, DType dtype) {
        T5HfFolder.write(visitor -> model.weights().forEach(model.config(), visitor), config, dir, dtype);
    }
}
