package dev.shears.objective;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.SharedData;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.data.TokenFolders;
import dev.shears.format.TokenizerLoader;
import dev.shears.kernel.CrossEntropy;
import dev.shears.objective.Denoiser.Kind;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenoisingBatcherTest {
    static final int EOS = 1, PAD = 0, LENGTH = 128;
    /** Mode ids for R, S (two pieces, as "[S2S]" is in T5's vocabulary) and X. */
    static final int[] R_MODE = {32100}, S_MODE = {32101, 32102}, X_MODE = {32103};

    /** Chunk i: 128 tokens in [3, 30003), a function of i, clear of EOS, padding, sentinels and mode ids. */
    static final ChunkSource SYNTHETIC = new ChunkSource() {
        @Override
        public int length() {
            return LENGTH;
        }

        @Override
        public void read(long index, int[] out) {
            for (int p = 0; p < LENGTH; p++) out[p] = 3 + (int) Math.floorMod(index * 7919 + p * 31L + p * p, 30000L);
        }
    };

    static DenoiserTokens tokens(DenoiserMixture mixture, int sentinels) {
        int[][] modes = mixture.denoisers().stream().map(d -> switch (d.kind()) {
            case R -> R_MODE;
            case S -> S_MODE;
            case X -> X_MODE;
        }).toArray(int[][]::new);
        return new DenoiserTokens(EOS, PAD, Arrays.copyOf(SpanCorruptionTest.T5_SENTINELS, sentinels), modes);
    }

    static DenoisingBatcher ul2(long seed) {
        DenoiserMixture mixture = DenoiserMixture.ul2();
        return new DenoisingBatcher(mixture, tokens(mixture, 100), SYNTHETIC, 130, 86, seed);
    }

    static int[] chunk(long index) {
        int[] raw = new int[LENGTH];
        SYNTHETIC.read(index, raw);
        return raw;
    }

    @Test
    void everyExampleCarriesItsModeTokenIsPaddedAndRebuildsItsChunk() {
        DenoisingBatcher batcher = ul2(16);
        DenoiserMixture mixture = batcher.mixture();
        int[] seen = new int[7];
        for (int step = 0; step < 20; step++) {
            DenoisingBatcher.Batch batch = batcher.next(32);
            assertEquals(step * 32L, batch.firstExample());
            for (int b = 0; b < 32; b++) {
                int d = batch.denoisers()[b];
                seen[d]++;
                Denoiser denoiser = mixture.denoisers().get(d);
                int[] in = Arrays.copyOfRange(batch.inputs(), b * 130, b * 130 + batch.inputLengths()[b]);
                int[] out = Arrays.copyOfRange(batch.targets(), b * 86, b * 86 + batch.targetLengths()[b]);
                for (int i = b * 130 + in.length; i < (b + 1) * 130; i++) assertEquals(PAD, batch.inputs()[i]);
                for (int i = b * 86 + out.length; i < (b + 1) * 86; i++) assertEquals(CrossEntropy.IGNORE, batch.targets()[i]);
                int[] mode = denoiser.kind() == Kind.R ? R_MODE : denoiser.kind() == Kind.S ? S_MODE : X_MODE;
                assertArrayEquals(mode, Arrays.copyOf(in, mode.length), denoiser.label());
                assertEquals(EOS, in[in.length - 1]);
                assertEquals(EOS, out[out.length - 1]);
                int[] body = Arrays.copyOfRange(in, mode.length, in.length - 1), labels = Arrays.copyOf(out, out.length - 1);
                int[] raw = chunk(batch.firstExample() + b);
                if (denoiser.kind() == Kind.S) {
                    assertTrue(labels.length >= 1 && labels.length <= 64, "S targets " + labels.length);
                    assertArrayEquals(raw, concat(body, labels));
                } else {
                    int noise = SpanCorruption.noiseTokens(LENGTH, denoiser.noiseDensity());
                    int spans = SpanCorruption.noiseSpans(noise, denoiser.meanSpanLength());
                    assertEquals(LENGTH - noise + spans, body.length, denoiser.label());
                    assertEquals(noise + spans, labels.length, denoiser.label());
                    assertEquals(SpanCorruptionTest.T5_SENTINELS[0], labels[0], "targets start with <extra_id_0>");
                    assertEquals(SpanCorruptionTest.T5_SENTINELS[spans - 1], body[body.length - 1], "inputs end with the last span's sentinel");
                    assertArrayEquals(raw, fill(body, labels), denoiser.label());
                }
            }
        }
        for (int d = 0; d < 7; d++) assertTrue(seen[d] > 0, "denoiser " + d + " drawn");
    }

    @Test
    void denoisersAreDrawnByTheirWeights() {
        DenoisingBatcher batcher = ul2(3);
        double[] p = batcher.mixture().probabilities();
        int n = 14_000;
        int[] counts = new int[7];
        for (DenoisingBatcher.Drawn drawn : batcher.draw(n)) counts[drawn.denoiser()]++;
        for (int d = 0; d < 7; d++) assertEquals(n * p[d], counts[d], 5 * Math.sqrt(n * p[d] * (1 - p[d])), "denoiser " + d);
        batcher.weights(new double[] {0, 0, 0, 0, 0, 0, 1});
        for (DenoisingBatcher.Drawn drawn : batcher.draw(200)) assertEquals(6, drawn.denoiser());
    }

    @Test
    void resumeFromASavedStateIsBitIdentical() throws Exception {
        DenoisingBatcher a = ul2(42);
        for (int s = 0; s < 3; s++) a.next(16);
        DynamicUl2 rule = DynamicUl2.published(new double[] {2.0, 2.1, 2.5, 3.0, 3.1, 2.9, 3.4});
        a.weights(rule.update(a.weights(), new double[] {2.5, 2.0, 2.6, 3.9, 3.0, 3.6, 3.4}));
        a.next(16);
        String saved = a.state().toString();
        List<DenoisingBatcher.Batch> rest = new ArrayList<>();
        for (int s = 0; s < 4; s++) rest.add(a.next(16));

        DenoisingBatcher b = ul2(42);
        b.restore(new ObjectMapper().readTree(saved), "checkpoint-4");
        assertEquals(64, b.examples());
        assertArrayEquals(a.weights(), b.weights());
        for (DenoisingBatcher.Batch expected : rest) {
            DenoisingBatcher.Batch got = b.next(16);
            assertEquals(expected.firstExample(), got.firstExample());
            assertArrayEquals(expected.inputs(), got.inputs());
            assertArrayEquals(expected.targets(), got.targets());
            assertArrayEquals(expected.inputLengths(), got.inputLengths());
            assertArrayEquals(expected.targetLengths(), got.targetLengths());
            assertArrayEquals(expected.denoisers(), got.denoisers());
        }
        assertEquals(a.state().toString(), b.state().toString());
        // the moved weights changed the draws: a run that kept the start mixture differs after the update
        DenoisingBatcher unmoved = ul2(42);
        for (int s = 0; s < 4; s++) unmoved.next(16);
        assertNotEquals(Arrays.toString(rest.get(0).denoisers()), Arrays.toString(unmoved.next(16).denoisers()));
    }

    @Test
    void restoreRefusesTheStateOfAnotherRunInOneLine() {
        JsonNode state = ul2(42).state();
        ShearsException e = assertThrows(ShearsException.class, () -> ul2(43).restore(state, "ck"));
        assertTrue(e.getMessage().startsWith("ck: the denoising state is for") && !e.getMessage().contains("\n"), e.getMessage());
        DenoiserMixture openBa = DenoiserMixture.openBa();
        DenoisingBatcher other = new DenoisingBatcher(openBa, tokens(openBa, 100), SYNTHETIC, 132, 86, 42);
        e = assertThrows(ShearsException.class, () -> other.restore(state, "ck"));
        assertTrue(e.getMessage().startsWith("ck: the denoising state is for") && e.getMessage().contains("PLAIN"), e.getMessage());
    }

    @Test
    void lengthsThatCannotHoldAnExampleAndTooFewSentinelsAreOneLineErrors() {
        DenoiserMixture mixture = DenoiserMixture.ul2();
        ShearsException e = assertThrows(ShearsException.class, () -> new DenoisingBatcher(mixture, tokens(mixture, 100), SYNTHETIC, 129, 86, 1));
        assertEquals("denoiser S(r=0.25) makes up to 130 input and 65 target tokens of 128-token examples; inputLength 129 and targetLength 86 are too short",
                e.getMessage());
        e = assertThrows(ShearsException.class, () -> new DenoisingBatcher(mixture, tokens(mixture, 100), SYNTHETIC, 130, 85, 1));
        assertTrue(e.getMessage().startsWith("denoiser X(μ=3.0,r=0.5) makes up to 87 input and 86 target tokens"), e.getMessage());
        e = assertThrows(ShearsException.class, () -> new DenoisingBatcher(mixture, tokens(mixture, 20), SYNTHETIC, 130, 86, 1));
        assertEquals("denoiser X(μ=3.0,r=0.5) cuts 128-token examples into 21 spans, but the tokenizer has 20 sentinels and 64 tokens stay; "
                + "use shorter examples or longer spans", e.getMessage());
    }

    @Test
    void openBaSequentialLayoutWrapsTheRestInTheFirstSentinel() {
        DenoiserMixture mixture = DenoiserMixture.openBa();
        DenoisingBatcher batcher = new DenoisingBatcher(mixture, tokens(mixture, 100), SYNTHETIC, 132, 86, 5);
        batcher.weights(new double[] {0, 0, 1, 0, 0, 0, 0});
        int sentinel = SpanCorruptionTest.T5_SENTINELS[0], max = (int) Math.rint(0.25 * LENGTH);
        int draws = 3000, lowest = Integer.MAX_VALUE, highest = 0;
        double sum = 0;
        for (DenoisingBatcher.Drawn drawn : batcher.draw(draws)) {
            int[] in = drawn.example().inputs(), out = drawn.example().targets();
            assertArrayEquals(S_MODE, Arrays.copyOf(in, 2));
            assertEquals(sentinel, in[in.length - 2]);
            assertEquals(EOS, in[in.length - 1]);
            assertEquals(sentinel, out[0]);
            assertEquals(EOS, out[out.length - 1]);
            int t = out.length - 2;
            lowest = Math.min(lowest, t);
            highest = Math.max(highest, t);
            sum += t;
        }
        // OpenBA's s_trans: targets uniform on [1, round(0.25·L)] = [1, 32]; mean 16.5, sd sqrt((32² − 1) / 12)
        assertEquals(1, lowest);
        assertEquals(max, highest);
        assertEquals((1 + max) / 2.0, sum / draws, 5 * Math.sqrt((max * max - 1) / 12.0 / draws));
    }

    @Test
    void sequentialAtHalfDensityIsT5sPrefixLm() {
        DenoiserMixture mixture = new DenoiserMixture(List.of(Denoiser.sequential(0.5, "")), new double[] {1}, SequentialLayout.PLAIN);
        DenoiserTokens ids = new DenoiserTokens(EOS, PAD, new int[0], new int[][] {{}});
        DenoisingBatcher batcher = new DenoisingBatcher(mixture, ids, SYNTHETIC, LENGTH, LENGTH, 9);
        int[] inputLengths = new int[LENGTH + 1];
        for (DenoisingBatcher.Drawn drawn : batcher.draw(20_000)) inputLengths[drawn.example().inputs().length - 1]++;
        // random_prefix_noise_mask: inputs uniform on [1, L − 1]
        assertEquals(0, inputLengths[0]);
        assertEquals(0, inputLengths[LENGTH]);
        double expected = 20_000.0 / (LENGTH - 1);
        for (int k = 1; k < LENGTH; k++) assertEquals(expected, inputLengths[k], 5 * Math.sqrt(expected), "prefix " + k);
    }

    @Test
    void t5TokenizerGivesTheSentinelsAndModeTokens(@TempDir Path dir) {
        Tokenizer t5 = TokenizerLoader.load(SharedData.require("models/t5-tiny-random"));
        DenoiserMixture mixture = DenoiserMixture.ul2();
        DenoiserTokens ids = DenoiserTokens.of(t5, mixture);
        assertEquals(1, ids.eosId());
        assertEquals(0, ids.padId());
        assertEquals(100, ids.sentinels().length);
        for (int i = 0; i < 100; i++) assertEquals("<extra_id_" + i + ">", t5.piece(ids.sentinels()[i]));
        assertEquals(102, ids.sentinels()[0]);
        assertEquals("[NLU]", t5.decode(ids.modeIds(0)));
        assertEquals("[S2S]", t5.decode(ids.modeIds(2)));
        assertEquals("[NLG]", t5.decode(ids.modeIds(3)));
        // a batch from a prepared folder: chunk tokens are their positions, so each example names its chunk
        TokenDataset data = TokenFolders.counting(dir, "c4", 64 * 40, 10);
        DenoisingBatcher batcher = new DenoisingBatcher(mixture, ids, ChunkSource.shuffled(data, Split.TRAIN, 64, 7), 80, 48, 7);
        DenoisingBatcher.Batch batch = batcher.next(4);
        for (int b = 0; b < 4; b++) {
            int[] mode = ids.modeIds(batch.denoisers()[b]);
            assertArrayEquals(mode, Arrays.copyOfRange(batch.inputs(), b * 80, b * 80 + mode.length));
        }
    }

    @Test
    void shuffledChunksReadEveryChunkOncePerEpochInANewOrder(@TempDir Path dir) {
        TokenDataset data = TokenFolders.counting(dir, "d", 1005, 10);
        ChunkSource source = ChunkSource.shuffled(data, Split.TRAIN, 10, 11);
        int[] out = new int[10];
        int[][] order = new int[2][100];
        for (int epoch = 0; epoch < 2; epoch++) {
            boolean[] seen = new boolean[100];
            for (int i = 0; i < 100; i++) {
                source.read(epoch * 100L + i, out);
                int chunk = out[0] / 10;
                assertEquals(0, out[0] % 10);
                for (int p = 0; p < 10; p++) assertEquals(out[0] + p, out[p]);
                assertTrue(!seen[chunk], "chunk " + chunk + " twice in epoch " + epoch);
                seen[chunk] = true;
                order[epoch][i] = chunk;
            }
        }
        assertNotEquals(Arrays.toString(order[0]), Arrays.toString(order[1]));
        ShearsException e = assertThrows(ShearsException.class, () -> ChunkSource.shuffled(data, Split.HELDOUT, 11, 1));
        assertTrue(e.getMessage().endsWith("10 heldout tokens do not hold one example of 11 tokens"), e.getMessage());
    }

    /**
     * The held-out halves: of n = 7 chunks of 10 tokens (75 tokens), the final half is chunks 0..3 and the steering half
     * chunks 4..6, each read in order and wrapping around, the same whatever a run's seed; a split of one chunk is refused.
     */
    @Test
    void heldOutHalvesAreDisjointFixedAndInOrder(@TempDir Path dir) {
        TokenDataset data = TokenFolders.counting(dir, "d", 100, 75);
        int[] out = new int[10];
        for (HeldOutPart part : HeldOutPart.values()) {
            ChunkSource source = ChunkSource.heldOut(data, part, 10);
            int[] expected = part == HeldOutPart.FINAL ? new int[] {0, 1, 2, 3, 0} : new int[] {4, 5, 6, 4, 5};
            for (int i = 0; i < expected.length; i++) {
                source.read(i, out);
                assertEquals(expected[i] * 10, out[0], part + " chunk " + i);
                for (int p = 0; p < 10; p++) assertEquals(out[0] + p, out[p]);
            }
        }
        TokenDataset small = TokenFolders.counting(dir, "small", 100, 15);
        ShearsException e = assertThrows(ShearsException.class, () -> ChunkSource.heldOut(small, HeldOutPart.STEERING, 10));
        assertTrue(e.getMessage().endsWith("15 held-out tokens do not hold two examples of 10 tokens (one to steer the run by, one to report on); "
                + "prepare it with a larger --held-out"), e.getMessage());
    }

    /** Puts each sentinel's span from the targets back into the inputs. */
    static int[] fill(int[] inputs, int[] targets) {
        List<Integer> out = new ArrayList<>();
        for (int token : inputs) {
            if (!isSentinel(token)) {
                out.add(token);
                continue;
            }
            int at = indexOf(targets, token) + 1;
            while (at < targets.length && !isSentinel(targets[at])) out.add(targets[at++]);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** T5's sentinels are ids 32000 to 32099. */
    private static boolean isSentinel(int token) {
        return token >= 32000 && token <= 32099;
    }

    private static int indexOf(int[] a, int value) {
        for (int i = 0; i < a.length; i++) if (a[i] == value) return i;
        throw new AssertionError(value + " not in the targets");
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
