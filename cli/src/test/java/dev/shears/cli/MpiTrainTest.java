package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.cli.MpiRuns.Result;
import dev.shears.io.CrashPoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.shears.cli.MpiRuns.files;
import static dev.shears.cli.MpiRuns.java;
import static dev.shears.cli.MpiRuns.mpirun;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: {@code shears train} under {@code mpirun -np 2} and {@code -np 3} (over loopback, one
 * kernel thread per rank) ends with a model, checkpoints and metrics (timings apart) byte-identical to
 * the same command in one process, which runs with the MPI library lookup pointed at nothing. Three
 * micro-batches per step: uneven over 2 ranks, one each over 3. A 2-rank run whose rank 0 halts (as
 * {@code kill -9}) right after its step-2 checkpoint ends within seconds, and resumed on 3 ranks ends
 * byte-identical too.
 */
class MpiTrainTest {
    @TempDir
    static Path dir;
    static Path model, tokenizer, data;

    @BeforeAll
    static void prepare() throws IOException {
        model = SharedData.require("models/stories260K/hf");
        tokenizer = SharedData.require("models/stories260K/tok512.bin");
        data = dir.resolve("data");
        Path text = dir.resolve("text.txt");
        Files.writeString(text, Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 20000));
        CliTest.Run r = CliTest.shears("data", "prepare", "--tokenizer", tokenizer.toString(), "--out", data.toString(), text.toString());
        assertEquals(0, r.code(), r.err());
    }

    private static List<String> train(Path out) {
        return List.of("--threads", "1", "train", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
                "--steps", "3", "--batch", "2", "--seq", "32", "--set", "gradAccumulation=3", "--set", "checkpointInterval=2",
                "--set", "evalInterval=2", "--set", "evalWindows=2", "--set", "keepCheckpoints=2", "--out", out.toString());
    }

    @Test
    void trainOnTwoAndThreeRanksIsByteIdenticalToOneProcess() throws Exception {
        Path single = dir.resolve("single");
        // one process, not started by mpirun: MPI is never looked up, so a library that does not exist is no matter
        List<String> alone = java();
        alone.addAll(train(single));
        Result one = run(alone, Map.of("SHEARS_MPI_LIBRARY", "/nonexistent/libmpi.so.40", CrashPoints.VARIABLE, "list"), 300);
        assertEquals(0, one.code(), one.output());
        List<String> points = one.output().lines().filter(l -> l.startsWith("crash point ")).toList();
        assertTrue(one.output().contains("trained "), one.output());
        assertTrue(files(single).stream().anyMatch(f -> f.startsWith("checkpoints") && f.endsWith("optimizer.safetensors")),
                "checkpoints (weights, AdamW moments, state) are compared too: " + files(single));
        for (int ranks : new int[] {2, 3}) {
            Path out = dir.resolve("ranks" + ranks);
            List<String> command = mpirun(ranks);
            command.addAll(java());
            command.addAll(train(out));
            Result r = run(command, Map.of(), 300);
            String where = ranks + " ranks";
            assertEquals(0, r.code(), where + ":\n" + r.output());
            assertEquals(1, r.output().lines().filter(l -> l.startsWith("trained ")).count(), where + ": rank 0 alone prints\n" + r.output());
            compare(single, out, where);
        }

        // rank 0 halts once its step-2 checkpoint is in place (rank 1 waits in a collective): the run ends, not hangs
        int at = 1 + points.indexOf(points.stream().filter(l -> l.contains("checkpoint in place")).findFirst().orElseThrow());
        Path out = dir.resolve("resumed");
        List<String> crash = mpirun(2);
        crash.addAll(List.of("-x", CrashPoints.VARIABLE));
        crash.addAll(java());
        crash.addAll(train(out));
        long began = System.nanoTime();
        Result halted = run(crash, Map.of(CrashPoints.VARIABLE, String.valueOf(at)), 120);
        assertTrue(halted.code() != 0 && halted.output().contains("(halting)"), "halted at " + points.get(at - 1) + ":\n" + halted.output());
        assertTrue((System.nanoTime() - began) / 1e9 < 60, "the other rank ended within seconds:\n" + halted.output());
        List<String> resume = mpirun(3);
        resume.addAll(java());
        resume.addAll(train(out));
        resume.add("--resume");
        Result resumed = run(resume, Map.of(), 300);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("resumed at step 2"), resumed.output());
        compare(single, out, "halted on 2 ranks, resumed on 3");
    }

    @Test
    void shearOnTwoAndThreeRanksIsByteIdenticalToOneProcess() throws Exception {
        List<String> shear = List.of("--threads", "1", "shear", model.toString(), "--tokenizer", tokenizer.toString(), "--target", "layers=4,ffn=86",
                "--data", data.toString(), "--steps", "3", "--batch", "2", "--seq", "32", "--set", "gradAccumulation=3", "--set", "checkpointInterval=2",
                "--set", "evalInterval=2", "--set", "evalWindows=2", "--set", "keepCheckpoints=2", "--out");
        Path single = dir.resolve("shear-single");
        List<String> alone = java();
        alone.addAll(shear);
        alone.add(single.toString());
        Result one = run(alone, Map.of(), 300);
        assertEquals(0, one.code(), one.output());
        for (int ranks : new int[] {2, 3}) {
            Path out = dir.resolve("shear-ranks" + ranks);
            List<String> command = mpirun(ranks);
            command.addAll(java());
            command.addAll(shear);
            command.add(out.toString());
            Result r = run(command, Map.of(), 300);
            assertEquals(0, r.code(), ranks + " ranks:\n" + r.output());
            compare(single, out, "shear on " + ranks + " ranks"); // gates.json holds the gates and λ
        }
    }

    @Test
    void aRankKilledWithSigkillEndsTheRunAndItResumesInOneProcess() throws Exception {
        List<String> args = new ArrayList<>(List.of("--threads", "1", "train", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--data", data.toString(), "--steps", "150", "--batch", "2", "--seq", "32", "--set", "gradAccumulation=2", "--set", "checkpointInterval=5",
                "--set", "evalInterval=0", "--set", "keepCheckpoints=1", "--out"));
        Path straight = dir.resolve("kill-straight"), out = dir.resolve("kill");
        List<String> alone = java();
        alone.addAll(args);
        alone.add(straight.toString());
        Result reference = run(alone, Map.of(), 300);
        assertEquals(0, reference.code(), reference.output());

        List<String> command = mpirun(2);
        command.addAll(java());
        command.addAll(args);
        command.add(out.toString());
        Path log = Files.createTempFile(dir, "kill", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!Files.isDirectory(out.resolve("checkpoints")) || dev.shears.train.Checkpoint.latest(out).isEmpty()) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "no checkpoint before the run ended:\n" + Files.readString(log));
                Thread.sleep(50);
            }
            ProcessHandle rank1 = p.descendants().filter(h -> rankOf(h) == 1).findFirst().orElse(null);
            assertTrue(rank1 != null, "no process of rank 1 among mpirun's:\n" + Files.readString(log));
            long killed = System.nanoTime();
            rank1.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the other rank still runs 60 s after rank 1 was killed:\n" + Files.readString(log));
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(p.exitValue() != 0 && output.contains("shears (rank 0 of 2): rank 1 (pid " + rank1.pid() + ") ended, so mpirun stops the other ranks"),
                    "Shears names the dead rank in one line: exit " + p.exitValue() + "\n" + output);
            System.out.printf("rank 1 killed: mpirun ended %.1f s later%n", (System.nanoTime() - killed) / 1e9);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        List<String> resume = java();
        resume.addAll(args);
        resume.addAll(List.of(out.toString(), "--resume"));
        Result resumed = run(resume, Map.of(), 300);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("resumed at step"), resumed.output());
        compare(straight, out, "killed on 2 ranks, resumed in one process");
    }

    /** The MPI rank of a process mpirun started (from its environment), or -1. */
    private static int rankOf(ProcessHandle h) {
        try {
            for (String v : Files.readString(Path.of("/proc", String.valueOf(h.pid()), "environ"), StandardCharsets.ISO_8859_1).split("\0")) {
                if (v.startsWith("OMPI_COMM_WORLD_RANK=") && h.info().command().orElse("").endsWith("java")) {
                    return Integer.parseInt(v.substring(v.indexOf('=') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not ours to read
        }
        return -1;
    }

    @Test
    void aCommandThatDoesNotShareItsWorkIsRefusedUnderMpirun() throws Exception {
        List<String> command = mpirun(2);
        command.addAll(java());
        command.addAll(List.of("info", model.toString()));
        Result r = run(command, Map.of(), 120);
        assertTrue(r.code() != 0 && r.output().contains("error: 'shears info' does not run under mpirun yet"), r.output());
    }

    @Test
    void benchTrainSharesEachStepsMicroBatchesOverTheRanks() throws Exception {
        List<String> command = mpirun(2);
        command.addAll(java());
        command.addAll(List.of("--threads", "1", "bench", "train", "--dim", "64", "--layers", "2", "--heads", "4", "--ffn", "172", "--vocab", "256",
                "--seq", "32", "--batch", "2", "--accumulation", "3", "--warmup", "1", "--iterations", "2", "--peak-gflops", "100", "--json"));
        Result r = run(command, Map.of(), 120);
        assertEquals(0, r.code(), r.output());
        List<String> json = r.output().lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(1, json.size(), "rank 0 alone prints:\n" + r.output());
        JsonNode n = Json.MAPPER.readTree(r.output().substring(r.output().indexOf('{'), r.output().lastIndexOf('}') + 1));
        assertEquals(2, n.path("ranks").asInt());
        assertEquals(3, n.path("accumulation").asInt());
        assertEquals(100.0, n.path("peak_gflops").asDouble(), "the given peak is that of all the ranks together");
        assertEquals(3 * 2 * 32 / n.path("seconds_median").asDouble(), n.path("tokens_per_second").asDouble(), 1e-6 * n.path("tokens_per_second").asDouble());
    }

    /** The same files; models, checkpoints and settings byte-identical, metrics identical apart from timings. */
    private static void compare(Path single, Path out, String where) throws IOException {
        assertEquals(files(single), files(out), where + ": the same files");
        for (Path f : files(single)) {
            String name = f.getFileName().toString();
            if (name.equals("metrics.jsonl")) {
                assertEquals(MetricsLines.untimed(single.resolve(f)), MetricsLines.untimed(out.resolve(f)), where + ": " + f);
            } else if (name.endsWith(".safetensors") || name.endsWith(".json") && !name.startsWith("report")) {
                assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(out.resolve(f)), where + ": " + f + " differs");
            }
        }
    }


    private static Result run(List<String> command, Map<String, String> env, int seconds) throws IOException, InterruptedException {
        return MpiRuns.run(command, env, seconds, dir);
    }
}
