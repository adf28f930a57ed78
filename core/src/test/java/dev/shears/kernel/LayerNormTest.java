package dev.shears.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.shears.tensor.Close.assertClose;
import static dev.shears.tensor.GradCheck.gaussian;

/**
 * {@link LayerNorm} against a reference written in double from {@code torch.nn.LayerNorm}'s definition, and
 * its backward against central finite differences of that double reference (so the differences carry no fp32
 * rounding). Rows have a large common offset, so a missing mean subtraction or a variance taken about zero fails.
 */
class LayerNormTest {
    private static final int ROWS = 5;
    private static final int DIM = 13;
    private static final float EPS = 1e-5f;

    private final Random random = new Random(41);
    private final float[] x = offset(gaussian(random, ROWS * DIM, 1.5), 3f);
    private final float[] weight = offset(gaussian(random, DIM, 0.3), 1f);
    private final float[] bias = gaussian(random, DIM, 0.5);
    private final float[] projection = gaussian(random, ROWS * DIM, 1);

    private static float[] offset(float[] values, float by) {
        for (int i = 0; i < values.length; i++) values[i] += by;
        return values;
    }

    /** nn.LayerNorm in double: weight · (x − mean) / sqrt(mean((x − mean)²) + eps) + bias. */
    private static double[] reference(double[] x, double[] weight, double[] bias) {
        double[] out = new double[x.length];
        for (int r = 0; r < ROWS; r++) {
            double mean = 0;
            for (int c = 0; c < DIM; c++) mean += x[r * DIM + c] / DIM;
            double variance = 0;
            for (int c = 0; c < DIM; c++) variance += (x[r * DIM + c] - mean) * (x[r * DIM + c] - mean) / DIM;
            for (int c = 0; c < DIM; c++) out[r * DIM + c] = weight[c] * (x[r * DIM + c] - mean) / Math.sqrt(variance + EPS) + bias[c];
        }
        return out;
    }

    private static double[] widen(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = values[i];
        return out;
    }

    private double projectedLoss(double[] x, double[] weight, double[] bias) {
        double[] y = reference(x, weight, bias);
        double loss = 0;
        for (int i = 0; i < y.length; i++) loss += projection[i] * y[i];
        return loss;
    }

    @Test
    void forwardEqualsTheDoubleReference() {
        float[] out = new float[ROWS * DIM];
        LayerNorm.forward(out, new float[ROWS], new float[ROWS], x, weight, bias, ROWS, DIM, EPS);
        assertClose("layer norm", reference(widen(x), widen(weight), widen(bias)), widen(out), 2e-6, 2e-6);
    }

    @Test
    void backwardEqualsFiniteDifferencesInDouble() {
        float[] out = new float[ROWS * DIM];
        float[] mean = new float[ROWS];
        float[] rstd = new float[ROWS];
        LayerNorm.forward(out, mean, rstd, x, weight, bias, ROWS, DIM, EPS);
        float[] dX = new float[ROWS * DIM];
        float[] dWeight = new float[DIM];
        float[] dBias = new float[DIM];
        LayerNorm.backward(dX, dWeight, dBias, projection, x, weight, mean, rstd, ROWS, DIM);

        double[] xs = widen(x);
        double[] ws = widen(weight);
        double[] bs = widen(bias);
        assertClose("dX", numeric(xs, () -> projectedLoss(xs, ws, bs)), widen(dX), 1e-5, 1e-4);
        assertClose("dWeight", numeric(ws, () -> projectedLoss(xs, ws, bs)), widen(dWeight), 1e-5, 1e-4);
        assertClose("dBias", numeric(bs, () -> projectedLoss(xs, ws, bs)), widen(dBias), 1e-5, 1e-4);
    }

    @Test
    void backwardAccumulates() {
        float[] mean = new float[ROWS];
        float[] rstd = new float[ROWS];
        LayerNorm.forward(new float[ROWS * DIM], mean, rstd, x, weight, bias, ROWS, DIM, EPS);
        float[] once = new float[DIM];
        LayerNorm.backward(new float[ROWS * DIM], new float[DIM], once, projection, x, weight, mean, rstd, ROWS, DIM);
        float[] twice = new float[DIM];
        for (int i = 0; i < 2; i++) LayerNorm.backward(new float[ROWS * DIM], new float[DIM], twice, projection, x, weight, mean, rstd, ROWS, DIM);
        float[] doubled = once.clone();
        for (int i = 0; i < DIM; i++) doubled[i] *= 2;
        assertClose("dBias after two calls", doubled, twice, 1e-6, 1e-6);
    }

    /** Central differences of {@code loss} in every coordinate of {@code param}, in double (step 1e-6). */
    private static double[] numeric(double[] param, java.util.function.DoubleSupplier loss) {
        double h = 1e-6;
        double[] out = new double[param.length];
        for (int i = 0; i < param.length; i++) {
            double saved = param[i];
            param[i] = saved + h;
            double plus = loss.getAsDouble();
            param[i] = saved - h;
            double minus = loss.getAsDouble();
            param[i] = saved;
            out[i] = (plus - minus) / (2 * h);
        }
        return out;
    }
}
