package dev.shears.seq2seq;

import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Decoding token by token with the cache gives the logits of the full teacher-forced forward at every
 * position (and so PyTorch's), for every sequence of every T5 fixture. A padded sequence is encoded
 * without its padding: the mask must make the padding invisible, and relative positions do not move.
 */
class T5CacheTest {
    // the one-row products sum in another order than the batched ones: fp32 rounding only
    private static final double TOL = 1e-5;   // abs error / max |logit|

    @ParameterizedTest
    @MethodSource("dev.shears.seq2seq.T5ReferenceTest#fixtures")
    void incrementalLogitsEqualTheFullForward(String name) {
        assertIncrementalEqualsFull(name, T5Model.load(T5ReferenceTest.resource(name)));
    }

    /** The real tiny T5 (5 + 5 layers, 8 buckets over max distance 128) from its pytorch_model.bin. */
    @Test
    void realTinyT5DecodesIncrementally() {
        assertIncrementalEqualsFull("t5_tiny_random", T5Model.load(SharedData.require("models/t5-tiny-random")));
    }

    private static void assertIncrementalEqualsFull(String name, T5Model model) {
        int vocab = model.config().vocabSize();
        ReferenceFixture e = T5ReferenceTest.expected(name);
        int batch = e.batch(), srcLen = e.srcLen(), tgtLen = e.tgtLen();
        int[] inputIds = e.inputIds();
        int[] attentionMask = T5ReferenceTest.attentionMask(e);
        int[] labels = e.labels();
        float[] torch = e.tensor("logits");
        T5Pass full = T5.forward(model, inputIds, attentionMask, labels, batch, srcLen, tgtLen);
        int[] decoderIds = full.decoderIds();
        double scale = 0;
        for (float v : full.logits()) scale = Math.max(scale, Math.abs(v));
        for (int b = 0; b < batch; b++) {
            int tokens = Arrays.stream(attentionMask, b * srcLen, (b + 1) * srcLen).sum();   // padding is at the end
            T5Cache cache = T5Cache.of(model, Arrays.copyOfRange(inputIds, b * srcLen, b * srcLen + tokens), tgtLen);
            for (int t = 0; t < tgtLen; t++) {
                float[] step = T5.forwardCached(model, cache, decoderIds[b * tgtLen + t]);
                int row = (b * tgtLen + t) * vocab;
                String at = name + " sequence " + b + " position " + t;
                assertClose(at + " vs full forward", Arrays.copyOfRange(full.logits(), row, row + vocab), step, TOL * scale, 0);
                assertClose(at + " vs torch", Arrays.copyOfRange(torch, row, row + vocab), step, 2 * TOL * scale, 0);
            }
            assertEquals(tgtLen, cache.length());
            assertThrows(IllegalStateException.class, () -> T5.forwardCached(model, cache, decoderIds[0]), "a full cache refuses another token");
        }
    }
}
