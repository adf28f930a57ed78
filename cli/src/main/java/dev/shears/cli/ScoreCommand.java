package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.recipe.ScoreRun;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Optional;

/** {@code shears score}: the summed log-likelihood of a target given a source. */
@Command(name = "score", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Print the summed log-likelihood of TARGET given SOURCE and how many tokens were scored.",
                "For a decoder-only model the source is the prefix; for an encoder-decoder (a T5 folder) it goes through the",
                "encoder and the target is scored as the decoder's labels. Text is encoded as the model's tokenizer does by",
                "default: BOS before a decoder-only source when it adds one, EOS after the target (and after an encoder's",
                "source) when it adds one, as T5's does. Ids given with --source-ids and --target-ids are used as they are:",
                "the smallest way to compare with another implementation."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears score ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --source 'Once upon a time' --target ' there was a cat' --json",
                "  shears score model/ --source-ids 1,450,4996 --target-ids 338,263 --json",
                "  shears score ../shared/data/models/t5-tiny-random --source-ids 416,757,778 --target-ids 285,221 --json"})
final class ScoreCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true)
    Source source = new Source();

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Source {
        @Option(names = "--source", paramLabel = "TEXT", defaultValue = "", description = "The text the target follows (default: empty).")
        String text = "";

        @Option(names = "--source-ids", paramLabel = "IDS", split = ",", description = "The source as comma-separated token ids.")
        int[] ids;
    }

    static final class Target {
        @Option(names = "--target", paramLabel = "TEXT", required = true, description = "The text to score.")
        String text;

        @Option(names = "--target-ids", paramLabel = "IDS", split = ",", required = true, description = "The target as comma-separated token ids.")
        int[] ids;
    }

    @Option(names = "--json", description = "Print one JSON object: loglik, tokens, greedy and ids {source, target}.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ScoreRun.Side src = source.ids != null ? new ScoreRun.Side.Ids(source.ids) : new ScoreRun.Side.Text(source.text);
        ScoreRun.Side tgt = target.ids != null ? new ScoreRun.Side.Ids(target.ids) : new ScoreRun.Side.Text(target.text);
        if (source.ids != null && source.ids.length == 0 || target.ids != null && target.ids.length == 0) {
            throw new ShearsException("--source-ids and --target-ids need at least one id");
        }
        ScoreRun.Result r = ScoreRun.run(new ScoreRun.Request(model.model, Optional.ofNullable(model.tokenizer), src, tgt));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode n = Json.object();
            n.put("loglik", r.logLikelihood()).put("tokens", r.tokens()).put("greedy", r.greedy());
            ObjectNode ids = n.putObject("ids");
            add(ids.putArray("source"), r.sourceIds());
            add(ids.putArray("target"), r.targetIds());
            out.println(Json.text(n));
        } else {
            out.printf(Locale.ROOT, "loglik %.6f over %d tokens (%.4f per token)%s%n", r.logLikelihood(), r.tokens(),
                    r.logLikelihood() / r.tokens(), r.greedy() ? ", every token the model's greedy choice" : "");
        }
        out.flush();
    }

    private static void add(ArrayNode array, int[] ids) {
        for (int id : ids) array.add(id);
    }
}
