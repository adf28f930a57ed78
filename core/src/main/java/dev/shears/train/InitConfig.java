package dev.shears.train;

import dev.shears.ShearsException;

/**
 * Seeded initialisation for training from scratch (GPT-2 / nanoGPT style).
 *
 * @param std                     standard deviation of every matrix, embedding included
 * @param scaleResidualProjections divide the std of the attention output and FFN down projections by
 *                                 {@code sqrt(2·numLayers)} (GPT-2 §2.3), so the residual stream's
 *                                 variance does not grow with depth
 * @param seed                    the random seed
 */
public record InitConfig(double std, boolean scaleResidualProjections, long seed) {
    public static final InitConfig DEFAULT = new InitConfig(0.02, true, 1337);

    public InitConfig {
        if (!(std > 0)) throw new ShearsException("init std must be positive, got " + std);
    }
}
