package dev.shears.l0;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Adam (Kingma &amp; Ba 2015, as {@code torch.optim.Adam}, no weight decay) on a flat double vector: the
 * optimizer of the gate logAlphas (descent) and of the Lagrange multipliers (an explicit ascent step).
 * Sheared-LLaMA runs both through the model's AdamW param groups with learning rates 1.0 and −1.0;
 * here the ascent is written as one.
 */
public final class GateAdam {
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double[] m;
    private final double[] v;
    private long step;

    public GateAdam(int size, double beta1, double beta2, double epsilon) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.m = new double[size];
        this.v = new double[size];
    }

    /** {@code p ← p − lr · m̂ / (√v̂ + ε)}: minimises. */
    public void descend(double[] p, double[] g, double lr) {
        update(p, g, -lr);
    }

    /** {@code p ← p + lr · m̂ / (√v̂ + ε)}: maximises (the Lagrange multipliers). */
    public void ascend(double[] p, double[] g, double lr) {
        update(p, g, lr);
    }

    private void update(double[] p, double[] g, double signedLr) {
        step++;
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        for (int i = 0; i < p.length; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            p[i] += signedLr / bias1 * m[i] / (Math.sqrt(v[i]) / bias2Sqrt + epsilon);
        }
    }

    public long step() {
        return step;
    }

    /** The state as JSON (doubles round-trip exactly through their shortest decimal form). */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("step", step);
        var first = n.putArray("m");
        for (double x : m) first.add(x);
        var second = n.putArray("v");
        for (double x : v) second.add(x);
        return n;
    }

    /** Restores {@link #toJson()} output. */
    public void restore(JsonNode n) {
        if (n.path("m").size() != m.length || n.path("v").size() != v.length) {
            throw new IllegalArgumentException("optimizer state holds " + n.path("m").size() + " values, expected " + m.length);
        }
        step = n.path("step").asLong();
        for (int i = 0; i < m.length; i++) {
            m[i] = n.path("m").get(i).asDouble();
            v[i] = n.path("v").get(i).asDouble();
        }
    }
}
