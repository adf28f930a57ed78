package dev.shears.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.train.TrainConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Random seeds as an axis of every experiment (issue 14): the same pipeline run once per seed, each
 * stage's numbers reported as mean ± standard deviation over the seeds. A seed replaces every random
 * choice a run makes that is not part of the measurement: training and shearing stages' seed (batch
 * order, from-scratch initialisation, gate samples and initial logAlpha) and the pruning criteria's seed.
 * Evaluation stages keep their own seed, so every run is scored on the same items.
 */
public final class SeedSweep {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SeedSweep() {
    }

    /** The plan with {@code seed} in every stage that draws random numbers for the run. */
    public static Pipeline.Plan withSeed(Pipeline.Plan plan, long seed) {
        List<Pipeline.Stage> stages = new ArrayList<>();
        for (Pipeline.Stage s : plan.stages()) {
            StageSettings settings = switch (s.settings()) {
                case TrainStage t -> t.with(seeded(t.config(), seed));
                case ShearConfig c -> c.withTrain(seeded(c.train(), seed));
                case PruneStage p -> p.withSeed(seed);
                case EvalStage e -> e;
                case ExportStage e -> e;
            };
            stages.add(new Pipeline.Stage(s.index(), s.name(), settings));
        }
        return new Pipeline.Plan(plan.file(), plan.base(), plan.model(), plan.tokenizer(), List.copyOf(stages), plan.shapes());
    }

    private static TrainConfig seeded(TrainConfig t, long seed) {
        return t.with(t.batching().withSeed(seed));
    }

    /**
     * A number over the seeds.
     *
     * @param values one per seed, in seed order
     */
    public record Stat(double mean, double std, double[] values) {
        static Stat of(double[] values) {
            double mean = 0;
            for (double v : values) mean += v / values.length;
            double ss = 0;
            for (double v : values) ss += (v - mean) * (v - mean);
            return new Stat(mean, values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : Double.NaN, values);
        }

        /** {@code mean ± std} with {@code digits} decimals. */
        public String format(int digits) {
            String f = "%." + digits + "f";
            return String.format(Locale.ROOT, f + " ± " + f, mean, std);
        }
    }

    /**
     * Every number the stages report, over the seeds: per stage folder, {@code heldOutLoss <domain>} and
     * {@code lastLoss} of training and shearing stages, {@code calibrationPerplexity} of pruning stages,
     * {@code <task> <metric>} of evaluation stages; {@code std} is the sample standard deviation (n − 1).
     * Every run must have the same stages.
     */
    public static Map<String, Map<String, Stat>> summarise(List<List<Pipeline.StageResult>> runs) {
        if (runs.isEmpty()) throw new IllegalArgumentException("no runs");
        List<Map<String, Map<String, Double>>> numbers = runs.stream().map(SeedSweep::numbers).toList();
        Map<String, Map<String, Stat>> out = new LinkedHashMap<>();
        numbers.getFirst().forEach((stage, metrics) -> {
            Map<String, Stat> stats = new LinkedHashMap<>();
            metrics.forEach((metric, ignored) -> {
                double[] values = new double[numbers.size()];
                for (int r = 0; r < numbers.size(); r++) {
                    Double v = numbers.get(r).getOrDefault(stage, Map.of()).get(metric);
                    if (v == null) throw new ShearsException("seed run " + (r + 1) + " has no " + stage + " " + metric);
                    values[r] = v;
                }
                stats.put(metric, Stat.of(values));
            });
            if (!stats.isEmpty()) out.put(stage, stats);
        });
        return out;
    }

    private static Map<String, Map<String, Double>> numbers(List<Pipeline.StageResult> run) {
        Map<String, Map<String, Double>> all = new LinkedHashMap<>();
        for (Pipeline.StageResult r : run) {
            Map<String, Double> m = new LinkedHashMap<>();
            switch (r.summary().outcome()) {
                case StageSummary.Trained t -> {
                    t.heldOutLoss().forEach((domain, loss) -> m.put("heldOutLoss " + domain, loss));
                    m.put("lastLoss", t.lastLoss());
                }
                case StageSummary.Sheared s -> {
                    s.heldOutLoss().forEach((domain, loss) -> m.put("heldOutLoss " + domain, loss));
                    m.put("lastLoss", s.lastLoss());
                }
                case StageSummary.Pruned p -> p.calibrationPerplexityAfter().ifPresent(v -> m.put("calibrationPerplexity", v));
                case StageSummary.Evaluated e -> e.metrics().forEach((task, metrics) -> metrics.forEach((name, v) -> m.put(task + " " + name, v)));
                case StageSummary.Exported ignored -> {
                }
            }
            all.put(r.stage().folder(), m);
        }
        return all;
    }

    /** The summary as JSON: seeds, and per stage and number its mean, std and per-seed values. */
    public static ObjectNode toJson(List<Long> seeds, Map<String, Map<String, Stat>> summary) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode s = root.putArray("seeds");
        seeds.forEach(s::add);
        ObjectNode stages = root.putObject("stages");
        summary.forEach((stage, stats) -> {
            ObjectNode n = stages.putObject(stage);
            stats.forEach((metric, stat) -> {
                ObjectNode m = n.putObject(metric).put("mean", stat.mean()).put("std", stat.std());
                ArrayNode values = m.putArray("values");
                for (double v : stat.values()) values.add(v);
            });
        });
        return root;
    }

    /** The summary as a markdown table: stage, number, mean ± std, the values per seed. */
    public static String toMarkdown(List<Long> seeds, Map<String, Map<String, Stat>> summary) {
        StringBuilder md = new StringBuilder("| stage | number | mean ± std over " + seeds.size() + " seeds |");
        for (long seed : seeds) md.append(" seed ").append(seed).append(" |");
        md.append("\n|---|---|---:|").append("---:|".repeat(seeds.size())).append('\n');
        summary.forEach((stage, stats) -> stats.forEach((metric, stat) -> {
            md.append("| ").append(stage).append(" | ").append(metric).append(" | ").append(stat.format(4)).append(" |");
            for (double v : stat.values()) md.append(String.format(Locale.ROOT, " %.4f |", v));
            md.append('\n');
        }));
        return md.toString();
    }
}
