package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.format.hf.ConfigJson;
import dev.shears.io.Printable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The shape of an OpenBA encoder–decoder (OpenNLG/OpenBA {@code modeling_openba.py},
 * {@code OpenBAForConditionalGeneration}; Li et al. 2023, "OpenBA: an open-sourced 15B bilingual asymmetric
 * seq2seq model pre-trained from scratch"), validated on construction. Keys and defaults are those of the
 * published {@code configuration_openba.py}; the published 15B sets hidden_size 4096, kv_channels 128, num_heads
 * 40, ffn_hidden_size 16384, num_layers 12, num_decoder_layers 36, vocab_size 250368, add_qkv_bias and
 * add_lm_head_bias true, add_ffn_bias false, tie_word_embeddings false.
 *
 * <p>The SwiGLU width is not stored: {@code SwiGLUMLP} derives it as {@code int(2·ffn_hidden_size/3)} rounded up
 * to a multiple of 256 ({@link #swigluWidth}). A pruned model keeps the stock keys and adds
 * {@code "shears_layer_shapes": {"encoder": [{"num_heads", "ffn_width"}, ...], "decoder": [{"num_heads",
 * "num_cross_heads", "ffn_width"}, ...]}}, where {@code ffn_width} is the SwiGLU width itself (fc_out's input),
 * because ffn_hidden_size → width cannot be inverted.
 *
 * <p>Deliberate differences: {@code add_ffn_bias} true is refused (no published OpenBA has FFN biases);
 * LayerNorm's eps is nn.LayerNorm's default {@link #EPS}, which the published code uses whatever the config
 * says, so no eps key is read; dropout keys are ignored (eval mode).
 *
 * @param dim               hidden_size: the residual width
 * @param headDim           kv_channels: per head, independent of dim (heads · headDim need not be dim); even (rotary pairs)
 * @param vocabSize         rows of the shared embedding and of the LM head
 * @param qkvBias           add_qkv_bias: q/k/v and output projections of every attention have biases
 * @param lmHeadBias        add_lm_head_bias: the LM head has a bias
 * @param tiedEmbeddings    tie_word_embeddings (transformers' default true): the LM head's weight is the shared
 *                          embedding and the decoder output is scaled by dim^-½ first
 * @param maxSrcLen         max_seq_length: rows of the encoder's rotary table, the longest encoder input
 * @param maxTgtLen         decoder_max_seq_length: rows of the decoder's rotary table, the longest decoder input
 * @param decoderStartToken decoder_start_token_id: the first decoder input
 * @param padToken          pad_token_id: the decoder input where a label is ignored (-100)
 * @param encoder           one shape per encoder layer (crossHeads 0)
 * @param decoder           one shape per decoder layer
 */
public record OpenBaConfig(int dim, int headDim, int vocabSize, boolean qkvBias, boolean lmHeadBias, boolean tiedEmbeddings,
                           int maxSrcLen, int maxTgtLen, int decoderStartToken, int padToken,
                           List<Block> encoder, List<Block> decoder) implements EncoderDecoderConfig {
    /** The config.json key of per-layer shapes. */
    public static final String LAYER_SHAPES = "shears_layer_shapes";
    /** nn.LayerNorm's default eps: OpenBABlock and OpenBAStack build {@code nn.LayerNorm(hidden_size)}. */
    public static final float EPS = 1e-5f;
    /** SwiGLUMLP's {@code multiple_of}. */
    public static final int FFN_MULTIPLE = 256;
    private static final Set<String> ARCHITECTURES = Set.of("OpenBAForConditionalGeneration", "OpenBT5ForConditionalGeneration");
    // configuration_openba.py's defaults, for keys a config.json leaves out
    private static final int DEFAULT_MAX_SRC = 1024;
    private static final int DEFAULT_MAX_TGT = 256;

    /**
     * One layer's widths.
     *
     * @param numHeads   self-attention heads
     * @param crossHeads cross-attention heads (decoder layers; 0 in the encoder)
     * @param ffnDim     the SwiGLU width: fc_in has 2·ffnDim rows, fc_out ffnDim columns
     */
    public record Block(int numHeads, int crossHeads, int ffnDim) implements EncoderDecoderConfig.Layer {
        public Block {
            if (numHeads <= 0 || ffnDim <= 0 || crossHeads < 0) {
                throw new IllegalArgumentException("layer widths must be positive: num_heads " + numHeads + ", num_cross_heads " + crossHeads + ", ffn_width " + ffnDim);
            }
        }
    }

    public OpenBaConfig {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        if (dim <= 0 || headDim <= 0 || vocabSize <= 0) throw new IllegalArgumentException("hidden_size, kv_channels and vocab_size must be positive");
        if (headDim % 2 != 0) throw new IllegalArgumentException("kv_channels " + headDim + " must be even: rotary embeddings pair channel i with i + kv_channels/2");
        if (maxSrcLen <= 0 || maxTgtLen <= 0) throw new IllegalArgumentException("max_seq_length and decoder_max_seq_length must be positive");
        Stacks.check(encoder, decoder, vocabSize, decoderStartToken, padToken);
    }

    /** SwiGLUMLP's width: {@code int(2·ffnHiddenSize/3)} rounded up to a multiple of 256 (16384 → 11008). */
    public static int swigluWidth(int ffnHiddenSize) {
        int f = (int) (2.0 * ffnHiddenSize / 3);
        return FFN_MULTIPLE * ((f + FFN_MULTIPLE - 1) / FFN_MULTIPLE);
    }

    /** What multiplies the decoder output before the LM head: dim^-½ when tied, else 1. */
    public float headScale() {
        return tiedEmbeddings ? (float) Math.pow(dim, -0.5) : 1f;
    }

    /** The number of parameters {@link OpenBaWeights} holds for this shape (a tied head once, biases only when switched on), from the shape alone. */
    public long parameterCount() {
        long d = dim, norm = 2 * d, n = (long) vocabSize * d + 2 * norm;
        for (Block b : encoder) n += norm + projections(3, b.numHeads()) + outputParameters(b.numHeads()) + ffnParameters(b.ffnDim());
        for (Block b : decoder) {
            n += norm + projections(3, b.numHeads()) + outputParameters(b.numHeads());
            n += norm + projections(1, b.crossHeads()) + projections(2, b.crossHeads()) + outputParameters(b.crossHeads());
            n += ffnParameters(b.ffnDim());
        }
        if (!tiedEmbeddings) n += (long) vocabSize * d;
        return lmHeadBias ? n + vocabSize : n;
    }

    /** {@code count} fused projections of {@code heads} heads from the hidden state, with their biases when switched on. */
    private long projections(int count, int heads) {
        long inner = (long) heads * headDim;
        return count * inner * dim + (qkvBias ? count * inner : 0);
    }

    /** The output projection of {@code heads} heads and its bias. */
    private long outputParameters(int heads) {
        return (long) dim * heads * headDim + (qkvBias ? dim : 0);
    }

    /** The layer norm, fc_in (gate and up) and fc_out. */
    private long ffnParameters(int ffnDim) {
        return 2L * dim + 3L * ffnDim * dim;
    }

    /** The shape in words: depth of each stack, widths, heads (a range when they differ per layer), SwiGLU width, vocabulary. */
    public String describe() {
        return Stacks.describe("OpenBA", encoder, decoder, dim, headDim, "swiglu", vocabSize);
    }

    /** Whether {@code model} is a Hugging Face folder whose config.json says OpenBA (its model_type or architecture). */
    public static boolean describes(Path model) {
        return ConfigJson.peek(model).filter(OpenBaConfig::says).isPresent();
    }

    /** Whether a config.json's content says OpenBA (its model_type or architecture). */
    public static boolean says(JsonNode config) {
        return Set.of("openba", "OpenBT5").contains(config.path("model_type").asText(""))
                || ARCHITECTURES.contains(config.path("architectures").path(0).asText(""));
    }

    /** Reads an OpenBA config.json; a bad value is a one-line error naming the file and the key. */
    public static OpenBaConfig read(Path file) {
        ConfigJson n = ConfigJson.read(file, "an OpenBA folder");
        String arch = n.first("architectures", "OpenBAForConditionalGeneration");
        if (!ARCHITECTURES.contains(arch)) throw Printable.error(file + ": architecture '" + arch + "' is not OpenBAForConditionalGeneration");
        if (n.flag("add_ffn_bias", false)) throw Printable.error(file + ": \"add_ffn_bias\" true is not supported (the published OpenBA has no FFN biases)");
        int heads = n.required("num_heads");
        int encoderLayers = n.required("num_layers");
        int decoderLayers = n.optional("num_decoder_layers", encoderLayers);
        List<Block> encoder = new ArrayList<>();
        List<Block> decoder = new ArrayList<>();
        JsonNode shapes = n.node().path(LAYER_SHAPES);
        if (shapes.isMissingNode()) {
            int ffn = swigluWidth(n.required("ffn_hidden_size"));
            encoder.addAll(Collections.nCopies(encoderLayers, block(file, heads, 0, ffn)));
            decoder.addAll(Collections.nCopies(decoderLayers, block(file, heads, heads, ffn)));
        } else {
            readShapes(file, shapes.path("encoder"), "encoder", encoderLayers, encoder);
            readShapes(file, shapes.path("decoder"), "decoder", decoderLayers, decoder);
        }
        try {
            return new OpenBaConfig(n.required("hidden_size"), n.required("kv_channels"), n.required("vocab_size"),
                    n.flag("add_qkv_bias", false), n.flag("add_lm_head_bias", false), n.flag("tie_word_embeddings", true),
                    n.optional("max_seq_length", DEFAULT_MAX_SRC), n.optional("decoder_max_seq_length", DEFAULT_MAX_TGT),
                    n.optional("decoder_start_token_id", 0), n.optional("pad_token_id", 0), encoder, decoder);
        } catch (IllegalArgumentException e) {
            throw Printable.error(file + ": " + e.getMessage());
        }
    }

    private static void readShapes(Path file, JsonNode list, String stack, int layers, List<Block> out) {
        if (!list.isArray() || list.size() != layers) throw Printable.error(file + ": " + LAYER_SHAPES + "." + stack + " must list " + layers + " layers");
        for (JsonNode s : list) {
            int cross = stack.equals("decoder") ? s.path("num_cross_heads").asInt(-1) : 0;
            out.add(block(file, s.path("num_heads").asInt(-1), cross, s.path("ffn_width").asInt(-1)));
        }
    }

    private static Block block(Path file, int heads, int crossHeads, int ffn) {
        try {
            return new Block(heads, crossHeads, ffn);
        } catch (IllegalArgumentException e) {
            throw Printable.error(file + ": " + LAYER_SHAPES + ": " + e.getMessage());
        }
    }
}
