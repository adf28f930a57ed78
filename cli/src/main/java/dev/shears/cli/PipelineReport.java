package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.AtomicFiles;
import dev.shears.recipe.MetricsLine;
import dev.shears.recipe.ModelShape;
import dev.shears.recipe.Pipeline;
import dev.shears.recipe.StageSummary;
import dev.shears.recipe.TrainRun;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The report of a pipeline (and of {@code shears demo}): a self-contained HTML page (inline SVG, no
 * scripts or fonts), the same facts as markdown and JSON. It shows the stages as a timeline, the
 * model's shape after every stage, the loss curves of every training stage on one axis with the
 * stage boundaries, the domain weights over time, the evaluation scores of every eval stage, and the
 * time and tokens each stage spent.
 */
final class PipelineReport {
    private final String title;
    private final List<Pipeline.StageResult> results;
    private final List<double[]> trainLoss = new ArrayList<>();
    private final List<double[]> heldOutLoss = new ArrayList<>();
    private final Map<String, List<double[]>> domainWeights = new LinkedHashMap<>();
    private final Map<String, List<double[]>> domainLoss = new LinkedHashMap<>();
    private int mostDomains;
    private final List<Double> boundaries = new ArrayList<>();
    private final Map<String, Long> tokens = new LinkedHashMap<>();
    /** Per training stage (folder), the epochs each domain was read: the final metrics line's. */
    private final Map<String, Map<String, Double>> epochs = new LinkedHashMap<>();

    PipelineReport(String title, List<Pipeline.StageResult> results) {
        this.title = title;
        this.results = results;
        long offset = 0;
        for (Pipeline.StageResult r : results) {
            Path metrics = r.out().resolve(TrainRun.METRICS);
            if (!Files.isRegularFile(metrics)) continue;
            boundaries.add((double) offset);
            long last = 0, lastTokens = 0;
            for (MetricsLine line : MetricsLine.read(metrics)) {
                long step = line.step();
                last = Math.max(last, step);
                long at = offset + step;
                switch (line) {
                    case MetricsLine.Step m -> {
                        lastTokens = Math.max(lastTokens, m.tokens());
                        trainLoss.add(new double[] {at, m.loss()});
                    }
                    case MetricsLine.Eval m -> {
                        double sum = 0;
                        for (double v : m.heldOutLoss().values()) sum += v;
                        heldOutLoss.add(new double[] {at, sum / Math.max(1, m.heldOutLoss().size())});
                        mostDomains = Math.max(mostDomains, m.heldOutLoss().size());
                        m.heldOutLoss().forEach((d, v) -> domainLoss.computeIfAbsent(d, k -> new ArrayList<>()).add(new double[] {at, v}));
                        m.domainWeights().forEach((d, v) -> domainWeights.computeIfAbsent(d, k -> new ArrayList<>()).add(new double[] {at, v}));
                    }
                    case MetricsLine.Reference m -> { }
                    case MetricsLine.Final m -> {
                        // an encoder-decoder's stage reads chunks of one folder, not domains by epoch: it logs none
                        if (m.epochs() != null) epochs.put(r.stage().folder(), m.epochs());
                    }
                }
            }
            tokens.put(r.stage().folder(), lastTokens);
            offset += last;
        }
    }

    /** Writes report.html, report.md and report.json into {@code dir}; {@code extraHtml}/{@code extraMd} go first. */
    Path write(Path dir, ObjectNode json, String extraHtml, String extraMd) {
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n").append(extraMd);
        md.append("| stage | kind | layers | heads / kv | FFN | hidden | vocab | parameters | time (s) | tokens | result |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        StringBuilder rows = new StringBuilder();
        ArrayNode stages = json.putArray("stages");
        for (Pipeline.StageResult r : results) {
            ModelShape c = r.shape();
            String result = result(r);
            long t = tokens.getOrDefault(r.stage().folder(), 0L);
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %d | %d | %,d | %.1f | %,d | %s |%n", r.stage().folder(), r.stage().kind(),
                    c.layers(), c.heads(), c.ffn(), c.dim(), c.vocabSize(), c.parameterCount(), r.seconds(), t, result));
            rows.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%,d</td><td>%.1f</td><td>%,d</td><td class=\"l\">%s</td></tr>",
                    Charts.esc(r.stage().folder()), r.stage().kind(), c.layers(), Charts.esc(c.heads()), c.ffn(), c.dim(), c.vocabSize(),
                    c.parameterCount(), r.seconds(), t, Charts.esc(result)));
            ObjectNode stage = r.summary().toJson().put("folder", r.stage().folder()).put("skipped", r.skipped()).put("tokens", t);
            if (!stage.has("epochs") && epochs.containsKey(r.stage().folder())) stage.set("epochs", Json.MAPPER.valueToTree(epochs.get(r.stage().folder())));
            stages.add(stage);
        }
        md.append(dataRead(false));
        StringBuilder html = new StringBuilder("<h1>").append(Charts.esc(title)).append("</h1>").append(extraHtml)
                .append("<h2>Stages</h2>").append(timeline())
                .append("<table><tr><th class=\"l\">stage</th><th class=\"l\">kind</th><th>layers</th><th>heads / kv</th><th>FFN</th><th>hidden</th>")
                .append("<th>vocab</th><th>parameters</th><th>time (s)</th><th>tokens</th><th class=\"l\">result</th></tr>").append(rows).append("</table>")
                .append("<h2>Shape after each stage</h2>").append(shapeChart());
        if (!trainLoss.isEmpty()) {
            html.append("<h2>Loss</h2>").append(Charts.line("Loss across the training stages (dashed: stage starts)", "training step, all stages",
                    "loss (nats/token)", List.of(Charts.series("training loss", trainLoss), Charts.series("held-out (mean)", heldOutLoss)),
                    boundaries.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        if (mostDomains > 1) { // several domains in one stage (names may differ between stages)
            List<Charts.Series> l = new ArrayList<>();
            domainLoss.forEach((name, points) -> l.add(Charts.series(name, points)));
            html.append(Charts.line("Held-out loss per domain", "training step, all stages", "loss (nats/token)", l,
                    boundaries.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        if (mostDomains > 1) {
            List<Charts.Series> w = new ArrayList<>();
            domainWeights.forEach((name, points) -> w.add(Charts.series(name, points)));
            html.append("<h2>Domain weights</h2>").append(Charts.line("Sampling weight per domain", "training step, all stages", "weight", w,
                    boundaries.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        html.append(dataRead(true));
        html.append(evaluations());
        AtomicFiles.writeString(dir.resolve("report.md"), md.toString());
        AtomicFiles.writeString(dir.resolve("report.json"), Json.text(json) + "\n");
        AtomicFiles.writeString(dir.resolve("report.html"), Charts.page(title, html.toString()));
        return dir.resolve("report.html");
    }

    /**
     * The epochs each training stage read of each domain (sequences drawn / sequences per epoch), as an
     * HTML or markdown table; "" when no stage logged them.
     */
    private String dataRead(boolean html) {
        if (epochs.isEmpty()) return "";
        TreeSet<String> domains = new TreeSet<>();
        epochs.values().forEach(m -> domains.addAll(m.keySet()));
        StringBuilder out = new StringBuilder();
        String caption = "Data read: epochs of each domain (sequences read / sequences in its training split)";
        if (html) {
            out.append("<h2>").append(Charts.esc(caption)).append("</h2><table><tr><th class=\"l\">stage</th>");
            for (String d : domains) out.append("<th>").append(Charts.esc(d)).append("</th>");
            out.append("</tr>");
        } else {
            out.append("\n").append(caption).append(":\n\n| stage |");
            domains.forEach(d -> out.append(' ').append(d).append(" |"));
            out.append("\n|---|").append("---:|".repeat(domains.size())).append('\n');
        }
        epochs.forEach((stage, m) -> {
            out.append(html ? "<tr><td class=\"l\">" + Charts.esc(stage) + "</td>" : "| " + stage + " |");
            for (String d : domains) {
                String v = m.containsKey(d) ? String.format(Locale.ROOT, "%.3f", m.get(d)) : "";
                out.append(html ? "<td>" + v + "</td>" : " " + v + " |");
            }
            out.append(html ? "</tr>" : "\n");
        });
        if (html) out.append("</table>");
        return out.toString();
    }

    /** One line on what a stage did, by the type of its outcome. */
    private static String result(Pipeline.StageResult r) {
        return switch (r.summary().outcome()) {
            case StageSummary.Pruned p -> p.calibrationPerplexityAfter()
                    .map(after -> String.format(Locale.ROOT, "calibration perplexity %.3f → %.3f", p.calibrationPerplexityBefore().orElse(Double.NaN), after))
                    .orElse("");
            case StageSummary.Trained t -> steps(t.steps(), t.lastLoss());
            case StageSummary.Sheared s -> steps(s.steps(), s.lastLoss());
            case StageSummary.Evaluated e -> {
                List<String> parts = new ArrayList<>();
                e.metrics().forEach((task, metrics) -> metrics.forEach((m, v) -> parts.add(String.format(Locale.ROOT, "%s %s %.4g", task, m, v))));
                yield String.join("; ", parts);
            }
            case StageSummary.Exported x -> "wrote " + x.written();
        };
    }

    private static String steps(long steps, double lastLoss) {
        return String.format(Locale.ROOT, "%d steps, loss %.4f", steps, lastLoss);
    }

    /** The stages as a horizontal timeline, each bar as long as the stage took. */
    private String timeline() {
        double total = Math.max(1e-9, results.stream().mapToDouble(Pipeline.StageResult::seconds).sum());
        int w = 900, h = 54;
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"timeline\">", w, h));
        double x = 0;
        Map<String, String> colors = Map.of("train", "#1f77b4", "prune", "#d62728", "shear", "#9467bd", "eval", "#2ca02c", "export", "#7f7f7f");
        for (Pipeline.StageResult r : results) {
            double width = Math.max(2, (w - 2) * r.seconds() / total);
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"26\" fill=\"%s\" stroke=\"#fff\"><title>%s: %.1f s</title></rect>",
                    x, width, colors.getOrDefault(r.stage().kind(), "#999"), Charts.esc(r.stage().folder()), r.seconds()));
            if (width > 60) {
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"21\" font-size=\"11\" fill=\"#fff\">%s</text>", x + 4, Charts.esc(r.stage().name())));
            }
            x += width;
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"48\" font-size=\"11\">0 s</text><text x=\"%d\" y=\"48\" font-size=\"11\" text-anchor=\"end\">%.0f s</text>",
                w - 2, total));
        return svg.append("</svg>").toString();
    }

    /** Layers, heads, FFN width, hidden size, vocabulary and parameters per stage, relative to the first stage's model. */
    private String shapeChart() {
        List<String> names = results.stream().map(r -> r.stage().name()).toList();
        ModelShape first = results.getFirst().shape();
        List<Charts.Bars> bars = new ArrayList<>();
        String[] axes = {"layers", "heads", "FFN", "hidden", "vocabulary", "parameters"};
        for (String axis : axes) {
            double[] v = new double[results.size()];
            for (int i = 0; i < v.length; i++) v[i] = measure(results.get(i).shape(), axis) / measure(first, axis);
            bars.add(new Charts.Bars(axis, v, new double[v.length]));
        }
        return Charts.bars("Shape after each stage, relative to '" + names.getFirst() + "'", "fraction of the first stage's", names, bars);
    }

    private static double measure(ModelShape c, String axis) {
        return switch (axis) {
            case "layers" -> c.numLayers();
            case "heads" -> c.totalHeads();
            case "FFN" -> c.totalFfn();
            case "hidden" -> c.dim();
            case "vocabulary" -> c.vocabSize();
            default -> c.parameterCount();
        };
    }

    /** Every eval stage's metrics side by side. */
    private String evaluations() {
        List<Pipeline.StageResult> evals = results.stream().filter(r -> r.summary().outcome() instanceof StageSummary.Evaluated).toList();
        List<Map<String, Map<String, Double>>> evalMetrics = evals.stream().map(r -> ((StageSummary.Evaluated) r.summary().outcome()).metrics()).toList();
        if (evals.isEmpty()) return "";
        TreeSet<String> keys = new TreeSet<>();
        for (Map<String, Map<String, Double>> m : evalMetrics) m.forEach((task, values) -> values.keySet().forEach(k -> keys.add(task + " · " + k)));
        StringBuilder t = new StringBuilder("<h2>Evaluation</h2><table><tr><th class=\"l\">task · metric</th>");
        for (Pipeline.StageResult r : evals) t.append("<th>").append(Charts.esc(r.stage().folder())).append("</th>");
        t.append("</tr>");
        for (String key : keys) {
            String[] parts = key.split(" · ");
            t.append("<tr><td class=\"l\">").append(Charts.esc(key)).append("</td>");
            for (Map<String, Map<String, Double>> m : evalMetrics) {
                Double v = m.getOrDefault(parts[0], Map.of()).get(parts[1]);
                t.append("<td>").append(v == null ? "–" : String.format(Locale.ROOT, "%.4g", v)).append("</td>");
            }
            t.append("</tr>");
        }
        return t.append("</table>").toString();
    }
}
