package dev.shears.seq2seq;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link OpenBa#forward} with an attention mask: padded encoder positions change nothing the decoder computes. */
class OpenBaPaddingTest {
    @Test
    void maskedPaddingGivesTheLogitsAndGradientsOfTheUnpaddedSequence() {
        OpenBaModel model = OpenBaModel.load(OpenBaReferenceTest.resource("openba_bias_asym"));
        int[] input = {5, 9, 3, 7, 1}, labels = {4, 8, 2, 1};
        int[] padded = {5, 9, 3, 7, 1, 0, 0, 0}, mask = {1, 1, 1, 1, 1, 0, 0, 0};
        OpenBaPass alone = OpenBa.forward(model, input, labels, 1, input.length, labels.length);
        OpenBaPass masked = OpenBa.forward(model, padded, mask, labels, 1, padded.length, labels.length);
        OpenBaPass unmasked = OpenBa.forward(model, padded, labels, 1, padded.length, labels.length);
        float worst = 0, moved = 0;
        for (int i = 0; i < alone.logits().length; i++) {
            worst = Math.max(worst, Math.abs(alone.logits()[i] - masked.logits()[i]));
            moved = Math.max(moved, Math.abs(alone.logits()[i] - unmasked.logits()[i]));
        }
        assertEquals(0f, worst, 1e-5f, "masked padding is invisible");
        assertEquals(true, moved > 1e-4f, "unmasked padding is attended to: " + moved);

        OpenBaWeights gAlone = OpenBaWeights.zeros(model.config()), gMasked = OpenBaWeights.zeros(model.config());
        float[] d1 = new float[alone.logits().length], d2 = new float[masked.logits().length];
        assertEquals(OpenBa.loss(alone, labels, d1), OpenBa.loss(masked, labels, d2), 1e-6);
        OpenBa.backward(model, alone, d1, gAlone);
        OpenBa.backward(model, masked, d2, gMasked);
        float[] a = gAlone.encoder().getFirst().self().qkv(), b = gMasked.encoder().getFirst().self().qkv();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-5f, "encoder qkv gradient " + i);
    }

    @Test
    void anAllPaddingSequenceIsRefused() {
        OpenBaModel model = OpenBaModel.load(OpenBaReferenceTest.resource("openba_nobias_tied"));
        assertThrows(IllegalArgumentException.class, () -> OpenBa.forward(model, new int[]{3, 0}, new int[]{0, 0}, new int[]{2}, 1, 2, 1));
    }
}
