package dev.shears.seq2seq;

import dev.shears.SharedData;
import dev.shears.format.hf.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
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

    private static Path fixture(String name) {
        try {
            return Path.of(T5CacheTest.class.getResource("/torchref-t5/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] ints(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < out.length; i++) out[i] = Math.round(values[i]);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5_relu_tied", "t5_gated_untied", "t5_nonuniform"})
    void incrementalLogitsEqualTheFullForward(String name) {
        assertIncrementalEqualsFull(name, T5Model.load(fixture(name)));
    }

    /** The real tiny T5 (5 + 5 layers, 8 buckets over max distance 128) from its pytorch_model.bin. */
    @Test
    void realTinyT5DecodesIncrementally() {
        assertIncrementalEqualsFull("t5_tiny_random", T5Model.load(SharedData.require("models/t5-tiny-random")));
    }

    private static void assertIncrementalEqualsFull(String name, T5Model model) {
        int vocab = model.config().vocabSize();
        try (Safetensors.File expected = Safetensors.open(fixture(name).resolve("expected.safetensors"))) {
            int[] shape = expected.entries().get("input_ids").shape();
            int batch = shape[0], srcLen = shape[1];
            int tgtLen = expected.entries().get("labels").shape()[1];
            int[] inputIds = ints(expected.read("input_ids").values());
            int[] attentionMask = new int[inputIds.length];
            Arrays.fill(attentionMask, 1);   // the real tiny T5's inputs are unpadded
            if (expected.entries().containsKey("attention_mask")) attentionMask = ints(expected.read("attention_mask").values());
            int[] labels = ints(expected.read("labels").values());
            float[] torch = expected.read("logits").values();
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
}
