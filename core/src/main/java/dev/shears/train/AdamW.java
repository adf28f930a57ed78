package dev.shears.train;

import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TensorRole;
import dev.shears.tensor.Parallel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with decoupled weight decay and bias correction, step for step as {@code torch.optim.AdamW}
 * ({@code _single_tensor_adamw}): {@code p ← p·(1 − lr·wd)}; {@code m ← β1·m + (1−β1)·g};
 * {@code v ← β2·v + (1−β2)·g²}; {@code p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)}.
 * Weight decay applies to matrices (rank-2 roles) only. Moments are allocated once, shaped like the weights.
 */
public final class AdamW {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private final AdamWConfig config;
    private final ModelWeights firstMoment;
    private final ModelWeights secondMoment;
    private long step;

    public AdamW(ModelConfig model, AdamWConfig config) {
        this.config = config;
        this.firstMoment = ModelWeights.zeros(model);
        this.secondMoment = ModelWeights.zeros(model);
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    /** The moments, for checkpoints. */
    public ModelWeights firstMoment() {
        return firstMoment;
    }

    public ModelWeights secondMoment() {
        return secondMoment;
    }

    /** Restores the step count from a checkpoint (moments are restored through their accessors). */
    public void restoreStep(long steps) {
        this.step = steps;
    }

    /** One update of every tensor of {@code weights} from {@code grads} at learning rate {@code lr}. */
    public void update(ModelWeights weights, ModelWeights grads, double lr) {
        update(weights, grads, lr, 1f, false);
    }

    /**
     * One update from {@code grads · gradScale} (the clipping factor, applied as {@link GradientClipping#clip}
     * would: the same bits), optionally zeroing the gradients for the next step in the same pass.
     */
    public void update(ModelWeights weights, ModelWeights grads, double lr, float gradScale, boolean clearGrads) {
        step++;
        double bias1 = 1 - Math.pow(config.beta1(), step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(config.beta2(), step));
        float stepSize = (float) (lr / bias1);
        // constants as torch forms them: Python floats (double) rounded once to fp32
        float b1 = (float) config.beta1();
        float b2 = (float) config.beta2();
        float oneMinusB1 = (float) (1 - config.beta1());
        float oneMinusB2 = (float) (1 - config.beta2());
        float eps = (float) config.epsilon();
        List<Runnable> tensors = new ArrayList<>();
        weights.forEach((role, layer, p) -> {
            float[] g = grads.get(role, layer);
            float[] m = firstMoment.get(role, layer);
            float[] v = secondMoment.get(role, layer);
            float decay = role.rank() == 2 ? (float) (1 - lr * config.weightDecay()) : 1f;
            float bc2 = (float) bias2Sqrt;
            tensors.add(() -> {
                int i = 0;
                FloatVector zero = FloatVector.zero(S);
                for (int bound = S.loopBound(p.length); i < bound; i += S.length()) {
                    FloatVector gi = FloatVector.fromArray(S, g, i);
                    if (gradScale != 1f) gi = gi.mul(gradScale);
                    if (clearGrads) zero.intoArray(g, i);
                    FloatVector mi = FloatVector.fromArray(S, m, i).mul(b1).add(gi.mul(oneMinusB1));
                    FloatVector vi = FloatVector.fromArray(S, v, i).mul(b2).add(gi.mul(gi).mul(oneMinusB2));
                    mi.intoArray(m, i);
                    vi.intoArray(v, i);
                    FloatVector denom = vi.sqrt().div(bc2).add(eps);
                    FloatVector.fromArray(S, p, i).mul(decay).sub(mi.div(denom).mul(stepSize)).intoArray(p, i);
                }
                updateScalar(p, g, m, v, i, b1, b2, oneMinusB1, oneMinusB2, bc2, eps, decay, stepSize, gradScale, clearGrads);
            });
        });
        Parallel.forEach(tensors.size(), i -> tensors.get(i).run());
    }

    /**
     * The scalar twin of the vector loop in {@link #update}, for elements [from, p.length): the same
     * IEEE operations in the same order (sqrt and division are correctly rounded in both), so the same bits.
     */
    static void updateScalar(float[] p, float[] g, float[] m, float[] v, int from, float b1, float b2, float oneMinusB1,
                             float oneMinusB2, float bc2, float eps, float decay, float stepSize, float gradScale, boolean clearGrads) {
        for (int i = from; i < p.length; i++) {
            float gi = gradScale != 1f ? g[i] * gradScale : g[i];
            if (clearGrads) g[i] = 0f;
            m[i] = m[i] * b1 + oneMinusB1 * gi;
            v[i] = v[i] * b2 + oneMinusB2 * (gi * gi);
            float denom = (float) Math.sqrt(v[i]) / bc2 + eps;
            p[i] = p[i] * decay - stepSize * (m[i] / denom);
        }
    }

    /** Whether a role is decayed: matrices yes, norms and biases no. */
    public static boolean isDecayed(TensorRole role) {
        return role.rank() == 2;
    }
}
