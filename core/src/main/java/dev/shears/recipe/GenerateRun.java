package dev.shears.recipe;

import dev.shears.eval.Generation;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/** {@code shears generate}: continue a prompt with a KV cache, streaming the new text as it becomes whole characters. */
public final class GenerateRun {
    private GenerateRun() {
    }

    /**
     * @param model     a Hugging Face folder, a {@code .gguf} or a llama2.c {@code .bin} (weights mapped)
     * @param tokenizer an explicit tokenizer; otherwise the model's
     */
    public record Request(Path model, Optional<Path> tokenizer, String prompt, GenerationSettings settings) {
    }

    /**
     * Generates after checking the memory plan. {@code onText}, when present, receives the continuation in
     * pieces as it grows, never splitting a character: while the tail decodes to an unfinished byte sequence
     * it waits. Their concatenation is the result's text. Without it nothing is decoded until the end, so
     * the timed decoding loop holds the model's work alone.
     */
    public static GenerationResult run(Request request, Optional<Consumer<String>> onText) {
        try (LoadedModel loaded = ModelSource.open(request.model(), request.tokenizer())) {
            Tokenizer tok = loaded.tokenizer();
            int[] promptIds = Generation.promptIds(tok, request.prompt());
            MemoryPlan.inference("generation", loaded.model().config(), promptIds.length, promptIds.length + request.settings().maxTokens(),
                    loaded.model().weights().bytes()).check();
            if (onText.isEmpty()) return Generation.generate(loaded.model(), tok, request.prompt(), request.settings(), id -> { });
            Streamed streamed = new Streamed(tok, promptIds, onText.get());
            GenerationResult r = Generation.generate(loaded.model(), tok, request.prompt(), request.settings(), streamed::add);
            streamed.finish(r.text());
            return r;
        }
    }

    /** The printed prefix of the continuation, extended as ids arrive. */
    private static final class Streamed {
        private final Tokenizer tokenizer;
        private final int[] promptIds;
        private final Consumer<String> onText;
        private int[] ids = new int[0];
        private String printed = "";

        Streamed(Tokenizer tokenizer, int[] promptIds, Consumer<String> onText) {
            this.tokenizer = tokenizer;
            this.promptIds = promptIds;
            this.onText = onText;
        }

        void add(int id) {
            ids = java.util.Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = id;
            emit(Generation.continuation(tokenizer, promptIds, ids));
        }

        void finish(String text) {
            if (text.startsWith(printed) && text.length() > printed.length()) onText.accept(text.substring(printed.length()));
        }

        private void emit(String text) {
            if (!text.endsWith("\uFFFD") && text.startsWith(printed) && text.length() > printed.length()) {
                onText.accept(text.substring(printed.length()));
                printed = text;
            }
        }
    }
}
