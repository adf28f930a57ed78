package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.Safetensors;
import dev.shears.model.Model;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code shears score}: the target's log-likelihood against PyTorch's logits, and how each side is encoded. */
class ScoreRunTest {
    /** The GQA fixture of TorchReferenceTest: its first sequence, split after {@code split} tokens, scored against the float64 logits. */
    @Test
    void logLikelihoodEqualsTheTorchReference() throws URISyntaxException {
        URL url = ScoreRunTest.class.getResource("/torchref/llama_gqa/expected.safetensors");
        if (url == null) fail("fixture torchref/llama_gqa is missing; regenerate it with tools/torch_reference/make_fixtures.py");
        Path dir = Path.of(url.toURI()).getParent();
        float[] ids, logits;
        int seqLen;
        try (Safetensors.File expected = Safetensors.open(dir.resolve("expected.safetensors"))) {
            ids = expected.read("input_ids").values();
            logits = expected.read("logits").values();
            seqLen = expected.entries().get("input_ids").shape()[1];
        }
        try (Model model = ModelLoader.load(dir)) {
            int vocab = model.config().vocabSize();
            for (int split = 1; split < seqLen - 1; split += 3) {
                int[] sequence = new int[seqLen];
                for (int i = 0; i < seqLen; i++) sequence[i] = Math.round(ids[i]);
                int[] source = Arrays.copyOf(sequence, split), target = Arrays.copyOfRange(sequence, split, seqLen);
                double want = 0;
                for (int p = split - 1; p < seqLen - 1; p++) want += logSoftmax(logits, p * vocab, vocab, sequence[p + 1]);
                ScoreRun.Result r = ScoreRun.score(model, source, target);
                assertEquals(want, r.logLikelihood(), 1e-4 * Math.abs(want), "split after " + split);
                assertEquals(target.length, r.tokens());
                assertArrayEquals(source, r.sourceIds());
                assertArrayEquals(target, r.targetIds());
            }
        }
    }

    /**
     * The real tiny T5 (a {@code pytorch_model.bin}) through {@code ScoreRun.run} with ids, against the plain-torch
     * reference's logits of the same ids (torchref-t5/t5_tiny_random, tools/torch_reference/make_t5_fixtures.py):
     * its first sequence with the labels before the first ignored one (the decoder is causal, so their logits
     * do not depend on what follows).
     */
    @Test
    void t5LogLikelihoodEqualsTheTorchReference() throws URISyntaxException {
        URL url = ScoreRunTest.class.getResource("/torchref-t5/t5_tiny_random/expected.safetensors");
        if (url == null) fail("fixture torchref-t5/t5_tiny_random is missing; regenerate it with tools/torch_reference/make_t5_fixtures.py");
        float[] ids, labels, logits;
        int srcLen, tgtLen, vocab;
        try (Safetensors.File expected = Safetensors.open(Path.of(url.toURI()))) {
            ids = expected.read("input_ids").values();
            labels = expected.read("labels").values();
            logits = expected.read("logits").values();
            srcLen = expected.entries().get("input_ids").shape()[1];
            tgtLen = expected.entries().get("labels").shape()[1];
            vocab = expected.entries().get("logits").shape()[2];
        }
        int scored = 0;
        while (scored < tgtLen && labels[scored] >= 0) scored++;
        assertTrue(scored > 1, "the fixture's first labels are scored");
        int[] source = new int[srcLen], target = new int[scored];
        double want = 0;
        for (int i = 0; i < srcLen; i++) source[i] = Math.round(ids[i]);
        for (int i = 0; i < scored; i++) {
            target[i] = Math.round(labels[i]);
            want += logSoftmax(logits, i * vocab, vocab, target[i]);
        }
        Path model = dev.shears.SharedData.require("models/t5-tiny-random");
        ScoreRun.Result r = ScoreRun.run(new ScoreRun.Request(model, Optional.empty(), new ScoreRun.Side.Ids(source), new ScoreRun.Side.Ids(target)));
        assertEquals(want, r.logLikelihood(), 1e-5 * Math.abs(want));
        assertEquals(scored, r.tokens());
        assertArrayEquals(source, r.sourceIds());
    }

    private static double logSoftmax(float[] logits, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        return logits[off + target] - max - Math.log(sum);
    }

    @Test
    void textIsEncodedWithTheTokenizersDefaultSpecialTokens() {
        // a Llama-style tokenizer: BOS before the source, nothing after the target
        Tokenizer llama = new Chars(true, false);
        assertArrayEquals(new int[] {1, 'a', 'b'}, ScoreRun.sourceIds(llama, new ScoreRun.Side.Text("ab")));
        assertArrayEquals(new int[] {'c'}, ScoreRun.targetIds(llama, new ScoreRun.Side.Text("c")));
        // T5-style: no BOS, EOS after the target; an empty source starts with EOS, as lm-eval's empty context
        Tokenizer t5 = new Chars(false, true);
        assertArrayEquals(new int[] {'a'}, ScoreRun.sourceIds(t5, new ScoreRun.Side.Text("a")));
        assertArrayEquals(new int[] {2}, ScoreRun.sourceIds(t5, new ScoreRun.Side.Text("")));
        assertArrayEquals(new int[] {'c', 2}, ScoreRun.targetIds(t5, new ScoreRun.Side.Text("c")));
        // an encoder's source ends with EOS too
        assertArrayEquals(new int[] {'a', 2}, ScoreRun.encoderIds(t5, new ScoreRun.Side.Text("a")));
        // ids are used as given
        assertArrayEquals(new int[] {7, 8}, ScoreRun.sourceIds(llama, new ScoreRun.Side.Ids(new int[] {7, 8})));
        assertArrayEquals(new int[] {9}, ScoreRun.targetIds(t5, new ScoreRun.Side.Ids(new int[] {9})));
    }

    @Test
    void badIdsAreRefusedInOneLine() throws URISyntaxException {
        Path dir = Path.of(ScoreRunTest.class.getResource("/torchref/llama_gqa/expected.safetensors").toURI()).getParent();
        try (Model model = ModelLoader.load(dir)) {
            int vocab = model.config().vocabSize();
            String outside = assertThrows(ShearsException.class, () -> ScoreRun.score(model, new int[] {1}, new int[] {vocab})).getMessage();
            assertEquals("target id " + vocab + " at position 0 is outside the model's vocabulary [0, " + vocab + ")", outside);
            assertTrue(assertThrows(ShearsException.class, () -> ScoreRun.score(model, new int[] {1}, new int[0])).getMessage().contains("nothing to score"));
            int[] tooLong = new int[model.config().maxSeqLen()];
            assertTrue(assertThrows(ShearsException.class, () -> ScoreRun.score(model, new int[] {1, 2}, tooLong)).getMessage().contains("context is"));
            assertFalse(ScoreRun.score(model, new int[] {1}, new int[] {2}).logLikelihood() > 0);
        }
    }

    /** One id per character (ids below 3 are BOS 1 and EOS 2), with a choice of which special tokens it adds. */
    private record Chars(boolean addsBos, boolean addsEos) implements Tokenizer {
        @Override
        public int vocabSize() {
            return 256;
        }

        @Override
        public int[] encode(String text) {
            return text.chars().toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) if (id > 2) b.append((char) id);
            return b.toString();
        }

        @Override
        public String piece(int id) {
            return String.valueOf((char) id);
        }

        @Override
        public int bosId() {
            return 1;
        }

        @Override
        public int eosId() {
            return 2;
        }

        @Override
        public PieceType pieceType(int id) {
            return id < 3 ? PieceType.CONTROL : PieceType.NORMAL;
        }
    }
}
