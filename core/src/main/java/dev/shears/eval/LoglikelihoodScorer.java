package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.kernel.LogSoftmax;
import dev.shears.kernel.MatMul;
import dev.shears.model.Activations;
import dev.shears.model.KvCache;
import dev.shears.model.Model;
import dev.shears.model.PackedSequences;
import dev.shears.model.Transformer;
import dev.shears.tensor.Parallel;
import dev.shears.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.IntConsumer;

/**
 * Log-likelihoods of continuations, forward-only, as lm-evaluation-harness's {@code HFLM.loglikelihood} computes
 * them: context and continuation are tokenized jointly and split where the context's own tokens end
 * ({@code _encode_pair}, trailing spaces of the context moved to the continuation), the sequence is
 * left-truncated to the context length plus one ({@code (context_enc + continuation_enc)[-(max_length+1):][:-1]}),
 * and the continuation's log-probabilities are summed (of a continuation longer than the context length, only the
 * last context-length tokens can be predicted and are summed).
 *
 * <p>The token prefix shared by all choices of one item (the context, for ordinary multiple choice) is computed
 * once, and each choice runs only its own tokens after it. {@link Batching#PACKED} (the default) packs a batch of
 * items into one forward pass ({@link PackedSequences}: each item's prefix, then its choices, each attending to
 * the prefix and to itself), so every weight matrix multiplies thousands of rows at once with all kernel threads;
 * {@link Batching#PER_ITEM} runs the prefix into a KV cache and then each choice, one item per kernel thread, each
 * pass a few dozen rows (widening bf16 weights for every such pass is most of its time).
 *
 * <p>Determinism: scores are bit-identical for either batching, any batch size and any thread count. A packed
 * row gets what the per-item path computes for it ({@link Transformer#forwardPacked}: the same attention order,
 * and the matrix product the per-item pass of that many rows takes), whatever it is packed with; the LM head
 * takes, per choice, the product the per-item head takes for that many scored rows; the sums over a choice's
 * tokens run in token order either way.
 */
public final class LoglikelihoodScorer {
    /** The log-likelihood of one continuation and whether greedy decoding would have produced it. */
    public record Score(double logLikelihood, boolean greedy, int tokens) {
        /** The score of {@code targets} from logits whose row i ([vocab] values from {@code i·vocab}) predicts {@code targets[i]}. */
        public static Score of(float[] logits, int vocab, int[] targets) {
            double ll = 0;
            boolean greedy = true;
            for (int i = 0; i < targets.length; i++) {
                ll += LogSoftmax.logProbability(logits, i, vocab, targets[i]);
                greedy &= LogSoftmax.argmax(logits, i, vocab) == targets[i];
            }
            return new Score(ll, greedy, targets.length);
        }
    }

    /** How the items of a batch run through the model. */
    public enum Batching {
        /** All items of a batch in one forward pass, prefixes and choices packed as segments. */
        PACKED,
        /** One item per kernel thread: its prefix into a KV cache, then each choice after it (the path before packing). */
        PER_ITEM
    }

    /**
     * Logits computed at once in a packed pass, in bytes (64 MiB: 524 rows of a 32,000-token vocabulary): the LM head
     * runs over the scored rows in chunks of this size, so its weight is packed for the product a few times per
     * pass, not once per choice.
     */
    static final long PACKED_LOGIT_BYTES = 64L << 20;

    /**
     * Rows of a packed pass, at most, unless one item alone has more: bounds the activations (about 600 MB for a
     * 1.1B model) when contexts are long (few-shot), while HellaSwag's 16 items of about 100 rows (LLaMA tokenizer) fit whole.
     * Thousands of rows already spread each weight's unpacking over enough products.
     */
    static final int PACKED_ROWS = 4096;

    /**
     * One item's requests after encoding and truncation: each choice's input tokens and the targets scored at its
     * last positions (from {@code first[r]}), and the length of the input prefix all choices share.
     */
    record Plan(int[][] inputs, int[][] targets, int[] first, int prefix) {
        /** Rows the item takes in a packed pass: the prefix once, then each choice with tokens to score after it. */
        int rows() {
            int rows = prefix;
            for (int r = 0; r < inputs.length; r++) rows += targets[r].length == 0 ? 0 : inputs[r].length - prefix;
            return rows;
        }
    }

    /** Token ids of a request: what conditions and what is scored. */
    record Encoded(int[] context, int[] continuation) {
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final int maxLength;
    private final ContextStart start;

    /**
     * @param maxLength the context length (at most the model's maximum)
     * @param start     whether sequences begin with BOS
     */
    public LoglikelihoodScorer(Model model, Tokenizer tokenizer, int maxLength, ContextStart start) {
        checkContextLength(model, maxLength);
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.start = start;
    }

    /** A context length between 2 and the model's maximum, else one line saying so. */
    static void checkContextLength(Model model, int maxLength) {
        if (maxLength < 2 || maxLength > model.config().maxSeqLen()) {
            throw new ShearsException("context length " + maxLength + " must be between 2 and the model's maximum " + model.config().maxSeqLen());
        }
    }

    public int maxLength() {
        return maxLength;
    }

    /** lm-eval {@code _encode_pair}; an empty context becomes the prefix token (BOS, else EOS), as lm-eval does. */
    Encoded encode(String context, String continuation) {
        if (context.isEmpty()) return new Encoded(new int[] {prefixToken()}, tokenizer.encode(continuation));
        int keep = context.length();
        while (keep > 0 && Character.isWhitespace(context.charAt(keep - 1))) keep--;
        String ctx = context.substring(0, keep);
        String cont = context.substring(keep) + continuation;
        int[] whole = tokenizer.encode(ctx + cont);
        int[] contextIds = tokenizer.encode(ctx);
        int[] continuationIds = Arrays.copyOfRange(whole, Math.min(contextIds.length, whole.length), whole.length);
        if (start == ContextStart.BOS && tokenizer.bosId() >= 0) {
            int[] withBos = new int[contextIds.length + 1];
            withBos[0] = tokenizer.bosId();
            System.arraycopy(contextIds, 0, withBos, 1, contextIds.length);
            contextIds = withBos;
        }
        if (contextIds.length == 0) contextIds = new int[] {prefixToken()};
        return new Encoded(contextIds, continuationIds);
    }

    private int prefixToken() {
        int prefix = tokenizer.bosId() >= 0 ? tokenizer.bosId() : tokenizer.eosId();
        if (prefix < 0) throw new ShearsException("the tokenizer has neither a BOS nor an EOS token to start an empty context");
        return prefix;
    }

    /** Encodes and truncates an item's choices and finds the prefix they share. */
    Plan plan(List<Choice> choices) {
        int k = choices.size();
        int[][] inputs = new int[k][];
        int[][] targets = new int[k][];
        int[] first = new int[k];
        for (int r = 0; r < k; r++) {
            Encoded e = encode(choices.get(r).context(), choices.get(r).continuation());
            int m = e.continuation().length;
            int[] full = new int[e.context().length + m];
            System.arraycopy(e.context(), 0, full, 0, e.context().length);
            System.arraycopy(e.continuation(), 0, full, e.context().length, m);
            if (full.length > maxLength + 1) full = Arrays.copyOfRange(full, full.length - maxLength - 1, full.length);
            inputs[r] = Arrays.copyOf(full, full.length - 1);
            // a continuation longer than the context length: only its last maxLength tokens can be predicted
            if (m > inputs[r].length) m = inputs[r].length;
            targets[r] = Arrays.copyOfRange(e.continuation(), e.continuation().length - m, e.continuation().length);
            first[r] = inputs[r].length - m;
        }
        int prefix = first[0];
        for (int r = 1; r < k; r++) prefix = Math.min(Math.min(prefix, first[r]), commonPrefix(inputs[0], inputs[r]));
        return new Plan(inputs, targets, first, prefix);
    }

    /** Scores every choice of one item, the shared token prefix computed once into a KV cache ({@link Batching#PER_ITEM}). */
    List<Score> score(List<Choice> choices, Buffers buffers) {
        Plan plan = plan(choices);
        int k = choices.size();
        int[][] inputs = plan.inputs(), targets = plan.targets();
        int[] first = plan.first();
        int prefix = plan.prefix();
        int longest = 0;
        for (int[] in : inputs) longest = Math.max(longest, in.length);
        KvCache cache = buffers.cache(Buffers.grown(longest, maxLength));
        cache.clear();
        if (prefix > 0) Transformer.forwardCached(model, Arrays.copyOf(inputs[0], prefix), cache, buffers.activations(prefix), prefix);
        int vocab = model.config().vocabSize();
        List<Score> scores = new ArrayList<>(k);
        for (int r = 0; r < k; r++) {
            int m = targets[r].length;
            if (m == 0) {
                scores.add(new Score(0, true, 0));
                continue;
            }
            cache.truncate(prefix);
            int[] rest = Arrays.copyOfRange(inputs[r], prefix, inputs[r].length);
            float[] logits = Transformer.forwardCached(model, rest, cache, buffers.activations(rest.length), first[r] - prefix);
            scores.add(Score.of(logits, vocab, targets[r]));
        }
        return scores;
    }

    /**
     * Scores every choice of every item, results in item order: packed, {@code batchSize} items per pass (fewer
     * when their rows would pass {@link #PACKED_ROWS}); per item, {@code batchSize} items at a time in parallel.
     *
     * @param items      each item's choices
     * @param afterBatch called with the number of items done after each batch (progress)
     */
    List<List<Score>> scoreAll(List<List<Choice>> items, int batchSize, Batching batching, IntConsumer afterBatch) {
        if (batching == Batching.PER_ITEM) return map(items, batchSize, this::score, afterBatch);
        int width = Math.max(1, batchSize);
        Packed buffers = new Packed();
        List<List<Score>> out = new ArrayList<>(items.size());
        for (int from = 0; from < items.size(); from += width) {
            Plan[] plans = new Plan[Math.min(width, items.size() - from)];
            int base = from;
            Parallel.forEach(plans.length, i -> plans[i] = plan(items.get(base + i))); // tokenizing, on all threads
            List<Plan> pass = new ArrayList<>(plans.length);
            int rows = 0;
            for (Plan p : plans) {
                if (!pass.isEmpty() && rows + p.rows() > PACKED_ROWS) {
                    out.addAll(scorePacked(pass, buffers));
                    afterBatch.accept(pass.size());
                    pass.clear();
                    rows = 0;
                }
                pass.add(p);
                rows += p.rows();
            }
            out.addAll(scorePacked(pass, buffers));
            afterBatch.accept(pass.size());
        }
        return out;
    }

    /**
     * Scores the items of one batch in one packed pass: each item's shared prefix is a segment, each choice with
     * tokens to score a segment continuing it; then the LM head runs over the scored rows only.
     */
    private List<List<Score>> scorePacked(List<Plan> items, Packed buffers) {
        PackedSequences.Builder rows = new PackedSequences.Builder();
        Plan[] plans = items.toArray(new Plan[0]);
        int[][] firstScored = new int[plans.length][]; // per item and choice: its first entry in the scored rows
        int scored = 0;
        for (int k = 0; k < plans.length; k++) {
            firstScored[k] = new int[plans[k].inputs().length];
            for (int[] t : plans[k].targets()) scored += t.length;
        }
        int[] scoredRows = new int[scored], targets = new int[scored];
        int next = 0;
        for (int k = 0; k < plans.length; k++) {
            Plan p = plans[k];
            int prefixSegment = p.prefix() > 0 ? rows.add(Arrays.copyOf(p.inputs()[0], p.prefix())) : -1;
            for (int r = 0; r < p.inputs().length; r++) {
                int m = p.targets()[r].length;
                firstScored[k][r] = next;
                if (m == 0) continue;
                int row0 = rows.rows() + p.first()[r] - p.prefix();
                rows.add(Arrays.copyOfRange(p.inputs()[r], p.prefix(), p.inputs()[r].length), prefixSegment, p.prefix());
                for (int i = 0; i < m; i++) {
                    scoredRows[next] = row0 + i;
                    targets[next++] = p.targets()[r][i];
                }
            }
        }
        double[] logProbabilities = new double[scored];
        boolean[] argmaxHits = new boolean[scored];
        if (scored > 0) {
            PackedSequences packed = rows.build();
            Activations acts = buffers.activations(packed.rows(), scored);
            Transformer.forwardPacked(model, packed, acts);
            // the LM head gives each choice's rows the product the per-item head takes for that many rows:
            // the scored entries of choices with more rows first (blocked), then those of short choices
            int[] order = new int[scored];
            int at = 0, blocked = 0;
            for (MatMul.Product product : List.of(MatMul.Product.BLOCKED, MatMul.Product.MATRIX_VECTOR)) {
                for (int k = 0; k < plans.length; k++) {
                    for (int r = 0; r < plans[k].inputs().length; r++) {
                        int m = plans[k].targets()[r].length;
                        if (m == 0 || MatMul.Product.forRows(m) != product) continue;
                        for (int i = 0; i < m; i++) order[at++] = firstScored[k][r] + i;
                    }
                }
                if (product == MatMul.Product.BLOCKED) blocked = at;
            }
            int[] headRows = new int[scored];
            for (int j = 0; j < scored; j++) headRows[j] = scoredRows[order[j]];
            int vocab = model.config().vocabSize();
            for (int from = 0; from < scored; ) {
                MatMul.Product product = from < blocked ? MatMul.Product.BLOCKED : MatMul.Product.MATRIX_VECTOR;
                int count = Math.min(acts.logitRows(), (from < blocked ? blocked : scored) - from);
                float[] logits = Transformer.packedLogits(model, acts, headRows, from, count, product);
                int base = from;
                Parallel.forEach(count, i -> {
                    int e = order[base + i];
                    logProbabilities[e] = LogSoftmax.logProbability(logits, i, vocab, targets[e]);
                    argmaxHits[e] = LogSoftmax.argmax(logits, i, vocab) == targets[e];
                });
                from += count;
            }
        }
        List<List<Score>> out = new ArrayList<>(plans.length);
        for (int k = 0; k < plans.length; k++) {
            List<Score> scores = new ArrayList<>(plans[k].inputs().length);
            for (int r = 0; r < plans[k].inputs().length; r++) {
                int m = plans[k].targets()[r].length;
                double ll = 0;
                boolean greedy = true;
                for (int i = firstScored[k][r]; i < firstScored[k][r] + m; i++) {
                    ll += logProbabilities[i];
                    greedy &= argmaxHits[i];
                }
                scores.add(new Score(ll, greedy, m));
            }
            out.add(scores);
        }
        return out;
    }

    /** Rolling log-likelihood of a whole text (lm-eval {@code loglikelihood_rolling}, see {@link Perplexity}). */
    Score rolling(String text, Buffers buffers) {
        int[] tokens = tokenizer.encode(text);
        if (tokens.length == 0) return new Score(0, true, 0);
        KvCache cache = buffers.cache(maxLength);
        int vocab = model.config().vocabSize();
        double ll = 0;
        for (Perplexity.Window w : Perplexity.windows(tokens, prefixToken(), maxLength)) {
            int n = w.input().length;
            int scored = w.targets().length;
            cache.clear();
            float[] logits = Transformer.forwardCached(model, w.input(), cache, buffers.activations(n), n - scored);
            for (int i = 0; i < scored; i++) ll += LogSoftmax.logProbability(logits, i, vocab, w.targets()[i]);
        }
        return new Score(ll, false, tokens.length);
    }

    /**
     * Applies {@code scoring} to every item, {@code batchSize} items at a time in parallel, results in item order.
     *
     * @param afterBatch called with the number of items done after each batch (progress)
     */
    <I, T> List<T> map(List<I> items, int batchSize, BiFunction<I, Buffers, T> scoring, IntConsumer afterBatch) {
        int width = Math.max(1, batchSize);
        Buffers[] buffers = new Buffers[Math.min(width, Math.max(1, items.size()))];
        for (int i = 0; i < buffers.length; i++) buffers[i] = new Buffers(model);
        List<T> out = new ArrayList<>(items.size());
        for (int from = 0; from < items.size(); from += width) {
            int count = Math.min(width, items.size() - from);
            Object[] results = new Object[count];
            int base = from;
            Parallel.forEach(count, i -> results[i] = scoring.apply(items.get(base + i), buffers[i]));
            for (Object r : results) {
                @SuppressWarnings("unchecked") T t = (T) r;
                out.add(t);
            }
            afterBatch.accept(count);
        }
        return out;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    /** The buffers of packed passes, grown on demand. */
    private final class Packed {
        private Activations activations;

        /** Buffers for {@code rows} packed rows, with logits for {@code scored} rows at a time or {@link #PACKED_LOGIT_BYTES}' worth. */
        Activations activations(int rows, int scored) {
            int most = (int) Math.max(1, PACKED_LOGIT_BYTES / (4L * model.config().vocabSize()));
            if (activations == null || activations.seqLen < rows || activations.logitRows() < Math.min(most, scored)) {
                int seqLen = Buffers.grown(rows, Math.max(rows, PACKED_ROWS));
                int logitRows = Math.min(most, Buffers.grown(scored, Integer.MAX_VALUE));
                if (activations != null) {
                    seqLen = Math.max(seqLen, activations.seqLen);
                    logitRows = Math.max(logitRows, activations.logitRows());
                }
                activations = null;
                activations = Activations.forPacked(model.config(), seqLen, logitRows);
            }
            return activations;
        }
    }

    /** One worker's KV cache and activations, grown on demand (never larger than the context length). */
    static final class Buffers {
        private final Model model;
        private KvCache cache;
        private Activations activations;

        Buffers(Model model) {
            this.model = model;
        }

        KvCache cache(int capacity) {
            if (cache == null || cache.capacity() < capacity) cache = new KvCache(model.config(), capacity);
            return cache;
        }

        Activations activations(int rows) {
            if (activations == null || activations.seqLen < rows) {
                activations = Activations.forInference(model.config(), 1, grown(rows, model.config().maxSeqLen()));
            }
            return activations;
        }

        /** {@code needed} rounded up to a power of two, capped at {@code most} (so buffers are reallocated rarely). */
        static int grown(int needed, int most) {
            return Math.max(needed, Math.min(most, Integer.highestOneBit(Math.max(1, needed - 1)) << 1));
        }
    }
}
