package dev.shears.train;

import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Architecture;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.Transformer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OverfitTest {
    @Test
    void oneBatchIsMemorised() {
        ModelConfig config = ModelConfig.uniform(Architecture.LLAMA, 32, 2, 4, 2, 8, 64, 48, 32, 1e-5f, 10000, false, false);
        Model model = ModelInit.initialize(config, InitConfig.DEFAULT);
        int batch = 2, seqLen = 16;
        Random r = new Random(3);
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(config.vocabSize());
        for (int i = 0; i < tokens.length; i++) targets[i] = (i + 1) % seqLen == 0 ? CrossEntropy.IGNORE : tokens[i + 1];
        Activations acts = Activations.forTraining(config, batch, seqLen);
        ModelWeights grads = ModelWeights.zeros(config);
        AdamW adam = new AdamW(config, new AdamWConfig(0.9, 0.95, 1e-8, 0.0));
        double first = 0, last = 0;
        for (int step = 0; step < 200; step++) {
            grads.forEach((role, layer, g) -> java.util.Arrays.fill(g, 0f));
            float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, MaskSet.NONE);
            last = CrossEntropy.forwardBackward(logits, targets, batch * seqLen, config.vocabSize(), acts.gradients().logits, 1f);
            if (step == 0) first = last;
            Transformer.backward(model, tokens, acts, MaskSet.NONE, grads, MaskSet.NONE);
            GradientClipping.clip(grads, 1.0);
            adam.update(model.weights(), grads, 1e-2);
        }
        assertTrue(first > 3.5, "a fresh model is near uniform over 48 tokens: " + first);
        assertTrue(last < 0.05, "one batch must be memorised, loss " + first + " -> " + last);
    }

    @Test
    void initialisationDependsOnTheSeedOnly() {
        ModelConfig config = ModelConfig.uniform(Architecture.LLAMA, 16, 2, 2, 1, 8, 24, 20, 8, 1e-5f, 10000, true, false);
        Model a = ModelInit.initialize(config, InitConfig.DEFAULT);
        Model b = ModelInit.initialize(config, InitConfig.DEFAULT);
        Model c = ModelInit.initialize(config, new InitConfig(0.02, true, 7));
        a.weights().forEach((role, layer, values) -> assertArrayEquals(values, b.weights().get(role, layer)));
        float[] qa = a.weights().get(dev.shears.model.TensorRole.QUERY, 0);
        float[] qc = c.weights().get(dev.shears.model.TensorRole.QUERY, 0);
        assertTrue(!java.util.Arrays.equals(qa, qc), "another seed gives other weights");
        double sum = 0;
        for (float x : qa) sum += x * x;
        double std = Math.sqrt(sum / qa.length);
        assertTrue(Math.abs(std - 0.02) < 0.004, "matrix std " + std);
    }
}
