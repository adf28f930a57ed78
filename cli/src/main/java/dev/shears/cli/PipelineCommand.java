package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.AtomicFiles;
import dev.shears.model.ModelConfig;
import dev.shears.recipe.Pipeline;
import dev.shears.recipe.TrainRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code shears pipeline}: multi-stage compression. */
@Command(name = "pipeline", mixinStandardHelpOptions = true, description = "Multi-stage compression: prune, heal, prune more, ... in one resumable run.",
        subcommands = {PipelineCommand.Run.class, PipelineCommand.Check.class, CommandLine.HelpCommand.class})
final class PipelineCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a pipeline file and show the model's shape after each stage; writes nothing.",
            footerHeading = "%nExamples:%n", footer = {"  shears pipeline check examples/openba-v2.yaml"})
    static final class Check implements Runnable {
        @Parameters(index = "0", paramLabel = "PIPELINE.yaml", description = "The pipeline.")
        Path file;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            Pipeline.Plan plan = Pipeline.load(file);
            var out = spec.commandLine().getOut();
            out.printf("%s: %d stages, valid%n", file, plan.stages().size());
            for (int i = 0; i < plan.stages().size(); i++) {
                Pipeline.Stage s = plan.stages().get(i);
                ModelConfig shape = plan.shapes().get(i);
                out.printf(Locale.ROOT, "  %-20s %-6s -> %s (%,d parameters)%n", s.folder(), s.kind(), shape.describe(), shape.parameterCount());
            }
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Run every stage of a pipeline file (YAML or JSON). Each stage's output folder (OUT/NN-name) is the next stage's",
                    "input; stages are prune (the keys of 'shears prune': layers, heads, ffn, hidden, target, targetConfig, dropLayers,",
                    "importance, layerImportance, calibration, samples, seqLen, ...) and train (the keys of 'shears train': data, steps,",
                    "lr, dynamicBatchLoading, distill, ...). The file is validated first; a killed run continues with --resume",
                    "at the stage and step where it stopped. Ends with OUT/report.html (stages, shapes, loss curves)."},
            footerHeading = "%nExamples:%n",
            footer = {"  shears pipeline run examples/openba-v2.yaml --out runs/openba",
                    "  shears pipeline run examples/openba-v2.yaml --out runs/openba --resume"})
    static final class Run implements Runnable {
        @Parameters(index = "0", paramLabel = "PIPELINE.yaml", description = "The pipeline.")
        Path file;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
        Path out;

        @Option(names = "--resume", description = "Continue an interrupted pipeline in --out.")
        boolean resume;

        @Option(names = "--json", description = "Print one JSON object on stdout.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            Pipeline.Plan plan = Pipeline.load(file);
            List<Pipeline.StageResult> results = Pipeline.run(plan, out, resume, ProgressBar.stderr(), m -> System.err.println("pipeline: " + m), r -> { });
            ObjectNode summary = Json.object().put("pipeline", file.toString()).put("out", out.toString());
            ArrayNode stages = summary.putArray("stages");
            for (Pipeline.StageResult r : results) stages.add(r.summary().deepCopy().put("folder", r.stage().folder()).put("skipped", r.skipped()));
            Path report = writeReport(plan, results, summary);
            if (json) {
                summary.put("report", report.toString());
                spec.commandLine().getOut().println(Json.text(summary));
                return;
            }
            var stdout = spec.commandLine().getOut();
            for (Pipeline.StageResult r : results) {
                stdout.printf(Locale.ROOT, "%-22s %-6s %s (%,d parameters)%s%n", r.stage().folder(), r.stage().kind(), r.shape().describe(),
                        r.shape().parameterCount(), r.skipped() ? " [done earlier]" : String.format(Locale.ROOT, " %.1f s", r.seconds()));
            }
            stdout.printf("report: %s%n", report.toAbsolutePath());
        }

        private static Path writeReport(Pipeline.Plan plan, List<Pipeline.StageResult> results, ObjectNode summary) {
            Path dir = results.getLast().out().getParent();
            List<double[]> train = new ArrayList<>(), eval = new ArrayList<>();
            StringBuilder rows = new StringBuilder();
            StringBuilder md = new StringBuilder("# Pipeline report\n\n| stage | kind | shape | parameters | result |\n|---|---|---|---:|---|\n");
            long offset = 0;
            List<Double> boundaries = new ArrayList<>();
            for (Pipeline.StageResult r : results) {
                JsonNode s = r.summary();
                String result = s.has("calibrationPerplexityAfter")
                        ? String.format(Locale.ROOT, "calibration perplexity %.3f → %.3f", s.path("calibrationPerplexityBefore").asDouble(), s.path("calibrationPerplexityAfter").asDouble())
                        : s.has("lastLoss") ? String.format(Locale.ROOT, "%d steps, loss %.4f", s.path("steps").asLong(), s.path("lastLoss").asDouble())
                        : s.has("metrics") ? metrics(s.path("metrics"))
                        : s.has("written") ? "wrote " + s.path("written").asText() : "";
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %,d | %s |%n", r.stage().folder(), r.stage().kind(), r.shape().describe(), r.shape().parameterCount(), result));
                rows.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%,d</td><td>%s</td></tr>", Charts.esc(r.stage().folder()),
                        r.stage().kind(), Charts.esc(r.shape().describe()), r.shape().parameterCount(), Charts.esc(result)));
                if (r.stage().kind().equals("train")) {
                    boundaries.add((double) offset);
                    long last = 0;
                    try {
                        for (String line : Files.readAllLines(r.out().resolve(TrainRun.METRICS))) {
                            JsonNode m = Json.MAPPER.readTree(line);
                            long step = m.path("step").asLong();
                            last = Math.max(last, step);
                            if (m.path("type").asText().equals("step")) train.add(new double[] {offset + step, m.path("loss").asDouble()});
                            if (m.path("type").asText().equals("eval")) {
                                double sum = 0;
                                int n = 0;
                                for (JsonNode v : m.path("heldOutLoss")) {
                                    sum += v.asDouble();
                                    n++;
                                }
                                eval.add(new double[] {offset + step, sum / Math.max(1, n)});
                            }
                        }
                    } catch (IOException e) {
                        throw new dev.shears.ShearsException(r.out().resolve(TrainRun.METRICS) + ": cannot read: " + e.getMessage(), e);
                    }
                    offset += last;
                }
            }
            String chart = train.isEmpty() ? "<p>No training stages.</p>" : Charts.line("Loss across training stages", "training step (all stages)", "loss (nats/token)",
                    List.of(Charts.series("training loss", train), Charts.series("held-out loss (mean over domains)", eval)));
            List<double[]> params = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) params.add(new double[] {i + 1, results.get(i).shape().parameterCount() / 1e6});
            String paramChart = Charts.line("Parameters after each stage", "stage", "parameters (millions)", List.of(Charts.series("parameters", params)));
            String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shears pipeline report</title><style>"
                    + "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse}"
                    + "td,th{border:1px solid #ccc;padding:3px 8px}</style></head><body><h1>Pipeline report</h1><p>"
                    + Charts.esc(plan.file().toString()) + "</p><table><tr><th>stage</th><th>kind</th><th>shape</th><th>parameters</th><th>result</th></tr>"
                    + rows + "</table>" + paramChart + chart + "<p>Training stages start at steps " + boundaries + " of the combined axis.</p></body></html>\n";
            AtomicFiles.writeString(dir.resolve("report.md"), md.toString());
            AtomicFiles.writeString(dir.resolve("report.json"), Json.text(summary) + "\n");
            AtomicFiles.writeString(dir.resolve("report.html"), html);
            return dir.resolve("report.html");
        }

        private static String metrics(JsonNode tasks) {
            List<String> parts = new ArrayList<>();
            tasks.properties().forEach(t -> t.getValue().properties().forEach(m ->
                    parts.add(String.format(Locale.ROOT, "%s %s %.4g", t.getKey(), m.getKey(), m.getValue().asDouble()))));
            return String.join("; ", parts);
        }
    }
}
