package dev.shears.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class TransformerTest {
    static Stream<ModelConfig> configs() {
        return Stream.of(TinyModels.gqa(), TinyModels.nonUniformWithBias());
    }

    private static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    /** [tokens.length, vocab] logits of one sequence through the full (uncached) forward, copied out of the activations. */
    private static float[] logits(Model model, int[] tokens, MaskSet masks) {
        int n = tokens.length;
        return Transformer.forward(model, tokens, 1, n, Activations.forInference(model.config(), 1, n), masks).clone();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void cachedGenerationMatchesFullForward(ModelConfig config) {
        Model model = TinyModels.random(config, 7);
        int n = 13;
        int[] t = tokens(n, config.vocabSize(), 3);
        float[] full = logits(model, t, MaskSet.NONE);
        KvCache cache = new KvCache(config, n);
        // a prompt of 5, then one token at a time
        float[] last = Transformer.forwardCached(model, Arrays.copyOf(t, 5), cache, Activations.forInference(config, 1, 5));
        assertClose("position 4", Arrays.copyOfRange(full, 4 * config.vocabSize(), 5 * config.vocabSize()), last, 1e-5, 1e-4);
        Activations step = Activations.forInference(config, 1, 1);
        for (int i = 5; i < n; i++) {
            last = Transformer.forwardCached(model, new int[] {t[i]}, cache, step);
            assertClose("position " + i, Arrays.copyOfRange(full, i * config.vocabSize(), (i + 1) * config.vocabSize()), last, 1e-5, 1e-4);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void batchRowsAreIndependentSequencesAndTrainingModeAgrees(ModelConfig config) {
        Model model = TinyModels.random(config, 11);
        int n = 9;
        int[] a = tokens(n, config.vocabSize(), 1);
        int[] b = tokens(n, config.vocabSize(), 2);
        int[] both = new int[2 * n];
        System.arraycopy(a, 0, both, 0, n);
        System.arraycopy(b, 0, both, n, n);
        float[] batch = Transformer.forward(model, both, 2, n, Activations.forTraining(config, 2, n), MaskSet.NONE).clone();
        float[] first = logits(model, a, MaskSet.NONE);
        float[] second = logits(model, b, MaskSet.NONE);
        int v = config.vocabSize();
        assertArrayEquals(first, Arrays.copyOfRange(batch, 0, n * v));
        assertArrayEquals(second, Arrays.copyOfRange(batch, n * v, 2 * n * v));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void gatesAtOneAreTheIdentity(ModelConfig config) {
        Model model = TinyModels.random(config, 5);
        int n = 8;
        int[] t = tokens(n, config.vocabSize(), 9);
        float[] plain = logits(model, t, MaskSet.NONE);
        float[] gated = logits(model, t, MaskSet.ones(config));
        assertArrayEquals(plain, gated, "gates of 1 must not change a single bit");
    }
}
