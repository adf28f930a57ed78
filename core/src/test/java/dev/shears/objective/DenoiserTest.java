package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.objective.Denoiser.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenoiserTest {
    @Test
    void ul2MixtureIsThePapersSevenDenoisersWithUl2sModeTokens() {
        DenoiserMixture ul2 = DenoiserMixture.ul2();
        assertEquals(List.of(
                new Denoiser(Kind.R, 3, 0.15, "[NLU]"), new Denoiser(Kind.R, 8, 0.15, "[NLU]"), new Denoiser(Kind.S, 0, 0.25, "[S2S]"),
                new Denoiser(Kind.X, 3, 0.5, "[NLG]"), new Denoiser(Kind.X, 8, 0.5, "[NLG]"), new Denoiser(Kind.X, 64, 0.15, "[NLG]"),
                new Denoiser(Kind.X, 64, 0.5, "[NLG]")), ul2.denoisers());
        assertArrayEquals(new double[] {0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1}, ul2.probabilities(), 1e-15);
        assertEquals(SequentialLayout.PLAIN, ul2.sequentialLayout());
        DenoiserMixture renamed = ul2.withModeTokens("<R>", "", "<X>");
        assertEquals(List.of("<R>", "<R>", "", "<X>", "<X>", "<X>", "<X>"), renamed.denoisers().stream().map(Denoiser::modeToken).toList());
        assertEquals(ul2.denoisers().stream().map(Denoiser::label).toList(), renamed.denoisers().stream().map(Denoiser::label).toList());
        assertArrayEquals(ul2.weights(), renamed.weights());
    }

    @Test
    void openBaMixtureIsItsOriginUl2TableDrawnUniformly() {
        DenoiserMixture openBa = DenoiserMixture.openBa();
        assertEquals(List.of("<R>", "<R>", "<S>", "<X>", "<X>", "<X>", "<X>"), openBa.denoisers().stream().map(Denoiser::modeToken).toList());
        assertEquals(List.of("R(μ=3.0,r=0.15)", "R(μ=8.0,r=0.15)", "S(r=0.125)", "X(μ=3.0,r=0.5)", "X(μ=8.0,r=0.5)", "X(μ=64.0,r=0.15)",
                "X(μ=64.0,r=0.5)"), openBa.denoisers().stream().map(Denoiser::label).toList());
        for (double p : openBa.probabilities()) assertEquals(1.0 / 7, p, 1e-15);
        assertEquals(SequentialLayout.SENTINEL, openBa.sequentialLayout());
        // OpenBA's s_trans bound: round(0.25·L) target tokens at most, e.g. 142 of its 568-token examples
        assertEquals(142, Denoising.maxSequentialTargets(568, openBa.denoisers().get(2).noiseDensity()));
        assertEquals(List.of(new Denoiser(Kind.R, 3, 0.15, "")), DenoiserMixture.t5().denoisers());
        assertEquals(openBa.denoisers(), DenoiserMixture.openBaV2().denoisers());
    }

    @Test
    void badConfigurationIsAOneLineError() {
        oneLine("denoiser R: noiseDensity must be in (0, 1), got 0.0", () -> Denoiser.spans(Kind.R, 3, 0, "[NLU]"));
        oneLine("denoiser X: noiseDensity must be in (0, 1), got 1.0", () -> Denoiser.spans(Kind.X, 3, 1, "[NLG]"));
        oneLine("denoiser S: noiseDensity must be in (0, 1), got NaN", () -> Denoiser.sequential(Double.NaN, "[S2S]"));
        oneLine("denoiser R: meanSpanLength must be a finite number ≥ 1, got 0.5", () -> Denoiser.spans(Kind.R, 0.5, 0.15, ""));
        oneLine("denoiser S: the targets are one span, so meanSpanLength must be 0, got 3.0", () -> new Denoiser(Kind.S, 3, 0.25, ""));
        oneLine("denoiser S is a prefix LM; make it with Denoiser.sequential(noiseDensity, modeToken)", () -> Denoiser.spans(Kind.S, 3, 0.25, ""));
        oneLine("denoiser: kind must be R, S or X", () -> new Denoiser(null, 3, 0.15, ""));
        List<Denoiser> two = DenoiserMixture.t5().denoisers();
        oneLine("a denoiser mixture needs at least one denoiser", () -> new DenoiserMixture(List.of(), new double[0], SequentialLayout.PLAIN));
        oneLine("a denoiser mixture of 1 denoisers needs 1 weights, got 2", () -> new DenoiserMixture(two, new double[] {1, 1}, SequentialLayout.PLAIN));
        oneLine("denoiser mixture weight 0 (R(μ=3.0,r=0.15)) must be finite and ≥ 0, got -1.0",
                () -> new DenoiserMixture(two, new double[] {-1}, SequentialLayout.PLAIN));
        oneLine("denoiser mixture weights sum to zero; give at least one denoiser a positive weight",
                () -> new DenoiserMixture(two, new double[] {0}, SequentialLayout.PLAIN));
        oneLine("denoiser mixture: sequentialLayout must be PLAIN or SENTINEL", () -> new DenoiserMixture(two, new double[] {1}, null));
        oneLine("denoising needs an EOS id, got -1", () -> new DenoiserTokens(-1, 0, new int[0], new int[0][]));
    }

    @Test
    void mixtureKeepsItsOwnCopyOfTheWeights() {
        double[] w = {1};
        DenoiserMixture m = new DenoiserMixture(DenoiserMixture.t5().denoisers(), w, SequentialLayout.PLAIN);
        w[0] = 5;
        m.weights()[0] = 7;
        assertArrayEquals(new double[] {1}, m.weights());
    }

    private static void oneLine(String message, Executable bad) {
        ShearsException e = assertThrows(ShearsException.class, bad);
        assertEquals(message, e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }
}
