package dev.shears.l0;

import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import dev.shears.prune.IndexSets;
import dev.shears.prune.LayerPlan;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.Slicer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The closed-form expected size counts exactly what the Slicer keeps, at deterministic 0/1 gates. */
class ExpectedSizeTest {
    @Test
    void equalsTheSlicedParameterCountAtZeroOneGatesOfRandomPlans() {
        ModelConfig big = ModelConfig.uniform(dev.shears.model.Architecture.LLAMA, 32, 4, 8, 4, 6, 48, 70, 64, 1e-5f, 10000, false, false);
        for (ModelConfig c : List.of(TinyModels.gqa(), TinyModels.nonUniformWithBias(), big)) {
            L0Gates gates = new L0Gates(c, PruneTarget.uniform(1, 1, 1, 1, 1));
            Random r = new Random(c.hashCode());
            for (int trial = 0; trial < 40; trial++) {
                PruningPlan plan = randomPlan(c, r);
                double expected = ExpectedSize.parameters(gates, zeroOne(gates, plan));
                assertEquals(Slicer.parameterCount(c, plan), expected, 0.0, c.describe() + " " + plan);
            }
            assertEquals(c.parameterCount(), ExpectedSize.parameters(gates, ones(gates)), 0.0, "keep-all is the parent's size");
        }
    }

    @Test
    void sparsityIsZeroAtKeepAllAndTheTargetAtTheTargetPlan() {
        ModelConfig c = ModelConfig.uniform(dev.shears.model.Architecture.LLAMA, 32, 4, 8, 4, 6, 48, 70, 64, 1e-5f, 10000, true, false);
        PruneTarget t = PruneTarget.uniform(4, 20, 4, 4, 30); // all layers: a removed layer's width gates are moot
        L0Gates gates = new L0Gates(c, t);
        Random r = new Random(3);
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = r.nextGaussian() * 3;
        PruningPlan plan = Finalisation.plan(gates);
        double[] keep = zeroOne(gates, plan);
        for (Axis a : Axis.gatedAxes()) {
            assertEquals(0, ExpectedSize.sparsity(gates, ones(gates), a), 1e-12, a.key);
            assertEquals(ExpectedSize.targetSparsity(gates, a), ExpectedSize.sparsity(gates, keep, a), 1e-12, a.key);
        }
        assertEquals(t.config(c).parameterCount(), ExpectedSize.parameters(gates, keep), 0.0);
    }

    static double[] ones(L0Gates gates) {
        double[] p = new double[gates.size()];
        Arrays.fill(p, 1);
        return p;
    }

    /** Keep probabilities 1 on the plan's kept units, 0 elsewhere. */
    static double[] zeroOne(L0Gates gates, PruningPlan plan) {
        double[] p = new double[gates.size()];
        for (int j : plan.hidden()) p[gates.offset(Axis.HIDDEN, 0) + j] = 1;
        for (int l = 0; l < plan.layers().size(); l++) {
            LayerPlan lp = plan.layers().get(l);
            if (!lp.kept()) continue;
            p[gates.offset(Axis.LAYER, 0) + l] = 1;
            for (int g : lp.kept(Axis.KV_HEAD)) p[gates.offset(Axis.KV_HEAD, l) + g] = 1;
            for (int h : lp.kept(Axis.HEAD)) p[gates.offset(Axis.HEAD, l) + h] = 1;
            for (int i : lp.kept(Axis.FFN)) p[gates.offset(Axis.FFN, l) + i] = 1;
            if (lp.count(Axis.HEAD) > 0) p[gates.offset(Axis.ATTENTION_LAYER, 0) + l] = 1;
            if (lp.count(Axis.FFN) > 0) p[gates.offset(Axis.FFN_LAYER, 0) + l] = 1;
        }
        return p;
    }

    /** A random valid plan: removed layers and sub-layers, GQA groups with an equal number of their own heads. */
    static PruningPlan randomPlan(ModelConfig c, Random r) {
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape s = c.layer(l);
            if (l > 0 && r.nextDouble() < 0.2) {
                layers.add(LayerPlan.removed());
                continue;
            }
            int[] kv = s.hasAttention() && r.nextDouble() < 0.85 ? subset(r, s.numKvHeads()) : new int[0];
            int per = kv.length == 0 ? 0 : 1 + r.nextInt(s.groupSize());
            int[] heads = new int[kv.length * per];
            for (int g = 0; g < kv.length; g++) {
                int[] in = Arrays.copyOf(shuffled(r, s.groupSize()), per);
                Arrays.sort(in);
                for (int i = 0; i < per; i++) heads[g * per + i] = kv[g] * s.groupSize() + in[i];
            }
            int[] ffn = s.hasFfn() && r.nextDouble() < 0.85 ? subset(r, s.ffnDim()) : new int[0];
            layers.add(LayerPlan.of(Map.of(Axis.HEAD, heads, Axis.KV_HEAD, kv, Axis.FFN, ffn)));
        }
        return new PruningPlan(subset(r, c.dim()), layers, IndexSets.range(c.vocabSize()));
    }

    private static int[] subset(Random r, int n) {
        int k = 1 + r.nextInt(n);
        int[] s = Arrays.copyOf(shuffled(r, n), k);
        Arrays.sort(s);
        return s;
    }

    private static int[] shuffled(Random r, int n) {
        int[] a = IndexSets.range(n);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
