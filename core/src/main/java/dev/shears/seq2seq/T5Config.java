package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.format.hf.ConfigJson;
import dev.shears.io.Printable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The shape of a T5 encoder–decoder (Hugging Face {@code T5ForConditionalGeneration}), validated on
 * construction. Heads and FFN widths may differ per layer (a pruned model): Shears then keeps the stock
 * fields and adds {@code "shears_layer_shapes": {"encoder": [{"num_heads", "d_ff", "bias_heads"}, ...], "decoder":
 * [{"num_heads", "num_cross_heads", "d_ff", "bias_heads"}, ...]}}, as {@code HfConfig} does for decoder-only
 * models. {@code bias_heads} (optional; 0, 1, … by default) lists the column of the stack's relative bias
 * table that each self-attention head reads: the table stays whole when heads are pruned, and each layer
 * keeps the columns of the heads it kept.
 *
 * @param dim               d_model: the residual width
 * @param headDim           d_kv: per head, independent of dim (heads · headDim need not be dim)
 * @param vocabSize         rows of the shared embedding (and of an untied LM head)
 * @param biasHeads         num_heads: the columns of each stack's relative bias table
 * @param numBuckets        relative_attention_num_buckets
 * @param maxDistance       relative_attention_max_distance
 * @param eps               layer_norm_epsilon of every T5LayerNorm
 * @param feedForward       feed_forward_proj
 * @param tiedEmbeddings    tie_word_embeddings: the LM head is the shared embedding, after scaling by dim^-½
 * @param decoderStartToken decoder_start_token_id: the first decoder input
 * @param padToken          pad_token_id: the decoder input where a label is ignored (-100)
 * @param encoder           one shape per encoder layer (crossHeads 0)
 * @param decoder           one shape per decoder layer
 */
public record T5Config(int dim, int headDim, int vocabSize, int biasHeads, int numBuckets, int maxDistance, float eps,
                       FeedForward feedForward, boolean tiedEmbeddings, int decoderStartToken, int padToken,
                       List<Block> encoder, List<Block> decoder) implements EncoderDecoderConfig {
    /** The config.json key of per-layer shapes. */
    public static final String LAYER_SHAPES = "shears_layer_shapes";
    // transformers' T5Config defaults, for keys a config.json leaves out
    private static final int DEFAULT_BUCKETS = 32;
    private static final int DEFAULT_MAX_DISTANCE = 128;
    private static final double DEFAULT_EPS = 1e-6;

    /** The feed-forward of {@code feed_forward_proj}; Hugging Face runs gated-gelu as gelu_new whatever dense_act_fn says. */
    public enum FeedForward {
        /** T5 v1.0: {@code wo(relu(wi·x))}. */
        RELU("relu"),
        /** T5 v1.1, Flan-T5: {@code wo(gelu_new(wi_0·x) ⊙ wi_1·x)}. */
        GATED_GELU("gated-gelu");

        public final String key;

        FeedForward(String key) {
            this.key = key;
        }

        public boolean gated() {
            return this == GATED_GELU;
        }
    }

    /**
     * One layer's widths.
     *
     * @param numHeads    self-attention heads
     * @param crossHeads  cross-attention heads (decoder layers; 0 in the encoder)
     * @param ffnDim      d_ff
     * @param biasColumns [numHeads]: the column of the stack's relative bias table each self-attention head reads
     */
    public record Block(int numHeads, int crossHeads, int ffnDim, List<Integer> biasColumns) implements EncoderDecoderConfig.Layer {
        public Block {
            if (numHeads <= 0 || ffnDim <= 0 || crossHeads < 0) {
                throw new IllegalArgumentException("layer widths must be positive: num_heads " + numHeads + ", num_cross_heads " + crossHeads + ", d_ff " + ffnDim);
            }
            biasColumns = List.copyOf(biasColumns);
            if (biasColumns.size() != numHeads) throw new IllegalArgumentException("bias_heads lists " + biasColumns.size() + " columns for " + numHeads + " heads");
        }

        /** A layer whose head h reads column h of the bias table, as in every unpruned model. */
        public Block(int numHeads, int crossHeads, int ffnDim) {
            this(numHeads, crossHeads, ffnDim, IntStream.range(0, Math.max(numHeads, 0)).boxed().toList());
        }

        /** {@link #biasColumns} as an array. */
        public int[] columns() {
            return biasColumns.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    public T5Config {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        if (dim <= 0 || headDim <= 0 || vocabSize <= 0 || biasHeads <= 0) throw new IllegalArgumentException("d_model, d_kv, vocab_size and num_heads must be positive");
        // the causal half keeps numBuckets/2 exact buckets; the log needs maxDistance beyond them
        if (numBuckets < 4 || maxDistance <= numBuckets / 2) {
            throw new IllegalArgumentException("relative_attention_num_buckets " + numBuckets + " must be ≥ 4 and relative_attention_max_distance "
                    + maxDistance + " above half of it");
        }
        if (!(eps > 0)) throw new IllegalArgumentException("layer_norm_epsilon must be positive, got " + eps);
        Stacks.check(encoder, decoder, vocabSize, decoderStartToken, padToken);
        for (Block b : Stream.concat(encoder.stream(), decoder.stream()).toList()) {
            for (int column : b.biasColumns()) {
                if (column < 0 || column >= biasHeads) throw new IllegalArgumentException("bias_heads " + b.biasColumns() + " reaches outside the " + biasHeads + " columns (num_heads) of the bias table");
            }
        }
    }

    /** What multiplies the decoder output before the LM head: dim^-½ when tied (Mesh TensorFlow's rescaling), else 1. */
    public float headScale() {
        return tiedEmbeddings ? (float) Math.pow(dim, -0.5) : 1f;
    }

    /** The number of parameters {@link T5Weights} holds for this shape (a tied head once), from the shape alone. */
    public long parameterCount() {
        long d = dim, n = (long) vocabSize * d + 2L * numBuckets * biasHeads + 2 * d;
        for (Block b : encoder) n += attentionParameters(b.numHeads()) + ffnParameters(b.ffnDim());
        for (Block b : decoder) n += attentionParameters(b.numHeads()) + attentionParameters(b.crossHeads()) + ffnParameters(b.ffnDim());
        return tiedEmbeddings ? n : n + (long) vocabSize * d;
    }

    /** A layer norm, q, k, v and o. */
    private long attentionParameters(int heads) {
        return dim + 4L * heads * headDim * dim;
    }

    /** A layer norm, wi (wi_0 and wi_1 when gated) and wo. */
    private long ffnParameters(int ffnDim) {
        return dim + (feedForward.gated() ? 3L : 2L) * ffnDim * dim;
    }

    /** The shape in words: depth of each stack, widths, heads (a range when they differ per layer), FFN, vocabulary. */
    public String describe() {
        return Stacks.describe("T5", encoder, decoder, dim, headDim, feedForward.key, vocabSize);
    }

    /** Whether {@code model} is a Hugging Face folder whose config.json says T5 ({@code model_type} t5 or a T5 architecture). */
    public static boolean describes(Path model) {
        return ConfigJson.peek(model).filter(T5Config::says).isPresent();
    }

    /** Whether a config.json's content says T5 ({@code model_type} t5 or a T5 architecture). */
    public static boolean says(JsonNode config) {
        return config.path("model_type").asText("").equals("t5") || config.path("architectures").path(0).asText("").startsWith("T5");
    }

    /** Reads a Hugging Face T5 config.json; a bad value is a one-line error naming the file and the key. */
    public static T5Config read(Path file) {
        ConfigJson n = ConfigJson.read(file, "a Hugging Face T5 folder");
        String arch = n.first("architectures", "T5ForConditionalGeneration");
        if (!arch.equals("T5ForConditionalGeneration")) throw Printable.error(file + ": architecture '" + arch + "' is not T5ForConditionalGeneration");
        String proj = n.node().path("feed_forward_proj").asText(FeedForward.RELU.key);
        FeedForward feedForward = null;
        for (FeedForward f : FeedForward.values()) if (f.key.equals(proj)) feedForward = f;
        if (feedForward == null) throw Printable.error(file + ": \"feed_forward_proj\" '" + proj + "' is not supported (supported: relu, gated-gelu)");
        int heads = n.required("num_heads");
        int encoderLayers = n.required("num_layers");
        int decoderLayers = n.optional("num_decoder_layers", encoderLayers);
        List<Block> encoder = new ArrayList<>();
        List<Block> decoder = new ArrayList<>();
        JsonNode shapes = n.node().path(LAYER_SHAPES);
        if (shapes.isMissingNode()) {
            int ffn = n.required("d_ff");
            encoder.addAll(Collections.nCopies(encoderLayers, new Block(heads, 0, ffn)));
            decoder.addAll(Collections.nCopies(decoderLayers, new Block(heads, heads, ffn)));
        } else {
            readShapes(file, shapes.path("encoder"), "encoder", encoderLayers, encoder);
            readShapes(file, shapes.path("decoder"), "decoder", decoderLayers, decoder);
        }
        int start = n.optional("decoder_start_token_id", -1);
        if (start < 0) throw Printable.error(file + ": missing \"decoder_start_token_id\" (the decoder's first input)");
        try {
            return new T5Config(n.required("d_model"), n.required("d_kv"), n.required("vocab_size"), heads,
                    n.optional("relative_attention_num_buckets", DEFAULT_BUCKETS), n.optional("relative_attention_max_distance", DEFAULT_MAX_DISTANCE),
                    (float) n.number("layer_norm_epsilon", DEFAULT_EPS), feedForward, n.flag("tie_word_embeddings", true),
                    start, n.optional("pad_token_id", 0), encoder, decoder);
        } catch (IllegalArgumentException e) {
            throw Printable.error(file + ": " + e.getMessage());
        }
    }

    private static void readShapes(Path file, JsonNode list, String stack, int layers, List<Block> out) {
        if (!list.isArray() || list.size() != layers) throw Printable.error(file + ": " + LAYER_SHAPES + "." + stack + " must list " + layers + " layers");
        for (int l = 0; l < layers; l++) {
            JsonNode s = list.get(l);
            int heads = s.path("num_heads").asInt(-1);
            int cross = stack.equals("decoder") ? s.path("num_cross_heads").asInt(-1) : 0;
            int ffn = s.path("d_ff").asInt(-1);
            JsonNode columns = s.path("bias_heads");
            try {
                if (columns.isMissingNode()) {
                    out.add(new Block(heads, cross, ffn));
                } else {
                    if (!columns.isArray()) throw new IllegalArgumentException("bias_heads must be a list of column indices");
                    List<Integer> given = new ArrayList<>();
                    for (JsonNode c : columns) given.add(c.canConvertToExactIntegral() ? c.asInt() : -1);
                    out.add(new Block(heads, cross, ffn, given));
                }
            } catch (IllegalArgumentException e) {
                throw Printable.error(file + ": " + LAYER_SHAPES + "." + stack + "[" + l + "]: " + e.getMessage());
            }
        }
    }
}
