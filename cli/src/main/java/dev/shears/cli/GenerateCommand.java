package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.recipe.GenerateRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Optional;

/** {@code shears generate}: continue a prompt, streaming the text. */
@Command(name = "generate", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Continue a prompt with a KV cache: greedy at temperature 0, else temperature and top-p sampling.",
                "An encoder-decoder (a T5 folder) encodes the prompt once and prints its answer, decoded with caches."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears generate ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --prompt 'Once upon a time'",
                "  shears generate model/ --prompt 'The capital of France' --temperature 0.8 --seed 7 --max-tokens 100",
                "  shears generate flan-t5-small/ --prompt 'translate English to German: How old are you?'"})
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
        PrintWriter out = spec.commandLine().getOut();
        GenerateRun.Request request = new GenerateRun.Request(model.model, Optional.ofNullable(model.tokenizer), prompt,
                new GenerationSettings(maxTokens, temperature, topP, seed));
        // a continuation is printed after its prompt (shown with the first text, after the run has checked its memory
        // plan); an encoder-decoder's answer alone
        boolean[] promptShown = {!GenerateRun.continuesPrompt(model.model)};
        GenerationResult r = GenerateRun.run(request, json ? Optional.empty() : Optional.of(text -> {
            if (!promptShown[0]) out.print(prompt);
            promptShown[0] = true;
            out.print(text);
            out.flush();
        }));
        if (json) {
            ObjectNode n = Json.object();
            n.put("prompt", prompt).put("text", r.text()).put("tokens", r.generatedIds().length).put("tokens_per_second", r.tokensPerSecond());
            var ids = n.putArray("ids");
            for (int id : r.generatedIds()) ids.add(id);
            out.println(Json.text(n));
        } else {
            if (!promptShown[0]) out.print(prompt);
            out.println();
            out.flush();
            System.err.printf(Locale.ROOT, "%d tokens, %.1f tokens/s%n", r.generatedIds().length, r.tokensPerSecond());
        }
    }
}
