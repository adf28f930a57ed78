package dev.shears.objective;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DynamicUl2Test {
    static final double[] WEIGHTS = {0.5, 0.3, 0.2}, LOSSES = {2.0, 3.0, 2.5}, REFERENCE = {2.2, 2.5, 2.5};

    /**
     * By hand: log w + (ℓ − ℓ_ref) = (ln .5 − .2, ln .3 + .5, ln .2); exponentiated .5·e^−.2 = 0.409365,
     * .3·e^.5 = 0.494616, 0.2, of sum 1.103982; times (1 − 1e-4), plus 1e-4 / 3.
     */
    @Test
    void publishedRuleMatchesTheHandComputedUpdate() {
        double[] next = DynamicUl2.published(REFERENCE).update(WEIGHTS, LOSSES);
        double e0 = 0.5 * Math.exp(-0.2), e1 = 0.3 * Math.exp(0.5), e2 = 0.2, sum = e0 + e1 + e2;
        double c = 1e-4;
        assertArrayEquals(new double[] {(1 - c) * e0 / sum + c / 3, (1 - c) * e1 / sum + c / 3, (1 - c) * e2 / sum + c / 3}, next, 1e-15);
        assertArrayEquals(new double[] {0.37080435117689964, 0.4480180179537729, 0.1811776308693275}, next, 1e-15);
        assertEquals(1.0, next[0] + next[1] + next[2], 1e-15);
        // the lagging denoiser gains, the one below its reference loses
        assertTrue(next[1] > WEIGHTS[1] && next[0] < WEIGHTS[0]);
    }

    @Test
    void papersClampedRuleLeavesDenoisersBelowReferenceAlone() {
        double[] next = new DynamicUl2(REFERENCE, 1e-4, true).update(WEIGHTS, LOSSES);
        // Δ = (0, .5, 0): .5, .3·e^.5, .2
        assertArrayEquals(new double[] {0.41853588181973184, 0.41402976545237546, 0.16743435272789275}, next, 1e-15);
        // weights at any scale, and a NaN loss keeps its log-weight
        double[] scaled = DynamicUl2.published(REFERENCE).update(new double[] {5, 3, 2}, new double[] {Double.NaN, 2.5, 2.5});
        assertArrayEquals(new double[] {0.5 * (1 - 1e-4) + 1e-4 / 3, 0.3 * (1 - 1e-4) + 1e-4 / 3, 0.2 * (1 - 1e-4) + 1e-4 / 3}, scaled, 1e-15);
    }

    @Test
    void openBaV2PresetIsItsTargetLossesAndStartMixture() {
        DynamicUl2 rule = DynamicUl2.openBaV2();
        assertArrayEquals(new double[] {1.154, 1.594, 2.106, 1.298, 1.723, 2.151, 2.151}, rule.referenceLosses());
        assertEquals(1e-4, rule.smoothing());
        double[] start = DenoiserMixture.openBaV2().weights();
        assertArrayEquals(new double[] {0.02, 0.02, 0.8, 0.1, 0.02, 0.02, 0.02}, start);
        // S at its reference, X(μ=3, r=0.5) 0.3 nats behind: only the X weight moves up, by e^0.3 before renormalising
        double[] losses = rule.referenceLosses();
        losses[3] += 0.3;
        double[] next = rule.update(start, losses);
        double sum = 0.9 + 0.1 * Math.exp(0.3);
        assertEquals((1 - 1e-4) * 0.1 * Math.exp(0.3) / sum + 1e-4 / 7, next[3], 1e-15);
        assertEquals((1 - 1e-4) * 0.8 / sum + 1e-4 / 7, next[2], 1e-15);
    }

    @Test
    void perDenoiserLossesAreTokenWeighted() {
        // denoiser 0: (10 + 2) / (4 + 2) = 2; denoiser 2: 9 / 3; denoiser 1 unseen
        double[] mean = DynamicUl2.meanLosses(new int[] {0, 2, 0}, new double[] {10, 9, 2}, new int[] {4, 3, 2}, 3);
        assertEquals(2.0, mean[0]);
        assertTrue(Double.isNaN(mean[1]));
        assertEquals(3.0, mean[2]);
    }

    @Test
    void badSettingsAreOneLineErrors() {
        ShearsException e = assertThrows(ShearsException.class, () -> new DynamicUl2(new double[] {1}, 1, false));
        assertEquals("Dynamic-UL2 smoothing must be in [0, 1), got 1.0", e.getMessage());
        e = assertThrows(ShearsException.class, () -> DynamicUl2.published(new double[] {1, Double.NaN}));
        assertEquals("Dynamic-UL2 reference loss 1 must be finite, got NaN", e.getMessage());
        e = assertThrows(ShearsException.class, () -> DynamicUl2.published(REFERENCE).update(new double[] {1, 1}, LOSSES));
        assertEquals("Dynamic-UL2 has 3 reference losses but got 2 weights and 3 losses", e.getMessage());
    }
}
