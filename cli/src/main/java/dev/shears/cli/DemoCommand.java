package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.eval.PerplexityResult;
import dev.shears.io.AtomicFiles;
import dev.shears.recipe.Demo;
import dev.shears.recipe.TrainRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** {@code shears demo}: the whole journey on its own data, ending in a report. */
@Command(name = "demo", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Run the Shears journey end to end with nothing but this repository: write a corpus of short stories (or use",
                "--data), train a BPE tokenizer, prepare token shards, train a small LLaMA parent from scratch, measure its",
                "perplexity on unseen text, let it write, and write a report (HTML, markdown, JSON) into --out/report.",
                "Run it again with --resume to continue an interrupted demo where it stopped."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears demo",
                "  shears demo --out /tmp/demo --steps 300",
                "  shears demo --data ../shared/data/eval/tinystories --out demo-tinystories"})
final class DemoCommand implements Runnable {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-run", description = "The demo folder.")
    Path out;

    @Option(names = "--data", paramLabel = "DIR", description = "A folder of .txt/.jsonl files (or one file) to train on instead of generated stories.")
    Path data;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "600", description = "Training steps of the parent (16 × 128 tokens each).")
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
        ObjectNode summary = summary(r);
        Path report = writeReport(r, summary);
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            summary.put("report", report.toString());
            stdout.println(Json.text(summary));
            return;
        }
        stdout.printf(Locale.ROOT, "parent: %s (%,d parameters), trained %d steps at %.0f tokens/s%n", r.parent(),
                r.parentConfig().parameterCount(), r.training().steps(), r.training().tokensPerSecond());
        stdout.printf(Locale.ROOT, "  held-out loss %.4f%n", r.training().heldOutLoss()[0]);
        r.perplexity().ifPresent(p -> stdout.printf(Locale.ROOT, "  perplexity on unseen stories: %.3f per token, %.3f per word, %.4f bits per byte%n",
                p.ppl(), p.wordPpl(), p.bitsPerByte()));
        stdout.printf("  %s ->%s%n", r.prompt(), r.greedy());
        stdout.printf(Locale.ROOT, "done in %.0f s; report: %s%n", r.seconds(), report.toAbsolutePath());
    }

    private static ObjectNode summary(Demo.Result r) {
        ObjectNode n = Json.object();
        n.put("out", r.out().toString()).put("parent", r.parent().toString()).put("seconds", r.seconds());
        n.putObject("parentShape").put("description", r.parentConfig().describe()).put("params", r.parentConfig().parameterCount());
        n.putObject("training").put("steps", r.training().steps()).put("lastLoss", r.training().lastLoss())
                .put("heldOutLoss", r.training().heldOutLoss()[0]).put("tokensPerSecond", r.training().tokensPerSecond());
        r.perplexity().ifPresent(p -> n.putObject("perplexity").put("tokens", p.tokens()).put("nll", p.nll()).put("ppl", p.ppl())
                .put("word_ppl", p.wordPpl()).put("byte_ppl", p.bytePpl()).put("bits_per_byte", p.bitsPerByte()));
        n.putObject("samples").put("prompt", r.prompt()).put("greedy", r.greedy()).put("sampled", r.sampled());
        return n;
    }

    /** report.json, report.md and a self-contained report.html with the loss curves. */
    private static Path writeReport(Demo.Result r, ObjectNode summary) {
        Path dir = r.out().resolve("report");
        List<double[]> train = new ArrayList<>(), eval = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(r.parent().resolve(TrainRun.METRICS))) {
                JsonNode m = Json.MAPPER.readTree(line);
                if (m.path("type").asText().equals("step")) train.add(new double[] {m.path("step").asDouble(), m.path("loss").asDouble()});
                if (m.path("type").asText().equals("eval")) {
                    eval.add(new double[] {m.path("step").asDouble(), m.path("heldOutLoss").elements().next().asDouble()});
                }
            }
        } catch (IOException e) {
            throw new ShearsException(r.parent().resolve(TrainRun.METRICS) + ": cannot read: " + e.getMessage(), e);
        }
        String chart = Charts.line("Parent training", "step", "loss (nats/token)",
                List.of(Charts.series("training loss", train), Charts.series("held-out loss", eval)));
        Optional<PerplexityResult> p = r.perplexity();
        StringBuilder md = new StringBuilder("# Shears demo\n\n");
        md.append("| stage | model | parameters | held-out loss | perplexity (token / word) | bits per byte |\n|---|---|---:|---:|---:|---:|\n");
        md.append(String.format(Locale.ROOT, "| parent (trained from scratch, %d steps) | %s | %,d | %.4f | %s | %s |%n", r.training().steps(),
                r.parentConfig().describe(), r.parentConfig().parameterCount(), r.training().heldOutLoss()[0],
                p.map(x -> String.format(Locale.ROOT, "%.3f / %.3f", x.ppl(), x.wordPpl())).orElse("–"),
                p.map(x -> String.format(Locale.ROOT, "%.4f", x.bitsPerByte())).orElse("–")));
        md.append("\n**Prompt:** ").append(r.prompt()).append("\n\n**Greedy:** ").append(r.prompt()).append(r.greedy())
                .append("\n\n**Sampled (T = 0.8, top-p 0.95):** ").append(r.prompt()).append(r.sampled()).append('\n');
        String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shears demo</title><style>"
                + "body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
                + "blockquote{background:#f6f6f6;padding:8px 12px;margin:0 0 1em 0}</style></head><body>"
                + "<h1>Shears demo</h1><p>Generated " + Charts.esc(java.time.LocalDateTime.now().withNano(0).toString()) + " in "
                + String.format(Locale.ROOT, "%.0f", r.seconds()) + " s.</p>"
                + "<h2>Models</h2><table><tr><th>stage</th><th>shape</th><th>parameters</th><th>held-out loss</th><th>token perplexity</th><th>word perplexity</th><th>bits per byte</th></tr>"
                + String.format(Locale.ROOT, "<tr><td>parent</td><td>%s</td><td>%,d</td><td>%.4f</td><td>%s</td><td>%s</td><td>%s</td></tr></table>",
                Charts.esc(r.parentConfig().describe()), r.parentConfig().parameterCount(), r.training().heldOutLoss()[0],
                p.map(x -> String.format(Locale.ROOT, "%.3f", x.ppl())).orElse("–"), p.map(x -> String.format(Locale.ROOT, "%.3f", x.wordPpl())).orElse("–"),
                p.map(x -> String.format(Locale.ROOT, "%.4f", x.bitsPerByte())).orElse("–"))
                + "<h2>Training</h2>" + chart
                + "<h2>Samples</h2><p>Greedy:</p><blockquote><b>" + Charts.esc(r.prompt()) + "</b>" + Charts.esc(r.greedy()) + "</blockquote>"
                + "<p>Sampled (temperature 0.8, top-p 0.95):</p><blockquote><b>" + Charts.esc(r.prompt()) + "</b>" + Charts.esc(r.sampled()) + "</blockquote>"
                + "</body></html>\n";
        AtomicFiles.writeString(dir.resolve("report.json"), Json.text(summary) + "\n");
        AtomicFiles.writeString(dir.resolve("report.md"), md.toString());
        AtomicFiles.writeString(dir.resolve("report.html"), html);
        return dir.resolve("report.html");
    }
}
