package dev.shears.train;

import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;

import java.util.SplittableRandom;

/**
 * Fresh weights for training from scratch: matrices ~ N(0, std²) (residual projections scaled down
 * with depth when asked), norms 1, biases 0. Each tensor draws from its own stream split from the
 * seed in table order, so the result depends on the seed only.
 */
public final class ModelInit {
    private ModelInit() {
    }

    public static Model initialize(ModelConfig config, InitConfig init) {
        Model model = Model.zeros(config);
        SplittableRandom root = new SplittableRandom(init.seed());
        double residualStd = init.scaleResidualProjections() ? init.std() / Math.sqrt(2.0 * config.numLayers()) : init.std();
        model.weights().forEach((role, layer, values) -> {
            SplittableRandom random = root.split();
            switch (role) {
                case ATTENTION_NORM, FFN_NORM, FINAL_NORM -> java.util.Arrays.fill(values, 1f);
                case QUERY_BIAS, KEY_BIAS, VALUE_BIAS -> java.util.Arrays.fill(values, 0f);
                default -> gaussian(values, role == TensorRole.OUTPUT || role == TensorRole.DOWN ? residualStd : init.std(), random);
            }
        });
        return model;
    }

    /** Box–Muller normal samples: plain arithmetic on a seeded stream, so the same bits on every JVM. */
    static void gaussian(float[] values, double std, SplittableRandom random) {
        for (int i = 0; i < values.length; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double radius = StrictMath.sqrt(-2 * StrictMath.log(u1)) * std;
            values[i] = (float) (radius * StrictMath.cos(2 * Math.PI * u2));
            if (i + 1 < values.length) values[i + 1] = (float) (radius * StrictMath.sin(2 * Math.PI * u2));
        }
    }
}
