package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.kernel.LogSoftmax;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rolling perplexity exactly as lm-evaluation-harness computes {@code loglikelihood_rolling}
 * ({@code lm_eval.utils.get_rolling_token_windows} with {@code context_len=1}, then
 * {@code make_disjoint_window}): the whole text is tokenized once; windows of the context length
 * predict disjoint spans, the first prefixed with BOS, so every token is predicted exactly once; the
 * last window is left-extended with earlier tokens so it sees a full context.
 */
public final class Perplexity {
    private Perplexity() {
    }

    /** One window: the model input and how many of its last positions are scored. */
    record Window(int[] input, int[] targets) {
    }

    public static PerplexityResult evaluate(Model model, Tokenizer tokenizer, String text, int contextLength, Progress progress) {
        if (contextLength < 1) throw new ShearsException("context length must be at least 1, got " + contextLength);
        if (contextLength > model.config().maxSeqLen()) {
            throw new ShearsException("context length " + contextLength + " exceeds the model's maximum " + model.config().maxSeqLen());
        }
        int[] tokens = tokenizer.encode(text);
        if (tokens.length == 0) throw new ShearsException("the text is empty: there is nothing to score");
        int prefix = tokenizer.bosId() >= 0 ? tokenizer.bosId() : tokenizer.eosId();
        if (prefix < 0) throw new ShearsException("the tokenizer has neither a BOS nor an EOS token to start the first window");
        List<Window> windows = windows(tokens, prefix, contextLength);
        int vocab = model.config().vocabSize();
        Map<Integer, Activations> buffers = new HashMap<>();
        double totalLogLikelihood = 0;
        progress.start("perplexity", tokens.length, "tok");
        for (Window window : windows) {
            int n = window.input().length;
            Activations acts = buffers.computeIfAbsent(n, len -> Activations.forInference(model.config(), 1, len));
            float[] logits = Transformer.forward(model, window.input(), 1, n, acts, MaskSet.NONE);
            int scored = window.targets().length;
            for (int i = 0; i < scored; i++) {
                int row = n - scored + i;
                totalLogLikelihood += LogSoftmax.logProbability(logits, row, vocab, window.targets()[i]);
            }
            progress.advance(scored);
        }
        progress.finish();
        long words = countWords(text);
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        double nll = -totalLogLikelihood / tokens.length;
        return new PerplexityResult(tokens.length, nll, Math.exp(nll), words, Math.exp(-totalLogLikelihood / words), bytes,
                Math.exp(-totalLogLikelihood / bytes), -totalLogLikelihood / bytes / Math.log(2), contextLength, windows.size());
    }

    /** The disjoint rolling windows: each target predicted once, each input exactly as long as needed. */
    static List<Window> windows(int[] tokens, int prefix, int contextLength) {
        List<Window> windows = new ArrayList<>();
        int first = Math.min(contextLength, tokens.length);
        int[] input = new int[first];
        input[0] = prefix;
        System.arraycopy(tokens, 0, input, 1, first - 1);
        windows.add(new Window(input, java.util.Arrays.copyOfRange(tokens, 0, first)));
        int predicted = first;
        while (predicted < tokens.length) {
            int span = Math.min(tokens.length - predicted, contextLength);
            int end = predicted + span;
            // get_rolling_token_windows: input = tokens[end - maxLen - 1 : end - 1], of which the last `span` are scored
            int start = end - contextLength - 1;
            windows.add(new Window(java.util.Arrays.copyOfRange(tokens, start, end - 1),
                    java.util.Arrays.copyOfRange(tokens, predicted, end)));
            predicted = end;
        }
        return windows;
    }

    /** {@code len(re.split(r"\s+", text))}, as lm-eval's WikiText task counts words (leading/trailing whitespace counts a piece). */
    static long countWords(String text) {
        long pieces = 1;
        boolean inSpace = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            boolean space = isPythonWhitespace(cp);
            if (space && !inSpace) pieces++;
            inSpace = space;
            i += Character.charCount(cp);
        }
        return pieces;
    }

    private static boolean isPythonWhitespace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x1C || cp == 0x1D || cp == 0x1E || cp == 0x1F || cp == 0x85;
    }
}
