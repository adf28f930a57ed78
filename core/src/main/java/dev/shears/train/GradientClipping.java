package dev.shears.train;

import dev.shears.model.ModelWeights;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** The L2 norm of all gradients together, accumulated in double in a fixed order. */
    public static double globalNorm(ModelWeights grads) {
        double[] sum = {0};
        grads.forEach((role, layer, g) -> {
            double s = 0;
            for (float x : g) s += (double) x * x;
            sum[0] += s;
        });
        return Math.sqrt(sum[0]);
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global norm exceeds {@code maxNorm}.
     *
     * @return the norm before clipping
     */
    public static double clip(ModelWeights grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            grads.forEach((role, layer, g) -> {
                for (int i = 0; i < g.length; i++) g[i] *= scale;
            });
        }
        return norm;
    }
}
