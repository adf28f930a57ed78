package dev.shears.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.l0.Shearing;
import dev.shears.train.ScalingLaw;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One line of a run's {@code metrics.jsonl}, tagged by {@code type}: a training step, a held-out
 * evaluation during the run, the reference losses of dynamic batch loading, or the final evaluation.
 * Runs write these records and reports read them back ({@link #read}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({@JsonSubTypes.Type(value = MetricsLine.Step.class, name = "step"), @JsonSubTypes.Type(value = MetricsLine.Eval.class, name = "eval"),
        @JsonSubTypes.Type(value = MetricsLine.Reference.class, name = "reference"), @JsonSubTypes.Type(value = MetricsLine.Final.class, name = "final")})
public sealed interface MetricsLine {
    /** The optimizer steps done when the line was written. */
    long step();

    /**
     * One optimizer step. Learned masks add the Lagrangian, the expected and target parameters and the
     * per-axis terms; plain training adds the arithmetic rate.
     *
     * @param axes per gated axis key, the Lagrangian's terms (learned masks only)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Step(long step, long tokens, double loss, Double lagrangian, double lr, double gradNorm, Double expectedParams, Double targetParams,
                double tokensPerSecond, Double gflops, Map<String, Shearing.AxisTerms> axes) implements MetricsLine {
        /** A plain training step. */
        static Step training(long step, long tokens, double loss, double lr, double gradNorm, double tokensPerSecond, double gflops) {
            return new Step(step, tokens, loss, null, lr, gradNorm, null, null, tokensPerSecond, gflops, null);
        }
    }

    /**
     * A held-out evaluation during the run, on the steering half of the held-out windows
     * ({@code data/HeldOutPart.STEERING}): loss per domain, the domain weights in force after it, and the
     * epochs each domain has seen (sequences drawn / sequences per epoch; absent in lines written before).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Eval(long step, Map<String, Double> heldOutLoss, Map<String, Double> domainWeights, Map<String, Double> epochs) implements MetricsLine {
    }

    /**
     * The reference loss per domain that dynamic batch loading steers toward, where each came from
     * ({@code referenceLosses}, {@code scalingLaw}, {@code referenceModels}, {@code referenceModel} or
     * {@code preset:NAME}), and the scaling laws used with the size N they were evaluated at.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    record Reference(long step, Map<String, Double> referenceLoss, Map<String, String> source, Map<String, ScalingLaw> scalingLaw, Long parameters)
            implements MetricsLine {
    }

    /**
     * The final evaluation, on the other half of the held-out windows ({@code data/HeldOutPart.FINAL}),
     * never seen by dynamic batch loading: loss per domain of the run's output model, and the epochs each
     * domain saw over the whole run.
     */
    record Final(long step, Map<String, Double> heldOutLoss, Map<String, Double> epochs) implements MetricsLine {
    }

    /** The line as written: one JSON object. */
    default String toJson() {
        try {
            return Codec.JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every line of a metrics file (a line cut short by a crash ends the list). */
    static List<MetricsLine> read(Path file) {
        List<MetricsLine> lines = new ArrayList<>();
        List<String> text;
        try {
            text = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        for (String line : text) {
            if (line.isBlank()) continue;
            try {
                lines.add(Codec.JSON.readValue(line, MetricsLine.class));
            } catch (IOException e) {
                break;
            }
        }
        return lines;
    }

    /** The mapper of metrics lines, out of the interface's public surface. */
    final class Codec {
        private static final ObjectMapper JSON = ConfigLoader.mapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.INDENT_OUTPUT); // one line per record

        private Codec() {
        }
    }
}
