package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DESIGN.md's central invariant: the model with gate 0 on dropped units gives the logits of the sliced model. */
class MaskedEqualsSlicedTest {
    static int[] subset(Random r, int n, int min) {
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < n; i++) if (r.nextDouble() < 0.6) kept.add(i);
        while (kept.size() < min) {
            int i = r.nextInt(n);
            if (!kept.contains(i)) kept.add(i);
        }
        return kept.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    static PruningPlan randomPlan(ModelConfig c, Random r, int[] mustKeepTokens) {
        List<LayerPlan> layers = new ArrayList<>();
        boolean anyKept = false;
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape s = c.layer(l);
            if (r.nextDouble() < 0.2 && (anyKept || l < c.numLayers() - 1)) {
                layers.add(LayerPlan.removed());
                continue;
            }
            anyKept = true;
            int[] kv = s.hasAttention() && r.nextDouble() < 0.85 ? subset(r, s.numKvHeads(), 1) : new int[0];
            int perGroup = kv.length == 0 ? 0 : 1 + r.nextInt(s.groupSize());
            int[] heads = new int[kv.length * perGroup];
            for (int g = 0; g < kv.length; g++) {
                int[] inGroup = subset(r, s.groupSize(), perGroup);
                inGroup = Arrays.copyOf(inGroup, perGroup);
                for (int i = 0; i < perGroup; i++) heads[g * perGroup + i] = kv[g] * s.groupSize() + inGroup[i];
            }
            int[] ffn = s.hasFfn() && r.nextDouble() < 0.85 ? subset(r, s.ffnDim(), 1) : new int[0];
            layers.add(LayerPlan.of(Map.of(Axis.HEAD, heads, Axis.KV_HEAD, kv, Axis.FFN, ffn)));
        }
        int[] vocab = subset(r, c.vocabSize(), 1);
        java.util.TreeSet<Integer> v = new java.util.TreeSet<>();
        for (int t : vocab) v.add(t);
        for (int t : mustKeepTokens) v.add(t);
        return new PruningPlan(subset(r, c.dim(), 1), layers, v.stream().mapToInt(Integer::intValue).toArray());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomPlansOnEveryAxis(int seed) {
        Random r = new Random(seed);
        ModelConfig config = seed % 2 == 0 ? TinyModels.gqa() : TinyModels.nonUniformWithBias();
        Model parent = TinyModels.random(config, seed);
        int n = 7;
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = r.nextInt(config.vocabSize());
        PruningPlan plan = randomPlan(config, r, tokens);
        Model sliced = Slicer.slice(parent, plan);

        float[] masked = Transformer.forward(parent, tokens, 1, n, Activations.forInference(config, 1, n), plan.toMasks(config)).clone();
        int[] newTokens = new int[n];
        int[] vocab = plan.vocab();
        for (int i = 0; i < n; i++) newTokens[i] = Arrays.binarySearch(vocab, tokens[i]);
        ModelConfig small = sliced.config();
        float[] cut = Transformer.forward(sliced, newTokens, 1, n, Activations.forInference(small, 1, n), MaskSet.NONE);

        float[] expected = new float[n * vocab.length];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < vocab.length; j++) expected[t * vocab.length + j] = masked[t * config.vocabSize() + vocab[j]];
        }
        assertClose("masked vs sliced logits, " + plan, expected, cut, 1e-5, 1e-4);

        long[] count = {0};
        sliced.weights().forEachTensor((role, layer, t) -> count[0] += t.size());
        assertEquals(Slicer.parameterCount(config, plan), count[0], "parameter count from the plan equals the sliced tensors");
    }

    @Test
    void keepAllIsTheIdentityBitForBit() {
        for (ModelConfig config : List.of(TinyModels.gqa(), TinyModels.nonUniformWithBias())) {
            Model parent = TinyModels.random(config, 3);
            Model same = Slicer.slice(parent, PruningPlan.keepAll(config)).dense();
            assertEquals(config, same.config());
            parent.weights().forEach((role, layer, values) -> assertArrayEquals(values, same.weights().get(role, layer), role + " " + layer));
            int[] tokens = {1, 5, 9, 2};
            float[] a = Transformer.forward(parent, tokens, 1, 4, Activations.forInference(config, 1, 4), MaskSet.NONE).clone();
            float[] b = Transformer.forward(same, tokens, 1, 4, Activations.forInference(config, 1, 4), MaskSet.NONE);
            assertArrayEquals(a, b);
        }
    }

    @Test
    void invalidGqaGroupingIsRefused() {
        ModelConfig config = TinyModels.gqa(); // 4 heads, 2 kv heads: heads 0,1 → kv 0; heads 2,3 → kv 1
        PruningPlan all = PruningPlan.keepAll(config);
        List<LayerPlan> layers = new ArrayList<>(all.layers());
        layers.set(0, LayerPlan.of(Map.of(Axis.HEAD, new int[] {0, 2}, Axis.KV_HEAD, new int[] {0}, Axis.FFN, IndexSets.range(40))));
        ShearsException e = assertThrows(ShearsException.class, () -> all.withLayers(layers).validate(config));
        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
        layers.set(0, LayerPlan.of(Map.of(Axis.HEAD, new int[] {0, 1, 2}, Axis.KV_HEAD, new int[] {0, 1}, Axis.FFN, IndexSets.range(40))));
        assertThrows(ShearsException.class, () -> all.withLayers(layers).validate(config));
        layers.set(0, LayerPlan.of(Map.of(Axis.HEAD, new int[] {1, 3}, Axis.KV_HEAD, new int[] {0, 1}, Axis.FFN, IndexSets.range(40))));
        all.withLayers(layers).validate(config);
    }
}
