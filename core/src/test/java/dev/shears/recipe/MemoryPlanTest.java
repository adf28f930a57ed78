package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.model.KnownShape;
import dev.shears.model.ModelConfig;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.GroupReduction;
import dev.shears.prune.TaylorVariant;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Memory plans at real sizes: what pruning and training Llama-2-7B hold, and the one-line refusal. */
class MemoryPlanTest {
    private static final ModelConfig LLAMA_7B = KnownShape.LLAMA_2_7B.config;
    private static final long BF16_BYTES = 2 * LLAMA_7B.parameterCount();

    @Test
    void pruningHoldsCalibrationStatesAndOneLayerNotTheModel() {
        MemoryPlan activation = MemoryPlan.prune(LLAMA_7B, 16, 256, Criterion.ACTIVATION, Criterion.EVERY_K, 1, BF16_BYTES);
        // 16 × 256 × 4096 floats of hidden state (64 MB), one layer's buffers: well under a gigabyte
        assertTrue(activation.heapBytes() < 1_000_000_000L, MemoryPlan.gigabytes(activation.heapBytes()));
        assertTrue(activation.mappedBytes() < 500_000_000L, "one layer of bf16 weights at once: " + MemoryPlan.gigabytes(activation.mappedBytes()));
        MemoryPlan taylor = MemoryPlan.prune(LLAMA_7B, 16, 256, Criterion.TAYLOR, Criterion.BLOCK_INFLUENCE, 1, BF16_BYTES);
        // Taylor keeps every layer's input (32 × 64 MB) for the way down
        assertTrue(taylor.heapBytes() > 2_000_000_000L && taylor.heapBytes() < 3_500_000_000L, MemoryPlan.gigabytes(taylor.heapBytes()));
        // under mpirun, 4 ranks sharing the 16 windows: each keeps the states of its 4 only
        MemoryPlan shared = MemoryPlan.prune(LLAMA_7B, 16, 4, 256, Criterion.TAYLOR, Criterion.BLOCK_INFLUENCE, 1, CriterionOptions.DEFAULT, BF16_BYTES);
        assertTrue(shared.heapBytes() < taylor.heapBytes() / 2, MemoryPlan.gigabytes(shared.heapBytes()) + " of " + MemoryPlan.gigabytes(taylor.heapBytes()));
        // LLM-Pruner's weight-level variants add one layer's fp32 gradients (202 M weights in a 7B layer, above its
        // 131 M-entry LM head) per sequence, summed, and squared for the Fisher: 3 × 0.81 GB
        CriterionOptions mix = new CriterionOptions(TaylorVariant.PARAM_MIX, GroupReduction.SUM, CriterionOptions.AngularTokens.LAST,
                CriterionOptions.FinalState.NORMED);
        MemoryPlan weights = MemoryPlan.prune(LLAMA_7B, 16, 256, Criterion.TAYLOR, Criterion.BLOCK_INFLUENCE, 1, mix, BF16_BYTES);
        long layer = 202_383_360L; // 4 × 4096² + 3 × 4096 × 11008 + two norms
        assertTrue(Math.abs(weights.heapBytes() - taylor.heapBytes() - 3 * 4 * layer) < 1_000_000, MemoryPlan.gigabytes(weights.heapBytes()));
        // under mpirun a rank after the first keeps each of its 4 windows' layer gradients until the running sums arrive,
        // beside the sum and the squares: 6 × 0.81 GB
        MemoryPlan sharedWeights = MemoryPlan.prune(LLAMA_7B, 16, 4, 256, Criterion.TAYLOR, Criterion.BLOCK_INFLUENCE, 1, mix, BF16_BYTES);
        assertTrue(Math.abs(sharedWeights.heapBytes() - shared.heapBytes() - 6 * 4 * layer) < 1_000_000, MemoryPlan.gigabytes(sharedWeights.heapBytes()));
    }

    @Test
    void trainingA7bModelIsRefusedInOneLineNamingWhatWouldFit() {
        MemoryPlan plan = MemoryPlan.training("training", LLAMA_7B, 1, 256);
        assertTrue(plan.heapBytes() > 16 * LLAMA_7B.parameterCount(), "weights, gradients and two moments in fp32");
        // gradient accumulation keeps micro-batch gradients apart (added in a fixed order): 4 bytes a parameter each
        assertEquals(8 * LLAMA_7B.parameterCount(), MemoryPlan.training("training", LLAMA_7B, 1, 256, 2).heapBytes() - plan.heapBytes());
        assertEquals(1, dev.shears.train.StepGradients.scratchBuffers(4, 1));
        assertEquals(0, dev.shears.train.StepGradients.scratchBuffers(1, 1));
        assertEquals(1, dev.shears.train.StepGradients.scratchBuffers(3, 2), "2 of 3 micro-batches on rank 0");
        assertEquals(0, dev.shears.train.StepGradients.scratchBuffers(3, 3));
        ShearsException e = assertThrows(ShearsException.class, plan::check);
        assertTrue(e.getMessage().contains("would fit") && e.getMessage().contains("SHEARS_JAVA_OPTS=-Xmx") && !e.getMessage().contains("\n"),
                e.getMessage());
    }
}
