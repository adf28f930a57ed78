package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanBuilderTest {
    private static ModelConfig sixLayers() {
        return ModelConfig.uniform(dev.shears.model.Architecture.LLAMA, 24, 6, 4, 2, 6, 40, 50, 64, 1e-5f, 10000, true, false);
    }

    private static List<int[]> calibration(ModelConfig c, int count, int seqLen) {
        Random r = new Random(9);
        List<int[]> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] s = new int[seqLen + 1];
            for (int t = 0; t < s.length; t++) s[t] = r.nextInt(c.vocabSize());
            batches.add(s);
        }
        return batches;
    }

    @ParameterizedTest
    @EnumSource(Criterion.class)
    void everyCriterionLandsOnTheTargetShape(Criterion criterion) {
        ModelConfig c = sixLayers();
        Model model = TinyModels.random(c, 4);
        ImportanceScores scores = Importance.compute(model, criterion, calibration(c, 3, 8), 1, 2, Progress.SILENT);
        PruneTarget target = PruneTarget.uniform(4, 16, 2, 1, 24);
        PruningPlan plan = PlanBuilder.build(c, scores, target);
        Model pruned = Slicer.slice(model, plan);
        ModelConfig p = pruned.config();
        assertEquals(4, p.numLayers());
        assertEquals(16, p.dim());
        assertTrue(p.isUniform());
        assertEquals(new LayerShape(2, 1, 24), p.layer(0));
        float[] logits = Transformer.forward(pruned, new int[] {1, 2, 3}, 1, 3, Activations.forInference(p, 1, 3), MaskSet.NONE);
        for (float x : logits) assertTrue(Float.isFinite(x));
    }

    @Test
    void magnitudeDropsTheZeroedHeadAndNeuron() {
        ModelConfig c = TinyModels.gqa();
        Model model = TinyModels.random(c, 2);
        int hd = c.headDim();
        // head 3 of layer 1: zero query rows and output columns; neuron 7 of layer 0: zero gate/up rows and down column
        float[] q = model.weights().get(TensorRole.QUERY, 1);
        Arrays.fill(q, 3 * hd * c.dim(), 4 * hd * c.dim(), 0f);
        float[] o = model.weights().get(TensorRole.OUTPUT, 1);
        int qWidth = c.layer(1).numHeads() * hd;
        for (int r = 0; r < c.dim(); r++) Arrays.fill(o, r * qWidth + 3 * hd, r * qWidth + 4 * hd, 0f);
        for (TensorRole role : List.of(TensorRole.GATE, TensorRole.UP)) Arrays.fill(model.weights().get(role, 0), 7 * c.dim(), 8 * c.dim(), 0f);
        float[] down = model.weights().get(TensorRole.DOWN, 0);
        for (int r = 0; r < c.dim(); r++) down[r * 40 + 7] = 0f;

        ImportanceScores s = Importance.compute(model, Criterion.MAGNITUDE, List.of(), 0, 0, Progress.SILENT);
        assertEquals(0.0, s.of(Axis.HEAD, 1)[3], 1e-12);
        assertEquals(0.0, s.of(Axis.FFN, 0)[7], 1e-12);
        PruningPlan plan = PlanBuilder.build(c, s, PruneTarget.uniform(3, 24, 2, 2, 39));
        assertArrayEquals(new int[] {0, 2}, plan.layers().get(1).kept(Axis.HEAD), "one head per group kept; the zero head 3 is not");
        assertFalse(Arrays.stream(plan.layers().get(0).kept(Axis.FFN)).anyMatch(i -> i == 7));
    }

    @Test
    void blockInfluenceDropsTheLayerThatDoesNothing() {
        ModelConfig c = sixLayers();
        Model model = TinyModels.random(c, 6);
        Arrays.fill(model.weights().get(TensorRole.OUTPUT, 3), 0f);
        Arrays.fill(model.weights().get(TensorRole.DOWN, 3), 0f);
        ImportanceScores s = Importance.compute(model, Criterion.BLOCK_INFLUENCE, calibration(c, 2, 6), 0, 0, Progress.SILENT);
        assertEquals(0.0, s.of(Axis.LAYER)[3], 1e-6, "an identity layer has no influence");
        PruningPlan plan = PlanBuilder.build(c, s, PruneTarget.uniform(5, 24, 4, 2, 40));
        assertFalse(plan.layers().get(3).kept());
    }

    @Test
    void angularDropsAContiguousBlockAndEveryKIsEvenlySpaced() {
        ModelConfig c = sixLayers();
        Model model = TinyModels.random(c, 8);
        ImportanceScores angular = Importance.compute(model, Criterion.ANGULAR, calibration(c, 2, 6), 0, 2, Progress.SILENT);
        PruningPlan plan = PlanBuilder.build(c, angular, PruneTarget.uniform(4, 24, 4, 2, 40));
        int first = -1;
        for (int l = 0; l < 6; l++) if (!plan.layers().get(l).kept()) { first = l; break; }
        assertFalse(plan.layers().get(first + 1).kept(), "the two dropped layers are consecutive");

        ImportanceScores everyK = Importance.compute(model, Criterion.EVERY_K, List.of(), 0, 0, Progress.SILENT);
        PruningPlan even = PlanBuilder.build(c, everyK, PruneTarget.uniform(4, 24, 4, 2, 40));
        boolean[] kept = new boolean[6];
        for (int l = 0; l < 6; l++) kept[l] = even.layers().get(l).kept();
        assertArrayEquals(new boolean[] {true, true, false, true, false, true}, kept);

        PruningPlan explicit = PlanBuilder.build(c, everyK, PruneTarget.uniform(4, 24, 4, 2, 40).droppingSubLayers(0, 0).with(List.of(0, 5), false));
        assertFalse(explicit.layers().get(0).kept());
        assertFalse(explicit.layers().get(5).kept());
    }

    @Test
    void nonUniformKeepsTheUniformTotalsAndSubLayersCanBeDropped() {
        ModelConfig c = sixLayers();
        Model model = TinyModels.random(c, 10);
        ImportanceScores s = Importance.compute(model, Criterion.TAYLOR, calibration(c, 2, 6), 0, 0, Progress.SILENT);
        PruningPlan plan = PlanBuilder.build(c, s, PruneTarget.uniform(6, 24, 2, 1, 20).droppingSubLayers(1, 2).with(List.of(), true));
        ModelConfig p = plan.resultConfig(c);
        int attention = 0, ffnLayers = 0, ffnTotal = 0, kvTotal = 0;
        for (LayerShape shape : p.layers()) {
            if (shape.hasAttention()) attention++;
            if (shape.hasFfn()) ffnLayers++;
            ffnTotal += shape.ffnDim();
            kvTotal += shape.numKvHeads();
        }
        assertEquals(5, attention);
        assertEquals(4, ffnLayers);
        assertEquals(20 * 4, ffnTotal);
        assertEquals(5, kvTotal);
        Model pruned = Slicer.slice(model, plan);
        Transformer.forward(pruned, new int[] {3, 4}, 1, 2, Activations.forInference(p, 1, 2), MaskSet.NONE);
    }

    @Test
    void impossibleTargetsAreRefusedClearly() {
        ModelConfig c = TinyModels.gqa();
        ImportanceScores s = Importance.compute(TinyModels.random(c, 1), Criterion.RANDOM, List.of(), 3, 0, Progress.SILENT);
        ShearsException e = assertThrows(ShearsException.class, () -> PlanBuilder.build(c, s, PruneTarget.uniform(3, 24, 6, 3, 40)));
        assertTrue(e.getMessage().contains("kv heads"), e.getMessage());
        assertThrows(ShearsException.class, () -> PlanBuilder.build(c, s, PruneTarget.uniform(4, 24, 4, 2, 40)));
        assertThrows(ShearsException.class, () -> PlanBuilder.build(c, s, PruneTarget.uniform(3, 24, 4, 2, 41)));
    }
}
