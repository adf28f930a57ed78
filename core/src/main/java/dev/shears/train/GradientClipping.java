package dev.shears.train;

import dev.shears.model.ModelWeights;
import dev.shears.tensor.Parallel;

import java.util.ArrayList;
import java.util.List;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientClipping {
    private static final int CHUNK = 1 << 16;

    private GradientClipping() {
    }

    /** The L2 norm of all gradients together, accumulated in double in a fixed order. */
    public static double globalNorm(ModelWeights grads) {
        List<float[]> tensors = new ArrayList<>();
        grads.forEach((role, layer, g) -> tensors.add(g));
        return globalNorm(tensors);
    }

    /** The L2 norm of all of {@code tensors} together (any model's gradients, in a fixed order), accumulated in double. */
    public static double globalNorm(List<float[]> tensors) {
        // fixed chunks summed in parallel, then added in chunk order: the same bits for any thread count
        List<int[]> chunks = new ArrayList<>(); // {tensor, from, to}
        for (int t = 0; t < tensors.size(); t++) {
            int n = tensors.get(t).length;
            for (int from = 0; from < n; from += CHUNK) chunks.add(new int[] {t, from, Math.min(n, from + CHUNK)});
        }
        double[] partial = new double[chunks.size()];
        Parallel.forEach(chunks.size(), c -> {
            int[] chunk = chunks.get(c);
            float[] g = tensors.get(chunk[0]);
            double s = 0;
            for (int i = chunk[1]; i < chunk[2]; i++) s += (double) g[i] * g[i];
            partial[c] = s;
        });
        double sum = 0;
        for (double p : partial) sum += p;
        return Math.sqrt(sum);
    }

    /** The factor {@link #clip} scales gradients by: {@code maxNorm / (norm + 1e-6)} above {@code maxNorm}, else 1 (as torch's clip_grad_norm_). */
    public static float scale(double norm, double maxNorm) {
        return maxNorm > 0 && norm > maxNorm ? (float) (maxNorm / (norm + 1e-6)) : 1f;
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global norm exceeds {@code maxNorm}.
     *
     * @return the norm before clipping
     */
    public static double clip(ModelWeights grads, double maxNorm) {
        double norm = globalNorm(grads);
        float scale = scale(norm, maxNorm);
        if (scale != 1f) {
            grads.forEach((role, layer, g) -> {
                for (int i = 0; i < g.length; i++) g[i] *= scale;
            });
        }
        return norm;
    }
}
