package dev.shears.kernel;

import java.util.Arrays;

/**
 * Cosine and sine tables of rotary position embeddings (Su et al. 2021, RoFormer) for positions
 * {@code [0, positions)}, grown on demand. Angles are formed in fp32 as Hugging Face does
 * ({@code inv_freq.float() @ position_ids.float()}) so logits match its reference closely.
 */
public final class RopeTable {
    private final float[] inverseFrequencies;
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    private int positions;

    /** @param inverseFrequencies [headDim / 2], the (scaled) frequency of each rotary pair */
    public RopeTable(double[] inverseFrequencies) {
        this.inverseFrequencies = new float[inverseFrequencies.length];
        for (int i = 0; i < inverseFrequencies.length; i++) this.inverseFrequencies[i] = (float) inverseFrequencies[i];
    }

    /** Makes positions {@code [0, count)} available. Not thread-safe: call before parallel work. */
    public synchronized void ensure(int count) {
        if (count <= positions) return;
        int half = inverseFrequencies.length;
        int newPositions = Math.max(count, Math.min(2 * positions, count + 4096));
        float[] newCos = Arrays.copyOf(cos, newPositions * half);
        float[] newSin = Arrays.copyOf(sin, newPositions * half);
        for (int p = positions; p < newPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inverseFrequencies[i];
                newCos[p * half + i] = (float) Math.cos(angle);
                newSin[p * half + i] = (float) Math.sin(angle);
            }
        }
        cos = newCos;
        sin = newSin;
        positions = newPositions;
    }

    /** @return [positions, headDim/2] */
    float[] cos() {
        return cos;
    }

    /** @return [positions, headDim/2] */
    float[] sin() {
        return sin;
    }
}
