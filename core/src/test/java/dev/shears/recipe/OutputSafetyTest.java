package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.hf.HfConfig;
import dev.shears.format.hf.HfModel;
import dev.shears.progress.Progress;
import dev.shears.train.Checkpoint;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13's data-loss and resume findings, one test each: no command writes over its input or over a
 * folder that is not its own run, file and folder outputs are replaced only on request and only when
 * complete, and {@code --resume} after the last checkpoint finishes the run.
 */
class OutputSafetyTest {
    @TempDir
    static Path shared;
    static Path data;
    static Path init;
    static Path parent;

    @BeforeAll
    static void prepare() throws IOException {
        DemoStories stories = DemoStories.prepare(shared);
        data = stories.data();
        parent = stories.parent(shared, 2);
        init = shared.resolve("init.json");
        HfConfig.write(HfModel.read(parent).config(), init, "float32");
    }

    static TrainConfig config(Optional<Path> from, Optional<Path> model, long steps) {
        return new TrainConfig(new TrainConfig.Source(from, model, Optional.empty(), 0.02, ""),
                new TrainConfig.Batching(List.of(new TrainConfig.DataSource(data, 1)), 2, 32, 1, 5),
                new TrainConfig.Schedule(steps, 0, 1e-3, 1e-4, 0, LearningRateSchedule.Decay.CONSTANT), new TrainConfig.Optimiser(0.9, 0.95, 1e-8, 0.0, 1.0),
                new TrainConfig.Evaluation(0, 2), new TrainConfig.Checkpointing(2, 2), null, null);
    }

    static String message(Runnable r) {
        return assertThrows(ShearsException.class, r::run).getMessage();
    }

    @Test
    void trainRefusesToWriteIntoItsOwnModel() throws IOException {
        Path model = shared.resolve("own-model");
        copyTree(parent, model);
        String m = message(() -> TrainRun.run(config(Optional.empty(), Optional.of(model), 2), model, false, Progress.SILENT));
        assertTrue(m.contains("is the input"), m);
        String inside = message(() -> TrainRun.run(config(Optional.empty(), Optional.of(model), 2), model.resolve("run"), false, Progress.SILENT));
        assertTrue(inside.contains("inside the input"), inside);
        assertArrayEquals(Files.readAllBytes(parent.resolve("model.safetensors")), Files.readAllBytes(model.resolve("model.safetensors")), "untouched");
    }

    @Test
    void shearRefusesToOverwriteItsParent() {
        ShearConfig c = new ShearConfig(config(Optional.empty(), Optional.of(parent), 2), "layers=1", "", 1.0, 1.0, 0.2);
        String m = message(() -> ShearRun.run(c, parent, false, Progress.SILENT));
        assertTrue(m.contains("is the input"), m);
    }

    @Test
    void trainAndShearRefuseANonEmptyFolderThatIsNotTheirRun(@TempDir Path tmp) throws IOException {
        Path someone = tmp.resolve("notes");
        Files.createDirectories(someone);
        Files.writeString(someone.resolve("thesis.tex"), "years of work");
        String train = message(() -> TrainRun.run(config(Optional.of(init), Optional.empty(), 2), someone, false, Progress.SILENT));
        assertTrue(train.contains("holds no train-config.json"), train);
        String resumed = message(() -> TrainRun.run(config(Optional.of(init), Optional.empty(), 2), someone, true, Progress.SILENT));
        assertTrue(resumed.contains("holds no train-config.json"), resumed);
        String shear = message(() -> ShearRun.run(new ShearConfig(config(Optional.empty(), Optional.of(parent), 2), "layers=1", "", 1, 1, 0.2), someone,
                false, Progress.SILENT));
        assertTrue(shear.contains("holds no shear-config.json"), shear);
        assertEquals(List.of(someone.resolve("thesis.tex")), Files.list(someone).toList(), "nothing written");
    }

    @Test
    void exportRefusesToOverwriteItsSource() {
        String hf = message(() -> new Export(parent, Optional.empty(), "hf", "f32", parent, 1L << 30).run());
        assertTrue(hf.contains("is the input"), hf);
        String forced = message(() -> new Export(parent, Optional.empty(), "hf", "f32", parent, 1L << 30, true).run());
        assertTrue(forced.contains("is the input"), "--force never replaces an input: " + forced);
        String inside = message(() -> new Export(parent, Optional.empty(), "gguf", "f32", parent.resolve("m.gguf"), 1L << 30, true).run());
        assertTrue(inside.contains("inside the input"), inside);
    }

    @Test
    void exportGgufRefusesAnExistingFileWithoutForce(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("model.gguf");
        Files.writeString(file, "someone's file");
        String m = message(() -> new Export(parent, Optional.empty(), "gguf", "f32", file, 1L << 30).run());
        assertTrue(m.contains("already exists") && m.contains("--force"), m);
        assertEquals("someone's file", Files.readString(file));
        new Export(parent, Optional.empty(), "gguf", "f32", file, 1L << 30, true).run();
        assertEquals("GGUF", new String(Files.readAllBytes(file), 0, 4, java.nio.charset.StandardCharsets.US_ASCII), "replaced on request");
    }

    @Test
    void exportHfWritesIntoANewFolderOnlyAndReplacesOnRequestWhenComplete(@TempDir Path tmp) throws IOException {
        Path folder = tmp.resolve("hf");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("keep.txt"), "mine");
        String m = message(() -> new Export(parent, Optional.empty(), "hf", "f32", folder, 1L << 30).run());
        assertTrue(m.contains("not empty") && m.contains("--force"), m);
        assertEquals("mine", Files.readString(folder.resolve("keep.txt")));
        new Export(parent, Optional.empty(), "hf", "f32", folder, 1L << 30, true).run();
        assertFalse(Files.exists(folder.resolve("keep.txt")), "the previous output is replaced as a whole");
        assertTrue(Files.isRegularFile(folder.resolve("config.json")) && Files.isRegularFile(folder.resolve("tokenizer.bin")));
        try (var siblings = Files.list(tmp)) {
            assertEquals(List.of(folder), siblings.toList(), "no temporary folders left beside it");
        }
    }

    @Test
    void resumeAfterTheLastCheckpointFinishesTheRun(@TempDir Path tmp) throws IOException {
        Path straight = tmp.resolve("straight");
        TrainRun.Result a = TrainRun.run(config(Optional.of(init), Optional.empty(), 4), straight, false, Progress.SILENT);
        // killed after its final checkpoint, before the model was written
        Path killed = tmp.resolve("killed");
        copyTree(straight, killed);
        Files.delete(killed.resolve("model.safetensors"));
        Files.delete(killed.resolve("config.json"));
        TrainRun.Result b = TrainRun.run(config(Optional.of(init), Optional.empty(), 4), killed, true, Progress.SILENT);
        assertEquals(4, b.resumedFrom());
        assertEquals(a.lastLoss(), b.lastLoss(), "the last step's loss, from the metrics");
        assertArrayEquals(a.heldOutLoss(), b.heldOutLoss());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(killed.resolve("model.safetensors")));
        // --resume on a finished run reports the same result
        TrainRun.Result again = TrainRun.run(config(Optional.of(init), Optional.empty(), 4), straight, true, Progress.SILENT);
        assertArrayEquals(a.heldOutLoss(), again.heldOutLoss());
        assertEquals(a.lastLoss(), again.lastLoss());
    }

    @Test
    void aRunStoppedBeforeItsFirstCheckpointStartsAgainWithTheFixedCommand(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        TrainRun.run(config(Optional.of(init), Optional.empty(), 2), out, false, Progress.SILENT);
        for (Path c : Checkpoint.list(out)) dev.shears.io.AtomicFiles.deleteTree(c);
        Files.delete(out.resolve("model.safetensors"));
        // the settings were written, no checkpoint was: a changed command starts afresh, with or without --resume
        TrainRun.Result fixed = TrainRun.run(config(Optional.of(init), Optional.empty(), 3), out, false, Progress.SILENT);
        assertEquals(0, fixed.resumedFrom());
        assertEquals(3, fixed.steps());
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToTheNewestValidOneSayingSo(@TempDir Path tmp) throws IOException {
        Path straight = tmp.resolve("straight");
        TrainRun.Result a = TrainRun.run(config(Optional.of(init), Optional.empty(), 6), straight, false, Progress.SILENT);
        Path crashed = tmp.resolve("crashed");
        assertThrows(TrainRunTest.Crash.class, () -> TrainRun.run(config(Optional.of(init), Optional.empty(), 6), crashed, false,
                new TrainRunTest.CrashAfter(5L * 2 * 32)));
        List<Path> checkpoints = Checkpoint.list(crashed);
        assertEquals(2, checkpoints.size(), "steps 2 and 4");
        Path newest = checkpoints.getLast().resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(newest, bytes);
        List<String> notes = new java.util.ArrayList<>();
        TrainRun.Result b = TrainRun.run(config(Optional.of(init), Optional.empty(), 6), crashed, true, Progress.notesTo(notes::add));
        assertEquals(2, b.resumedFrom(), "the step-4 checkpoint is damaged");
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.getFirst().contains("CRC-32") && notes.getFirst().contains("resuming from step-"), notes.getFirst());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(crashed.resolve("model.safetensors")),
                "and still ends with the same bits");
        assertEquals(a.lastLoss(), b.lastLoss());
    }

    @Test
    void debrisOfAnInterruptedCheckpointWriteIsRemovedOnTheNextStart(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        assertThrows(TrainRunTest.Crash.class, () -> TrainRun.run(config(Optional.of(init), Optional.empty(), 4), out, false,
                new TrainRunTest.CrashAfter(3L * 2 * 32)));
        Path debris = out.resolve(Checkpoint.FOLDER).resolve(".step-4.tmp-12345");
        Files.createDirectories(debris);
        Files.writeString(debris.resolve("model.safetensors"), "half");
        TrainRun.run(config(Optional.of(init), Optional.empty(), 4), out, true, Progress.SILENT);
        assertFalse(Files.exists(debris));
    }

    @Test
    void debrisOfAnInterruptedDataPrepareOrExportIsRemovedOnTheNextStart(@TempDir Path tmp) throws IOException {
        Path prepared = tmp.resolve("prepared");
        Path debris = Files.createDirectories(tmp.resolve(".prepared.tmp-4242"));
        Files.writeString(debris.resolve("tokens-0.bin"), "half");
        dev.shears.data.DataPreparer.prepare(dev.shears.format.TokenizerLoader.load(parent.resolve("tokenizer.bin")), "t",
                List.of(shared.resolve("stories.txt")), prepared, dev.shears.data.PrepareOptions.DEFAULT, Progress.SILENT);
        assertFalse(Files.exists(debris), "data prepare");
        Path partial = Files.createDirectories(tmp.resolve(".hf.partial-77"));
        new Export(parent, Optional.empty(), "hf", "f32", tmp.resolve("hf"), 1L << 30).run();
        assertFalse(Files.exists(partial), "export");
    }

    @Test
    void theSameRunResumesWhateverSpellingOfItsPathsIsGiven(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        assertThrows(RuntimeException.class, () -> TrainRun.run(config(Optional.of(init), Optional.empty(), 4), out, false,
                new TrainRunTest.CrashAfter(3L * 2 * 32)));
        Path roundabout = init.getParent().resolve("x").resolve("..").resolve(".").resolve(init.getFileName());
        TrainRun.Result r = TrainRun.run(config(Optional.of(roundabout), Optional.empty(), 4), out, true, Progress.SILENT);
        assertEquals(2, r.resumedFrom());
    }

    @Test
    void gatesJsonIsByteIdenticalBetweenIdenticalRuns(@TempDir Path tmp) throws IOException {
        ShearConfig c = new ShearConfig(config(Optional.empty(), Optional.of(parent), 2), "layers=1,ffn=24", "", 1.0, 1.0, 0.2);
        ShearRun.run(c, tmp.resolve("a"), false, Progress.SILENT);
        ShearRun.run(c, tmp.resolve("b"), false, Progress.SILENT);
        for (String f : List.of(ShearRun.GATES, "pruning-plan.json", "model.safetensors", "config.json")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(f)), Files.readAllBytes(tmp.resolve("b").resolve(f)), f);
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
