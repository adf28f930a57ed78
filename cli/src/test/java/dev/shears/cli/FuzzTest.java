package dev.shears.cli;

import dev.shears.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13's seeded fuzz suite: every input kind (safetensors, GGUF, llama2.c and SentencePiece and
 * tokenizer.json tokenizers, config.json, training YAML, pipeline YAML, token-data indexes, text,
 * target and init configs, task files) is mutated and run through the CLI entry point. Each run must end with exit 0 (a
 * mutation that changed nothing that matters) or exit 2 with exactly one line naming the problem;
 * never exit 1 (an internal error: a stack trace, an out-of-memory) and never a hang. The mutations
 * per kind are {@code -Dshears.fuzzCases} (default 40, under a minute here; the seed is fixed, so
 * a failure reproduces; {@code -Dshears.fuzzVerbose=true} prints every refusal). Each kind's unmutated
 * input must run first, so the cases test the reader and not a broken command. Counts are printed and
 * docs/reliability.md reports them.
 */
class FuzzTest {
    static final long SEED = 20261203;
    static final int CASES = Integer.getInteger("shears.fuzzCases", 40);
    static final long CASE_SECONDS = 60;
    @TempDir
    static Path dir;
    static Path model;
    static Path text;
    static Path gguf;
    static Path prepared;
    static Path init;

    @BeforeAll
    static void prepare() throws IOException {
        model = SharedData.require("models/stories260K/hf");
        text = dir.resolve("text.txt");
        Files.writeString(text, Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 3000));
        gguf = dir.resolve("m.gguf");
        expectOk(CliTest.shears("export", model.toString(), "--tokenizer", SharedData.require("models/stories260K/tok512.bin").toString(), "--format", "gguf",
                "--out", gguf.toString()));
        prepared = dir.resolve("prepared");
        expectOk(CliTest.shears("data", "prepare", "--tokenizer", SharedData.require("models/stories260K/tok512.bin").toString(), "--out", prepared.toString(),
                text.toString()));
        init = dir.resolve("init.json");
        Files.copy(model.resolve("config.json"), init);
    }

    static void expectOk(CliTest.Run r) {
        assertTrue(r.code() == 0, r.err());
    }

    /** One input kind: the file to mutate, and the command that reads the mutated copy (placed at the given path). */
    record Kind(String name, Path original, boolean binary, Function<Path, String[]> command) {
    }

    static List<Kind> kinds() throws IOException {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        List<Kind> k = new ArrayList<>();
        k.add(new Kind("config.json", model.resolve("config.json"), false, m -> args("info", folderWith(m, "config.json").toString())));
        k.add(new Kind("safetensors", model.resolve("model.safetensors"), true,
                m -> args("perplexity", folderWith(m, "model.safetensors").toString(), "--tokenizer", tok.toString(), "--text", text.toString(),
                        "--context", "16", "--limit-chars", "300")));
        k.add(new Kind("gguf", gguf, true, m -> args("generate", m.toString(), "--prompt", "Once", "--max-tokens", "2", "--temperature", "0")));
        k.add(new Kind("llama2.c tokenizer", tok, true, m -> perplexityWithTokenizer(m)));
        k.add(new Kind("SentencePiece tokenizer", SharedData.require("tokenizers/llama2/tokenizer.model"), true, FuzzTest::encodeWithTokenizer));
        Path json = dir.resolve("tokenizer.json"); // core's test resource, inside its test jar here
        for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
            try (var in = FuzzTest.class.getResourceAsStream("/tokenizer/bytelevel/gpt2/" + name)) {
                Files.write(dir.resolve(name), in.readAllBytes()); // the config (its EOS) is read beside every mutated copy
            }
        }
        k.add(new Kind("tokenizer.json", json, false, FuzzTest::encodeWithTokenizer));
        Path yaml = dir.resolve("train.yaml");
        Files.writeString(yaml, "steps: 1\nbatchSize: 1\nseqLen: 16\nlr: 1.0e-3\nevalInterval: 0\nevalWindows: 1\ncheckpointInterval: 0\n"
                + "dynamicBatchLoading: {enabled: false}\n");
        // --steps 1 keeps a mutation to a huge step count (a valid, merely long run) from looking like a hang
        k.add(new Kind("train YAML", yaml, false, m -> args("train", "--config", m.toString(), "--init", init.toString(), "--data", prepared.toString(),
                "--steps", "1", "--out", fresh("train").toString())));
        Path pipeline = dir.resolve("p.yaml");
        Files.writeString(pipeline, "model: " + model + "\ntokenizer: " + tok + "\nstages:\n  - name: cut\n    prune: {ffn: 0.5, importance: magnitude}\n"
                + "  - name: heal\n    train: {data: [{path: " + prepared + ", weight: 1}], steps: 2, batchSize: 1, seqLen: 16}\n");
        k.add(new Kind("pipeline YAML", pipeline, false, m -> args("pipeline", "check", m.toString())));
        k.add(new Kind("token-data index", prepared.resolve("index.json"), false, m -> args("train", "--init", init.toString(), "--data",
                folderWith(m, prepared, "index.json").toString(), "--steps", "1", "--batch", "1", "--seq", "16", "--out", fresh("data").toString())));
        k.add(new Kind("text", text, false, m -> args("perplexity", model.toString(), "--tokenizer", tok.toString(), "--text", m.toString(), "--context", "16",
                "--limit-chars", "300")));
        k.add(new Kind("target config", model.resolve("config.json"), false, m -> args("prune", model.toString(), "--tokenizer", tok.toString(),
                "--target-config", m.toString(), "--importance", "magnitude", "--out", fresh("pruned").toString())));
        k.add(new Kind("init config", model.resolve("config.json"), false, m -> args("init", "--config", m.toString(), "--dtype", "f32",
                "--out", fresh("init").toString())));
        Path piqa = dir.resolve("piqa.jsonl"); // the first items of a task file, read by eval from a data folder of its own
        Files.write(piqa, Files.readAllLines(SharedData.require("eval/mc/piqa.jsonl")).subList(0, 4));
        k.add(new Kind("task file", piqa, false, m -> args("eval", model.toString() + "=" + tok, "--tasks", "piqa", "--limit", "4",
                "--data-dir", taskFolder(m).toString())));
        // issue 16: encoder-decoders made by init, and pipelines of them (last, so the kinds above keep their mutations)
        Path openBaConfig = Path.of("..", "examples", "openba-tiny-config.json").toAbsolutePath().normalize();
        k.add(new Kind("OpenBA init config", openBaConfig, false, m -> args("init", "--config", m.toString(), "--dtype", "f32", "--out", fresh("openba").toString())));
        Path openBa = dir.resolve("openba-tiny");
        expectOk(CliTest.shears("init", "--config", openBaConfig.toString(), "--dtype", "f32", "--tokenizer", SharedData.require("tokenizers/t5").toString(),
                "--out", openBa.toString()));
        Path encoderDecoder = dir.resolve("encdec.yaml");
        Files.writeString(encoderDecoder, "model: " + openBa + "\nstages:\n  - name: layers\n    prune: {decLayers: 4, heads: 0.5, layerImportance: every-k}\n"
                + "  - name: heal\n    train: {data: [{path: " + text + ", weight: 1}], objective: openba-v2, dynamic: true, steps: 2, seqLen: 32}\n"
                + "  - name: vocabulary\n    prune: {vocab: 0.5, vocabCorpus: " + text + "}\n");
        k.add(new Kind("encoder-decoder pipeline YAML", encoderDecoder, false, m -> args("pipeline", "check", m.toString())));
        return k;
    }

    /** A data folder holding the mutated task file where eval looks for piqa. */
    static Path taskFolder(Path mutated) {
        try {
            Path folder = fresh("eval");
            Files.createDirectories(folder.resolve("mc"));
            Files.copy(mutated, folder.resolve("mc/piqa.jsonl"));
            return folder;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String[] args(String... a) {
        return a;
    }

    static int serial;

    static Path fresh(String name) {
        return dir.resolve("out-" + name + "-" + serial++);
    }

    /** A copy of the model folder with one file replaced by the mutated one. */
    static Path folderWith(Path mutated, String name) {
        return folderWith(mutated, model, name);
    }

    static Path folderWith(Path mutated, Path original, String name) {
        try {
            Path copy = fresh("folder");
            Files.createDirectories(copy);
            try (var files = Files.list(original)) {
                for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, copy.resolve(f.getFileName()));
            }
            Files.copy(mutated, copy.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return copy;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String[] perplexityWithTokenizer(Path tokenizer) {
        return args("perplexity", model.toString(), "--tokenizer", tokenizer.toString(), "--text", text.toString(), "--context", "16", "--limit-chars", "300");
    }

    /** A tokenizer of another vocabulary than stories260K's is refused when paired with it; data prepare reads it alone. */
    static String[] encodeWithTokenizer(Path tokenizer) {
        return args("data", "prepare", "--tokenizer", tokenizer.toString(), "--out", fresh("prep").toString(), text.toString());
    }

    private static final String[] GARBAGE = {"\u0000", "-1", "99999999999", "1e308", "NaN", "\"", "{", "]", "-2147483648", "0", "2.5", "\uFFFF", "\n\n\n"};

    static byte[] mutate(byte[] in, boolean binary, Random r) {
        byte[] b = in.clone();
        int op = r.nextInt(binary ? 4 : 5);
        int n = b.length;
        if (binary) {
            int limit = Math.max(1, Math.min(n, 4096));
            switch (op) {
                case 0 -> b[r.nextInt(limit)] ^= (byte) (1 + r.nextInt(255));
                case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(n));
                case 2 -> {
                    int at = r.nextInt(Math.max(1, Math.min(n - 8, 64)));
                    for (int i = 0; i < 8 && at + i < n; i++) b[at + i] = (byte) 0xFF;
                }
                default -> {
                    byte[] more = new byte[1 + r.nextInt(64)];
                    r.nextBytes(more);
                    byte[] out = java.util.Arrays.copyOf(b, n + more.length);
                    System.arraycopy(more, 0, out, n, more.length);
                    b = out;
                }
            }
            return b;
        }
        String s = new String(b, StandardCharsets.UTF_8);
        int at = r.nextInt(Math.max(1, s.length()));
        s = switch (op) {
            case 0 -> s.substring(0, at) + s.substring(Math.min(s.length(), at + 1 + r.nextInt(20)));
            case 1 -> s.substring(0, at) + GARBAGE[r.nextInt(GARBAGE.length)] + s.substring(at);
            case 2 -> s.replaceFirst("\\d+", GARBAGE[r.nextInt(GARBAGE.length)].replace("\\", "\\\\").replace("$", "\\$"));
            case 3 -> s.substring(0, at);
            default -> s.substring(0, at) + s.substring(at, Math.min(s.length(), at + 40)) + s.substring(at);
        };
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyMutatedInputEndsInSuccessOrOneLineWithExitTwo() throws Exception {
        Random r = new Random(SEED);
        Map<String, int[]> counts = new LinkedHashMap<>(); // per kind: runs, exit 0, exit 2
        List<String> failures = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            for (Kind kind : kinds()) {
                byte[] original = Files.readAllBytes(kind.original());
                int[] c = counts.computeIfAbsent(kind.name(), k -> new int[3]);
                Path unchanged = dir.resolve("original-" + serial++ + "-" + kind.original().getFileName());
                Files.write(unchanged, original);
                CliTest.Run baseline = CliTest.shears(kind.command().apply(unchanged));
                assertTrue(baseline.code() == 0, kind.name() + ": the unmutated input must run, else the cases test nothing: " + baseline.err());
                for (int i = 0; i < CASES; i++) {
                    Path mutated = dir.resolve("case-" + serial++ + "-" + kind.original().getFileName());
                    Files.write(mutated, mutate(original, kind.binary(), r));
                    String[] command = kind.command().apply(mutated);
                    Future<CliTest.Run> run = pool.submit(() -> CliTest.shears(command));
                    CliTest.Run result;
                    try {
                        result = run.get(CASE_SECONDS, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        failures.add(kind.name() + " case " + i + ": no answer within " + CASE_SECONDS + " s: " + String.join(" ", command)
                                + (kind.binary() ? "" : "\n  input: " + Files.readString(mutated).replace("\n", "\\n")));
                        run.cancel(true);
                        pool.shutdownNow();
                        pool = Executors.newSingleThreadExecutor();
                        continue;
                    }
                    c[0]++;
                    List<String> errorLines = result.err().lines().filter(l -> !l.isBlank()).toList();
                    if (result.code() == 0) {
                        c[1]++;
                    } else if (result.code() == 2 && errorLines.size() == 1 && errorLines.getFirst().startsWith("shears: error: ")) {
                        c[2]++;
                        if (Boolean.getBoolean("shears.fuzzVerbose")) System.out.println("  " + kind.name() + ": " + errorLines.getFirst());
                    } else {
                        failures.add(kind.name() + " case " + i + ": exit " + result.code() + ": " + String.join(" | ", errorLines));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        counts.forEach((k, c) -> System.out.printf("fuzz %-24s %3d runs: %3d accepted, %3d refused in one line%n", k, c[0], c[1], c[2]));
        assertTrue(failures.isEmpty(), failures.size() + " failures:\n" + String.join("\n", failures));
    }
}
