package dev.shears.seq2seq;

import dev.shears.format.hf.FolderWeights;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model's logits and every weight's gradient against a PyTorch reference's, element by element with tolerances
 * relative to the largest reference value, printing the worst mismatch and where it is.
 */
final class ReferenceComparison {
    // The references are float64, Shears computes in fp32; each generator prints how far the plausible mistakes
    // move the logits, all far beyond LOGIT_TOL.
    static final double LOGIT_TOL = 2e-5;   // abs error / max |logit|
    static final double LOSS_TOL = 1e-5;    // nats, absolute
    static final double GRAD_TOL = 1e-4;    // abs error / max |gradient| of the tensor

    private ReferenceComparison() {
    }

    /** Logits within {@link #LOGIT_TOL} · max |expected|. */
    static void assertLogits(String label, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, label + ": logits shape");
        double scale = maxAbs(expected);
        Worst worst = Worst.of(expected, actual);
        System.out.printf("%s logits: max|err| %.2e (%.2e of max |logit| %.3g) at %d%n", label, worst.error, worst.error / scale, scale, worst.index);
        assertClose(label + " logits", expected, actual, LOGIT_TOL * scale, 0);
    }

    /** The loss within {@link #LOSS_TOL} of the reference's float64 loss. */
    static void assertLoss(String label, double expected, double actual) {
        System.out.printf("%s loss: shears %.9f torch64 %.9f |diff| %.2e%n", label, actual, expected, Math.abs(actual - expected));
        assertEquals(expected, actual, LOSS_TOL, label + ": loss");
    }

    /**
     * Every gradient the table lists is within {@link #GRAD_TOL} · max |expected| of {@code grad.<name>} in the
     * reference, is not zero there (or the fixture would not test it), and the reference has no other gradient.
     */
    static void assertGradients(String label, Map<String, float[]> reference, FolderWeights.Table gradients) {
        Set<String> checked = new TreeSet<>();
        String[] worstTensor = {""};
        Worst[] worst = {new Worst(0, -1)};
        double[] worstRelative = {0};
        gradients.forEach((tensor, shape, g) -> {
            float[] expected = reference.get("grad." + tensor);
            assertTrue(expected != null, label + ": the reference has no grad." + tensor);
            double scale = maxAbs(expected);
            assertTrue(scale > 0, label + ": the reference gradient of " + tensor + " is zero, so the fixture does not test it");
            Worst w = Worst.of(expected, g);
            if (w.error / scale > worstRelative[0]) {
                worstRelative[0] = w.error / scale;
                worst[0] = w;
                worstTensor[0] = tensor;
            }
            assertClose(label + " d" + tensor, expected, g, GRAD_TOL * scale, 0);
            checked.add("grad." + tensor);
        });
        Set<String> inReference = reference.keySet().stream().filter(k -> k.startsWith("grad.")).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(inReference, checked, label + ": every weight of the reference has its gradient checked");
        System.out.printf("%s gradients of %d tensors: worst max|err|/max|grad| %.2e in %s[%d]%n",
                label, checked.size(), worstRelative[0], worstTensor[0], worst[0].index);
    }

    /** The largest absolute difference and where it is. */
    private record Worst(double error, int index) {
        static Worst of(float[] expected, float[] actual) {
            Worst w = new Worst(0, -1);
            for (int i = 0; i < expected.length; i++) {
                double d = Math.abs((double) expected[i] - actual[i]);
                if (!(d <= w.error)) w = new Worst(d, i);
            }
            return w;
        }
    }

    private static double maxAbs(float[] values) {
        double m = 0;
        for (float v : values) m = Math.max(m, Math.abs(v));
        return m;
    }
}
