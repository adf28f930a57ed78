package dev.shears.eval;

import dev.shears.SharedData;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import dev.shears.prune.LayerPlan;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.Slicer;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every built-in task on the real data and the real stories260K; scores that move when the model is pruned. */
class EvalStories260KTest {
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

    @Test
    void everyBuiltInTaskReadsItsFileAndScores() {
        Map<String, Integer> sizes = Map.ofEntries(Map.entry("piqa", 1838), Map.entry("arc_easy", 2376), Map.entry("arc_challenge", 1172),
                Map.entry("boolq", 3270), Map.entry("openbookqa", 500), Map.entry("copa", 100), Map.entry("siqa", 1954),
                Map.entry("commonsense_qa", 1221), Map.entry("hellaswag", 10042), Map.entry("winogrande", 1267), Map.entry("wsc273", 273),
                Map.entry("lambada_openai", 5153), Map.entry("nq_open", 3610), Map.entry("triviaqa", 7993));
        EvalSettings settings = EvalSettings.DEFAULTS.withLimit(4);
        for (String name : TaskCatalog.names()) {
            Evaluator.Items items = Evaluator.load(TaskCatalog.task(name), data, settings);
            if (sizes.containsKey(name)) assertEquals(sizes.get(name), items.available(), name);
            if (name.equals("wikitext") || name.equals("tinystories")) continue; // long documents: measured below
            TaskResult r = Evaluator.run(model, tokenizer, items, settings, Progress.SILENT);
            assertEquals(4, r.items(), name);
            String metric = r.kind() == TaskKind.GENERATE_UNTIL ? "exact_match" : "acc";
            double acc = r.metric(metric).orElseThrow().value();
            assertTrue(acc >= 0 && acc <= 1, name + " " + metric + " " + acc);
        }
    }

    @Test
    void tinyStoriesAndLambadaMoveWhenALayerIsDropped() {
        EvalSettings settings = EvalSettings.DEFAULTS.withLimit(40);
        Evaluator.Items stories = Evaluator.load(TaskCatalog.task("tinystories"), data, settings);
        Evaluator.Items lambada = Evaluator.load(TaskCatalog.task("lambada_openai"), data, settings);
        List<LayerPlan> layers = new ArrayList<>(PruningPlan.keepAll(model.config()).layers());
        layers.set(2, LayerPlan.removed());
        Model pruned = Slicer.slice(model, PruningPlan.keepAll(model.config()).withLayers(layers));
        assertEquals(4, pruned.config().numLayers());

        double parentPpl = Evaluator.run(model, tokenizer, stories, settings, Progress.SILENT).metric("token_perplexity").orElseThrow().value();
        double prunedPpl = Evaluator.run(pruned, tokenizer, stories, settings, Progress.SILENT).metric("token_perplexity").orElseThrow().value();
        // the reference gives 3.71 on the first 2000 characters; paragraphs of the same file land close to it
        assertTrue(parentPpl > 2.5 && parentPpl < 6, "stories260K TinyStories token perplexity " + parentPpl);
        assertTrue(prunedPpl > parentPpl * 1.05, "dropping a layer must hurt: " + parentPpl + " -> " + prunedPpl);

        TaskResult parentLambada = Evaluator.run(model, tokenizer, lambada, settings, Progress.SILENT);
        TaskResult prunedLambada = Evaluator.run(pruned, tokenizer, lambada, settings, Progress.SILENT);
        assertNotEquals(parentLambada.metric("perplexity").orElseThrow().value(), prunedLambada.metric("perplexity").orElseThrow().value());
    }
}
