package dev.shears.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What a finished pipeline stage did: its name, kind, time and resulting shape, and an outcome typed
 * by the stage's kind. Written as one flat JSON object (the outcome's keys beside the common ones)
 * into the stage's {@code stage.json} and {@code pipeline.json}'s report, and read back when a
 * resumed pipeline skips the stage.
 *
 * @param passThrough the stage leaves the model as it was (eval, export)
 */
public record StageSummary(String name, String kind, Outcome outcome, double seconds, long params, String shape, boolean passThrough) {
    private static final ObjectMapper JSON = ConfigLoader.mapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The kind-specific part. */
    public sealed interface Outcome permits Pruned, Trained, Sheared, Evaluated, Exported {
    }

    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public record Pruned(long paramsBefore, long paramsAfter, Optional<Double> calibrationPerplexityBefore,
                         Optional<Double> calibrationPerplexityAfter) implements Outcome {
    }

    /**
     * @param heldOutLoss per domain, the final evaluation (on held-out windows dynamic batch loading never saw)
     * @param epochs      per domain, the epochs the stage read (sequences drawn / sequences per epoch); absent in records written before
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Trained(long steps, double lastLoss, long resumedFrom, Map<String, Double> heldOutLoss, Map<String, Double> epochs) implements Outcome {
    }

    /** @param heldOutLoss per domain, of the finalised model */
    public record Sheared(long steps, double lastLoss, long resumedFrom, long paramsBefore, long paramsAfter, Map<String, Double> heldOutLoss)
            implements Outcome {
        public Sheared {
            heldOutLoss = heldOutLoss == null ? Map.of() : heldOutLoss;
        }
    }

    /** @param metrics per task, metric name → value */
    public record Evaluated(Path model, Map<String, Map<String, Double>> metrics) implements Outcome {
    }

    public record Exported(Path model, Path written) implements Outcome {
    }

    /** The outcome type of each stage kind ({@code distill} is a train stage). */
    private static Class<? extends Outcome> outcomeOf(String kind) {
        return switch (kind) {
            case "prune" -> Pruned.class;
            case "train", "distill" -> Trained.class;
            case "shear" -> Sheared.class;
            case "eval" -> Evaluated.class;
            case "export" -> Exported.class;
            default -> throw new ShearsException("unknown stage kind '" + kind + "'");
        };
    }

    /** The flat object: name and kind, the outcome's keys, then time, size and shape. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode().put("name", name).put("kind", kind);
        n.setAll((ObjectNode) JSON.valueToTree(outcome));
        return n.put("seconds", seconds).put("params", params).put("shape", shape).put("passThrough", passThrough);
    }

    /** Reads {@link #toJson} output; {@code file} names the source in errors. */
    public static StageSummary fromJson(JsonNode n, Path file) {
        try {
            String kind = n.path("kind").asText();
            Outcome outcome = JSON.treeToValue(n, outcomeOf(kind));
            return new StageSummary(n.path("name").asText(), kind, outcome, n.path("seconds").asDouble(), n.path("params").asLong(),
                    n.path("shape").asText(), n.path("passThrough").asBoolean(false));
        } catch (JsonProcessingException | ShearsException e) {
            throw new ShearsException(file + ": unreadable stage record (" + e.getMessage().lines().findFirst().orElse("") + "); delete it to redo the stage");
        }
    }
}
