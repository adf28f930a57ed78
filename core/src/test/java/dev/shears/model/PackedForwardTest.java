package dev.shears.model;

import dev.shears.kernel.MatMul;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Transformer#forwardPacked}: every packed sequence's logits bit for bit as if it ran alone after its prefix in a KV cache. */
class PackedForwardTest {
    static Stream<ModelConfig> configs() {
        return Stream.of(TinyModels.gqa(), TinyModels.nonUniformWithBias());
    }

    private static int[] tokens(int n, int vocab, Random r) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    /**
     * The logits of every row of {@code rest} run by {@link Transformer#forwardCached} after the first {@code shared}
     * rows of {@code root}: the root run whole into the cache, then the cache cut back to the shared rows.
     */
    private static float[] alone(Model model, int[] root, int shared, int[] rest) {
        ModelConfig c = model.config();
        KvCache cache = new KvCache(c, root.length + rest.length);
        if (shared > 0) {
            Transformer.forwardCached(model, root, cache, Activations.forInference(c, 1, root.length), root.length);
            cache.truncate(shared);
        }
        float[] logits = Transformer.forwardCached(model, rest, cache, Activations.forInference(c, 1, rest.length), 0);
        return Arrays.copyOf(logits, rest.length * c.vocabSize());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void packedRowsGetWhatTheirSequencesGetAlone(ModelConfig config) {
        Model model = TinyModels.random(config, 13);
        int vocab = config.vocabSize();
        Random r = new Random(4);
        int[] a = tokens(9, vocab, r), c = tokens(1, vocab, r);
        int[][] sequences = {a, tokens(3, vocab, r), c, tokens(6, vocab, r), tokens(2, vocab, r), tokens(5, vocab, r)};
        int[] prefixOf = {-1, 0, -1, 0, 2, -1};
        int[] shared = {0, 4, 0, 9, 1, 0};
        PackedSequences.Builder builder = new PackedSequences.Builder();
        for (int s = 0; s < sequences.length; s++) builder.add(sequences[s], prefixOf[s], shared[s]);
        PackedSequences packed = builder.build();
        // logits at most three rows at a time, to cover chunks
        Activations acts = Activations.forPacked(config, packed.rows() + 3, 3);
        Transformer.forwardPacked(model, packed, acts);
        int[] all = new int[packed.rows()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        for (int s = 0; s < sequences.length; s++) {
            int n = sequences[s].length, start = packed.start(s);
            float[] got = new float[n * vocab];
            for (int from = 0; from < n; from += 3) {
                int count = Math.min(3, n - from);
                float[] logits = Transformer.packedLogits(model, acts, all, start + from, count, MatMul.Product.forRows(n));
                System.arraycopy(logits, 0, got, from * vocab, count * vocab);
            }
            int[] root = shared[s] == 0 ? new int[0] : sequences[prefixOf[s]];
            assertArrayEquals(alone(model, root, shared[s], sequences[s]), got, "sequence " + s + " (" + n + " rows) vs forwardCached");
        }
    }

    @Test
    void aSegmentContinuesTheLeadingRowsOfARootSegment() {
        PackedSequences.Builder b = new PackedSequences.Builder();
        int root = b.add(new int[] {1, 2, 3});
        int next = b.add(new int[] {4, 5}, root, 2);
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[] {6}, next, 1), "a continuation is not a root");
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[] {6}, root, 4), "longer than the root");
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[0]), "empty");
        PackedSequences p = b.build();
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, p.tokens());
        assertArrayEquals(new int[] {0, 1, 2, 2, 3}, p.positions());
        assertArrayEquals(new int[] {0, 0}, p.attention().prefixStart());
    }
}
