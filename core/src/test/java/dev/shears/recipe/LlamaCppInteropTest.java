package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.TargetParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What Shears exports runs in llama.cpp (issue 13, docs/interop.md): stories260K uniform in f32, f16
 * and q8_0, and pruned non-uniform (heads 0.25, FFN 0.4), each loaded by llama.cpp's
 * {@code llama-simple}; in f32, llama.cpp's greedy continuation equals Shears' token for token up to
 * the first near-tie (compared as text), and llama.cpp's perplexity of each export equals Shears'
 * computation of the same estimator. Runs only with {@code mvn -Pinterop -Dllama.cpp=DIR test -pl core}, where DIR
 * holds a llama.cpp build's binaries; it fails, never skips, when DIR is not one.
 */
@Tag("interop")
class LlamaCppInteropTest {
    static final String PROMPT = "Once upon a time";
    static final int TOKENS = 24;
    @TempDir
    static Path dir;
    static Path llama;
    static Path parent;
    static Path pruned;

    @BeforeAll
    static void prepare() {
        String configured = System.getProperty("shears.llamaCpp", "");
        if (configured.isBlank()) fail("the interop tests need -Dllama.cpp=DIR, a llama.cpp build's bin folder with llama-simple");
        llama = Path.of(configured);
        for (String tool : List.of("llama-simple", "llama-perplexity")) if (!Files.isExecutable(llama.resolve(tool))) fail(llama + " has no " + tool);
        parent = SharedData.require("models/stories260K/hf");
        pruned = dir.resolve("pruned");
        new PruneRun(parent, Optional.of(SharedData.require("models/stories260K/tok512.bin")), pruned,
                new TargetParser.Spec(Map.of(Axis.HEAD, 0.25, Axis.FFN, 0.4), Map.of(), Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, true),
                new PruneRun.Ranking(Optional.of(Criterion.ACTIVATION), Optional.empty(), 0, 1),
                new PruneRun.Calibration(Optional.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")), 16, 64), Optional.empty(),
                Optional.empty(), Optional.empty()).run(Progress.SILENT, m -> { });
    }

    /** llama-simple's greedy continuation of the prompt: the text after the BOS it prints. */
    static String llamaCpp(Path gguf) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(llama.resolve("llama-simple").toString(), "-m", gguf.toString(), "-n", String.valueOf(TOKENS), PROMPT)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("LD_LIBRARY_PATH", llama.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "llama-simple finished");
        assertEquals(0, p.exitValue(), gguf + " loads and runs in llama.cpp: " + out);
        int bos = out.indexOf("<s>");
        return (bos >= 0 ? out.substring(bos + 3) : out).strip();
    }

    /**
     * Shears' greedy text up to its first near-tie: a step whose two best logits are closer than
     * {@link #TIE} (llama.cpp keeps K and V in f16, which moves logits by about 1e-3, enough to swap
     * near-tied tokens; before such a step both must agree token for token).
     */
    /** llama-perplexity's estimate on {@code text} at a context of {@link #CTX}, with K and V kept in f32. */
    static double llamaPerplexity(Path gguf, Path text) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(llama.resolve("llama-perplexity").toString(), "-m", gguf.toString(), "-f", text.toString(), "-c",
                String.valueOf(CTX), "-ctk", "f32", "-ctv", "f32", "-t", "2").redirectErrorStream(true);
        pb.environment().put("LD_LIBRARY_PATH", llama.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Final estimate: PPL = ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    /**
     * The same estimator in Shears: the text's tokens after a BOS, cut into chunks of {@link #CTX}
     * whose first token becomes BOS; the second half of each chunk is scored (perplexity.cpp).
     */
    static double shearsPerplexity(Path gguf, Path text) throws IOException {
        try (LoadedModel loaded = ModelSource.open(gguf, Optional.empty())) {
            int[] body = loaded.tokenizer().encode(Files.readString(text));
            int[] tokens = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(loaded.tokenizer().bosId()), java.util.Arrays.stream(body)).toArray();
            Model m = loaded.model();
            int v = m.config().vocabSize();
            double nll = 0;
            long count = 0;
            for (int c = 0; c < tokens.length / CTX; c++) {
                int[] chunk = java.util.Arrays.copyOfRange(tokens, c * CTX, (c + 1) * CTX);
                chunk[0] = loaded.tokenizer().bosId();
                float[] logits = Transformer.forward(m, chunk, 1, CTX, Activations.forInference(m.config(), 1, CTX), MaskSet.NONE);
                for (int j = CTX / 2; j < CTX - 1; j++, count++) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int k = 0; k < v; k++) max = Math.max(max, logits[j * v + k]);
                    for (int k = 0; k < v; k++) sum += Math.exp(logits[j * v + k] - max);
                    nll -= logits[j * v + tokens[c * CTX + j + 1]] - max - Math.log(sum);
                }
            }
            return Math.exp(nll / count);
        }
    }

    static final int CTX = 128;

    @Test
    void llamaCppsPerplexityOfEachExportIsShearsOwn() throws Exception {
        Path text = dir.resolve("text.txt");
        Files.write(text, Files.readAllLines(SharedData.require("eval/tinystories/tinystories_val_head.txt")).subList(0, 100));
        List<String> report = new java.util.ArrayList<>();
        for (String dtype : List.of("f32", "f16", "q8_0", "pruned-f32")) {
            boolean child = dtype.startsWith("pruned");
            Path gguf = new Export(child ? pruned : parent, Optional.of(SharedData.require("models/stories260K/tok512.bin")), "gguf", child ? "f32" : dtype,
                    dir.resolve("ppl-" + dtype + ".gguf"), 1L << 30).run().path();
            double theirs = llamaPerplexity(gguf, text), ours = shearsPerplexity(gguf, text);
            report.add(String.format(java.util.Locale.ROOT, "%s: llama.cpp %.4f, Shears %.6f", dtype, theirs, ours));
            // llama.cpp prints 4 decimals: half a unit of the last one, and as much again for arithmetic order. For q8_0
            // llama.cpp also rounds the activations to q8_0 before each product (ggml's q8_0 × q8_0 dot), while Shears
            // widens the weights and keeps fp32 activations: the estimates then differ by about 1e-3 (measured 1.4e-3).
            assertEquals(theirs, ours, dtype.equals("q8_0") ? 5e-3 : 1e-4, String.join("; ", report));
        }
        System.out.println("interop perplexity: " + String.join("; ", report));
    }

    static String shearsUpToFirstTie(Path gguf) {
        GenerationResult r = GenerateRun.run(new GenerateRun.Request(gguf, Optional.empty(), PROMPT, new GenerationSettings(TOKENS, 0f, 1f, 1)),
                Optional.empty());
        try (LoadedModel loaded = ModelSource.open(gguf, Optional.empty())) {
            int p = r.promptIds().length, n = p + r.generatedIds().length - 1;
            int[] tokens = java.util.stream.IntStream.concat(java.util.Arrays.stream(r.promptIds()), java.util.Arrays.stream(r.generatedIds())).toArray();
            Model m = loaded.model();
            float[] logits = Transformer.forward(m, java.util.Arrays.copyOf(tokens, n), 1, n, Activations.forInference(m.config(), 1, n), MaskSet.NONE);
            int v = m.config().vocabSize(), agreed = 0;
            for (int pos = p - 1; pos < n; pos++, agreed++) {
                float[] row = java.util.Arrays.copyOfRange(logits, pos * v, (pos + 1) * v);
                java.util.Arrays.sort(row);
                if (row[v - 1] - row[v - 2] < TIE) break;
            }
            assertTrue(agreed >= 8, "at least 8 tokens before a near-tie, else the comparison says little: " + agreed);
            return loaded.tokenizer().decode(java.util.Arrays.copyOf(tokens, p + agreed)).strip();
        }
    }

    static final float TIE = 0.05f;

    @Test
    void uniformExportsLoadAndTheF32OneContinuesAsShearsDoes() throws Exception {
        for (String dtype : List.of("f32", "f16", "q8_0")) {
            Path gguf = new Export(parent, Optional.of(SharedData.require("models/stories260K/tok512.bin")), "gguf", dtype, dir.resolve(dtype + ".gguf"),
                    1L << 30).run().path();
            String theirs = llamaCpp(gguf);
            assertTrue(theirs.startsWith(PROMPT), dtype + ": " + theirs);
            if (dtype.equals("f32")) assertStartsWith(shearsUpToFirstTie(gguf), theirs);
        }
    }

    @Test
    void aNonUniformExportLoadsAsDeciAndContinuesAsShearsDoes() throws Exception {
        Export.Written w = new Export(pruned, Optional.empty(), "gguf", "f32", dir.resolve("pruned.gguf"), 1L << 30).run();
        assertTrue(w.readBy().contains("deci"), w.readBy());
        assertStartsWith(shearsUpToFirstTie(w.path()), llamaCpp(w.path()));
    }

    @Test
    void aGgufMadeByLlamaCppsLlama2cConverterOpensWithoutATokenizerAndContinuesAlike() throws Exception {
        Path converter = llama.resolve("llama-convert-llama2c-to-ggml");
        assertTrue(Files.isExecutable(converter), llama + " has no llama-convert-llama2c-to-ggml (build that target too)");
        Path converted = dir.resolve("converted.gguf");
        ProcessBuilder pb = new ProcessBuilder(converter.toString(), "--copy-vocab-from-model", SharedData.require("models/stories260K/tok512.bin").toString(),
                "--llama2c-model", SharedData.require("models/stories260K/stories260K.bin").toString(), "--llama2c-output-model", converted.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("LD_LIBRARY_PATH", llama.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "llama.cpp converted stories260K");
        assertStartsWith(shearsUpToFirstTie(converted), llamaCpp(converted)); // Shears reads the GGUF's own vocabulary: no --tokenizer
    }

    /**
     * stories260K with every FFN widened to 256 by zero neurons (the same function) and layer 2's
     * attention removed: a non-uniform shape the Hub's DeciLM / Nemotron-NAS {@code block_configs} layout holds.
     */
    static Model nemotronShaped() {
        Model m = dev.shears.format.ModelLoader.load(parent);
        ModelConfig c = m.config();
        List<LayerShape> shapes = new java.util.ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) shapes.add(l == 2 ? new LayerShape(0, 0, 256) : new LayerShape(c.layer(l).numHeads(), c.layer(l).numKvHeads(), 256));
        Model wide = Model.zeros(c.withLayers(shapes));
        for (TensorRole role : TensorRole.values()) {
            for (int l = role.perLayer ? 0 : -1; l < (role.perLayer ? c.numLayers() : 0); l++) {
                if (!role.isStored(wide.config()) || l >= 0 && !role.isPresent(wide.config(), l)) continue;
                float[] from = m.weights().get(role, l), to = wide.weights().get(role, l);
                if (role == TensorRole.DOWN) { // [hidden, ffn]: each row gains zero columns
                    int oldWidth = c.layer(l).ffnDim();
                    for (int r = 0; r < c.dim(); r++) System.arraycopy(from, r * oldWidth, to, r * 256, oldWidth);
                } else {
                    System.arraycopy(from, 0, to, 0, from.length); // gate/up [ffn, hidden] gain zero rows; the rest keep their shape
                }
            }
        }
        return wide;
    }

    /**
     * Issue 13: a non-uniform HF export in the {@code block_configs} layout goes through llama.cpp's own
     * {@code convert_hf_to_gguf.py} (tools/interop/convert_hf_to_gguf.py runs it with Debian's Python), and
     * llama.cpp then computes the perplexity Shears computes from the HF folder, and continues alike.
     */
    @Test
    void aBlockConfigsExportConvertsWithLlamaCppsConverterAndComputesAlike() throws Exception {
        Path source = llama.toAbsolutePath();
        while (source != null && !Files.isRegularFile(source.resolve("convert_hf_to_gguf.py"))) source = source.getParent();
        assertTrue(source != null, llama + " is not inside a llama.cpp checkout with convert_hf_to_gguf.py");
        Path widened = dir.resolve("nemotron-shaped");
        dev.shears.format.hf.HfModel.write(nemotronShaped(), widened);
        Export.Written w = new Export(widened, Optional.of(SharedData.require("models/stories260K/tok512.bin")), "hf", "f32", dir.resolve("nemotron-hf"),
                1L << 30).run();
        assertTrue(w.readBy().contains("convert_hf_to_gguf"), w.readBy());
        assertTrue(Files.readString(w.path().resolve("config.json")).contains("block_configs"));
        Path gguf = dir.resolve("nemotron.gguf");
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", Path.of("../tools/interop/convert_hf_to_gguf.py").toAbsolutePath().normalize().toString(),
                source.toString(), w.path().toString(), "--outfile", gguf.toString(), "--outtype", "f32", "--no-lazy").redirectErrorStream(true);
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, "llama.cpp's converter (needs python3-torch, python3-numpy, python3-sentencepiece): " + log);
        try (dev.shears.format.gguf.GgufFile f = dev.shears.format.gguf.GgufFile.open(gguf)) {
            assertEquals("deci", f.metadata().get("general.architecture"), "the converter read block_configs as DeciLM");
        }
        Path text = dir.resolve("text-deci.txt");
        Files.write(text, Files.readAllLines(SharedData.require("eval/tinystories/tinystories_val_head.txt")).subList(0, 100));
        double theirs = llamaPerplexity(gguf, text), ours = shearsPerplexity(w.path(), text);
        System.out.printf(java.util.Locale.ROOT, "interop block_configs: llama.cpp %.4f, Shears %.6f%n", theirs, ours);
        assertEquals(theirs, ours, 1e-4);
        assertStartsWith(shearsUpToFirstTie(w.path()), llamaCpp(gguf));
    }

    static void assertStartsWith(String ours, String theirs) {
        assertTrue(theirs.startsWith(ours), "llama.cpp's greedy continuation [" + theirs + "] begins with Shears' [" + ours + "]");
    }
}
