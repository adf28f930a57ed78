package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.io.AtomicFiles;
import dev.shears.progress.Progress;
import dev.shears.recipe.ModelShape;
import dev.shears.recipe.Pipeline;
import dev.shears.recipe.SeedSweep;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
                ModelShape shape = plan.shapes().get(i);
                out.printf(Locale.ROOT, "  %-20s %-6s -> %s (%,d parameters)%n", s.folder(), s.kind(), shape.describe(), shape.parameterCount());
            }
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Run every stage of a pipeline file (YAML or JSON). Each stage's output folder (OUT/NN-name) is the next stage's",
                    "input; stages are prune (the keys of 'shears prune': layers, heads, ffn, hidden, target, targetConfig, dropLayers,",
                    "importance, layerImportance, calibration, samples, seqLen, ...) and train (the keys of 'shears train': data, steps,",
                    "lr, dynamicBatchLoading, distill, ...). The file is validated first; a killed run continues with --resume",
                    "at the stage and step where it stopped. Ends with OUT/report.html (stages, shapes, loss curves).",
                    "Under mpirun the ranks share each train and shear stage's micro-batches, with the same bits as one process.",
                    "A T5 or OpenBA model folder: prune stages take heads, ffn, hidden, encLayers, decLayers, vocab (with vocabCorpus),",
                    "importance, layerImportance; train stages objective (ul2, t5, openba-v2) and dynamic (Dynamic-UL2); shear stages",
                    "heads, ffn, hidden, encLayers, decLayers, objective, dynamic, gateLr, lambdaLr, lagrangianWarmup and train: {...}."},
            footerHeading = "%nExamples:%n",
            footer = {"  shears pipeline run examples/openba-v2.yaml --out runs/openba",
                    "  shears pipeline run examples/openba-v2-encdec.yaml --out runs/openba-v2-encdec   (after the shears init its header gives)",
                    "  shears pipeline run examples/openba-v2.yaml --out runs/openba --resume",
                    "  shears pipeline run examples/openba-v2.yaml --out runs/openba-seeds --seeds 1,2,3"})
    static final class Run extends FileCommand implements Distributed {
        @Mixin
        RunFolder folder;

        @Spec
        CommandSpec spec;

        @Option(names = "--resume", description = "Continue an interrupted pipeline in --out.")
        boolean resume;

        @Option(names = "--seeds", split = ",", paramLabel = "N[,N...]",
                description = {"Run the pipeline once per seed into OUT/seed-N (the seed of every train, shear and prune stage replaced;",
                        "evaluation items kept) and report each stage's numbers as mean ± std over the seeds (OUT/seeds.md, seeds.json)."})
        List<Long> seeds = new ArrayList<>();

        @Mixin
        JsonOutput output;

        @Override
        public void run() {
            Path out = folder.path;
            Pipeline.Plan plan = Pipeline.load(file);
            Collective collective = ((Main) spec.root().userObject()).collective();
            if (!seeds.isEmpty()) {
                runSeeds(plan, out, collective);
                return;
            }
            List<Pipeline.StageResult> results = Pipeline.run(plan, out, resume, progress(collective), log(collective), r -> { }, collective);
            if (!collective.leads()) return; // rank 0 writes the report and prints
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

        /** Rank 0's progress bar; the other ranks show none. */
        private static Progress progress(Collective collective) {
            return collective.leads() ? ProgressBar.stderr() : Progress.SILENT;
        }

        /** Rank 0's log lines on stderr; the other ranks say nothing. */
        private static java.util.function.Consumer<String> log(Collective collective) {
            return collective.leads() ? m -> System.err.println("pipeline: " + m) : m -> { };
        }

        private void runSeeds(Pipeline.Plan plan, Path out, Collective collective) {
            if (new HashSet<>(seeds).size() != seeds.size()) throw new ShearsException("--seeds lists a seed twice: " + seeds);
            if (!resume && !AtomicFiles.isMissingOrEmpty(out)) {
                throw new ShearsException(out + ": already exists; pass --resume to continue those seeds, or choose another --out");
            }
            collective.barrier(); // every rank has looked at OUT before rank 0 writes into it
            List<List<Pipeline.StageResult>> runs = new ArrayList<>();
            for (long seed : seeds) {
                Path dir = out.resolve("seed-" + seed);
                log(collective).accept("seed " + seed + " -> " + dir);
                boolean resumeSeed = resume && Files.isDirectory(dir);
                collective.barrier(); // every rank has looked before rank 0 writes
                List<Pipeline.StageResult> results = Pipeline.run(SeedSweep.withSeed(plan, seed), dir, resumeSeed, progress(collective), log(collective),
                        r -> { }, collective);
                runs.add(results);
                if (!collective.leads()) continue;
                new PipelineReport("Pipeline " + file.getFileName() + ", seed " + seed, results).write(dir, Json.object().put("seed", seed),
                        "<p>" + Charts.esc(file.toAbsolutePath().toString()) + ", seed " + seed + "</p>", "Pipeline `" + file + "`, seed " + seed + ".\n\n");
            }
            if (!collective.leads()) return;
            Map<String, Map<String, SeedSweep.Stat>> summary = SeedSweep.summarise(runs);
            ObjectNode json = SeedSweep.toJson(seeds, summary);
            json.put("pipeline", file.toString()).put("out", out.toString());
            String markdown = "# Pipeline `" + file + "` over " + seeds.size() + " seeds\n\n" + SeedSweep.toMarkdown(seeds, summary);
            AtomicFiles.writeString(out.resolve("seeds.json"), json.toPrettyString() + "\n");
            AtomicFiles.writeString(out.resolve("seeds.md"), markdown);
            if (output.json) {
                output.print(json);
                return;
            }
            output.out().print(markdown);
            output.out().printf("summary: %s%n", out.resolve("seeds.md").toAbsolutePath());
        }
    }
}
