package dev.shears.train;

import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class AdamWTest {
    /** Odd shapes (dim 17, head 18, FFN 23, vocab 37) so every tensor has a vector part and a scalar tail. */
    @Test
    void vectorUpdateMatchesTheScalarTwinBitForBit() {
        ModelConfig config = ModelConfig.uniform(Architecture.LLAMA, 17, 2, 1, 1, 18, 23, 37, 8, 1e-5f, 10000, false, false);
        AdamWConfig c = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
        ModelWeights weights = ModelWeights.zeros(config);
        ModelWeights grads = ModelWeights.zeros(config);
        Random r = new Random(7);
        weights.forEach((role, layer, p) -> { for (int i = 0; i < p.length; i++) p[i] = (float) r.nextGaussian(); });
        ModelWeights expected = ModelWeights.zeros(config);
        expected.forEach((role, layer, p) -> System.arraycopy(weights.get(role, layer), 0, p, 0, p.length));
        ModelWeights m = ModelWeights.zeros(config), v = ModelWeights.zeros(config);
        AdamW adam = new AdamW(config, c);
        double lr = 1e-2;
        for (int step = 1; step <= 3; step++) {
            grads.forEach((role, layer, g) -> { for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextGaussian() * 1e-3); });
            adam.update(weights, grads, lr);
            int t = step;
            expected.forEach((role, layer, p) -> {
                float decay = AdamW.isDecayed(role) ? (float) (1 - lr * c.weightDecay()) : 1f;
                AdamW.updateScalar(p, grads.get(role, layer), m.get(role, layer), v.get(role, layer), 0,
                        (float) c.beta1(), (float) c.beta2(), (float) (1 - c.beta1()), (float) (1 - c.beta2()),
                        (float) Math.sqrt(1 - Math.pow(c.beta2(), t)), (float) c.epsilon(), decay, (float) (lr / (1 - Math.pow(c.beta1(), t))));
            });
        }
        expected.forEach((role, layer, p) -> assertArrayEquals(p, weights.get(role, layer), role + " " + layer));
    }
}
