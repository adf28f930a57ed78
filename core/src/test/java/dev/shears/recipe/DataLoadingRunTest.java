package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.DocumentSplit;
import dev.shears.data.HeldOutPart;
import dev.shears.data.PrepareOptions;
import dev.shears.data.Sampling;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.demo.DemoCorpus;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Architecture;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.train.Checkpoint;
import dev.shears.train.DynamicBatchLoading;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.ScalingLaw;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears train} with two domains, one so small that it runs through several epochs: data read
 * without reuse and resumed mid-epoch to the same bytes, epochs reported, dynamic batch loading's start
 * mixture and reference losses, and the held-out windows it steers by kept apart from the final evaluation.
 */
class DataLoadingRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path shared;
    static Path stories;
    static Path small;
    static Path initConfig;

    @BeforeAll
    static void prepare() throws IOException {
        DemoStories demo = DemoStories.prepare(shared);
        stories = demo.data();
        small = prepareText(demo.tokenizer(), DemoCorpus.generate(5, 3), "small");
        ModelConfig shape = ModelConfig.uniform(Architecture.LLAMA, 32, 2, 4, 2, 8, 64, DemoStories.VOCAB, 64, 1e-5f, 10000, false, false);
        initConfig = shared.resolve("init.json");
        HfConfig.write(shape, initConfig, "float32");
    }

    /** {@code text} prepared as the domain {@code name}, holding out small chunks so that even a short text has held-out windows. */
    static Path prepareText(Path tokenizer, String text, String name) throws IOException {
        Path corpus = shared.resolve(name + ".txt");
        Files.writeString(corpus, text);
        Path out = shared.resolve(name);
        DataPreparer.prepare(TokenizerLoader.load(tokenizer), tokenizer.toString(), List.of(corpus), out,
                new PrepareOptions("text", DocumentSplit.PARAGRAPH, 0.2, 100, 1L << 26, true), Progress.SILENT);
        return out;
    }

    static TrainConfig config(long steps, DynamicBatchLoading dbl, Sampling sampling) {
        return new TrainConfig(new TrainConfig.Source(Optional.of(initConfig), Optional.empty(), Optional.empty(), 0.02, ""),
                new TrainConfig.Batching(List.of(new TrainConfig.DataSource(stories, 1), new TrainConfig.DataSource(small, 1)), 4, 32, 2, 21, sampling),
                new TrainConfig.Schedule(steps, 0, 3e-3, 3e-4, 2, LearningRateSchedule.Decay.COSINE), new TrainConfig.Optimiser(0.9, 0.95, 1e-8, 0.1, 1.0),
                new TrainConfig.Evaluation(3, 2), new TrainConfig.Checkpointing(5, 2), dbl, null);
    }

    /** Both domains lag a reference of 0: dynamic batch loading moves the weights at every evaluation. */
    static DynamicBatchLoading lagging() {
        return new DynamicBatchLoading(true, Map.of("stories", 0.0, "small", 0.0), 1e-4, false, "");
    }

    @Test
    void resumingMidEpochGivesTheSameModelBytesAndMetrics(@TempDir Path tmp) throws IOException {
        TrainConfig c = config(12, lagging(), Sampling.EPOCHS);
        Path straight = tmp.resolve("straight");
        TrainRun.Result a = TrainRun.run(c, straight, false, Progress.SILENT);

        Path crashed = tmp.resolve("crashed");
        assertThrows(TrainRunTest.Crash.class, () -> TrainRun.run(c, crashed, false, new TrainRunTest.CrashAfter(8 * c.tokensPerStep())));
        Path checkpoint = Checkpoint.latest(crashed).orElseThrow();
        assertEquals(5, Checkpoint.stepOf(checkpoint));
        JsonNode cursor = JSON.readTree(Files.readString(checkpoint.resolve(Checkpoint.STATE))).path("data").path("domains").get(1);
        assertEquals("small", cursor.path("name").asText());
        assertTrue(cursor.path("epoch").asLong() >= 1 && cursor.path("cursor").asLong() > 0,
                "the checkpoint is in the middle of a later epoch of the small domain: " + cursor);
        TrainRun.Result b = TrainRun.run(c, crashed, true, Progress.SILENT);
        assertEquals(5, b.resumedFrom());

        assertArrayEquals(Files.readAllBytes(straight.resolve(HfModel.WEIGHTS)), Files.readAllBytes(crashed.resolve(HfModel.WEIGHTS)),
                "the resumed run's model bytes are the uninterrupted run's");
        assertEquals(metricsWithoutTimes(straight), metricsWithoutTimes(crashed), "the same losses, weights, epochs and final evaluation");
        assertArrayEquals(a.epochs(), b.epochs());
        assertArrayEquals(a.heldOutLoss(), b.heldOutLoss());
    }

    @Test
    void epochsAreReportedAsSequencesReadOverSequencesPerEpoch(@TempDir Path tmp) throws IOException {
        TrainConfig c = config(9, DynamicBatchLoading.OFF, Sampling.EPOCHS);
        Path run = tmp.resolve("run");
        TrainRun.Result r = TrainRun.run(c, run, false, Progress.SILENT);
        long[] perEpoch = new long[2];
        List<Path> dirs = List.of(stories, small);
        for (int d = 0; d < 2; d++) perEpoch[d] = (TokenDataset.open(dirs.get(d)).tokens(Split.TRAIN) - 1) / 32;
        double read = 0;
        for (int d = 0; d < 2; d++) {
            double sequences = r.epochs()[d] * perEpoch[d];
            assertEquals(Math.rint(sequences), sequences, 1e-9, "a whole number of sequences");
            read += sequences;
        }
        assertEquals(9 * 4 * 2, read, 1e-9, "every sequence of every micro-batch is counted once");
        assertTrue(r.epochs()[1] > 1, "the small domain went round more than once: " + r.epochs()[1]);

        List<JsonNode> lines = metrics(run);
        JsonNode last = lines.getLast();
        assertEquals("final", last.path("type").asText(), "the final evaluation is the last line");
        assertEquals(r.epochs()[1], last.path("epochs").path("small").asDouble());
        assertEquals(r.heldOutLoss()[0], last.path("heldOutLoss").path("stories").asDouble());
        double before = -1;
        for (JsonNode n : lines) {
            if (!n.path("type").asText().equals("eval")) continue;
            assertTrue(n.path("epochs").path("small").asDouble() >= before, "epochs grow");
            before = n.path("epochs").path("small").asDouble();
        }
        assertEquals(0.0, lines.stream().filter(n -> n.path("type").asText().equals("eval")).findFirst().orElseThrow().path("epochs").path("small").asDouble());
    }

    @Test
    void dynamicBatchLoadingStartsFromTheGivenMixture(@TempDir Path tmp) throws IOException {
        DynamicBatchLoading given = new DynamicBatchLoading(true, Map.of("stories", 0.0, "small", 0.0), 1e-4, false, "", "",
                Map.of("stories", 4.0, "small", 1.0), Map.of(), List.of(), 0);
        Path run = tmp.resolve("given");
        TrainRun.run(config(3, given, Sampling.EPOCHS), run, false, Progress.SILENT);
        JsonNode first = metrics(run).stream().filter(n -> n.path("type").asText().equals("eval")).findFirst().orElseThrow();
        assertEquals(0, first.path("step").asLong());
        assertEquals(0.8, first.path("domainWeights").path("stories").asDouble(), 1e-12, "startWeights, normalised, before any update");
        assertEquals(0.2, first.path("domainWeights").path("small").asDouble(), 1e-12);

        // a constant mixture (enabled false) starts there too and stays
        Path constant = tmp.resolve("constant");
        TrainRun.run(config(3, new DynamicBatchLoading(false, Map.of(), 1e-4, false, "", "", Map.of("stories", 4.0, "small", 1.0), Map.of(), List.of(), 0),
                Sampling.EPOCHS), constant, false, Progress.SILENT);
        assertTrue(metrics(constant).stream().filter(n -> n.path("type").asText().equals("eval"))
                .allMatch(n -> n.path("domainWeights").path("small").asDouble() == 0.2), "unchanged without updates");

        ShearsException partial = assertThrows(ShearsException.class, () -> TrainRun.run(config(2, new DynamicBatchLoading(true, Map.of("stories", 0.0,
                "small", 0.0), 1e-4, false, "", "", Map.of("stories", 1.0), Map.of(), List.of(), 0), Sampling.EPOCHS), tmp.resolve("x"), false, Progress.SILENT));
        assertTrue(partial.getMessage().contains("no start weight for domain small"), partial.getMessage());
    }

    @Test
    void thePublishedPresetAndAScalingLawGiveTheStartAndTheReferences(@TempDir Path tmp) throws IOException {
        DemoStories demo = new DemoStories(shared.resolve("tokenizer.bin"), stories);
        Path cc = prepareText(demo.tokenizer(), DemoCorpus.generate(31, 40), "cc");
        Path c4 = prepareText(demo.tokenizer(), DemoCorpus.generate(32, 40), "c4-rp");
        // cc's reference from a scaling law at N = 10,000 (1 + 10·10000^−0.5 = 1.1); c4-rp's from pruning.sh's 1.3B list
        DynamicBatchLoading dbl = new DynamicBatchLoading(true, Map.of(), 1e-4, false, "", "sheared-llama-1.3b", Map.of(),
                Map.of("cc", new ScalingLaw(1.0, 10.0, 0.5)), List.of(), 10_000);
        TrainConfig base = config(3, dbl, Sampling.EPOCHS);
        TrainConfig c = base.with(base.batching().withData(List.of(new TrainConfig.DataSource(cc, 1), new TrainConfig.DataSource(c4, 1))));
        Path run = tmp.resolve("run");
        TrainRun.run(c, run, false, Progress.SILENT);
        List<JsonNode> lines = metrics(run);
        JsonNode reference = lines.stream().filter(n -> n.path("type").asText().equals("reference")).findFirst().orElseThrow();
        assertEquals(1.1, reference.path("referenceLoss").path("cc").asDouble(), 1e-12);
        assertEquals(2.1251, reference.path("referenceLoss").path("c4-rp").asDouble());
        assertEquals("scalingLaw", reference.path("source").path("cc").asText());
        assertEquals("preset:sheared-llama-1.3b", reference.path("source").path("c4-rp").asText());
        assertEquals(10_000, reference.path("parameters").asLong());
        assertEquals(0.5, reference.path("scalingLaw").path("cc").path("alpha").asDouble());
        JsonNode first = lines.stream().filter(n -> n.path("type").asText().equals("eval")).findFirst().orElseThrow();
        assertEquals(0.67 / (0.67 + 0.15), first.path("domainWeights").path("cc").asDouble(), 1e-12, "RedPajama's proportions, normalised");
        assertEquals(0.15 / (0.67 + 0.15), first.path("domainWeights").path("c4-rp").asDouble(), 1e-12);

        // a domain the preset does not know needs its own start weight and reference
        ShearsException unknown = assertThrows(ShearsException.class, () -> TrainRun.run(config(2, dbl, Sampling.EPOCHS), tmp.resolve("x"), false,
                Progress.SILENT));
        assertTrue(unknown.getMessage().contains("stories") && unknown.getMessage().contains("startWeights"), unknown.getMessage());
    }

    @Test
    void dynamicBatchLoadingAndTheFinalEvaluationReadDisjointWindows(@TempDir Path tmp) throws IOException {
        Path first = tmp.resolve("first");
        TrainRun.run(config(3, DynamicBatchLoading.OFF, Sampling.EPOCHS), first, false, Progress.SILENT);
        // the first run's output is the reference model: its measured references are its losses on the steering windows
        DynamicBatchLoading measured = new DynamicBatchLoading(true, Map.of(), 1e-4, false, first.toString());
        Path run = tmp.resolve("run");
        TrainRun.run(config(3, measured, Sampling.EPOCHS), run, false, Progress.SILENT);
        List<TokenDataset> domains = List.of(TokenDataset.open(stories), TokenDataset.open(small));
        int seq = 32, windows = 2;
        try (Model reference = ModelLoader.open(first); Model trained = ModelLoader.open(run)) {
            double[] steering = Trainer.heldOutLoss(reference, domains, seq, windows, MaskSet.NONE, HeldOutPart.STEERING);
            List<JsonNode> lines = metrics(run);
            JsonNode ref = lines.stream().filter(n -> n.path("type").asText().equals("reference")).findFirst().orElseThrow();
            assertEquals(steering[0], ref.path("referenceLoss").path("stories").asDouble(), "reference measured on the steering windows");
            assertEquals("referenceModel", ref.path("source").path("small").asText());
            JsonNode lastEval = lines.stream().filter(n -> n.path("type").asText().equals("eval")).reduce((x, y) -> y).orElseThrow();
            assertEquals(3, lastEval.path("step").asLong());
            double[] nowSteering = Trainer.heldOutLoss(trained, domains, seq, windows, MaskSet.NONE, HeldOutPart.STEERING);
            double[] nowFinal = Trainer.heldOutLoss(trained, domains, seq, windows, MaskSet.NONE, HeldOutPart.FINAL);
            assertEquals(nowSteering[1], lastEval.path("heldOutLoss").path("small").asDouble(), "evaluations during the run: steering windows");
            assertEquals(nowFinal[1], lines.getLast().path("heldOutLoss").path("small").asDouble(), "the final evaluation: final windows");
        }
        for (TokenDataset d : domains) {
            Set<Long> tokens = new HashSet<>();
            long[] steer = HeldOutPart.STEERING.windows(d, seq, windows), fin = HeldOutPart.FINAL.windows(d, seq, windows);
            assertTrue(steer.length > 0 && fin.length > 0);
            for (long s : fin) for (long t = s; t <= s + seq; t++) tokens.add(t);
            for (long s : steer) for (long t = s; t <= s + seq; t++) assertTrue(tokens.add(t), d.name() + ": token " + t + " in both");
        }
    }

    @Test
    void aCheckpointWithoutADataCursorResumesOnlyWithRandomOffsets(@TempDir Path tmp) throws IOException {
        TrainConfig random = config(8, DynamicBatchLoading.OFF, Sampling.RANDOM_OFFSETS);
        Path straight = tmp.resolve("straight");
        TrainRun.run(random, straight, false, Progress.SILENT);
        Path old = tmp.resolve("old");
        assertThrows(TrainRunTest.Crash.class, () -> TrainRun.run(random, old, false, new TrainRunTest.CrashAfter(6 * random.tokensPerStep())));
        dropDataCursor(old); // as a checkpoint written before cursors were recorded, by a run whose settings had no sampling key
        ObjectNode stored = (ObjectNode) JSON.readTree(Files.readString(old.resolve(TrainRun.CONFIG)));
        stored.remove("sampling");
        Files.writeString(old.resolve(TrainRun.CONFIG), stored.toPrettyString());
        TrainRun.run(random, old, true, Progress.SILENT);
        assertArrayEquals(Files.readAllBytes(straight.resolve(HfModel.WEIGHTS)), Files.readAllBytes(old.resolve(HfModel.WEIGHTS)),
                "random offsets need no cursor: the same bytes");

        TrainConfig epochs = config(8, DynamicBatchLoading.OFF, Sampling.EPOCHS);
        Path withoutCursor = tmp.resolve("epochs");
        assertThrows(TrainRunTest.Crash.class, () -> TrainRun.run(epochs, withoutCursor, false, new TrainRunTest.CrashAfter(6 * epochs.tokensPerStep())));
        dropDataCursor(withoutCursor);
        ShearsException e = assertThrows(ShearsException.class, () -> TrainRun.run(epochs, withoutCursor, true, Progress.SILENT));
        assertTrue(e.getMessage().contains("no data cursor") && e.getMessage().contains("sampling=RANDOM_OFFSETS"), e.getMessage());
    }

    @Test
    void referenceModelsOfOneSizeCannotBeFitted(@TempDir Path tmp) {
        Path model = tmp.resolve("model");
        TrainRun.run(config(1, DynamicBatchLoading.OFF, Sampling.EPOCHS), model, false, Progress.SILENT);
        String m = model.toString();
        DynamicBatchLoading dbl = new DynamicBatchLoading(true, Map.of(), 1e-4, false, "", "", Map.of(), Map.of(), List.of(m, m, m), 0);
        ShearsException e = assertThrows(ShearsException.class, () -> TrainRun.run(config(1, dbl, Sampling.EPOCHS), tmp.resolve("x"), false, Progress.SILENT));
        assertTrue(e.getMessage().contains("referenceModels") && e.getMessage().contains("different model sizes"), e.getMessage());
    }

    @Test
    void aSeedSweepKeepsTheSamplingMode() {
        TrainConfig random = config(2, DynamicBatchLoading.OFF, Sampling.RANDOM_OFFSETS);
        Pipeline.Plan plan = new Pipeline.Plan(shared.resolve("p.yaml"), shared, Optional.empty(), Optional.empty(),
                List.of(new Pipeline.Stage(0, "heal", new TrainStage(random, false))), List.of());
        TrainConfig seeded = ((TrainStage) SeedSweep.withSeed(plan, 99).stages().getFirst().settings()).config();
        assertEquals(99, seeded.batching().seed());
        assertEquals(Sampling.RANDOM_OFFSETS, seeded.batching().sampling(), "only the seed changes");
    }

    private static void dropDataCursor(Path run) throws IOException {
        Path state = Checkpoint.latest(run).orElseThrow().resolve(Checkpoint.STATE);
        ObjectNode n = (ObjectNode) JSON.readTree(Files.readString(state));
        n.remove("data");
        Files.writeString(state, n.toPrettyString());
    }

    private static List<JsonNode> metrics(Path run) throws IOException {
        return Files.readAllLines(run.resolve(TrainRun.METRICS)).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }

    private static List<String> metricsWithoutTimes(Path run) throws IOException {
        return Files.readAllLines(run.resolve(TrainRun.METRICS)).stream()
                .map(l -> l.replaceAll(",\"tokensPerSecond\":[^,}]*", "").replaceAll(",\"gflops\":[^,}]*", "")).toList();
    }
}
