package dev.shears.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Transformer#forwardPacked}: every packed sequence's logits as if it ran alone after its prefix in a KV cache. */
class PackedForwardTest {
    static Stream<ModelConfig> configs() {
        return Stream.of(TinyModels.gqa(), TinyModels.nonUniformWithBias());
    }

    private static int[] tokens(int n, int vocab, Random r) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    /** The logits of every row of {@code rest} after {@code prefix} in a cache, by {@link Transformer#scoreCached} (or forwardCached). */
    private static float[] alone(Model model, int[] prefix, int[] rest, boolean scoring) {
        ModelConfig c = model.config();
        KvCache cache = new KvCache(c, prefix.length + rest.length);
        if (prefix.length > 0) {
            Activations a = Activations.forInference(c, 1, prefix.length);
            if (scoring) Transformer.scoreCached(model, prefix, cache, a, prefix.length);
            else Transformer.forwardCached(model, prefix, cache, a, prefix.length);
        }
        Activations a = Activations.forInference(c, 1, rest.length);
        float[] logits = scoring ? Transformer.scoreCached(model, rest, cache, a, 0) : Transformer.forwardCached(model, rest, cache, a, 0);
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
        // logits three rows at a time, to cover chunks
        Activations acts = Activations.forPacked(config, packed.rows() + 3, 3);
        Transformer.forwardPacked(model, packed, acts);
        int[] all = new int[packed.rows()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        float[] logits = new float[packed.rows() * vocab];
        for (int from = 0; from < all.length; from += 3) {
            int count = Math.min(3, all.length - from);
            System.arraycopy(Transformer.packedLogits(model, acts, all, from, count), 0, logits, from * vocab, count * vocab);
        }
        for (int s = 0; s < sequences.length; s++) {
            int[] prefix = shared[s] == 0 ? new int[0] : Arrays.copyOf(sequences[prefixOf[s]], shared[s]);
            int start = packed.start(s);
            float[] got = Arrays.copyOfRange(logits, start * vocab, (start + sequences[s].length) * vocab);
            assertArrayEquals(alone(model, prefix, sequences[s], true), got, "sequence " + s + " vs scoreCached");
            assertClose("sequence " + s + " vs forwardCached", alone(model, prefix, sequences[s], false), got, 1e-5, 1e-5);
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
