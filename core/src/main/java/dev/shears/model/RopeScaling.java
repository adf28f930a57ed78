package dev.shears.model;

/**
 * Hugging Face {@code rope_scaling}: how rotary frequencies are stretched for long contexts.
 * Follows {@code transformers.modeling_rope_utils} ({@code _compute_linear_scaling_rope_parameters}
 * and {@code _compute_llama3_parameters}).
 *
 * @param type                          NONE, LINEAR (positions divided by {@code factor}) or LLAMA3 (frequency-band dependent)
 * @param factor                        the scaling factor (1 for NONE)
 * @param lowFreqFactor                 llama3 only
 * @param highFreqFactor                llama3 only
 * @param originalMaxPositionEmbeddings llama3 only
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
    public enum Type { NONE, LINEAR, LLAMA3 }

    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 0, 0, 0);

    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
        return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    /**
     * The inverse frequency of each rotary pair, {@code theta^(-2i/headDim)}, scaled by this rule.
     *
     * @return [headDim / 2]
     */
    public double[] inverseFrequencies(int headDim, double theta) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            // computed as torch does: 1 / theta ** (arange(0, d, 2) / d), in float64 here
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        switch (type) {
            case NONE -> { }
            case LINEAR -> {
                for (int i = 0; i < inv.length; i++) inv[i] /= factor;
            }
            case LLAMA3 -> {
                double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
                double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowFreqWavelen) {
                        inv[i] = inv[i] / factor;
                    } else if (wavelen >= highFreqWavelen) {
                        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }
                }
            }
        }
        return inv;
    }
}
