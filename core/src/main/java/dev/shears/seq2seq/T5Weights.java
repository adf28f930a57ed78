package dev.shears.seq2seq;

import dev.shears.format.hf.FolderWeights;
import dev.shears.format.hf.FolderWeights.Visitor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Every weight of a T5 model as fp32 heap arrays, and the one table that names them as Hugging Face
 * does ({@link #forEach}). The same record holds gradients ({@link #zeros}). When the embeddings are
 * tied, {@link #lmHead} is the very array of {@link #shared}, so the head's gradient lands in the
 * embedding's without a copy.
 *
 * @param shared       [vocabSize, dim]: {@code shared.weight}, the token embedding of both stacks
 * @param encoderBias  [numBuckets, biasHeads]: {@code encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight}
 * @param encoder      per encoder layer
 * @param encoderNorm  [dim]: {@code encoder.final_layer_norm.weight}
 * @param decoderBias  [numBuckets, biasHeads]: the decoder's table, in its block 0
 * @param decoder      per decoder layer
 * @param decoderNorm  [dim]: {@code decoder.final_layer_norm.weight}
 * @param lmHead       [vocabSize, dim]: {@code lm_head.weight}, or {@code shared} itself when tied
 */
public record T5Weights(float[] shared, float[] encoderBias, List<EncoderLayer> encoder, float[] encoderNorm,
                        float[] decoderBias, List<DecoderLayer> decoder, float[] decoderNorm, float[] lmHead) {
    /**
     * One attention sub-layer (T5LayerSelfAttention or T5LayerCrossAttention) with its pre-norm.
     *
     * @param norm   [dim]: {@code layer_norm.weight}
     * @param query  [heads·headDim, dim]: {@code q.weight}
     * @param key    [heads·headDim, dim]: {@code k.weight}
     * @param value  [heads·headDim, dim]: {@code v.weight}
     * @param output [dim, heads·headDim]: {@code o.weight}
     * @param heads  the number of heads
     */
    public record Attention(float[] norm, float[] query, float[] key, float[] value, float[] output, int heads) {
    }

    /**
     * One feed-forward sub-layer (T5LayerFF) with its pre-norm.
     *
     * @param norm   [dim]
     * @param gate   [ffnDim, dim]: {@code wi_0.weight}, activated (gated-gelu only; empty for relu)
     * @param up     [ffnDim, dim]: {@code wi.weight} (relu, activated) or {@code wi_1.weight} (gated-gelu, linear)
     * @param down   [dim, ffnDim]: {@code wo.weight}
     * @param ffnDim d_ff of this layer
     */
    public record FeedForward(float[] norm, float[] gate, float[] up, float[] down, int ffnDim) {
    }

    public record EncoderLayer(Attention self, FeedForward ffn) {
    }

    public record DecoderLayer(Attention self, Attention cross, FeedForward ffn) {
    }

    /** All zeros, in the shapes of {@code config}: a model to load into, or gradients to accumulate. */
    public static T5Weights zeros(T5Config c) {
        int d = c.dim();
        float[] shared = new float[c.vocabSize() * d];
        return new T5Weights(shared, new float[c.numBuckets() * c.biasHeads()],
                c.encoder().stream().map(b -> new EncoderLayer(attention(c, b.numHeads()), feedForward(c, b.ffnDim()))).toList(), new float[d],
                new float[c.numBuckets() * c.biasHeads()],
                c.decoder().stream().map(b -> new DecoderLayer(attention(c, b.numHeads()), attention(c, b.crossHeads()), feedForward(c, b.ffnDim()))).toList(),
                new float[d], c.tiedEmbeddings() ? shared : new float[c.vocabSize() * d]);
    }

    private static Attention attention(T5Config c, int heads) {
        int inner = heads * c.headDim();
        return new Attention(new float[c.dim()], new float[inner * c.dim()], new float[inner * c.dim()], new float[inner * c.dim()],
                new float[c.dim() * inner], heads);
    }

    private static FeedForward feedForward(T5Config c, int ffnDim) {
        return new FeedForward(new float[c.dim()], new float[c.feedForward().gated() ? ffnDim * c.dim() : 0],
                new float[ffnDim * c.dim()], new float[c.dim() * ffnDim], ffnDim);
    }

    /** Every tensor with its Hugging Face name and shape, in the order of the modules; a tied head is not listed again. */
    public void forEach(T5Config c, Visitor v) {
        int d = c.dim();
        v.accept("shared.weight", new int[]{c.vocabSize(), d}, shared);
        v.accept("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", new int[]{c.numBuckets(), c.biasHeads()}, encoderBias);
        for (int l = 0; l < encoder.size(); l++) {
            String p = "encoder.block." + l + ".layer.";
            attention(c, v, p + "0.", "SelfAttention", encoder.get(l).self());
            feedForward(c, v, p + "1.", encoder.get(l).ffn());
        }
        v.accept("encoder.final_layer_norm.weight", new int[]{d}, encoderNorm);
        v.accept("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", new int[]{c.numBuckets(), c.biasHeads()}, decoderBias);
        for (int l = 0; l < decoder.size(); l++) {
            String p = "decoder.block." + l + ".layer.";
            attention(c, v, p + "0.", "SelfAttention", decoder.get(l).self());
            attention(c, v, p + "1.", "EncDecAttention", decoder.get(l).cross());
            feedForward(c, v, p + "2.", decoder.get(l).ffn());
        }
        v.accept("decoder.final_layer_norm.weight", new int[]{d}, decoderNorm);
        if (!c.tiedEmbeddings()) v.accept("lm_head.weight", new int[]{c.vocabSize(), d}, lmHead);
    }

    private static void attention(T5Config c, Visitor v, String prefix, String module, Attention a) {
        int d = c.dim();
        int inner = a.heads() * c.headDim();
        v.accept(prefix + "layer_norm.weight", new int[]{d}, a.norm());
        v.accept(prefix + module + ".q.weight", new int[]{inner, d}, a.query());
        v.accept(prefix + module + ".k.weight", new int[]{inner, d}, a.key());
        v.accept(prefix + module + ".v.weight", new int[]{inner, d}, a.value());
        v.accept(prefix + module + ".o.weight", new int[]{d, inner}, a.output());
    }

    private static void feedForward(T5Config c, Visitor v, String prefix, FeedForward f) {
        int d = c.dim();
        v.accept(prefix + "layer_norm.weight", new int[]{d}, f.norm());
        if (c.feedForward().gated()) {
            v.accept(prefix + "DenseReluDense.wi_0.weight", new int[]{f.ffnDim(), d}, f.gate());
            v.accept(prefix + "DenseReluDense.wi_1.weight", new int[]{f.ffnDim(), d}, f.up());
        } else {
            v.accept(prefix + "DenseReluDense.wi.weight", new int[]{f.ffnDim(), d}, f.up());
        }
        v.accept(prefix + "DenseReluDense.wo.weight", new int[]{d, f.ffnDim()}, f.down());
    }

    /**
     * Reads every weight of {@code config} from a folder's weight files (model.safetensors, pytorch_model.bin, or
     * the shards of either's index: {@link FolderWeights}), widened to fp32. Hugging Face's copies of the shared
     * embedding ({@code encoder.embed_tokens.weight}, {@code decoder.embed_tokens.weight}, and {@code lm_head.weight}
     * when tied) and old checkpoints' unused {@code decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight}
     * are ignored as transformers ignores them; any other tensor, a missing one or a wrong shape is a one-line error
     * naming the file or folder and the tensor.
     */
    public static T5Weights load(Path dir, T5Config config) {
        T5Weights w = zeros(config);
        // old checkpoints (t5-small's own) also carry an unused cross-attention bias table, which transformers
        // lists in _keys_to_ignore_on_load_unexpected
        Set<String> ignored = new HashSet<>(List.of("encoder.embed_tokens.weight", "decoder.embed_tokens.weight",
                "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"));
        if (config.tiedEmbeddings()) ignored.add("lm_head.weight");
        FolderWeights.load(dir, "a T5 model", visitor -> w.forEach(config, visitor), ignored);
        return w;
    }
}
