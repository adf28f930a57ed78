package dev.shears.eval;

import dev.shears.SharedData;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import dev.shears.progress.Progress;
import dev.shears.tensor.Parallel;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packed scoring ({@link LoglikelihoodScorer.Batching#PACKED}) against the per-item path: the same log-likelihoods
 * bit for bit (the task asks for 1e-6), the same greedy flags and token counts, and bit for bit the same whatever
 * the batch size and thread count.
 */
class PackedScorerTest {
    private static final LoglikelihoodScorer.Batching PACKED = LoglikelihoodScorer.Batching.PACKED;
    private static final LoglikelihoodScorer.Batching PER_ITEM = LoglikelihoodScorer.Batching.PER_ITEM;

    /**
     * Items of every shape the scorer meets: a shared context with choices of different lengths (one of a single
     * token), contexts that differ with one shared continuation (partial scoring: a shorter shared prefix), a
     * context so long that the window cuts it (no shared prefix left), a continuation longer than the window, an
     * empty continuation, an empty context (BOS alone), and one choice per item.
     */
    static List<List<Choice>> items() {
        String longContext = "the quick brown fox jumps over the lazy dog and then it runs far away into the woods";
        List<List<Choice>> items = new ArrayList<>();
        items.add(List.of(Choice.of("Question: what is red?\nAnswer:", " ", "a rose"), Choice.of("Question: what is red?\nAnswer:", " ", "the evening sky"),
                Choice.of("Question: what is red?\nAnswer:", " ", "x")));
        items.add(List.of(Choice.of("Sarah was better than Maria so Sarah", " ", "got easy cases."),
                Choice.of("Sarah was better than Maria so Maria", " ", "got easy cases.")));
        items.add(List.of(Choice.of(longContext, " ", "yes"), Choice.of(longContext, " ", "no, not at all")));
        items.add(List.of(Choice.of("Q: c\nA:", " ", "this answer is much longer than the context window of the scorer, truly")));
        items.add(List.of(Choice.of("An empty one:", "", ""), Choice.of("An empty one:", " ", "and a full one")));
        items.add(List.of(Choice.of("", "", "starts from nothing"), Choice.of("", "", "also")));
        items.add(List.of(Choice.of("abc", " ", "d")));
        return items;
    }

    static List<List<LoglikelihoodScorer.Score>> score(LoglikelihoodScorer scorer, List<List<Choice>> items, int batch, LoglikelihoodScorer.Batching how) {
        return scorer.scoreAll(items, batch, how, done -> {
        });
    }

    static void assertSameScores(List<List<LoglikelihoodScorer.Score>> want, List<List<LoglikelihoodScorer.Score>> got, double tolerance, String what) {
        assertEquals(want.size(), got.size(), what);
        for (int k = 0; k < want.size(); k++) {
            assertEquals(want.get(k).size(), got.get(k).size(), what + ", item " + k);
            for (int r = 0; r < want.get(k).size(); r++) {
                LoglikelihoodScorer.Score w = want.get(k).get(r), g = got.get(k).get(r);
                String at = what + ", item " + k + " choice " + r;
                if (tolerance == 0) assertEquals(Double.doubleToLongBits(w.logLikelihood()), Double.doubleToLongBits(g.logLikelihood()), at + ": " + w + " vs " + g);
                else assertEquals(w.logLikelihood(), g.logLikelihood(), tolerance, at);
                assertEquals(w.greedy(), g.greedy(), at + " greedy");
                assertEquals(w.tokens(), g.tokens(), at + " tokens");
            }
        }
    }

    private static void packedMatchesPerItem(ModelConfig config, int maxLength) {
        Model model = TinyModels.random(config, 5);
        LoglikelihoodScorer scorer = new LoglikelihoodScorer(model, EvalScorerTest.chars(config.vocabSize()), maxLength, ContextStart.BOS);
        List<List<Choice>> items = items();
        List<List<LoglikelihoodScorer.Score>> perItem = score(scorer, items, 3, PER_ITEM);
        List<List<LoglikelihoodScorer.Score>> packed = score(scorer, items, items.size(), PACKED);
        assertSameScores(perItem, packed, 0, "packed vs per item");
        for (int batch : new int[] {1, 2, 3, 5}) assertSameScores(packed, score(scorer, items, batch, PACKED), 0, "batch " + batch + " vs all at once");
        assertEquals(0.0, packed.get(4).get(0).logLikelihood());
        assertTrue(packed.get(4).get(0).greedy());
    }

    @Test
    void packedScoresMatchThePerItemPathOnARandomModel() {
        packedMatchesPerItem(TinyModels.gqa(), 24);
    }

    /** Attention biases, a layer without attention and one without an MLP, a head count that differs per layer. */
    @Test
    void packedScoresMatchThePerItemPathOnANonUniformModelWithBiases() {
        packedMatchesPerItem(TinyModels.nonUniformWithBias(), 20);
    }

    @Test
    void packedScoresMatchAnIndependentFullForward() {
        LoglikelihoodScorer scorer = EvalScorerTest.scorer(64);
        String context = "Question: what is red?\nAnswer:";
        List<Choice> choices = List.of(Choice.of(context, " ", "a rose"), Choice.of(context, " ", "the sky"), Choice.of(context, " ", "x"));
        List<LoglikelihoodScorer.Score> scores = score(scorer, List.of(choices), 1, PACKED).get(0);
        for (int i = 0; i < choices.size(); i++) {
            double want = EvalScorerTest.expected(EvalScorerTest.bosThen(context + choices.get(i).continuation()), 1 + context.length());
            assertEquals(want, scores.get(i).logLikelihood(), 1e-4, "choice " + i);
        }
    }

    /** More rows than a pass takes ({@link LoglikelihoodScorer#PACKED_ROWS}): the batch is split, the scores are not. */
    @Test
    void aBatchOverTheRowBudgetIsSplitIntoPasses() {
        Model model = TinyModels.random(TinyModels.gqa(), 3);
        LoglikelihoodScorer scorer = new LoglikelihoodScorer(model, EvalScorerTest.CHARS, 64, ContextStart.BOS);
        List<List<Choice>> items = new ArrayList<>();
        String context = "a context of some forty characters, more";
        for (int k = 0; items.size() * 3 * 20 < 2 * LoglikelihoodScorer.PACKED_ROWS; k++) {
            items.add(List.of(Choice.of(context + k, " ", "first answer"), Choice.of(context + k, " ", "the second answer"), Choice.of(context + k, " ", "third")));
        }
        List<Integer> passes = new ArrayList<>();
        List<List<LoglikelihoodScorer.Score>> packed = scorer.scoreAll(items, items.size(), PACKED, passes::add);
        assertTrue(passes.size() >= 2, "passes " + passes);
        assertEquals(items.size(), passes.stream().mapToInt(Integer::intValue).sum());
        assertSameScores(score(scorer, items, 8, PER_ITEM), packed, 0, "split batch vs per item");
    }

    @Test
    void packedScoresDoNotDependOnTheThreadCount() {
        Model model = TinyModels.random(TinyModels.gqa(), 9);
        LoglikelihoodScorer scorer = new LoglikelihoodScorer(model, EvalScorerTest.CHARS, 24, ContextStart.BOS);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            List<List<LoglikelihoodScorer.Score>> one = score(scorer, items(), 4, PACKED);
            Parallel.setThreads(3);
            assertSameScores(one, score(scorer, items(), 4, PACKED), 0, "3 threads vs 1");
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The first HellaSwag items on the real stories260K: packed against per item, and the task's metrics both ways. */
    @Test
    void hellaSwagOnStories260KScoresTheSameEitherWay() {
        Path dir = SharedData.require("models/stories260K");
        Model model = ModelLoader.load(dir.resolve("stories260K.bin"));
        Tokenizer tokenizer = TokenizerLoader.load(dir.resolve("tok512.bin"));
        EvalSettings settings = new EvalSettings(6, EvalSettings.Sampling.FIRST, 0, 4, 0, ContextStart.BOS);
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("hellaswag"), SharedData.require("eval"), settings);
        List<List<Choice>> choices = items.items().stream().map(i -> ((Item.MultipleChoice) i).choices()).toList();
        LoglikelihoodScorer scorer = new LoglikelihoodScorer(model, tokenizer, model.config().maxSeqLen(), ContextStart.BOS);
        List<List<LoglikelihoodScorer.Score>> perItem = score(scorer, choices, 4, PER_ITEM);
        List<List<LoglikelihoodScorer.Score>> packed = score(scorer, choices, 4, PACKED);
        assertSameScores(perItem, packed, 0, "stories260K hellaswag");
        assertSameScores(packed, score(scorer, choices, 1, PACKED), 0, "batch 1 vs 4");

        List<Sample> perItemSamples = new ArrayList<>(), packedSamples = new ArrayList<>();
        TaskResult a = Evaluator.run(model, tokenizer, items, settings, Progress.SILENT, perItemSamples::add, PER_ITEM);
        TaskResult b = Evaluator.run(model, tokenizer, items, settings, Progress.SILENT, packedSamples::add, PACKED);
        assertEquals(a.metric("acc").orElseThrow().value(), b.metric("acc").orElseThrow().value());
        assertEquals(a.metric("acc_norm").orElseThrow().value(), b.metric("acc_norm").orElseThrow().value());
        assertEquals(a.tokens(), b.tokens());
        assertEquals(perItemSamples.size(), packedSamples.size());
        for (int i = 0; i < perItemSamples.size(); i++) {
            List<Sample.Request> want = perItemSamples.get(i).requests(), got = packedSamples.get(i).requests();
            assertEquals(want.size(), got.size());
            for (int r = 0; r < want.size(); r++) {
                assertEquals(want.get(r).logLikelihood(), got.get(r).logLikelihood(), 0, "document " + i + " request " + r);
                assertEquals(want.get(r).greedy(), got.get(r).greedy());
            }
        }
    }
}
