package dev.shears.eval;

import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Log-likelihoods checked against an independent computation: one plain forward over the whole sequence, softmax by hand. */
class EvalScorerTest {
    static final Model MODEL = TinyModels.random(TinyModels.gqa(), 7);

    /** One token per character (ids 3..49), BOS 1, EOS 2. */
    static final Tokenizer CHARS = chars(50);

    /** One token per character, ids 3 .. vocab-1, BOS 1, EOS 2 for any vocabulary: joint tokenization is then easy to write down by hand. */
    static Tokenizer chars(int vocab) {
        return new Tokenizer() {
            public int vocabSize() {
                return vocab;
            }

            public int[] encode(String text) {
                return text.chars().map(c -> 3 + c % (vocab - 3)).toArray();
            }

            public String decode(int[] ids) {
                return "";
            }

            public String piece(int id) {
                return "";
            }

            public int bosId() {
                return 1;
            }

            public int eosId() {
                return 2;
            }

            public PieceType pieceType(int id) {
                return PieceType.NORMAL;
            }

            public boolean addsBos() {
                return true;
            }
        };
    }

    static int id(int c) {
        return 3 + c % 47;
    }

    /** Sum of log p(sequence[i] | sequence[..i]) for i in [from, n), by a full forward and a softmax written out here. */
    static double expected(int[] sequence, int from) {
        int n = sequence.length - 1;
        int[] input = java.util.Arrays.copyOf(sequence, n);
        float[] logits = Transformer.forward(MODEL, input, 1, n, Activations.forInference(MODEL.config(), 1, n), MaskSet.NONE);
        int vocab = MODEL.config().vocabSize();
        double sum = 0;
        for (int i = from - 1; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[i * vocab + v]);
            double z = 0;
            for (int v = 0; v < vocab; v++) z += Math.exp(logits[i * vocab + v] - max);
            sum += logits[i * vocab + sequence[i + 1]] - max - Math.log(z);
        }
        return sum;
    }

    static int[] bosThen(String text) {
        int[] ids = CHARS.encode(text);
        int[] out = new int[ids.length + 1];
        out[0] = 1;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    static LoglikelihoodScorer scorer(int maxLength) {
        return new LoglikelihoodScorer(MODEL, CHARS, maxLength, ContextStart.BOS);
    }

    @Test
    void choicesSharingAContextMatchTheirIndependentLogLikelihoods() {
        String context = "Question: what is red?\nAnswer:";
        List<Choice> choices = List.of(Choice.of(context, " ", "a rose"), Choice.of(context, " ", "the sky"), Choice.of(context, " ", "x"));
        List<LoglikelihoodScorer.Score> scores = scorer(64).score(choices, new LoglikelihoodScorer.Buffers(MODEL));
        for (int i = 0; i < choices.size(); i++) {
            int[] seq = bosThen(context + choices.get(i).continuation());
            double want = expected(seq, 1 + context.length());
            assertEquals(want, scores.get(i).logLikelihood(), 1e-4, "choice " + i);
            assertEquals(choices.get(i).continuation().length(), scores.get(i).tokens());
        }
    }

    @Test
    void trailingSpaceOfTheContextMovesToTheContinuation() {
        LoglikelihoodScorer.Encoded e = scorer(64).encode("ab ", "c");
        assertEquals(3, e.context().length, "BOS a b");
        assertEquals(2, e.continuation().length, "' c'");
        assertEquals(id(' '), e.continuation()[0]);
    }

    @Test
    void partialScoringTwoContextsOneContinuation() {
        List<Choice> choices = List.of(Choice.of("Sarah was better than Maria so Sarah", " ", "got easy cases."),
                Choice.of("Sarah was better than Maria so Maria", " ", "got easy cases."));
        List<LoglikelihoodScorer.Score> scores = scorer(64).score(choices, new LoglikelihoodScorer.Buffers(MODEL));
        for (int i = 0; i < 2; i++) {
            String ctx = choices.get(i).context();
            assertEquals(expected(bosThen(ctx + " got easy cases."), 1 + ctx.length()), scores.get(i).logLikelihood(), 1e-4);
        }
    }

    @Test
    void longSequencesAreLeftTruncatedToTheContextLength() {
        String context = "the quick brown fox jumps over the lazy dog and runs";
        String continuation = " away";
        int maxLength = 16;
        int[] full = bosThen(context + continuation);
        int[] kept = java.util.Arrays.copyOfRange(full, full.length - maxLength - 1, full.length);
        double want = expected(kept, kept.length - continuation.length());
        double got = scorer(maxLength).score(List.of(Choice.of(context, "", continuation)), new LoglikelihoodScorer.Buffers(MODEL)).get(0).logLikelihood();
        assertEquals(want, got, 1e-4);
    }

    @Test
    void rollingLogLikelihoodMatchesPerplexity() {
        String text = "once upon a time there was a tiny model that scored every token exactly once, window after window.";
        LoglikelihoodScorer.Score s = scorer(20).rolling(text, new LoglikelihoodScorer.Buffers(MODEL));
        PerplexityResult p = Perplexity.evaluate(MODEL, CHARS, text, 20, Progress.SILENT);
        assertEquals(p.tokens(), s.tokens());
        assertEquals(-p.nll() * p.tokens(), s.logLikelihood(), 1e-3);
    }

    @Test
    void accAndAccNormFollowTheHandComputedArgmax() {
        List<Item> items = new ArrayList<>();
        String[] contexts = {"Question: a?\nAnswer:", "Question: b?\nAnswer:", "Q: c\nA:", "Q: d\nA:", "Q: e\nA:"};
        for (int k = 0; k < contexts.length; k++) {
            items.add(new Item.MultipleChoice(List.of(Choice.of(contexts[k], " ", "yes"), Choice.of(contexts[k], " ", "no thanks"),
                    Choice.of(contexts[k], " ", "maybe so")), k % 3));
        }
        Task task = new Task("hand", TaskKind.MULTIPLE_CHOICE, "unused", file -> items, "test");
        // batch 2 over 5 items: results must not depend on batching
        EvalSettings settings = new EvalSettings(0, EvalSettings.Sampling.FIRST, 1, 2, 0, ContextStart.BOS);
        TaskResult r = Evaluator.run(MODEL, CHARS, new Evaluator.Items(task, items, items.size()), settings, Progress.SILENT);
        double acc = 0, accNorm = 0;
        for (Item item : items) {
            Item.MultipleChoice mc = (Item.MultipleChoice) item;
            double best = Double.NEGATIVE_INFINITY, bestNorm = Double.NEGATIVE_INFINITY;
            int arg = -1, argNorm = -1;
            for (int i = 0; i < mc.choices().size(); i++) {
                Choice c = mc.choices().get(i);
                double ll = expected(bosThen(c.context() + c.continuation()), 1 + c.context().length());
                if (ll > best) { best = ll; arg = i; }
                if (ll / c.chars() > bestNorm) { bestNorm = ll / c.chars(); argNorm = i; }
            }
            acc += arg == mc.gold() ? 1 : 0;
            accNorm += argNorm == mc.gold() ? 1 : 0;
        }
        assertEquals(acc / items.size(), r.metric("acc").orElseThrow().value(), 1e-12);
        assertEquals(accNorm / items.size(), r.metric("acc_norm").orElseThrow().value(), 1e-12);
        double p = acc / items.size();
        assertEquals(Math.sqrt(p * (1 - p) * items.size() / (items.size() - 1)) / Math.sqrt(items.size()), r.metric("acc").orElseThrow().stderr(), 1e-12);
        assertEquals(1.0 / 3, r.metric("chance").orElseThrow().value(), 1e-12);
    }

    /** The items a run scores: those at {@link Evaluator#picked}'s positions. */
    private static List<Item> sample(List<Item> all, EvalSettings settings) {
        return java.util.Arrays.stream(Evaluator.picked(all.size(), settings)).mapToObj(all::get).toList();
    }

    @Test
    void seededSampleIsDeterministicAndInFileOrder() {
        List<Item> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) all.add(new Item.Document("doc " + i, 2, 5));
        EvalSettings s = EvalSettings.DEFAULTS.withLimit(10);
        List<Item> a = sample(all, s), b = sample(all, s);
        assertEquals(a, b);
        assertEquals(10, a.size());
        for (int i = 1; i < a.size(); i++) assertEquals(true, all.indexOf(a.get(i - 1)) < all.indexOf(a.get(i)));
        assertEquals(all.subList(0, 10), sample(all, new EvalSettings(10, EvalSettings.Sampling.FIRST, 1, 1, 0, ContextStart.BOS)));
    }

    @Test
    void missingDataFileNamesTheTaskAndPath(@org.junit.jupiter.api.io.TempDir Path tmp) {
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.shears.ShearsException.class,
                () -> Evaluator.load(TaskCatalog.task("piqa"), tmp, EvalSettings.DEFAULTS));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("piqa") && e.getMessage().contains("mc/piqa.jsonl"), e.getMessage());
    }
}
