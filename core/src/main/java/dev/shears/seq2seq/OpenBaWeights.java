package dev.shears.seq2seq;

import dev.shears.format.hf.FolderWeights;
import dev.shears.format.hf.FolderWeights.Visitor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Every weight of an OpenBA model as fp32 heap arrays, and the one table that names them as the published
 * {@code modeling_openba.py} does ({@link #forEach}). The same record holds gradients ({@link #zeros}). When the
 * embeddings are tied, {@link #lmHead} is the very array of {@link #shared}, so the head's gradient lands in the
 * embedding's without a copy. A bias the config switches off ({@code add_qkv_bias}, {@code add_lm_head_bias}) is
 * held as zeros that the table does not list: adding it changes nothing, and nothing reads or writes it in a file.
 *
 * <p>Fused layouts, as the published code views them: {@code self_attn.qkv} rows are per head
 * {@code [q | k | v]} blocks of headDim ({@code view(.., heads, 3·kv_channels)} then {@code chunk(3)});
 * {@code inter_attn.kv} rows per head {@code [k | v]}; {@code mlp.fc_in} rows {@code [gate | up]} halves of
 * ffnDim ({@code chunk(2)}, silu on the first).
 *
 * @param shared      [vocabSize, dim]: {@code shared_embedding.weight}, the token embedding of both stacks
 * @param encoder     per encoder layer
 * @param encoderNorm {@code encoder.final_layernorm}
 * @param decoder     per decoder layer
 * @param decoderNorm {@code decoder.final_layernorm}
 * @param lmHead      [vocabSize, dim]: {@code lm_head.weight}, or {@code shared} itself when tied
 * @param lmHeadBias  [vocabSize]: {@code lm_head.bias}
 */
public record OpenBaWeights(float[] shared, List<EncoderLayer> encoder, Norm encoderNorm, List<DecoderLayer> decoder, Norm decoderNorm,
                            float[] lmHead, float[] lmHeadBias) {
    /**
     * One nn.LayerNorm.
     *
     * @param weight [dim]
     * @param bias   [dim]
     */
    public record Norm(float[] weight, float[] bias) {
    }

    /**
     * Self-attention ({@code self_attn}) with its pre-norm ({@code input_layernorm}).
     *
     * @param qkv        [heads·3·headDim, dim]: {@code qkv.weight}, per head [q | k | v]
     * @param qkvBias    [heads·3·headDim]: {@code qkv.bias}
     * @param output     [dim, heads·headDim]: {@code o.weight}
     * @param outputBias [dim]: {@code o.bias}
     * @param heads      the number of heads
     */
    public record SelfAttention(Norm norm, float[] qkv, float[] qkvBias, float[] output, float[] outputBias, int heads) {
    }

    /**
     * Cross-attention ({@code inter_attn}) with its pre-norm ({@code post_attn_layernorm}).
     *
     * @param query        [heads·headDim, dim]: {@code q.weight}
     * @param queryBias    [heads·headDim]
     * @param keyValue     [heads·2·headDim, dim]: {@code kv.weight}, per head [k | v]
     * @param keyValueBias [heads·2·headDim]
     * @param output       [dim, heads·headDim]: {@code o.weight}
     * @param outputBias   [dim]
     * @param heads        the number of heads
     */
    public record CrossAttention(Norm norm, float[] query, float[] queryBias, float[] keyValue, float[] keyValueBias, float[] output,
                                 float[] outputBias, int heads) {
    }

    /**
     * The SwiGLU MLP ({@code mlp}) with its pre-norm.
     *
     * @param fcIn   [2·ffnDim, dim]: {@code fc_in.weight}, [gate | up]
     * @param fcOut  [dim, ffnDim]: {@code fc_out.weight}
     * @param ffnDim the SwiGLU width of this layer
     */
    public record FeedForward(Norm norm, float[] fcIn, float[] fcOut, int ffnDim) {
    }

    /** An encoder block: {@code input_layernorm} is the self-attention's norm, {@code post_attn_layernorm} the MLP's. */
    public record EncoderLayer(SelfAttention self, FeedForward ffn) {
    }

    /** A decoder block: {@code post_attn_layernorm} is the cross-attention's norm, {@code post_inter_attn_layernorm} the MLP's. */
    public record DecoderLayer(SelfAttention self, CrossAttention cross, FeedForward ffn) {
    }

    /** All zeros, in the shapes of {@code config}: a model to load into, or gradients to accumulate. */
    public static OpenBaWeights zeros(OpenBaConfig c) {
        float[] shared = new float[c.vocabSize() * c.dim()];
        return new OpenBaWeights(shared,
                c.encoder().stream().map(b -> new EncoderLayer(self(c, b.numHeads()), feedForward(c, b.ffnDim()))).toList(), norm(c),
                c.decoder().stream().map(b -> new DecoderLayer(self(c, b.numHeads()), cross(c, b.crossHeads()), feedForward(c, b.ffnDim()))).toList(),
                norm(c), c.tiedEmbeddings() ? shared : new float[c.vocabSize() * c.dim()], new float[c.vocabSize()]);
    }

    private static Norm norm(OpenBaConfig c) {
        return new Norm(new float[c.dim()], new float[c.dim()]);
    }

    private static SelfAttention self(OpenBaConfig c, int heads) {
        int inner = heads * c.headDim();
        return new SelfAttention(norm(c), new float[3 * inner * c.dim()], new float[3 * inner], new float[c.dim() * inner], new float[c.dim()], heads);
    }

    private static CrossAttention cross(OpenBaConfig c, int heads) {
        int inner = heads * c.headDim();
        return new CrossAttention(norm(c), new float[inner * c.dim()], new float[inner], new float[2 * inner * c.dim()], new float[2 * inner],
                new float[c.dim() * inner], new float[c.dim()], heads);
    }

    private static FeedForward feedForward(OpenBaConfig c, int ffnDim) {
        return new FeedForward(norm(c), new float[2 * ffnDim * c.dim()], new float[c.dim() * ffnDim], ffnDim);
    }

    /** Every tensor with its published name and shape, in the order of the modules; a tied head and switched-off biases are not listed. */
    public void forEach(OpenBaConfig c, Visitor v) {
        int d = c.dim();
        v.accept("shared_embedding.weight", new int[]{c.vocabSize(), d}, shared);
        for (int l = 0; l < encoder.size(); l++) {
            String p = "encoder.block." + l + ".";
            norm(c, v, p + "input_layernorm", encoder.get(l).self().norm());
            self(c, v, p + "self_attn.", encoder.get(l).self());
            norm(c, v, p + "post_attn_layernorm", encoder.get(l).ffn().norm());
            feedForward(c, v, p + "mlp.", encoder.get(l).ffn());
        }
        norm(c, v, "encoder.final_layernorm", encoderNorm);
        for (int l = 0; l < decoder.size(); l++) {
            String p = "decoder.block." + l + ".";
            DecoderLayer layer = decoder.get(l);
            norm(c, v, p + "input_layernorm", layer.self().norm());
            self(c, v, p + "self_attn.", layer.self());
            norm(c, v, p + "post_attn_layernorm", layer.cross().norm());
            CrossAttention a = layer.cross();
            int inner = a.heads() * c.headDim();
            linear(c, v, p + "inter_attn.q", inner, d, a.query(), a.queryBias());
            linear(c, v, p + "inter_attn.kv", 2 * inner, d, a.keyValue(), a.keyValueBias());
            linear(c, v, p + "inter_attn.o", d, inner, a.output(), a.outputBias());
            norm(c, v, p + "post_inter_attn_layernorm", layer.ffn().norm());
            feedForward(c, v, p + "mlp.", layer.ffn());
        }
        norm(c, v, "decoder.final_layernorm", decoderNorm);
        if (!c.tiedEmbeddings()) v.accept("lm_head.weight", new int[]{c.vocabSize(), d}, lmHead);
        if (c.lmHeadBias()) v.accept("lm_head.bias", new int[]{c.vocabSize()}, lmHeadBias);
    }

    private static void norm(OpenBaConfig c, Visitor v, String name, Norm n) {
        v.accept(name + ".weight", new int[]{c.dim()}, n.weight());
        v.accept(name + ".bias", new int[]{c.dim()}, n.bias());
    }

    private static void self(OpenBaConfig c, Visitor v, String prefix, SelfAttention a) {
        int inner = a.heads() * c.headDim();
        linear(c, v, prefix + "qkv", 3 * inner, c.dim(), a.qkv(), a.qkvBias());
        linear(c, v, prefix + "o", c.dim(), inner, a.output(), a.outputBias());
    }

    /** An attention projection: its weight, and its bias when add_qkv_bias. */
    private static void linear(OpenBaConfig c, Visitor v, String name, int out, int in, float[] weight, float[] bias) {
        v.accept(name + ".weight", new int[]{out, in}, weight);
        if (c.qkvBias()) v.accept(name + ".bias", new int[]{out}, bias);
    }

    private static void feedForward(OpenBaConfig c, Visitor v, String prefix, FeedForward f) {
        v.accept(prefix + "fc_in.weight", new int[]{2 * f.ffnDim(), c.dim()}, f.fcIn());
        v.accept(prefix + "fc_out.weight", new int[]{c.dim(), f.ffnDim()}, f.fcOut());
    }

    /**
     * Reads every weight of {@code config} from a folder's weight files (model.safetensors, pytorch_model.bin, or
     * the shards of either's index: {@link FolderWeights}), widened to fp32. The stacks' references to the shared embedding
     * ({@code encoder.embed_tokens.weight}, {@code decoder.embed_tokens.weight}, which the published class lists in
     * {@code _keys_to_ignore_on_load_missing}) and {@code lm_head.weight} when tied are ignored as transformers
     * ignores them; any other tensor, a missing one or a wrong shape is a one-line error naming the file and the tensor.
     */
    public static OpenBaWeights load(Path dir, OpenBaConfig config) {
        OpenBaWeights w = zeros(config);
        Set<String> ignored = new HashSet<>(List.of("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"));
        if (config.tiedEmbeddings()) ignored.add("lm_head.weight");
        FolderWeights.load(dir, "an OpenBA model", visitor -> w.forEach(config, visitor), ignored);
        return w;
    }
}
