package dev.shears.train;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reference losses for dynamic batch loading: the scaling-law form, its fit, and the published numbers. */
class ScalingLawTest {
    @Test
    void aFitToThreeSizesRecoversTheLawAndPredictsBetweenThem() {
        ScalingLaw truth = new ScalingLaw(1.7, 410.0, 0.34);
        double[] sizes = {7e9, 13e9, 70e9}; // LLaMA2's family
        double[] losses = new double[3];
        for (int i = 0; i < 3; i++) losses[i] = truth.loss(sizes[i]);
        ScalingLaw fitted = ScalingLaw.fit(sizes, losses);
        assertEquals(truth.alpha(), fitted.alpha(), 1e-6);
        assertEquals(truth.e(), fitted.e(), 1e-6);
        for (double n : new double[] {1.3e9, 2.7e9, 30e9}) assertEquals(truth.loss(n), fitted.loss(n), 1e-6, "at " + n);
    }

    @Test
    void moreSizesAreFittedByLeastSquares() {
        ScalingLaw truth = new ScalingLaw(2.0, 30.0, 0.2);
        double[] sizes = {1e6, 3e6, 1e7, 3e7, 1e8};
        double[] losses = new double[sizes.length];
        double[] noise = {0.004, -0.003, 0.002, -0.004, 0.001};
        for (int i = 0; i < sizes.length; i++) losses[i] = truth.loss(sizes[i]) + noise[i];
        ScalingLaw fitted = ScalingLaw.fit(sizes, losses);
        for (int i = 0; i < sizes.length; i++) assertEquals(losses[i], fitted.loss(sizes[i]), 0.01);
    }

    @Test
    void lossesThatDoNotFallWithSizeOrTooFewSizesAreRefused() {
        ShearsException rising = assertThrows(ShearsException.class, () -> ScalingLaw.fit(new double[] {1e6, 1e7, 1e8}, new double[] {2.0, 2.1, 2.3}));
        assertTrue(rising.getMessage().contains("do not fall with size"), rising.getMessage());
        ShearsException two = assertThrows(ShearsException.class, () -> ScalingLaw.fit(new double[] {1e6, 1e6, 1e8}, new double[] {3, 3, 2}));
        assertTrue(two.getMessage().contains("3 or more different model sizes"), two.getMessage());
        assertThrows(ShearsException.class, () -> new ScalingLaw(1, 1, 0));
    }

    @Test
    void presetsHoldLlmShearingsPublishedNumbers() {
        // llmshearing/scripts/pruning.sh: set_names, proportion and target_loss for to_model=1.3b
        PublishedReference p = PublishedReference.of("sheared-llama-1.3b").orElseThrow();
        assertEquals(List.of("cc", "github", "book", "stackexchange", "wiki", "arxiv", "c4-rp"), List.copyOf(p.startWeights().keySet()));
        assertEquals(Map.of("cc", 0.67, "github", 0.045, "book", 0.045, "stackexchange", 0.02, "wiki", 0.045, "arxiv", 0.025, "c4-rp", 0.15), p.startWeights());
        assertEquals(1.0, p.startWeights().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-12, "the published proportions sum to 1");
        assertEquals(1.9643, p.referenceLosses().get("cc"));
        assertEquals(2.1251, p.referenceLosses().get("c4-rp"));
        assertEquals(1.8712, PublishedReference.of("sheared-llama-2.7b").orElseThrow().referenceLosses().get("cc"));
        assertEquals(0.8694, PublishedReference.of("sheared-llama-370m").orElseThrow().referenceLosses().get("github"));
        // smaller targets get higher references on every domain
        for (String d : PublishedReference.DOMAINS) {
            assertTrue(PublishedReference.SHEARED_LLAMA_370M.referenceLosses().get(d) > PublishedReference.SHEARED_LLAMA_1_3B.referenceLosses().get(d));
            assertTrue(PublishedReference.SHEARED_LLAMA_1_3B.referenceLosses().get(d) > PublishedReference.SHEARED_LLAMA_2_7B.referenceLosses().get(d));
        }
        ShearsException unknown = assertThrows(ShearsException.class,
                () -> new DynamicBatchLoading(true, Map.of(), 1e-4, false, "", "llama-7b", Map.of(), Map.of(), List.of(), 0));
        assertTrue(unknown.getMessage().contains("sheared-llama-1.3b"), unknown.getMessage());
    }
}
