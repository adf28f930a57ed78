package dev.shears.eval;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GenerationScorer} on the real stories260K: generation stops at the first token whose decoded continuation
 * holds a stop string and the text is cut there, against an unstopped greedy run of the same model; contexts are
 * left-truncated to leave {@code max_gen_toks}; and nq_open runs end to end through {@link Evaluator}.
 */
class GenerationScorerTest {
    static Model model;
    static Tokenizer tokenizer;
    static Path data;

    @BeforeAll
    static void load() {
        Path dir = SharedData.require("models/stories260K");
        data = SharedData.require("eval");
        model = ModelLoader.load(dir.resolve("stories260K.bin"));
        tokenizer = TokenizerLoader.load(dir.resolve("tok512.bin"));
    }

    static GenerateUntil until(List<String> stops, int maxGenToks) {
        return new GenerateUntil(stops, maxGenToks, List.of(ResponseFilter.REMOVE_WHITESPACE, ResponseFilter.TAKE_FIRST), ExactMatch.of(List.of(), true, true));
    }

    /** The first k of an unstopped greedy run whose decoding holds a stop string, as the stopping rule must choose it. */
    static int firstStop(int[] ids, List<String> stops) {
        for (int k = 1; k <= ids.length; k++) {
            String text = tokenizer.decode(Arrays.copyOf(ids, k));
            if (stops.stream().anyMatch(text::contains)) return k;
        }
        return ids.length;
    }

    @Test
    void generationStopsAtTheFirstStopStringAndIsCutThere() {
        String context = "Once upon a time, there was a little";
        GenerationScorer scorer = new GenerationScorer(model, tokenizer, model.config().maxSeqLen(), ContextStart.BOS);
        int[] prompt = scorer.contextIds(context, 64);
        assertEquals(tokenizer.bosId(), prompt[0], "--start bos: BOS, then the context's tokens");
        int[] free = Generation.generateIds(model, prompt, GenerationSettings.greedy(64), tokenizer.eosId(), id -> {
        });
        List<String> texts = new ArrayList<>();
        for (List<String> stops : List.of(List.of("."), List.of(","), List.of("\n", ".", ","), List.of("Lily"), List.of("zzz"))) {
            GenerationScorer.Response r = scorer.generate(context, until(stops, 64));
            List<String> all = until(stops, 64).stopStrings(tokenizer.piece(tokenizer.eosId()));
            int k = firstStop(free, all);
            assertArrayEquals(Arrays.copyOf(free, k), r.generated(), stops + ": the greedy tokens up to the first stop string, no further");
            assertEquals(tokenizer.decode(r.generated()), r.decoded());
            assertEquals(GenerateUntil.cut(r.decoded(), all), r.text());
            for (String s : all) assertTrue(!r.text().contains(s), stops + ": " + r.text());
            texts.add(r.text());
        }
        // llama2.c's decoding drops the leading space of the first piece, as Hugging Face's Llama tokenizer does
        assertEquals(List.of("girl named Lily", "girl named Lily. She loved to play outside in the park. One day", "girl named Lily", "girl named ",
                tokenizer.decode(free)), texts);
    }

    @Test
    void theEosTokensTextIsAStopStringAndTheLimitIsMaxGenToks() {
        GenerationScorer scorer = new GenerationScorer(model, tokenizer, model.config().maxSeqLen(), ContextStart.BOS);
        String eos = tokenizer.piece(tokenizer.eosId());
        assertEquals(List.of("x", eos), until(List.of("x"), 5).stopStrings(eos));
        GenerationScorer.Response r = scorer.generate("Once upon a time", until(List.of("zzz"), 5));
        assertEquals(5, r.generated().length, "max_gen_toks new tokens at most");
    }

    @Test
    void aLongContextIsLeftTruncatedToLeaveMaxGenToks() {
        String context = "Lily and Ben played in the park. ".repeat(40);
        int[] whole = tokenizer.encode(context);
        GenerationScorer bos = new GenerationScorer(model, tokenizer, 300, ContextStart.BOS);
        int[] ids = bos.contextIds(context, 256);
        assertEquals(44, ids.length, "300 - 256");
        assertArrayEquals(Arrays.copyOfRange(whole, whole.length - 44, whole.length), ids, "the last tokens, BOS truncated away too");
        GenerationScorer none = new GenerationScorer(model, tokenizer, model.config().maxSeqLen(), ContextStart.NONE);
        assertArrayEquals(tokenizer.encode("Once upon a time"), none.contextIds("Once upon a time", 256), "--start none: no BOS");
        ShearsException e = assertThrows(ShearsException.class, () -> bos.contextIds(context, 300));
        assertTrue(e.getMessage().contains("max_gen_toks = 300"), e.getMessage());
    }

    @Test
    void nqOpenRunsEndToEndWithTheSamplesAddingUpToExactMatch() {
        EvalSettings settings = new EvalSettings(5, EvalSettings.Sampling.FIRST, 0, 2, 0, ContextStart.BOS, 32);
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("nq_open"), data, settings);
        List<Sample> samples = new ArrayList<>();
        TaskResult r = Evaluator.run(model, tokenizer, items, settings, Progress.SILENT, samples::add);
        assertEquals(TaskKind.GENERATE_UNTIL, r.kind());
        assertEquals(5, r.items());
        assertEquals(32, r.shots());
        assertEquals(items.notes(), r.notes());
        Metric em = r.metric("exact_match").orElseThrow();
        assertTrue(em.value() >= 0 && em.value() <= 1, em.toString());
        assertEquals(List.of("exact_match"), r.metrics().stream().map(Metric::name).toList());
        assertEquals(5, samples.size());
        double sum = 0;
        for (int i = 0; i < 5; i++) {
            Sample s = samples.get(i);
            Sample.Generated g = s.generated().orElseThrow();
            Item.Generate item = (Item.Generate) items.items().get(i);
            assertEquals(i, s.docId());
            assertEquals(item.context(), g.context());
            assertEquals(item.targets(), g.targets());
            assertEquals(model.config().maxSeqLen() - GenerateUntil.DEFAULT_MAX_GEN_TOKS, g.contextTokens(), "a 32-shot context fills the room left");
            assertEquals(PyText.strip(g.generation()), g.filtered());
            assertTrue(!g.generation().contains("\n") && !g.generation().contains(".") && !g.generation().contains(","), g.generation());
            double v = s.metrics().get("exact_match");
            assertEquals(LmEvalTasks.untilNewlineStopOrComma(catalogMetric()).exactMatch().score(g.filtered(), g.targets()), v);
            sum += v;
            String json = s.json("m").toString();
            assertTrue(json.contains("\"filtered\"") && json.contains("\"generation\"") && json.contains("\"target\":["), json);
        }
        assertEquals(sum / 5, em.value(), 1e-12);
        TaskResult again = Evaluator.run(model, tokenizer, items, new EvalSettings(5, EvalSettings.Sampling.FIRST, 0, 5, 0, ContextStart.BOS, 32),
                Progress.SILENT);
        assertEquals(em, again.metric("exact_match").orElseThrow(), "the batch size does not change the answers");
    }

    static ExactMatch catalogMetric() {
        return ExactMatchTest.catalogMetric("nq_open");
    }
}
