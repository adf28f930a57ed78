package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.kernel.CrossEntropy;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PrefixLmExampleTest {
    static final int I = CrossEntropy.IGNORE;

    @Test
    void lossOnlyOnTheTargetsAfterThePrefix() {
        // inputs a b c, targets x y </s> (ids 10 11 12 | 20 21 1), 8 positions padded with 0
        PrefixLmExample e = PrefixLmExample.of(new int[] {10, 11, 12}, new int[] {20, 21, 1}, 8, 0);
        assertArrayEquals(new int[] {10, 11, 12, 20, 21, 1, 0, 0}, e.tokens());
        assertArrayEquals(new int[] {I, I, 20, 21, 1, I, I, I}, e.labels());
        assertEquals(3, e.prefixLength());
        // exactly full: every target is scored, the last position predicts nothing
        PrefixLmExample full = PrefixLmExample.of(new int[] {7}, new int[] {8, 9}, 3, 0);
        assertArrayEquals(new int[] {8, 9, I}, full.labels());
    }

    @Test
    void denoisedExampleBecomesADecoderOnlyExample() {
        DenoiserMixture mixture = DenoiserMixture.t5();
        DenoisingBatcher batcher = new DenoisingBatcher(mixture, new DenoiserTokens(1, 0, SpanCorruptionTest.T5_SENTINELS, new int[][] {{}}),
                DenoisingBatcherTest.SYNTHETIC, 128, 40, 3);
        Denoising.Example x = batcher.draw(1).get(0).example();
        PrefixLmExample e = PrefixLmExample.of(x.inputs(), x.targets(), 256, 0);
        int scored = 0;
        for (int label : e.labels()) if (label != I) scored++;
        assertEquals(x.targets().length, scored);
        assertEquals(x.inputs().length, e.prefixLength());
        assertEquals(x.targets()[0], e.labels()[e.prefixLength() - 1]);
    }

    @Test
    void decoderOnlyBatchesHoldTheSameDrawsAsEncoderDecoderBatches() {
        DenoisingBatcher a = DenoisingBatcherTest.ul2(5), b = DenoisingBatcherTest.ul2(5);
        DenoisingBatcher.Batch pairs = a.next(8);
        DenoisingBatcher.PrefixLmBatch rows = b.nextPrefixLm(8, 216);
        assertArrayEquals(pairs.denoisers(), rows.denoisers());
        assertEquals(pairs.firstExample(), rows.firstExample());
        for (int r = 0; r < 8; r++) {
            int in = pairs.inputLengths()[r], out = pairs.targetLengths()[r];
            assertEquals(in, rows.prefixLengths()[r]);
            for (int p = 0; p < in; p++) assertEquals(pairs.inputs()[r * 130 + p], rows.tokens()[r * 216 + p]);
            for (int p = 0; p < out; p++) {
                assertEquals(pairs.targets()[r * 86 + p], rows.tokens()[r * 216 + in + p]);
                assertEquals(pairs.targets()[r * 86 + p], rows.labels()[r * 216 + in - 1 + p]);
            }
            for (int p = in + out - 1; p < 216; p++) assertEquals(I, rows.labels()[r * 216 + p]);
            for (int p = 0; p < in - 1; p++) assertEquals(I, rows.labels()[r * 216 + p]);
        }
        ShearsException e = assertThrows(ShearsException.class, () -> b.nextPrefixLm(1, 215));
        assertEquals("seqLen 215 cannot hold inputs of up to 130 and targets of up to 86 tokens", e.getMessage());
    }

    @Test
    void examplesThatDoNotFitAreOneLineErrors() {
        ShearsException e = assertThrows(ShearsException.class, () -> PrefixLmExample.of(new int[] {1, 2}, new int[] {3, 4}, 3, 0));
        assertEquals("a prefix-LM example of 2 input and 2 target tokens does not fit seqLen 3", e.getMessage());
        e = assertThrows(ShearsException.class, () -> PrefixLmExample.of(new int[0], new int[] {3}, 3, 0));
        assertEquals("a prefix-LM example needs a non-empty prefix and targets, got 0 and 1 tokens", e.getMessage());
    }
}
