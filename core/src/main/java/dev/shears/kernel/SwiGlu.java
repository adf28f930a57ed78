package dev.shears.kernel;

import dev.shears.tensor.Exp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SwiGLU activation (Shazeer 2020) of LLaMA's MLP: {@code out = silu(gate) · up}, with
 * {@code silu(g) = g · sigmoid(g)} ({@code torch.nn.functional.silu}). The exponential is {@link Exp}, whose
 * vector and scalar forms agree bit for bit, so the vector loops and the scalar twins
 * ({@link #forwardScalar}, {@link #backwardScalar}) give identical results.
 */
public final class SwiGlu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private SwiGlu() {
    }

    /**
     * @param out  [n], overwritten
     * @param gate [n], the gate projection
     * @param up   [n], the up projection
     */
    public static void forward(float[] out, float[] gate, float[] up, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            g.div(Exp.exp(g.neg()).add(1f)).mul(FloatVector.fromArray(S, up, i)).intoArray(out, i);
        }
        forwardScalar(out, gate, up, i, n);
    }

    /** The scalar twin of {@link #forward} over elements [from, n). */
    public static void forwardScalar(float[] out, float[] gate, float[] up, int from, int n) {
        for (int i = from; i < n; i++) {
            float g = gate[i];
            out[i] = g / (Exp.exp(-g) + 1f) * up[i];
        }
    }

    /**
     * Backward of {@link #forward}: {@code dUp += dOut·silu(g)}, {@code dGate += dOut·up·σ(g)·(1 + g·(1 − σ(g)))}.
     * Accumulates.
     */
    public static void backward(float[] dGate, float[] dUp, float[] dOut, float[] gate, float[] up, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            FloatVector d = FloatVector.fromArray(S, dOut, i);
            FloatVector sig = Exp.exp(g.neg()).add(1f);
            sig = FloatVector.broadcast(S, 1f).div(sig);
            d.mul(g).mul(sig).add(FloatVector.fromArray(S, dUp, i)).intoArray(dUp, i);
            FloatVector one = FloatVector.broadcast(S, 1f);
            FloatVector local = g.mul(one.sub(sig)).add(one);
            d.mul(FloatVector.fromArray(S, up, i)).mul(sig).mul(local).add(FloatVector.fromArray(S, dGate, i)).intoArray(dGate, i);
        }
        backwardScalar(dGate, dUp, dOut, gate, up, i, n);
    }

    /** The scalar twin of {@link #backward} over elements [from, n). */
    public static void backwardScalar(float[] dGate, float[] dUp, float[] dOut, float[] gate, float[] up, int from, int n) {
        for (int i = from; i < n; i++) {
            float g = gate[i];
            float sig = 1f / (Exp.exp(-g) + 1f);
            dUp[i] += dOut[i] * g * sig;
            dGate[i] += dOut[i] * up[i] * sig * (g * (1f - sig) + 1f);
        }
    }
}
