package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.eval.PerplexityResult;
import dev.shears.recipe.MemoryPlan;
import dev.shears.recipe.PerplexityRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/** {@code shears perplexity}: rolling perplexity of a text, as lm-evaluation-harness computes it. */
@Command(name = "perplexity", header = "Rolling perplexity of a text file, as lm-evaluation-harness computes it.", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Rolling perplexity of a text file, as lm-evaluation-harness computes it: the whole text is tokenized once,",
                "then scored in disjoint windows of the context length, the first prefixed with BOS, every token predicted once."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears perplexity ../shared/data/models/stories260K/hf --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --text ../shared/data/eval/tinystories/tinystories_val_head.txt",
                "  shears perplexity model/ --text ../shared/data/eval/wikitext-2/wiki.test.raw --context 1024 --json"})
final class PerplexityCommand implements Runnable, Planned {
    @Mixin
    ModelOptions model;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text to score.")
    Path text;

    @Option(names = "--context", paramLabel = "N", description = "Window length in tokens (default: the model's maximum context).")
    Integer context;

    @Option(names = "--limit-chars", paramLabel = "N", description = "Score only the first N characters of the text.")
    Integer limitChars;

    @Mixin
    JsonOutput output;

    private PerplexityRun.Request request() {
        return new PerplexityRun.Request(model.model, Optional.ofNullable(model.tokenizer), text,
                context == null ? OptionalInt.empty() : OptionalInt.of(context), limitChars == null ? OptionalInt.empty() : OptionalInt.of(limitChars));
    }

    /** One process's: perplexity does not run under mpirun. */
    @Override
    public MemoryPlan plan(int ranks) {
        return PerplexityRun.plan(request());
    }

    @Override
    public void run() {
        PerplexityResult r = PerplexityRun.run(request(), ProgressBar.stderr());
        if (output.json) {
            ObjectNode n = Json.object();
            n.put("model", model.model.toString()).put("text", text.toString());
            n.put("tokens", r.tokens()).put("nll", r.nll()).put("ppl", r.ppl()).put("word_ppl", r.wordPpl())
                    .put("byte_ppl", r.bytePpl()).put("bits_per_byte", r.bitsPerByte());
            n.put("words", r.words()).put("bytes", r.bytes()).put("context", r.contextLength()).put("windows", r.windows());
            output.print(n);
        } else {
            var out = output.out();
            out.printf(Locale.ROOT, "%s on %s (context %d, %d windows)%n", model.model, text, r.contextLength(), r.windows());
            out.printf(Locale.ROOT, "  tokens             %d%n", r.tokens());
            out.printf(Locale.ROOT, "  nll (nats/token)   %.4f%n", r.nll());
            out.printf(Locale.ROOT, "  token perplexity   %.4f%n", r.ppl());
            out.printf(Locale.ROOT, "  word perplexity    %.4f   (%d words)%n", r.wordPpl(), r.words());
            out.printf(Locale.ROOT, "  byte perplexity    %.4f   (%d bytes)%n", r.bytePpl(), r.bytes());
            out.printf(Locale.ROOT, "  bits per byte      %.4f%n", r.bitsPerByte());
        }
    }
}
