package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.model.Axis;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.PlanFiles;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.Slicer;
import dev.shears.prune.TargetParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears prune} on the real stories260K: outputs, targets, errors, and data beating chance. */
class PruneRunTest {
    static final String MODEL = "models/stories260K/hf";
    static final String TOKENIZER = "models/stories260K/tok512.bin";
    static final String TEXT = "eval/tinystories/tinystories_val_head.txt";

    static TargetParser.Spec ratios(Map<Axis, Double> r) {
        return new TargetParser.Spec(r, Map.of(), Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false);
    }

    static PruneRun.Result prune(Path out, TargetParser.Spec spec, Criterion width, Criterion layers) {
        return new PruneRun(SharedData.require(MODEL), Optional.of(SharedData.require(TOKENIZER)), out, spec,
                new PruneRun.Ranking(Optional.ofNullable(width), Optional.ofNullable(layers), 0, 7), calibration(16), Optional.empty(), Optional.empty(),
                Optional.empty()).run(Progress.SILENT, m -> { });
    }

    static PruneRun.Calibration calibration(int samples) {
        return new PruneRun.Calibration(Optional.of(SharedData.require(TEXT)), samples, 128);
    }

    @Test
    void layerwiseLossEqualsTheWholeModelLossBitForBit() {
        Model model = ModelLoader.load(SharedData.require(MODEL));
        List<int[]> windows = PruneRun.calibrationWindows(SharedData.require(TEXT), ModelSource.open(SharedData.require(MODEL),
                Optional.of(SharedData.require(TOKENIZER))).tokenizer(), 5, 64, m -> { });
        assertEquals(dev.shears.train.Trainer.meanLoss(model, windows, dev.shears.model.MaskSet.NONE, Progress.SILENT),
                dev.shears.prune.Importance.meanLoss(model, windows, Progress.SILENT));
    }

    @Test
    void writesALoadableModelWithItsPlanScoresAndTokenizer(@TempDir Path tmp) {
        Path out = tmp.resolve("pruned");
        PruneRun.Result r = prune(out, ratios(Map.of(Axis.FFN, 0.5, Axis.HEAD, 0.5, Axis.LAYER, 0.2)), Criterion.TAYLOR, Criterion.BLOCK_INFLUENCE);
        assertEquals(4, r.pruned().numLayers());
        assertEquals(4, r.pruned().layer(0).numHeads());
        assertEquals(2, r.pruned().layer(0).numKvHeads());
        assertEquals(86, r.pruned().layer(0).ffnDim());
        LoadedModel reloaded = ModelSource.open(out, Optional.empty());
        assertEquals(r.pruned().describe(), reloaded.model().config().describe());
        assertEquals(r.pruned().parameterCount(), Slicer.parameterCount(r.parent(), r.plan()), "plan count = sliced count");
        PruningPlan plan = PlanFiles.readPlan(out.resolve(PlanFiles.PLAN));
        assertEquals(r.plan(), plan);
        Model again = Slicer.slice(ModelLoader.load(SharedData.require(MODEL)), plan).dense();
        Model written = reloaded.model().dense();
        again.weights().forEach((role, layer, v) -> assertTrue(java.util.Arrays.equals(v, written.weights().get(role, layer)), role + " " + layer));
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.bin")));
        assertTrue(r.perplexityAfter().orElseThrow() > r.perplexityBefore().orElseThrow());

        // the saved scores serve a second pruning without calibration, with the same plan
        Path second = tmp.resolve("second");
        PruneRun.Result again2 = new PruneRun(SharedData.require(MODEL), Optional.of(SharedData.require(TOKENIZER)), second,
                ratios(Map.of(Axis.FFN, 0.5, Axis.HEAD, 0.5, Axis.LAYER, 0.2)), new PruneRun.Ranking(Optional.empty(), Optional.empty(), 0, 7),
                new PruneRun.Calibration(Optional.empty(), 16, 128), Optional.of(out.resolve(PlanFiles.SCORES)), Optional.empty(), Optional.empty())
                .run(Progress.SILENT, m -> { });
        assertEquals(r.plan(), again2.plan());
    }

    @Test
    void nonUniformWidthsSaveReloadAndRun(@TempDir Path tmp) {
        Path out = tmp.resolve("nonuniform");
        PruneRun.Result r = prune(out, new TargetParser.Spec(Map.of(Axis.FFN, 0.5, Axis.HEAD, 0.5), Map.of(), Optional.empty(), List.of(), 0, 0,
                TargetParser.HeadMode.GROUPS, 1, true), Criterion.ACTIVATION, null);
        assertFalse(r.pruned().isUniform(), "widths follow importance: " + r.pruned().layers());
        assertEquals(5 * 86, r.pruned().layers().stream().mapToInt(dev.shears.model.LayerShape::ffnDim).sum(), "same total as uniform");
        LoadedModel reloaded = ModelSource.open(out, Optional.empty());
        assertEquals(r.pruned().layers(), reloaded.model().config().layers());
        dev.shears.eval.PerplexityResult p = dev.shears.eval.Perplexity.evaluate(reloaded.model(), reloaded.tokenizer(),
                "Once upon a time, there was a little girl named Lily. She liked to play in the park.", 64, Progress.SILENT);
        assertTrue(Double.isFinite(p.ppl()) && p.ppl() > 1);
    }

    @Test
    void vocabularyPruningRewritesTheTokenizerAndKeepsKeptTokenTextIntact(@TempDir Path tmp) {
        Path out = tmp.resolve("vocab");
        PruneRun.Result r = new PruneRun(SharedData.require(MODEL), Optional.of(SharedData.require(TOKENIZER)), out, ratios(Map.of(Axis.FFN, 0.25)),
                new PruneRun.Ranking(Optional.of(Criterion.ACTIVATION), Optional.empty(), 0, 7), calibration(32), Optional.empty(),
                Optional.of(new PruneRun.VocabularyRequest(dev.shears.prune.VocabularyOptions.of(dev.shears.prune.VocabTarget.normalFraction(0.75)), Optional.empty())), Optional.empty())
                .run(Progress.SILENT, m -> { });
        int size = r.vocabulary().orElseThrow().size();
        assertTrue(size < 512 && size > 259, "kept " + size);
        assertEquals(size, r.pruned().vocabSize());
        assertEquals(129, r.pruned().layer(0).ffnDim());
        LoadedModel reloaded = ModelSource.open(out, Optional.empty());
        assertEquals(size, reloaded.tokenizer().vocabSize());
        String text = "Once upon a time, there was a little girl.";
        int[] before = dev.shears.format.TokenizerLoader.load(SharedData.require(TOKENIZER)).encode(text);
        assertTrue(r.vocabulary().orElseThrow().keepsAll(before), "a common sentence is made of kept tokens");
        assertArrayEquals(r.vocabulary().orElseThrow().remap(before), reloaded.tokenizer().encode(text));
        assertEquals(text, reloaded.tokenizer().decode(reloaded.tokenizer().encode(text)));
        assertTrue(r.perplexityWindowsAfter() > 0 && r.perplexityAfter().isPresent());
        assertEquals(size, PlanFiles.readPlan(out.resolve(PlanFiles.PLAN)).vocab().length);
    }

    @Test
    void dataDrivenCriteriaBeatRandomOnStories260K(@TempDir Path tmp) {
        double random = prune(tmp.resolve("r"), ratios(Map.of(Axis.FFN, 0.5)), Criterion.RANDOM, null).perplexityAfter().orElseThrow();
        for (Criterion c : List.of(Criterion.ACTIVATION, Criterion.TAYLOR, Criterion.MAGNITUDE)) {
            double ppl = prune(tmp.resolve(c.name()), ratios(Map.of(Axis.FFN, 0.5)), c, null).perplexityAfter().orElseThrow();
            assertTrue(ppl < random, "FFN 50% by " + c + ": " + ppl + " vs random " + random);
        }
        double layersRandom = prune(tmp.resolve("lr"), ratios(Map.of(Axis.LAYER, 0.4)), null, Criterion.RANDOM).perplexityAfter().orElseThrow();
        double influence = prune(tmp.resolve("bi"), ratios(Map.of(Axis.LAYER, 0.4)), null, Criterion.BLOCK_INFLUENCE).perplexityAfter().orElseThrow();
        assertTrue(influence < layersRandom, "2 layers by block influence " + influence + " vs random " + layersRandom);
    }

    @Test
    void targetsResolveExactlyAndImpossibleOnesFailBeforeWork(@TempDir Path tmp) {
        ModelConfig c = ModelLoader.load(SharedData.require(MODEL)).config(); // 5 layers, 8 heads over 4 kv heads, FFN 172, dim 64
        PruneTarget exact = TargetParser.resolve(c, new TargetParser.Spec(Map.of(), TargetParser.parseExact("layers=3,hidden=48,heads=4,ffn=100"),
                Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false));
        assertEquals(List.of(3, 48, 4, 2, 100), List.of(exact.kept(Axis.LAYER), exact.kept(Axis.HIDDEN), exact.kept(Axis.HEAD), exact.kept(Axis.KV_HEAD), exact.kept(Axis.FFN)));
        PruneTarget perGroup = TargetParser.resolve(c, new TargetParser.Spec(Map.of(Axis.HEAD, 0.5), Map.of(), Optional.empty(), List.of(), 0, 0,
                TargetParser.HeadMode.PER_GROUP, 1, false));
        assertEquals(List.of(4, 4), List.of(perGroup.kept(Axis.HEAD), perGroup.kept(Axis.KV_HEAD)));
        PruneTarget rounded = TargetParser.resolve(c, new TargetParser.Spec(Map.of(Axis.FFN, 0.3, Axis.HIDDEN, 0.3), Map.of(), Optional.empty(), List.of(), 0, 0,
                TargetParser.HeadMode.GROUPS, 16, false));
        assertEquals(List.of(128, 48), List.of(rounded.kept(Axis.FFN), rounded.kept(Axis.HIDDEN)));

        for (String bad : List.of("heads=16", "heads=6,kv-heads=4", "kv-heads=8", "layers=9", "ffn=0", "hidden=65", "heads=6,kv-heads=2")) {
            ShearsException e = assertThrows(ShearsException.class, () -> TargetParser.resolve(c, new TargetParser.Spec(Map.of(),
                    TargetParser.parseExact(bad), Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false)), bad);
            assertFalse(e.getMessage().isBlank());
        }
        assertThrows(ShearsException.class, () -> TargetParser.parseExact("layers=two"));
        assertThrows(ShearsException.class, () -> TargetParser.parseExact("depth=3"));
        // issue 13: a ratio that rounds to another shape was not reported
        TargetParser.Spec thirdOfHeads = ratios(Map.of(Axis.HEAD, 0.34));
        List<String> notes = PruneRun.roundedRatios(thirdOfHeads, c, TargetParser.resolve(c, thirdOfHeads));
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.getFirst().startsWith("--heads 0.34 removes 25.0% of the heads, not 34.0% (keeps 6 of 8 per layer); heads go in steps of 2: possible 0.0%, 25.0%, 50.0%, 75.0%"),
                notes.getFirst());
        TargetParser.Spec half = ratios(Map.of(Axis.HEAD, 0.5, Axis.FFN, 0.5));
        assertEquals(List.of(), PruneRun.roundedRatios(half, c, TargetParser.resolve(c, half)), "what is asked is done: nothing to say");
        // issue 13: a key given twice was silently the last one
        ShearsException twice = assertThrows(ShearsException.class, () -> TargetParser.parseExact("layers=2,layers=3"));
        assertTrue(twice.getMessage().contains("layers is given twice"), twice.getMessage());
        assertThrows(ShearsException.class, () -> ratios(Map.of(Axis.FFN, 1.0)));

        Path out = tmp.resolve("never");
        ShearsException needsData = assertThrows(ShearsException.class, () -> new PruneRun(SharedData.require(MODEL), Optional.of(SharedData.require(TOKENIZER)),
                out, ratios(Map.of(Axis.FFN, 0.5)), new PruneRun.Ranking(Optional.of(Criterion.TAYLOR), Optional.empty(), 0, 7),
                new PruneRun.Calibration(Optional.empty(), 16, 128), Optional.empty(), Optional.empty(), Optional.empty())
                .run(Progress.SILENT, m -> { }));
        assertTrue(needsData.getMessage().contains("calibration"), needsData.getMessage());
        assertFalse(Files.exists(out), "nothing written before the error");
    }
}
