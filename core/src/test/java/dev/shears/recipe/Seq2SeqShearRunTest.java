package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.format.TokenizerLoader;
import dev.shears.io.DType;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.train.Checkpoint;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears shear} of an encoder–decoder end to end ({@link Seq2SeqShearRun}) on the real tiny random T5 and on a
 * seeded tiny OpenBA that reads the same tokenizer, over TinyStories under UL2: the exact target shape, a loadable output
 * with its tokenizer, the finalised child scoring as the gated parent, and a run stopped and resumed ending bit-identical.
 */
class Seq2SeqShearRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path T5 = SharedData.require("models/t5-tiny-random");
    @TempDir
    static Path shared;
    static Path data;
    static Path openBa;

    @BeforeAll
    static void prepare() throws IOException {
        data = DataPreparer.prepare(TokenizerLoader.load(T5), T5.toString(), List.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")),
                shared.resolve("tinystories"), PrepareOptions.DEFAULT, Progress.SILENT).dir();
        openBa = shared.resolve("openba");
        writeOpenBa(openBa);
    }

    /** A seeded OpenBA of 3 + 3 layers (dim 24, 4 heads of 6, SwiGLU 20, biases on) over the tiny T5's vocabulary, with its tokenizer files. */
    static void writeOpenBa(Path dir) throws IOException {
        OpenBaConfig c = new OpenBaConfig(24, 6, 1302, true, true, false, 256, 256, 0, 0,
                Collections.nCopies(3, new OpenBaConfig.Block(4, 0, 20)), Collections.nCopies(3, new OpenBaConfig.Block(4, 4, 20)));
        OpenBaWeights w = OpenBaWeights.zeros(c);
        SplittableRandom r = new SplittableRandom(3);
        w.forEach(c, (name, shape, values) -> {
            for (int i = 0; i < values.length; i++) values[i] = (float) (r.nextGaussian() * 0.1);
        });
        Files.createDirectories(dir);
        OpenBaHfFolder.write(new OpenBaModel(c, w), OpenBaHfFolder.configJson(c, DType.F32), dir, DType.F32);
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) Files.copy(T5.resolve(name), dir.resolve(name));
    }

    static Path model(String kind) {
        return kind.equals("t5") ? T5 : openBa;
    }

    static ShearConfig config(Path model, long steps) {
        TrainConfig t = new TrainConfig(new TrainConfig.Source(Optional.empty(), Optional.of(model), Optional.empty(), 0.02, ""),
                new TrainConfig.Batching(List.of(new TrainConfig.DataSource(data, 1)), 4, 48, 2, 11),
                new TrainConfig.Schedule(steps, 0, 1e-3, 1e-4, 1, LearningRateSchedule.Decay.COSINE), new TrainConfig.Optimiser(0.9, 0.95, 1e-8, 0.0, 1.0),
                new TrainConfig.Evaluation(4, 4), new TrainConfig.Checkpointing(4, 2), null, null);
        return new ShearConfig(t, "", "", 1.0, 1.0, 0.2);
    }

    static final EncoderDecoderTarget TARGET = new EncoderDecoderTarget(0.5, 0.5, 0.25, OptionalInt.of(2), OptionalInt.of(2));

    @ParameterizedTest
    @ValueSource(strings = {"t5", "openba"})
    void shortRunLandsOnTheExactTargetShapeAndWritesALoadableModel(String kind, @TempDir Path tmp) throws IOException {
        Path run = tmp.resolve("run");
        Seq2SeqShearRun.Result r = Seq2SeqShearRun.run(config(model(kind), 24), TARGET, Seq2SeqTrainRun.Objective.UL2, false, run, false, Progress.SILENT);
        EncoderDecoderConfig parent = r.parent().config(), child = r.pruned().config();
        assertEquals(2, child.encoder().size(), "encoder layers");
        assertEquals(2, child.decoder().size(), "decoder layers");
        assertEquals(EncoderDecoderTarget.kept(parent.dim(), 0.25), child.dim(), "hidden");
        for (EncoderDecoderConfig.Layer l : child.encoder()) {
            assertEquals(EncoderDecoderTarget.kept(parent.encoder().getFirst().numHeads(), 0.5), l.numHeads());
            assertEquals(EncoderDecoderTarget.kept(parent.encoder().getFirst().ffnDim(), 0.5), l.ffnDim());
        }
        for (EncoderDecoderConfig.Layer l : child.decoder()) {
            assertEquals(EncoderDecoderTarget.kept(parent.decoder().getFirst().numHeads(), 0.5), l.numHeads());
            assertEquals(EncoderDecoderTarget.kept(parent.decoder().getFirst().crossHeads(), 0.5), l.crossHeads());
            assertEquals(EncoderDecoderTarget.kept(parent.decoder().getFirst().ffnDim(), 0.5), l.ffnDim());
        }
        EncoderDecoder loaded = EncoderDecoder.load(run).orElseThrow();
        assertEquals(child, loaded.config(), "the folder holds the pruned model");
        assertTrue(Files.isRegularFile(run.resolve("tokenizer.json")), "with the parent's tokenizer");
        assertTrue(Files.isRegularFile(run.resolve(ShearRun.GATES)) && Files.isRegularFile(run.resolve(EncoderDecoderPruneRun.PLAN)));
        r.gatedHeldOutLoss().forEach((d, loss) -> assertEquals(loss, r.prunedHeldOutLoss().get(d), 1e-4, d + ": the finalised model scores as the gated parent"));

        List<JsonNode> steps = lines(run, "step");
        assertEquals(24, steps.size());
        JsonNode last = steps.getLast().path("axes");
        for (String axis : List.of("hidden", "encoderLayers", "decoderLayers", "heads", "crossHeads", "ffn")) {
            JsonNode a = last.path(axis);
            assertTrue(a.isObject(), "axis " + axis + " is pruned and logged: " + last);
            assertEquals(a.path("finalTarget").asDouble(), a.path("target").asDouble(), 1e-12, axis + ": ramped up fully");
            // the multipliers drive ŝ up to the target (at the published rates it then oscillates around it)
            double most = steps.stream().mapToDouble(n -> n.path("axes").path(axis).path("expectedSparsity").asDouble()).max().orElseThrow();
            assertTrue(most >= a.path("finalTarget").asDouble() - 0.02, axis + ": expected sparsity reached " + most + ", target " + a.path("finalTarget"));
        }
        assertEquals(0.0, steps.getFirst().path("axes").path("ffn").path("target").asDouble(), "the target ramps from 0");
        assertTrue(steps.getLast().path("expectedParams").asDouble() < steps.getFirst().path("expectedParams").asDouble(), "the expected size falls");
        assertEquals(child.parameterCount(), steps.getLast().path("targetParams").asDouble(), 0.0, "the target's size, of a uniform parent");
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5", "openba"})
    void resumedRunEndsBitIdenticalToAnUninterruptedOne(String kind, @TempDir Path tmp) throws IOException {
        ShearConfig c = config(model(kind), 10);
        Path straight = tmp.resolve("straight");
        Seq2SeqShearRun.Result a = Seq2SeqShearRun.run(c, TARGET, Seq2SeqTrainRun.Objective.UL2, false, straight, false, Progress.SILENT);
        Path crashed = tmp.resolve("crashed");
        assertThrows(TrainRunTest.Crash.class, () -> Seq2SeqShearRun.run(c, TARGET, Seq2SeqTrainRun.Objective.UL2, false, crashed, false, new TrainRunTest.CrashAfter(7)));
        assertEquals(4, Checkpoint.stepOf(Checkpoint.latest(crashed).orElseThrow()));
        Seq2SeqShearRun.Result b = Seq2SeqShearRun.run(c, TARGET, Seq2SeqTrainRun.Objective.UL2, false, crashed, true, Progress.SILENT);
        assertEquals(4, b.resumedFrom());
        assertEquals(a.plan(), b.plan());
        List<float[]> wa = weights(straight), wb = weights(crashed);
        assertEquals(wa.size(), wb.size());
        for (int i = 0; i < wa.size(); i++) assertArrayEquals(wa.get(i), wb.get(i), "tensor " + i);
        assertEquals(Files.readString(straight.resolve(ShearRun.GATES)), Files.readString(crashed.resolve(ShearRun.GATES)), "gates bit-identical");
        List<String> sa = Files.readAllLines(straight.resolve(ShearRun.METRICS)).stream().map(l -> l.replaceAll(",\"tokensPerSecond\":[^,}]*", "")).toList();
        List<String> sb = Files.readAllLines(crashed.resolve(ShearRun.METRICS)).stream().map(l -> l.replaceAll(",\"tokensPerSecond\":[^,}]*", "")).toList();
        assertEquals(sa, sb, "the same trajectory of losses, expected sizes and λ");
        EncoderDecoderTarget other = new EncoderDecoderTarget(0.25, 0.5, 0.25, OptionalInt.of(2), OptionalInt.of(2));
        ShearsException changed = assertThrows(ShearsException.class, () -> Seq2SeqShearRun.run(c, other, Seq2SeqTrainRun.Objective.UL2, false, crashed, true, Progress.SILENT));
        assertTrue(changed.getMessage().contains("different configuration (changed: target)"), changed.getMessage());
    }

    @Test
    void badRequestsAreOneLineErrors(@TempDir Path tmp) {
        ShearConfig c = config(T5, 4);
        ShearsException nothing = assertThrows(ShearsException.class, () -> Seq2SeqShearRun.run(c, new EncoderDecoderTarget(0, 0, 0, OptionalInt.empty(), OptionalInt.empty()),
                Seq2SeqTrainRun.Objective.UL2, false, tmp.resolve("a"), false, Progress.SILENT));
        assertTrue(nothing.getMessage().startsWith("nothing to shear"), nothing.getMessage());
        ShearsException layers = assertThrows(ShearsException.class, () -> Seq2SeqShearRun.run(c, new EncoderDecoderTarget(0, 0, 0, OptionalInt.of(9), OptionalInt.empty()),
                Seq2SeqTrainRun.Objective.UL2, false, tmp.resolve("b"), false, Progress.SILENT));
        assertEquals("--enc-layers 9 must keep 1..5 encoder layers", layers.getMessage());
        ShearsException decoderOnly = assertThrows(ShearsException.class, () -> Seq2SeqShearRun.run(new ShearConfig(c.train(), "layers=2", "", 1, 1, 0.2), TARGET,
                Seq2SeqTrainRun.Objective.UL2, false, tmp.resolve("c"), false, Progress.SILENT));
        assertTrue(decoderOnly.getMessage().contains("not --target"), decoderOnly.getMessage());
    }

    private static List<float[]> weights(Path dir) {
        List<float[]> out = new ArrayList<>();
        switch (EncoderDecoder.load(dir).orElseThrow()) {
            case dev.shears.seq2seq.T5Model t -> t.weights().forEach(t.config(), (name, shape, values) -> out.add(values));
            case OpenBaModel o -> o.weights().forEach(o.config(), (name, shape, values) -> out.add(values));
        }
        return out;
    }

    static List<JsonNode> lines(Path run, String type) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(ShearRun.METRICS))) {
            JsonNode n = JSON.readTree(line);
            if (n.path("type").asText().equals(type)) out.add(n);
        }
        return out;
    }
}
