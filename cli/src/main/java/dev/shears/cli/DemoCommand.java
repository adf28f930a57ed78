package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.demo.Demo;
import dev.shears.recipe.Pipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** {@code shears demo}: the whole journey on its own data, ending in a report. */
@Command(name = "demo", header = "The whole journey on self-made data: a parent trained from scratch, pruned and healed in stages, evaluated, exported, with a report.", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Run the Shears journey end to end with nothing but this repository: write a corpus of short stories (or use",
                "--data), train a BPE tokenizer, prepare token shards, then run a pipeline (written to DIR/demo-pipeline.yaml): train",
                "a small LLaMA parent from scratch, evaluate it, prune a layer and heal with distillation from the parent, prune half",
                "the FFN and heads and heal, prune a quarter of the vocabulary, evaluate again, export to GGUF (q8_0). Ends with a",
                "report (DIR/report.html, .md, .json). About 5 minutes on two cores. --resume continues an interrupted demo."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears demo",
                "  shears demo --out /tmp/demo --steps 300",
                "  shears demo --data ../shared/data/eval/tinystories --out demo-tinystories"})
final class DemoCommand implements Runnable {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-run", description = "The demo folder.")
    Path out;

    @Option(names = "--data", paramLabel = "DIR", description = "A folder of .txt/.jsonl files (or one file) to train on instead of generated stories.")
    Path data;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "600", description = "Training steps of the parent (16 × 128 tokens each); each heal takes a quarter.")
    long steps;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "Seeds the corpus, initialisation and batch order.")
    long seed;

    @Option(names = "--resume", description = "Continue an interrupted demo in --out.")
    boolean resume;

    @Option(names = "--json", description = "Print one JSON object (the report's data) on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        Demo.Result r = new Demo(out, Optional.ofNullable(data), steps, seed, resume).run(ProgressBar.stderr(), m -> System.err.println("demo: " + m));
        ObjectNode summary = Json.object().put("out", r.out().toString()).put("pipeline", r.pipelineFile().toString()).put("seconds", r.seconds())
                .put("prompt", r.prompt()).put("parentText", r.parentText()).put("finalText", r.lastText());
        double total = r.stages().stream().mapToDouble(Pipeline.StageResult::seconds).sum();
        String html = String.format(Locale.ROOT, "<p>The whole journey in %.0f s of stages, from nothing: a corpus, a tokenizer, a parent trained from scratch, "
                        + "then the pipeline <code>%s</code>.</p><h2>Stories</h2><p>The parent (sampled, temperature 0.8):</p><blockquote><b>%s</b>%s</blockquote>"
                        + "<p>The final model, %.0f%% of the parent's parameters:</p><blockquote><b>%s</b>%s</blockquote>",
                total, Charts.esc(r.pipelineFile().getFileName().toString()), Charts.esc(r.prompt()), Charts.esc(r.parentText()),
                100.0 * r.stages().getLast().shape().parameterCount() / r.stages().getFirst().shape().parameterCount(),
                Charts.esc(r.prompt()), Charts.esc(r.lastText()));
        String md = String.format(Locale.ROOT, "**Parent:** %s%s%n%n**Final model:** %s%s%n%n", r.prompt(), r.parentText(), r.prompt(), r.lastText());
        Path report = new PipelineReport("Shears demo", r.stages()).write(r.out(), summary, html, md);
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            summary.put("report", report.toString());
            stdout.println(Json.text(summary));
            return;
        }
        for (Pipeline.StageResult s : r.stages()) {
            stdout.printf(Locale.ROOT, "%-16s %-6s %,9d parameters  %s%n", s.stage().folder(), s.stage().kind(), s.shape().parameterCount(), s.shape().describe());
        }
        stdout.printf("parent: %s%s%n", r.prompt(), r.parentText());
        stdout.printf("final:  %s%s%n", r.prompt(), r.lastText());
        stdout.printf(Locale.ROOT, "done in %.0f s; report: %s%n", r.seconds(), report.toAbsolutePath());
    }
}
