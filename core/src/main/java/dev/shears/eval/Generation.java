package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.kernel.LogSoftmax;
import dev.shears.model.Activations;
import dev.shears.model.KvCache;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/** Autoregressive text generation with a KV cache: greedy at temperature 0, else temperature and top-p sampling. */
public final class Generation {
    private Generation() {
    }

    /**
     * @param onToken receives each new token id as soon as it is chosen (for streaming)
     */
    public static GenerationResult generate(Model model, Tokenizer tokenizer, String prompt, GenerationSettings settings, IntConsumer onToken) {
        int[] promptIds = promptIds(tokenizer, prompt);
        if (promptIds.length == 0) throw new ShearsException("the prompt is empty and the tokenizer adds no BOS token: nothing to continue");
        Decoded decoded = decode(model, promptIds, settings, tokenizer.eosId(), onToken, Stop.NEVER);
        return new GenerationResult(promptIds, decoded.ids(), continuation(tokenizer, promptIds, decoded.ids()), decoded.tokensPerSecond());
    }

    /**
     * Generation by an encoder–decoder (T5, OpenBA): the prompt, with the EOS its tokenizer appends, is encoded once; the
     * decoder starts from {@code decoder_start_token_id} and decodes with cached self- and cross-attention keys
     * and values ({@link EncoderDecoder#decode}) until EOS or {@code maxTokens}. The result's text is the decoded output
     * alone (it answers the prompt, it does not continue it). Tokens per second time the decoder steps after
     * the first, as decoder-only generation times those after the prompt.
     */
    public static GenerationResult generate(EncoderDecoder model, Tokenizer tokenizer, String prompt, GenerationSettings settings, IntConsumer onToken) {
        int[] promptIds = encoderIds(tokenizer, prompt);
        Decoded decoded = decode(model, promptIds, settings, tokenizer.eosId(), onToken, Stop.NEVER);
        return new GenerationResult(promptIds, decoded.ids(), tokenizer.decode(decoded.ids()), decoded.tokensPerSecond());
    }

    /**
     * An encoder–decoder's answer to {@code promptIds}, the encoder's whole input: stops after {@code settings.maxTokens()} (or the
     * decoder's most positions), at {@code eosId}, or when {@code stop} says so.
     *
     * @return the new ids (EOS excluded)
     */
    public static int[] generateIds(EncoderDecoder model, int[] promptIds, GenerationSettings settings, int eosId, Stop stop) {
        return decode(model, promptIds, settings, eosId, id -> {
        }, stop).ids();
    }

    private static Decoded decode(EncoderDecoder model, int[] promptIds, GenerationSettings settings, int eosId, IntConsumer onToken, Stop stop) {
        for (int id : promptIds) {
            if (id >= model.vocabSize()) throw new ShearsException("prompt token id " + id + " is outside the model's vocabulary of " + model.vocabSize());
        }
        if (promptIds.length > model.maxLength()) {
            throw new ShearsException("the prompt has " + promptIds.length + " tokens; the model's encoder reads at most " + model.maxLength());
        }
        EncoderDecoder.Decoding decoding = model.decode(promptIds, Math.min(settings.maxTokens(), model.maxLength()));
        return sample(decoding.next(model.decoderStartToken()), decoding::next, decoding::full, settings, eosId, onToken, stop);
    }

    /** An encoder's input: the prompt's tokens, then EOS when the tokenizer appends it (T5's does). */
    public static int[] encoderIds(Tokenizer tokenizer, String prompt) {
        int[] text = tokenizer.encode(prompt);
        if (!tokenizer.addsEos() || tokenizer.eosId() < 0) {
            if (text.length == 0) throw new ShearsException("the prompt is empty: the encoder needs at least one token");
            return text;
        }
        int[] ids = Arrays.copyOf(text, text.length + 1);
        ids[text.length] = tokenizer.eosId();
        return ids;
    }

    /**
     * The text that {@code generated} adds after {@code prompt}: decoded together and the prompt's text
     * removed, so tokenizers that treat the first piece specially (a dummy-prefix space) decode a
     * continuation correctly.
     */
    public static String continuation(Tokenizer tokenizer, int[] prompt, int[] generated) {
        int[] all = java.util.Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, all, prompt.length, generated.length);
        String whole = tokenizer.decode(all);
        String head = tokenizer.decode(prompt);
        return whole.startsWith(head) ? whole.substring(head.length()) : tokenizer.decode(generated);
    }

    /** The prompt as fed to the model: its tokens, after BOS when the tokenizer adds one. */
    public static int[] promptIds(Tokenizer tokenizer, String prompt) {
        int[] text = tokenizer.encode(prompt);
        if (!tokenizer.addsBos() || tokenizer.bosId() < 0) return text;
        int[] ids = new int[text.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    private record Decoded(int[] ids, double tokensPerSecond) {
    }

    /**
     * Whether generation ends after the token just chosen (kept in the output), besides EOS, the token limit and a
     * full context: lm-eval's stopping criteria on the decoded text ({@link GenerationScorer}).
     */
    @FunctionalInterface
    public interface Stop {
        /** Never stops early. */
        Stop NEVER = (ids, count) -> false;

        /** @param ids the new tokens so far, in {@code ids[0..count)} */
        boolean after(int[] ids, int count);
    }

    /**
     * Continues {@code promptIds}; stops after {@code settings.maxTokens()}, at {@code eosId} (a negative id: never), or when the
     * context is full.
     *
     * @return the new ids (EOS excluded)
     */
    public static int[] generateIds(Model model, int[] promptIds, GenerationSettings settings, int eosId, IntConsumer onToken) {
        return decode(model, promptIds, settings, eosId, onToken, Stop.NEVER).ids();
    }

    /** As {@link #generateIds(Model, int[], GenerationSettings, int, IntConsumer)}, also ending when {@code stop} says so. */
    public static int[] generateIds(Model model, int[] promptIds, GenerationSettings settings, int eosId, Stop stop) {
        return decode(model, promptIds, settings, eosId, id -> {
        }, stop).ids();
    }

    private static Decoded decode(Model model, int[] promptIds, GenerationSettings settings, int eosId, IntConsumer onToken, Stop stop) {
        int maxSeqLen = model.config().maxSeqLen();
        if (promptIds.length >= maxSeqLen) {
            throw new ShearsException("the prompt has " + promptIds.length + " tokens; the model's context is " + maxSeqLen);
        }
        int capacity = Math.min(maxSeqLen, promptIds.length + settings.maxTokens());
        KvCache cache = new KvCache(model.config(), capacity);
        Activations prefill = Activations.forInference(model.config(), 1, promptIds.length);
        Activations step = Activations.forInference(model.config(), 1, 1);
        // The prompt's last token goes through the one-token path that decoding uses, so the JIT compiles
        // that path while the prompt is processed rather than during the first generated tokens.
        int head = promptIds.length - 1;
        if (head > 0) Transformer.forwardCached(model, Arrays.copyOf(promptIds, head), cache, prefill, head);
        float[] logits = Transformer.forwardCached(model, new int[] {promptIds[head]}, cache, step);
        return sample(logits, next -> Transformer.forwardCached(model, new int[] {next}, cache, step), () -> cache.length() >= capacity,
                settings, eosId, onToken, stop);
    }

    /**
     * The decoding loop of both kinds of model: from the first logits, chooses a token, then asks {@code step} for the logits
     * after it, until EOS, {@code maxTokens}, {@code stop} or a {@code full} cache; times the steps after the first choice.
     */
    private static Decoded sample(float[] first, IntFunction<float[]> step, BooleanSupplier full, GenerationSettings settings, int eosId,
                                  IntConsumer onToken, Stop stop) {
        SplittableRandom random = new SplittableRandom(settings.seed());
        float[] logits = first;
        int[] out = new int[settings.maxTokens()];
        int count = 0;
        long start = System.nanoTime();
        while (count < settings.maxTokens()) {
            int next = choose(logits, settings, random);
            if (next == eosId) break;
            out[count++] = next;
            onToken.accept(next);
            if (stop.after(out, count) || full.getAsBoolean()) break;
            logits = step.apply(next);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Decoded(Arrays.copyOf(out, count), count / Math.max(seconds, 1e-9));
    }

    static int choose(float[] logits, GenerationSettings settings, SplittableRandom random) {
        if (settings.temperature() == 0f) return LogSoftmax.argmax(logits, 0, logits.length);
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / settings.temperature());
            sum += p[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        double[] probs = p;
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        double kept = 0;
        int keep = 0;
        while (keep < n && (keep == 0 || kept < settings.topP() * sum)) kept += p[order[keep++]];
        double r = random.nextDouble() * kept;
        for (int i = 0; i < keep; i++) {
            r -= p[order[i]];
            if (r <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
