package dev.shears.kernel;

import dev.shears.tensor.GradCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.shears.tensor.GradCheck.check;
import static dev.shears.tensor.GradCheck.gaussian;
import static dev.shears.tensor.GradCheck.project;

/** Every kernel's backward against central finite differences of its forward. */
class KernelGradientTest {
    private static final double EPS = 1e-2;
    private static final double ATOL = 2e-3;
    private static final double RTOL = 2e-2;

    @Test
    void rmsNorm() {
        Random r = new Random(1);
        int rows = 3, dim = 11;
        float[] x = gaussian(r, rows * dim, 1.5);
        float[] w = gaussian(r, dim, 1);
        float[] proj = gaussian(r, rows * dim, 1);
        float[] out = new float[rows * dim];
        float[] rstd = new float[rows];
        java.util.function.Supplier<Double> loss = () -> {
            RmsNorm.forward(out, rstd, x, w, rows, dim, 1e-5f);
            return project(out, proj);
        };
        loss.get();
        float[] dX = new float[x.length];
        float[] dW = new float[dim];
        RmsNorm.backward(dX, dW, proj, x, w, rstd, rows, dim, dim);
        check("rmsnorm dX", x, dX, loss, 100, EPS, ATOL, RTOL);
        check("rmsnorm dW", w, dW, loss, 100, EPS, ATOL, RTOL);
    }

    @Test
    void maskedRmsNorm() {
        Random r = new Random(2);
        int rows = 2, dim = 9;
        float[] gate = {1, 0, 1, 1, 0, 1, 1, 1, 0};
        float[] x = gaussian(r, rows * dim, 1.5);
        for (int i = 0; i < x.length; i++) x[i] *= gate[i % dim];
        float[] w = gaussian(r, dim, 1);
        float[] proj = gaussian(r, rows * dim, 1);
        float[] out = new float[rows * dim];
        float[] rstd = new float[rows];
        java.util.function.Supplier<Double> loss = () -> {
            RmsNorm.forwardMasked(out, rstd, x, w, gate, rows, dim, 1e-5f);
            return project(out, proj);
        };
        loss.get();
        float[] dX = new float[x.length];
        float[] dW = new float[dim];
        RmsNorm.backward(dX, dW, proj, x, w, rstd, rows, dim, RmsNorm.keptChannels(gate));
        // kept coordinates only: a dropped channel is zero by construction at every gated site
        int[] keptCoordinates = java.util.stream.IntStream.range(0, x.length).filter(i -> gate[i % dim] != 0).toArray();
        check("masked rmsnorm dW", w, dW, loss, 100, EPS, ATOL, RTOL);
        GradCheck.checkAt("masked rmsnorm dX", x, dX, loss, keptCoordinates, EPS, ATOL, RTOL);
    }

    @Test
    void rope() {
        Random r = new Random(3);
        int rows = 6, seqLen = 3, heads = 2, hd = 8;
        RopeTable table = new RopeTable(dev.shears.model.RopeScaling.NONE.inverseFrequencies(hd, 100));
        float[] x = gaussian(r, rows * heads * hd, 1);
        float[] proj = gaussian(r, x.length, 1);
        java.util.function.Supplier<Double> loss = () -> {
            float[] y = x.clone();
            Rope.forward(y, rows, seqLen, 2, heads, hd, table);
            return project(y, proj);
        };
        float[] dX = proj.clone();
        Rope.backward(dX, rows, seqLen, 2, heads, hd, table);
        check("rope dX", x, dX, loss, 200, EPS, ATOL, RTOL);
    }

    @ParameterizedTest(name = "queries {0}, start {1}, heads {2}/{3}, headDim {4}")
    @CsvSource({"4,0,4,2,6", "3,2,2,1,4", "5,0,3,3,5"})
    void attention(int queries, int start, int heads, int kvHeads, int hd) {
        Random r = new Random(4);
        Attention.Shape shape = new Attention.Shape(queries, start, heads, kvHeads, hd);
        int keys = shape.keys();
        float[] q = gaussian(r, queries * heads * hd, 1);
        float[] k = gaussian(r, keys * kvHeads * hd, 1);
        float[] v = gaussian(r, keys * kvHeads * hd, 1);
        float[] proj = gaussian(r, queries * heads * hd, 1);
        float[] ctx = new float[proj.length];
        float[] probs = new float[heads * queries * keys];
        java.util.function.Supplier<Double> loss = () -> {
            Attention.forward(ctx, 0, probs, 0, q, 0, k, v, 0, shape);
            return project(ctx, proj);
        };
        loss.get();
        float[] dQ = new float[q.length];
        float[] dK = new float[k.length];
        float[] dV = new float[v.length];
        Attention.backward(dQ, dK, dV, proj, 0, 0, probs, 0, q, k, v, shape);
        check("attention dQ", q, dQ, loss, 200, EPS, ATOL, RTOL);
        check("attention dK", k, dK, loss, 200, EPS, ATOL, RTOL);
        check("attention dV", v, dV, loss, 200, EPS, ATOL, RTOL);
    }

    @Test
    void swiGlu() {
        Random r = new Random(5);
        int n = 37;
        float[] g = gaussian(r, n, 2);
        float[] u = gaussian(r, n, 1);
        float[] proj = gaussian(r, n, 1);
        float[] out = new float[n];
        java.util.function.Supplier<Double> loss = () -> {
            SwiGlu.forward(out, g, u, n);
            return project(out, proj);
        };
        float[] dG = new float[n];
        float[] dU = new float[n];
        SwiGlu.backward(dG, dU, proj, g, u, n);
        check("swiglu dGate", g, dG, loss, n, EPS, ATOL, RTOL);
        check("swiglu dUp", u, dU, loss, n, EPS, ATOL, RTOL);
    }

    @Test
    void embedding() {
        Random r = new Random(6);
        int vocab = 7, dim = 5;
        int[] tokens = {3, 1, 3, 6, 0, 3};
        float[] table = gaussian(r, vocab * dim, 1);
        float[] proj = gaussian(r, tokens.length * dim, 1);
        float[] out = new float[tokens.length * dim];
        java.util.function.Supplier<Double> loss = () -> {
            Embedding.forward(out, tokens, table, dim);
            return project(out, proj);
        };
        float[] dTable = new float[table.length];
        Embedding.backward(dTable, proj, tokens, dim);
        check("embedding dTable", table, dTable, loss, table.length, EPS, ATOL, RTOL);
    }

    @Test
    void gateScale() {
        Random r = new Random(7);
        int rows = 4, units = 3, width = 5;
        float[] x = gaussian(r, rows * units * width, 1);
        float[] gate = {0.3f, 1f, -0.7f};
        float[] proj = gaussian(r, x.length, 1);
        java.util.function.Supplier<Double> loss = () -> {
            float[] y = x.clone();
            GateScale.forward(y, rows, units, width, gate);
            return project(y, proj);
        };
        float[] dX = proj.clone();
        float[] dGate = new float[units];
        GateScale.backward(dX, x, rows, units, width, gate, dGate);
        check("gate dX", x, dX, loss, x.length, EPS, ATOL, RTOL);
        check("gate dGate", gate, dGate, loss, units, EPS, ATOL, RTOL);
    }

    @Test
    void crossEntropy() {
        Random r = new Random(8);
        int rows = 5, vocab = 13;
        float[] logits = gaussian(r, rows * vocab, 2);
        int[] targets = {3, CrossEntropy.IGNORE, 12, 0, 7};
        java.util.function.Supplier<Double> loss = () -> CrossEntropy.forwardBackward(logits, targets, rows, vocab, new float[0], 1f);
        float[] d = new float[logits.length];
        double l = CrossEntropy.forwardBackward(logits, targets, rows, vocab, d, 1f);
        org.junit.jupiter.api.Assertions.assertEquals(loss.get(), l, 0.0);
        check("cross-entropy dLogits", logits, d, loss, logits.length, 1e-3, 1e-4, 1e-2);
        for (int i = vocab; i < 2 * vocab; i++) org.junit.jupiter.api.Assertions.assertEquals(0f, d[i], "ignored row has no gradient");
    }

    @Test
    void distillation() {
        Random r = new Random(9);
        int rows = 4, vocab = 11;
        float[] student = gaussian(r, rows * vocab, 2);
        float[] teacher = gaussian(r, rows * vocab, 2);
        int[] targets = {3, CrossEntropy.IGNORE, 10, 0};
        double temperature = 2.0;
        java.util.function.Supplier<Double> loss = () -> Distillation.forwardBackward(student, teacher, targets, rows, vocab, new float[0], 1f, temperature);
        float[] d = new float[student.length];
        double l = Distillation.forwardBackward(student, teacher, targets, rows, vocab, d, 1f, temperature);
        org.junit.jupiter.api.Assertions.assertEquals(loss.get(), l, 0.0);
        check("distillation dStudent", student, d, loss, student.length, 1e-3, 1e-4, 1e-2);
        org.junit.jupiter.api.Assertions.assertEquals(0, Distillation.forwardBackward(teacher, teacher, targets, rows, vocab, new float[0], 1f, temperature), 1e-12,
                "a student equal to its teacher has no distillation loss");
        // the loss by hand for one row: T² Σ p (log p − log q)
        double kl = 0, tz = 0, sz = 0;
        for (int i = 0; i < vocab; i++) {
            tz += Math.exp(teacher[i] / temperature);
            sz += Math.exp(student[i] / temperature);
        }
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp(teacher[i] / temperature) / tz, q = Math.exp(student[i] / temperature) / sz;
            kl += p * Math.log(p / q);
        }
        int[] firstOnly = {3, CrossEntropy.IGNORE, CrossEntropy.IGNORE, CrossEntropy.IGNORE};
        org.junit.jupiter.api.Assertions.assertEquals(temperature * temperature * kl,
                Distillation.forwardBackward(student, teacher, firstOnly, rows, vocab, new float[0], 1f, temperature), 1e-9);
    }
}
