package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.eval.Generation;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.recipe.LoadedModel;
import dev.shears.recipe.MemoryPlan;
import dev.shears.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code shears generate}: continue a prompt, streaming the text. */
@Command(name = "generate", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Continue a prompt with a KV cache: greedy at temperature 0, else temperature and top-p sampling.",
        footerHeading = "%nExamples:%n",
        footer = {"  shears generate ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --prompt 'Once upon a time'",
                "  shears generate model/ --prompt 'The capital of France' --temperature 0.8 --seed 7 --max-tokens 100"})
final class GenerateCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to continue.")
    String prompt;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64", description = "The most new tokens.")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 is greedy; higher is more random.")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.9", description = "Nucleus sampling threshold (with temperature > 0).")
    float topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Sampling seed.")
    long seed;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of streaming.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        LoadedModel loaded = model.open();
        Tokenizer tok = loaded.tokenizer();
        PrintWriter out = spec.commandLine().getOut();
        GenerationSettings settings;
        try {
            settings = new GenerationSettings(maxTokens, temperature, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new dev.shears.ShearsException(e.getMessage());
        }
        List<Integer> sofar = new ArrayList<>();
        int[] promptIds = Generation.promptIds(tok, prompt);
        MemoryPlan.inference("generation", loaded.model().config(), promptIds.length, promptIds.length + maxTokens, loaded.model().weights().bytes()).check();
        String[] printed = {""};
        if (!json) out.print(prompt);
        GenerationResult r = Generation.generate(loaded.model(), tok, prompt, settings, id -> {
            if (json) return;
            sofar.add(id);
            String text = Generation.continuation(tok, promptIds, sofar.stream().mapToInt(Integer::intValue).toArray());
            // print only complete characters: wait while the tail is an unfinished byte sequence
            if (!text.endsWith("\uFFFD") && text.startsWith(printed[0])) {
                out.print(text.substring(printed[0].length()));
                out.flush();
                printed[0] = text;
            }
        });
        if (json) {
            ObjectNode n = Json.object();
            n.put("prompt", prompt).put("text", r.text()).put("tokens", r.generatedIds().length).put("tokens_per_second", r.tokensPerSecond());
            var ids = n.putArray("ids");
            for (int id : r.generatedIds()) ids.add(id);
            out.println(Json.text(n));
        } else {
            if (r.text().startsWith(printed[0])) out.print(r.text().substring(printed[0].length()));
            out.println();
            out.flush();
            System.err.printf(Locale.ROOT, "%d tokens, %.1f tokens/s%n", r.generatedIds().length, r.tokensPerSecond());
        }
    }
}
