package dev.shears.seq2seq;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Decoding token by token with the cache gives the logits of the full teacher-forced forward at every
 * position (and so PyTorch's), for every sequence of every OpenBA fixture: the rotary position of each new
 * token, the rotated keys kept in the cache and the cross-attention keys and values computed once all enter.
 */
class OpenBaCacheTest {
    // the one-row products sum in another order than the batched ones: fp32 rounding only
    private static final double TOL = 1e-5;   // abs error / max |logit|

    @ParameterizedTest
    @MethodSource("dev.shears.seq2seq.OpenBaReferenceTest#fixtures")
    void incrementalLogitsEqualTheFullForward(String name) {
        OpenBaModel model = OpenBaModel.load(OpenBaReferenceTest.resource(name));
        int vocab = model.config().vocabSize();
        ReferenceFixture e = OpenBaReferenceTest.expected(name);
        float[] torch = e.tensor("logits");
        OpenBaPass full = OpenBa.forward(model, e.inputIds(), e.labels(), e.batch(), e.srcLen(), e.tgtLen());
        int[] decoderIds = full.decoderIds();
        double scale = 0;
        for (float v : full.logits()) scale = Math.max(scale, Math.abs(v));
        for (int b = 0; b < e.batch(); b++) {
            OpenBaCache cache = OpenBaCache.of(model, Arrays.copyOfRange(e.inputIds(), b * e.srcLen(), (b + 1) * e.srcLen()), e.tgtLen());
            for (int t = 0; t < e.tgtLen(); t++) {
                float[] step = OpenBa.forwardCached(model, cache, decoderIds[b * e.tgtLen() + t]);
                int row = (b * e.tgtLen() + t) * vocab;
                String at = name + " sequence " + b + " position " + t;
                assertClose(at + " vs full forward", Arrays.copyOfRange(full.logits(), row, row + vocab), step, TOL * scale, 0);
                assertClose(at + " vs torch", Arrays.copyOfRange(torch, row, row + vocab), step, 2 * TOL * scale, 0);
            }
            assertEquals(e.tgtLen(), cache.length());
            assertThrows(IllegalStateException.class, () -> OpenBa.forwardCached(model, cache, decoderIds[0]), "a full cache refuses another token");
        }
    }

    @Test
    void aCacheLongerThanTheDecoderRotaryTableIsRefused() {
        OpenBaModel model = OpenBaModel.load(OpenBaReferenceTest.resource("openba_bias_asym"));
        int tooMany = model.config().maxTgtLen() + 1;
        assertThrows(IllegalArgumentException.class, () -> OpenBaCache.of(model, new int[]{2, 3}, tooMany));
    }
}
