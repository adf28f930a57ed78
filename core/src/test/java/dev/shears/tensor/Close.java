package dev.shears.tensor;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Element-wise comparison {@code |a - e| <= atol + rtol·|e|} with a readable report: the label, the
 * worst absolute and relative errors, the first mismatching index and a few pairs around it.
 */
public final class Close {
    private Close() {
    }

    public static void assertClose(String label, float[] expected, float[] actual, double atol, double rtol) {
        double[] e = new double[expected.length];
        double[] a = new double[actual.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        assertClose(label, e, a, atol, rtol);
    }

    public static void assertClose(String label, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) fail(label + ": length " + actual.length + " != expected " + expected.length);
        int first = -1;
        double maxAbs = 0;
        double maxRel = 0;
        int bad = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(actual[i] - expected[i]);
            if (!(diff <= atol + rtol * Math.abs(expected[i]))) {
                bad++;
                if (first < 0) first = i;
            }
            if (Double.isNaN(diff)) diff = Double.POSITIVE_INFINITY;
            maxAbs = Math.max(maxAbs, diff);
            maxRel = Math.max(maxRel, diff / Math.max(Math.abs(expected[i]), 1e-30));
        }
        if (first >= 0) {
            StringBuilder pairs = new StringBuilder();
            for (int i = first; i < Math.min(expected.length, first + 4); i++) {
                pairs.append(String.format(" [%d] expected %.8g got %.8g;", i, expected[i], actual[i]));
            }
            fail(String.format("%s: %d of %d elements differ (atol %.1e, rtol %.1e); max abs %.3e, max rel %.3e; first at %d:%s",
                    label, bad, expected.length, atol, rtol, maxAbs, maxRel, first, pairs));
        }
    }

    /** Max |a - e|, for printing. */
    public static double maxAbs(float[] expected, float[] actual) {
        double m = 0;
        for (int i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(expected[i] - actual[i]));
        return m;
    }
}
