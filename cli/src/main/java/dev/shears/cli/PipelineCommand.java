package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.model.ModelConfig;
import dev.shears.recipe.Pipeline;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code shears pipeline}: multi-stage compression. */
@Command(name = "pipeline", mixinStandardHelpOptions = true, description = "Multi-stage compression: prune, heal, prune more, ... in one resumable run.",
        subcommands = {PipelineCommand.Run.class, PipelineCommand.Check.class, CommandLine.HelpCommand.class})
final class PipelineCommand extends CommandGroup {
    /** A subcommand that reads one pipeline file. */
    abstract static class FileCommand implements Runnable {
        @Parameters(index = "0", paramLabel = "PIPELINE.yaml", description = "The pipeline.")
        Path file;
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a pipeline file and show the model's shape after each stage; writes nothing.",
            footerHeading = "%nExamples:%n", footer = {"  shears pipeline check examples/openba-v2.yaml"})
    static final class Check extends FileCommand {
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
    static final class Run extends FileCommand {
        @Mixin
        RunFolder folder;

        @Option(names = "--resume", description = "Continue an interrupted pipeline in --out.")
        boolean resume;

        @Mixin
        JsonOutput output;

        @Override
        public void run() {
            Path out = folder.path;
            Pipeline.Plan plan = Pipeline.load(file);
            List<Pipeline.StageResult> results = Pipeline.run(plan, out, resume, ProgressBar.stderr(), m -> System.err.println("pipeline: " + m), r -> { });
            ObjectNode summary = Json.object().put("pipeline", file.toString()).put("out", out.toString());
            Path report = new PipelineReport("Pipeline " + file.getFileName(), results).write(out, summary,
                    "<p>" + Charts.esc(file.toAbsolutePath().toString()) + "</p>", "Pipeline `" + file + "`.\n\n");
            if (output.json) {
                summary.put("report", report.toString());
                output.print(summary);
                return;
            }
            var stdout = output.out();
            for (Pipeline.StageResult r : results) {
                stdout.printf(Locale.ROOT, "%-22s %-6s %s (%,d parameters)%s%n", r.stage().folder(), r.stage().kind(), r.shape().describe(),
                        r.shape().parameterCount(), r.skipped() ? " [done earlier]" : String.format(Locale.ROOT, " %.1f s", r.seconds()));
            }
            stdout.printf("report: %s%n", report.toAbsolutePath());
        }
    }
}
