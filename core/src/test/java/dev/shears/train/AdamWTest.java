package dev.shears.train;

import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
                        (float) Math.sqrt(1 - Math.pow(c.beta2(), t)), (float) c.epsilon(), decay, (float) (lr / (1 - Math.pow(c.beta1(), t))), 1f, false);
            });
        }
        expected.forEach((role, layer, p) -> assertArrayEquals(p, weights.get(role, layer), role + " " + layer));
    }

    @Test
    void clippingAndClearingInsideTheUpdateGiveTheBitsOfClipThenUpdate() {
        ModelConfig config = dev.shears.model.TinyModels.gqa();
        java.util.Random r = new java.util.Random(4);
        ModelWeights w1 = ModelInit.initialize(config, InitConfig.DEFAULT).weights(), w2 = w1.copy();
        ModelWeights g1 = ModelWeights.zeros(config);
        g1.forEach((role, layer, g) -> { for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextGaussian() * 3); });
        ModelWeights g2 = g1.copy();
        AdamWConfig c = new AdamWConfig(0.9, 0.95, 1e-8, 0.1);
        AdamW a1 = new AdamW(config, c), a2 = new AdamW(config, c);
        double norm = GradientClipping.clip(g1, 1.0);
        a1.update(w1, g1, 1e-3);
        assertEquals(norm, GradientClipping.globalNorm(g2), 0.0);
        float scale = GradientClipping.scale(norm, 1.0);
        org.junit.jupiter.api.Assertions.assertTrue(scale < 1f, "this test clips");
        a2.update(w2, g2, 1e-3, scale, true);
        w1.forEach((role, layer, p) -> assertArrayEquals(p, w2.get(role, layer), role + " " + layer));
        g2.forEach((role, layer, g) -> { for (float x : g) assertEquals(0f, x, "cleared for the next step"); });
    }
}
