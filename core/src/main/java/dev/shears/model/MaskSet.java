package dev.shears.model;

import java.util.Arrays;

/**
 * Gates on every prunable structure, each scaling its unit at one named site of the forward pass
 * (DESIGN.md, idea 3):
 * <ul>
 *   <li>hidden channel [dim]: the embedding output, each attention and FFN block output, and every
 *       RMSNorm, whose mean of squares is then taken over the channels with a non-zero gate only;</li>
 *   <li>attention head [layer][numHeads]: each head's context before the output projection;</li>
 *   <li>FFN neuron [layer][ffnDim]: {@code silu(gate)·up} before the down projection;</li>
 *   <li>sub-layer [layer]: the attention block output and the FFN block output before the residual add.</li>
 * </ul>
 * {@link #NONE} has no gates at all, so inference and plain training pay nothing. Gate values are
 * mutable: Taylor importance reads the gradient at 1, learned masks write sampled values.
 */
public final class MaskSet {
    /** No gates: the plain model. */
    public static final MaskSet NONE = new MaskSet(null, null, null, null, null);

    private final float[] hidden;
    private final float[][] heads;
    private final float[][] ffn;
    private final float[] attentionLayer;
    private final float[] ffnLayer;

    private MaskSet(float[] hidden, float[][] heads, float[][] ffn, float[] attentionLayer, float[] ffnLayer) {
        this.hidden = hidden;
        this.heads = heads;
        this.ffn = ffn;
        this.attentionLayer = attentionLayer;
        this.ffnLayer = ffnLayer;
    }

    /** Every gate present and equal to {@code value}. */
    public static MaskSet filled(ModelConfig config, float value) {
        int n = config.numLayers();
        float[][] heads = new float[n][];
        float[][] ffn = new float[n][];
        for (int l = 0; l < n; l++) {
            heads[l] = new float[config.layer(l).numHeads()];
            ffn[l] = new float[config.layer(l).ffnDim()];
            Arrays.fill(heads[l], value);
            Arrays.fill(ffn[l], value);
        }
        float[] hidden = new float[config.dim()];
        float[] attn = new float[n];
        float[] mlp = new float[n];
        Arrays.fill(hidden, value);
        Arrays.fill(attn, value);
        Arrays.fill(mlp, value);
        return new MaskSet(hidden, heads, ffn, attn, mlp);
    }

    /** Every gate present and 1: the same outputs as {@link #NONE}, with gate sites live. */
    public static MaskSet ones(ModelConfig config) {
        return filled(config, 1f);
    }

    /** True when gates are present (every site at once). */
    public boolean isActive() {
        return hidden != null;
    }

    /** @return [dim] */
    public float[] hidden() {
        return require(hidden);
    }

    /** @return [numHeads of layer] */
    public float[] heads(int layer) {
        return require(heads)[layer];
    }

    /** @return [ffnDim of layer] */
    public float[] ffn(int layer) {
        return require(ffn)[layer];
    }

    /** @return [numLayers] */
    public float[] attentionLayers() {
        return require(attentionLayer);
    }

    /** @return [numLayers] */
    public float[] ffnLayers() {
        return require(ffnLayer);
    }

    private static <T> T require(T gates) {
        if (gates == null) throw new IllegalStateException("MaskSet.NONE has no gates");
        return gates;
    }
}
