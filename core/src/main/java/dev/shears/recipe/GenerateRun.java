package dev.shears.recipe;

import dev.shears.eval.Generation;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * {@code shears generate}: continue a prompt with a KV cache (decoder-only), or answer it (an encoder–decoder:
 * the prompt encoded once, the output decoded with self- and cross-attention caches), streaming the new text
 * as it becomes whole characters.
 */
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
        Optional<EncoderDecoder> encoderDecoder = EncoderDecoder.load(request.model());
        if (encoderDecoder.isPresent()) {
            // an encoder-decoder answers the prompt: its output is decoded alone
            EncoderDecoder model = encoderDecoder.get();
            Tokenizer tok = ModelSource.seq2seqTokenizer(request.model(), request.tokenizer(), model.vocabSize());
            return streamed(onText, tok::decode, onToken -> Generation.generate(model, tok, request.prompt(), request.settings(), onToken));
        }
        try (LoadedModel loaded = ModelSource.open(request.model(), request.tokenizer())) {
            Tokenizer tok = loaded.tokenizer();
            int[] promptIds = Generation.promptIds(tok, request.prompt());
            MemoryPlan.inference("generation", loaded.model().config(), promptIds.length, promptIds.length + request.settings().maxTokens(),
                    loaded.model().weights().bytes()).check();
            return streamed(onText, ids -> Generation.continuation(tok, promptIds, ids),
                    onToken -> Generation.generate(loaded.model(), tok, request.prompt(), request.settings(), onToken));
        }
    }

    /**
     * Runs {@code generate}, handing {@code onText} the output in pieces as {@code text} decodes the ids so far (none when
     * {@code onText} is empty, so the timed loop holds the model's work alone).
     */
    private static GenerationResult streamed(Optional<Consumer<String>> onText, Function<int[], String> text,
                                             Function<IntConsumer, GenerationResult> generate) {
        if (onText.isEmpty()) return generate.apply(id -> { });
        Streamed streamed = new Streamed(text, onText.get());
        GenerationResult r = generate.apply(streamed::add);
        streamed.finish(r.text());
        return r;
    }

    /** Whether the model's output continues the prompt (decoder-only) rather than answering it (an encoder–decoder). */
    public static boolean continuesPrompt(Path model) {
        return !EncoderDecoder.describes(model);
    }

    /** The printed prefix of the output, extended as ids arrive. */
    private static final class Streamed {
        private final Function<int[], String> text;
        private final Consumer<String> onText;
        private int[] ids = new int[0];
        private String printed = "";

        /** @param text the output's text so far, from its ids */
        Streamed(Function<int[], String> text, Consumer<String> onText) {
            this.text = text;
            this.onText = onText;
        }

        void add(int id) {
            ids = java.util.Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = id;
            emit(text.apply(ids));
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
