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
        Step s = Step.of(config, step, lr);
        List<Runnable> tensors = new ArrayList<>();
        weights.forEach((role, layer, p) -> {
            float[] g = grads.get(role, layer);
            float[] m = firstMoment.get(role, layer);
            float[] v = secondMoment.get(role, layer);
            boolean decayed = isDecayed(role);
            tensors.add(() -> updateTensor(p, g, m, v, s, decayed, gradScale, clearGrads));
        });
        Parallel.forEach(tensors.size(), i -> tensors.get(i).run());
    }

    /**
     * The fp32 constants of optimizer step {@code t} (1-based) at learning rate {@code lr}, formed as torch forms
     * them: Python floats (double) rounded once to fp32.
     *
     * @param decay the factor {@code 1 − lr·wd} of a decayed tensor
     */
    public record Step(float b1, float b2, float oneMinusB1, float oneMinusB2, float bc2, float eps, float stepSize, float decay) {
        public static Step of(AdamWConfig config, long t, double lr) {
            return new Step((float) config.beta1(), (float) config.beta2(), (float) (1 - config.beta1()), (float) (1 - config.beta2()),
                    (float) Math.sqrt(1 - Math.pow(config.beta2(), t)), (float) config.epsilon(), (float) (lr / (1 - Math.pow(config.beta1(), t))),
                    (float) (1 - lr * config.weightDecay()));
        }
    }

    /**
     * One tensor's update, the arithmetic of every AdamW in Shears (decoder-only weights here, T5's in
     * {@code objective.T5AdamW}): parameters {@code p}, gradients {@code g · gradScale} (zeroed after use with
     * {@code clearGrads}), moments {@code m} and {@code v}, all of one length; weight decay when {@code decayed}.
     */
    public static void updateTensor(float[] p, float[] g, float[] m, float[] v, Step s, boolean decayed, float gradScale, boolean clearGrads) {
        float b1 = s.b1(), b2 = s.b2(), oneMinusB1 = s.oneMinusB1(), oneMinusB2 = s.oneMinusB2(), bc2 = s.bc2(), eps = s.eps(), stepSize = s.stepSize();
        float decay = decayed ? s.decay() : 1f;
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
    }

    /**
     * The scalar twin of the vector loop in {@link #updateTensor}, for elements [from, p.length): the same
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
