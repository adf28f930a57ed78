package dev.shears.recipe;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.train.TrainConfig;

import java.util.List;
import java.util.Optional;

/**
 * A training stage: continued pretraining ({@code train}) or the same against a teacher's logits
 * ({@code distill}). Written to {@code pipeline.json} as its training configuration, with {@code objective} and
 * {@code dynamic} beside its keys when the stage names them.
 *
 * @param denoising the mixture of denoisers an encoder–decoder trains on ({@code objective}, {@code dynamic}); empty when the stage
 *                  names neither (an encoder–decoder then trains on {@link Denoising#DEFAULT})
 */
public record TrainStage(TrainConfig config, boolean distill, Optional<Denoising> denoising) implements StageSettings {
    /** A stage of a decoder-only model, or one taking the default denoisers. */
    public TrainStage(TrainConfig config, boolean distill) {
        this(config, distill, Optional.empty());
    }

    /**
     * An encoder–decoder's objective, as {@code shears train --objective X [--dynamic]} takes it.
     *
     * @param objective the mixture of denoisers
     * @param dynamic   Dynamic-UL2: re-weight the denoisers at every evaluation
     */
    public record Denoising(Seq2SeqTrainRun.Objective objective, boolean dynamic) {
        /** The train command's default: UL2's seven denoisers, fixed weights. */
        public static final Denoising DEFAULT = new Denoising(Seq2SeqTrainRun.Objective.UL2, false);

        /** The {@code objective} and {@code dynamic} keys of a pipeline's train section {@code section} (at YAML path {@code at}), when it names either. */
        static Optional<Denoising> of(JsonNode section, String at) {
            if (section == null || !section.isObject() || (!section.has("objective") && !section.has("dynamic"))) return Optional.empty();
            JsonNode objective = section.path("objective"), dynamic = section.path("dynamic");
            if (!objective.isMissingNode() && !objective.isTextual()) throw new ShearsException(at + ".objective: one of ul2, t5, openba-v2, got " + objective);
            if (!dynamic.isMissingNode() && !dynamic.isBoolean()) throw new ShearsException(at + ".dynamic: true or false, got " + dynamic);
            try {
                return Optional.of(new Denoising(objective.isMissingNode() ? DEFAULT.objective() : Seq2SeqTrainRun.Objective.parse(objective.asText()),
                        dynamic.asBoolean(DEFAULT.dynamic())));
            } catch (ShearsException e) {
                throw new ShearsException(at + ".objective: " + e.getMessage().replace("--objective ", ""));
            }
        }

        /** A train section without these keys, which the training configuration does not know. */
        static JsonNode without(JsonNode section) {
            if (section == null || !section.isObject()) return section;
            ObjectNode rest = section.deepCopy();
            rest.remove(List.of("objective", "dynamic"));
            return rest;
        }
    }

    @Override
    public String kind() {
        return distill ? "distill" : "train";
    }

    /** The same stage training with {@code newConfig}. */
    public TrainStage with(TrainConfig newConfig) {
        return new TrainStage(newConfig, distill, denoising);
    }

    /** The stage as a file spells it: the training keys, and {@code objective} and {@code dynamic} when named. */
    @JsonValue
    public ObjectNode json() {
        ObjectNode n = ConfigLoader.toTree(config);
        denoising.ifPresent(d -> n.put("objective", d.objective().key).put("dynamic", d.dynamic()));
        return n;
    }
}
