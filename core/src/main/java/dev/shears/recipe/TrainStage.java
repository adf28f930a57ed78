package dev.shears.recipe;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.shears.train.TrainConfig;

/**
 * A training stage: continued pretraining ({@code train}) or the same against a teacher's logits
 * ({@code distill}). Written to {@code pipeline.json} as its training configuration alone.
 */
public record TrainStage(@JsonValue TrainConfig config, boolean distill) implements StageSettings {
    @Override
    public String kind() {
        return distill ? "distill" : "train";
    }
}
