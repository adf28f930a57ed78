package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
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
 * the first near-tie (compared as text). Runs only with {@code mvn -Pinterop -Dllama.cpp=DIR test -pl core}, where DIR
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
        if (!Files.isExecutable(llama.resolve("llama-simple"))) fail(llama + " has no llama-simple");
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

    static void assertStartsWith(String ours, String theirs) {
        assertTrue(theirs.startsWith(ours), "llama.cpp's greedy continuation [" + theirs + "] begins with Shears' [" + ours + "]");
    }
}
