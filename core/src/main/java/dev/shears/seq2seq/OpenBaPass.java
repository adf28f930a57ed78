package dev.shears.seq2seq;

import dev.shears.kernel.RopeTable;

import java.util.ArrayList;
import java.util.List;

/**
 * What one forward pass of {@link OpenBa} keeps for its backward pass, allocated for one batch shape: besides
 * {@link EncoderDecoderPass}'s, the rotary table, and each sub-layer's activations.
 * {@code inner = heads·headDim} of the layer.
 */
public final class OpenBaPass extends EncoderDecoderPass {
    final RopeTable rope;        // positions [0, max(srcLen, tgtLen)), headDim/2 frequencies
    final float[] noBias;        // [max heads, L, L] zeros, L = max(srcLen, tgtLen): OpenBA attention has no additive bias
    final List<Attention> encoderSelf = new ArrayList<>();
    final List<FeedForward> encoderFfn = new ArrayList<>();
    final List<Attention> decoderSelf = new ArrayList<>();
    final List<Attention> decoderCross = new ArrayList<>();
    final List<FeedForward> decoderFfn = new ArrayList<>();
    final float[] encoderMean;   // [src], of encoder.final_layernorm
    final float[] encoderRstd;   // [src]
    final float[] decoderMean;   // [tgt], of decoder.final_layernorm
    final float[] decoderRstd;   // [tgt]
    EncoderDecoderMasks masks;   // the gates the pass runs under (all 1 unless a masked forward sets them)

    /** One attention sub-layer's activations; {@code kRows} is src for cross-attention, else the query rows. */
    static final class Attention {
        float[] in;              // [rows, dim], the residual stream entering the sub-layer
        final float[] mean;      // [rows]
        final float[] rstd;      // [rows]
        final float[] normed;    // [rows, dim]
        final float[] q;         // [rows, inner]: rotated (self-attention) and times 1/√headDim
        final float[] k;         // [kRows, inner]: rotated (self-attention)
        final float[] v;         // [kRows, inner]
        final float[] probs;     // [batch, heads, qLen, kLen]
        final float[] ctx;       // [rows, inner]
        final float[] gated;     // [rows, inner], ctx ⊙ head gates: what o reads
        final float[] out;       // [rows, dim], o(gated) + o.bias, before the layer and hidden gates

        Attention(int rows, int kRows, int dim, int inner, int batch, int heads, int qLen, int kLen) {
            mean = new float[rows];
            rstd = new float[rows];
            normed = new float[rows * dim];
            q = new float[rows * inner];
            k = new float[kRows * inner];
            v = new float[kRows * inner];
            probs = new float[batch * heads * qLen * kLen];
            ctx = new float[rows * inner];
            gated = new float[rows * inner];
            out = new float[rows * dim];
        }
    }

    /** One SwiGLU MLP's activations. */
    static final class FeedForward {
        float[] in;              // [rows, dim]
        final float[] mean;      // [rows]
        final float[] rstd;      // [rows]
        final float[] normed;    // [rows, dim]
        final float[] gate;      // [rows, ffnDim], the first half of fc_in · x
        final float[] up;        // [rows, ffnDim], the second half
        final float[] act;       // [rows, ffnDim], silu(gate) · up
        final float[] gated;     // [rows, ffnDim], act ⊙ neuron gates: what fc_out reads
        final float[] out;       // [rows, dim], fc_out(gated), before the layer and hidden gates

        FeedForward(int rows, int dim, int ffnDim) {
            mean = new float[rows];
            rstd = new float[rows];
            normed = new float[rows * dim];
            gate = new float[rows * ffnDim];
            up = new float[rows * ffnDim];
            act = new float[rows * ffnDim];
            gated = new float[rows * ffnDim];
            out = new float[rows * dim];
        }
    }

    /** [batch·srcLen]: the encoder positions attention may read (attention_mask 1); padding is read by neither stack. */
    final boolean[] encoderVisible;

    OpenBaPass(OpenBaConfig c, int batch, int srcLen, int tgtLen, int[] inputIds, boolean[] encoderVisible, int[] decoderIds) {
        super(c.dim(), c.vocabSize(), batch, srcLen, tgtLen, inputIds, decoderIds);
        this.encoderVisible = encoderVisible;
        int d = c.dim();
        int hd = c.headDim();
        int src = batch * srcLen;
        int tgt = batch * tgtLen;
        int longest = Math.max(srcLen, tgtLen);
        rope = OpenBa.ropeTable(c);
        rope.ensure(longest);
        noBias = new float[OpenBa.maxHeads(c) * longest * longest];
        for (OpenBaConfig.Block b : c.encoder()) {
            encoderSelf.add(new Attention(src, src, d, b.numHeads() * hd, batch, b.numHeads(), srcLen, srcLen));
            encoderFfn.add(new FeedForward(src, d, b.ffnDim()));
        }
        for (OpenBaConfig.Block b : c.decoder()) {
            decoderSelf.add(new Attention(tgt, tgt, d, b.numHeads() * hd, batch, b.numHeads(), tgtLen, tgtLen));
            decoderCross.add(new Attention(tgt, src, d, b.crossHeads() * hd, batch, b.crossHeads(), tgtLen, srcLen));
            decoderFfn.add(new FeedForward(tgt, d, b.ffnDim()));
        }
        encoderMean = new float[src];
        encoderRstd = new float[src];
        decoderMean = new float[tgt];
        decoderRstd = new float[tgt];
        masks = EncoderDecoderMasks.ones(c);
    }

}
