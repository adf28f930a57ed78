package dev.shears.cli;

import dev.shears.SharedData;
import dev.shears.io.CrashPoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13's kills at exact moments: a run is halted ({@link CrashPoints}: as {@code kill -9}, no
 * cleanup) at one of the moments between the steps of its durable writes — a file complete under its
 * temporary name, each rename, each stage of a checkpoint, after the final checkpoint, between the final
 * files — then resumed with {@code --resume}; its outputs must be byte-identical to a run never
 * stopped, its metrics identical apart from timings, and nothing temporary may be left. Train is killed
 * at every point; shear and the pipeline at every third (seeded offset) unless
 * {@code -Dshears.crashPoints=all}, which also kills each resume once more at the same point number.
 * docs/reliability.md reports the counts.
 */
class CrashPointTest {
    static final boolean ALL = "all".equals(System.getProperty("shears.crashPoints"));
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

    private static List<String> common(int steps) {
        return List.of("--steps", String.valueOf(steps), "--batch", "4", "--seq", "64", "--set", "checkpointInterval=2", "--set", "evalInterval=2",
                "--set", "evalWindows=2", "--set", "keepCheckpoints=1");
    }

    @Test
    void trainResumesIdenticallyFromEveryCrashPoint() throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString()));
        args.addAll(common(4));
        sweep("train", args, 1, List.of("model.safetensors", "config.json"));
    }

    @Test
    void shearResumesIdenticallyFromItsCrashPoints() throws Exception {
        List<String> args = new ArrayList<>(List.of("shear", model.toString(), "--tokenizer", tokenizer.toString(), "--target", "layers=4,ffn=86",
                "--data", data.toString()));
        args.addAll(common(4));
        sweep("shear", args, ALL ? 1 : 3, List.of("model.safetensors", "config.json", "gates.json", "pruning-plan.json"));
    }

    @Test
    void pipelineResumesIdenticallyFromItsCrashPoints() throws Exception {
        Path yaml = dir.resolve("p.yaml");
        Files.writeString(yaml, """
                model: %s
                tokenizer: %s
                stages:
                  - name: cut
                    prune: {ffn: 0.5, importance: magnitude}
                  - name: heal
                    train: {data: [{path: %s, weight: 1}], steps: 4, batchSize: 4, seqLen: 64, evalInterval: 2, checkpointInterval: 2, evalWindows: 2, keepCheckpoints: 1}
                """.formatted(model, tokenizer, data));
        sweep("pipeline", List.of("pipeline", "run", yaml.toString()), ALL ? 1 : 3,
                List.of("01-cut/model.safetensors", "01-cut/config.json", "02-heal/model.safetensors", "02-heal/config.json", "pipeline.json"));
    }

    /** Runs {@code args} once straight, then halted at every {@code stride}-th crash point and resumed; compares. */
    private static void sweep(String name, List<String> args, int stride, List<String> compared) throws Exception {
        Path straight = dir.resolve(name + "-straight");
        Process listing = launch(with(args, "--out", straight.toString()), "list");
        String log = new String(listing.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(listing.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, listing.exitValue(), log);
        List<String> points = log.lines().filter(l -> l.startsWith("crash point ")).toList();
        assertTrue(points.size() >= 20, name + " passes its checkpoint and output writes: " + points);
        int first = stride == 1 ? 1 : 1 + Math.floorMod(name.hashCode(), stride), killed = 0;
        for (int at = first; at <= points.size(); at += stride) {
            Path out = dir.resolve(name + "-" + at);
            halt(with(args, "--out", out.toString()), at, points.get(at - 1));
            if (ALL) halt(with(args, "--out", out.toString(), "--resume"), at, null);
            CliTest.Run resumed = CliTest.shears(with(args, "--out", out.toString(), "--resume").toArray(String[]::new));
            String where = name + " halted at " + points.get(at - 1);
            assertEquals(0, resumed.code(), where + ": " + resumed.err());
            for (String f : compared) {
                assertArrayEquals(Files.readAllBytes(straight.resolve(f)), Files.readAllBytes(out.resolve(f)), where + ": " + f + " differs");
            }
            for (Path metrics : metricsFiles(straight)) {
                assertEquals(MetricsLines.untimed(metrics), MetricsLines.untimed(out.resolve(straight.relativize(metrics))), where + ": " + straight.relativize(metrics));
            }
            try (Stream<Path> all = Files.walk(out)) {
                List<Path> debris = all.filter(p -> p.getFileName().toString().matches("\\..*(tmp|partial|replaced).*")).toList();
                assertEquals(List.of(), debris, where + ": temporary files left");
            }
            killed++;
        }
        System.out.printf("crash points: %s passes %d, halted and resumed at %d, all identical%n", name, points.size(), killed);
    }

    private static void halt(List<String> args, int at, String expected) throws Exception {
        Process p = launch(args, String.valueOf(at));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        if (expected == null) return; // a resume may finish before it reaches the point
        assertEquals(137, p.exitValue(), "expected a halt at " + expected + ": " + err);
        String kind = expected.substring(expected.indexOf(": ") + 2, expected.lastIndexOf(": /"));
        assertTrue(err.contains("crash point " + at + ": " + kind), "halted at the point the listing named (" + expected + "): " + err);
    }

    private static Process launch(List<String> args, String crashAt) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put(CrashPoints.VARIABLE, crashAt);
        return pb.start();
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(Arrays.asList(more));
        return all;
    }

    private static List<Path> metricsFiles(Path run) throws IOException {
        try (Stream<Path> all = Files.walk(run)) {
            return all.filter(p -> p.getFileName().toString().equals("metrics.jsonl")).sorted().toList();
        }
    }

}
