package dev.shears.seq2seq;

import dev.shears.kernel.RelativePositionBias;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What one forward pass of {@link T5} keeps for its backward pass, allocated for one batch shape: besides
 * {@link EncoderDecoderPass}'s, the padding and position buckets, and each sub-layer's activations.
 * {@code inner = heads·headDim} of the layer.
 */
public final class T5Pass extends EncoderDecoderPass {
    final boolean[] sourceVisible; // [src]: attention_mask, false where the encoder input is padding
    final boolean[] targetVisible; // [tgt]: all true, the decoder has only the causal mask
    final int[] encoderBuckets;    // [srcLen, srcLen], bidirectional
    final int[] decoderBuckets;    // [tgtLen, tgtLen], causal
    final List<Attention> encoderSelf = new ArrayList<>();
    final List<FeedForward> encoderFfn = new ArrayList<>();
    final List<Attention> decoderSelf = new ArrayList<>();
    final List<Attention> decoderCross = new ArrayList<>();
    final List<FeedForward> decoderFfn = new ArrayList<>();
    final float[] encoderRstd;     // [src], of encoder.final_layer_norm
    final float[] decoderRstd;     // [tgt], of decoder.final_layer_norm
    EncoderDecoderMasks masks;     // the gates the pass ran under (all 1 when unmasked)

    /** One attention sub-layer's activations; {@code kRows} is src for cross-attention, else the query rows. */
    static final class Attention {
        float[] in;              // [rows, dim], the residual stream entering the sub-layer
        final float[] rstd;      // [rows]
        final float[] normed;    // [rows, dim]
        final float[] q;         // [rows, inner]
        final float[] k;         // [kRows, inner]
        final float[] v;         // [kRows, inner]
        final float[] bias;      // [heads, qLen, kLen]: self-attention: the layer's columns of its stack's relative bias; cross: zeros
        final float[] probs;     // [batch, heads, qLen, kLen]
        final float[] ctx;       // [rows, inner]
        final float[] gated;     // [rows, inner], ctx ⊙ head gates: what o reads
        final float[] out;       // [rows, dim], o(gated), before the layer and hidden gates

        Attention(int rows, int kRows, int dim, int inner, int batch, int heads, int qLen, int kLen) {
            rstd = new float[rows];
            normed = new float[rows * dim];
            q = new float[rows * inner];
            k = new float[kRows * inner];
            v = new float[kRows * inner];
            bias = new float[heads * qLen * kLen];
            probs = new float[batch * heads * qLen * kLen];
            ctx = new float[rows * inner];
            gated = new float[rows * inner];
            out = new float[rows * dim];
        }
    }

    /** One feed-forward sub-layer's activations. */
    static final class FeedForward {
        float[] in;              // [rows, dim]
        final float[] rstd;      // [rows]
        final float[] normed;    // [rows, dim]
        final float[] gate;      // [rows, ffnDim], wi_0 · x (gated-gelu; empty for relu)
        final float[] up;        // [rows, ffnDim], wi · x or wi_1 · x
        final float[] act;       // [rows, ffnDim], the activation
        final float[] gated;     // [rows, ffnDim], act ⊙ neuron gates: what wo reads
        final float[] out;       // [rows, dim], wo(gated), before the layer and hidden gates

        FeedForward(int rows, int dim, int ffnDim, T5Config.FeedForward kind) {
            rstd = new float[rows];
            normed = new float[rows * dim];
            gate = new float[kind.gated() ? rows * ffnDim : 0];
            up = new float[rows * ffnDim];
            act = new float[rows * ffnDim];
            gated = new float[rows * ffnDim];
            out = new float[rows * dim];
        }
    }

    T5Pass(T5Config c, int batch, int srcLen, int tgtLen, int[] inputIds, boolean[] sourceVisible, int[] decoderIds) {
        super(c.dim(), c.vocabSize(), batch, srcLen, tgtLen, inputIds, decoderIds);
        this.sourceVisible = sourceVisible;
        int d = c.dim();
        int src = batch * srcLen;
        int tgt = batch * tgtLen;
        targetVisible = new boolean[tgt];
        Arrays.fill(targetVisible, true);
        encoderBuckets = RelativePositionBias.buckets(srcLen, srcLen, RelativePositionBias.Direction.BIDIRECTIONAL, c.numBuckets(), c.maxDistance());
        decoderBuckets = RelativePositionBias.buckets(tgtLen, tgtLen, RelativePositionBias.Direction.CAUSAL, c.numBuckets(), c.maxDistance());
        for (T5Config.Block b : c.encoder()) {
            encoderSelf.add(new Attention(src, src, d, b.numHeads() * c.headDim(), batch, b.numHeads(), srcLen, srcLen));
            encoderFfn.add(new FeedForward(src, d, b.ffnDim(), c.feedForward()));
        }
        for (T5Config.Block b : c.decoder()) {
            decoderSelf.add(new Attention(tgt, tgt, d, b.numHeads() * c.headDim(), batch, b.numHeads(), tgtLen, tgtLen));
            decoderCross.add(new Attention(tgt, src, d, b.crossHeads() * c.headDim(), batch, b.crossHeads(), tgtLen, srcLen));
            decoderFfn.add(new FeedForward(tgt, d, b.ffnDim(), c.feedForward()));
        }
        encoderRstd = new float[src];
        decoderRstd = new float[tgt];
    }

}
