package dev.shears.eval;

import dev.shears.ShearsException;

/**
 * How to continue a prompt.
 *
 * @param maxTokens   the most new tokens (generation also stops at EOS or the model's context length)
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it before sampling
 * @param topP        nucleus sampling: sample among the most likely tokens whose probabilities sum to topP (1 = all)
 * @param seed        seeds the sampler, so a run is repeatable
 */
public record GenerationSettings(int maxTokens, float temperature, float topP, long seed) {
    public GenerationSettings {
        if (maxTokens < 0) throw new ShearsException("maxTokens must be ≥ 0, got " + maxTokens);
        if (temperature < 0) throw new ShearsException("temperature must be ≥ 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new ShearsException("topP must be in (0, 1], got " + topP);
    }

    public static GenerationSettings greedy(int maxTokens) {
        return new GenerationSettings(maxTokens, 0f, 1f, 0);
    }
}
