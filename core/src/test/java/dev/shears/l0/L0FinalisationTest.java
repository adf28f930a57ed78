package dev.shears.l0;

import dev.shears.model.Activations;
import dev.shears.model.Architecture;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.SubLayer;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.tensor.Close;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finalisation: the exact target shape, and the folded, sliced model's logits equal the gated parent's. */
class L0FinalisationTest {
    static Stream<Arguments> cases() {
        ModelConfig untied = ModelConfig.uniform(Architecture.LLAMA, 24, 4, 6, 2, 4, 32, 40, 64, 1e-5f, 10000, false, true);
        return Stream.of(
                Arguments.of("gqa tied, every axis", TinyModels.gqa(), PruneTarget.uniform(2, 16, 1, 1, 20)),
                Arguments.of("gqa tied, groups kept", TinyModels.gqa(), PruneTarget.uniform(3, 20, 2, 2, 33)),
                Arguments.of("untied bias, heads inside groups", untied, PruneTarget.uniform(3, 24, 4, 2, 32)),
                Arguments.of("untied bias, a sub-layer dropped", untied, PruneTarget.uniform(3, 18, 3, 1, 12).droppingSubLayers(1, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void finalisedModelHasTheTargetShapeAndTheGatedLogits(String name, ModelConfig config, PruneTarget target) {
        Model parent = TinyModels.random(config, 9);
        L0Gates gates = new L0Gates(config, target);
        Random r = new Random(name.hashCode());
        // scores spread over (0, 1): kept units carry gate values far from 1, so folding is exercised
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = r.nextGaussian() * 2;
        PruningPlan plan = Finalisation.plan(gates);
        MaskSet masks = Finalisation.masks(gates, plan);
        Model pruned = Finalisation.finalise(parent, gates, plan);

        ModelConfig c = pruned.config();
        assertEquals(target.kept(Axis.LAYER), c.numLayers());
        assertEquals(target.kept(Axis.HIDDEN), c.dim());
        long withAttention = c.layers().stream().filter(s -> s.hasAttention()).count();
        long withFfn = c.layers().stream().filter(s -> s.hasFfn()).count();
        assertEquals(target.kept(Axis.LAYER) - target.dropped(SubLayer.ATTENTION), withAttention);
        assertEquals(target.kept(Axis.LAYER) - target.dropped(SubLayer.FFN), withFfn);
        c.layers().stream().filter(s -> s.hasAttention()).forEach(s -> {
            assertEquals(target.kept(Axis.HEAD), s.numHeads());
            assertEquals(target.kept(Axis.KV_HEAD), s.numKvHeads());
        });
        c.layers().stream().filter(s -> s.hasFfn()).forEach(s -> assertEquals(target.kept(Axis.FFN), s.ffnDim()));
        if (target.dropped(SubLayer.ATTENTION) == 0 && target.dropped(SubLayer.FFN) == 0) assertEquals(target.config(config), c);

        int seqLen = 7;
        int[] tokens = new int[seqLen];
        for (int i = 0; i < seqLen; i++) tokens[i] = r.nextInt(config.vocabSize());
        float[] gated = Transformer.forward(parent, tokens, 1, seqLen, Activations.forInference(config, 1, seqLen), masks).clone();
        float[] sliced = Transformer.forward(pruned, tokens, 1, seqLen, Activations.forInference(c, 1, seqLen), MaskSet.NONE);
        Close.assertClose(name + " logits", gated, sliced, 1e-5, 1e-5);
        boolean foldedSomething = false;
        for (float g : masks.get(Axis.HIDDEN)) foldedSomething |= g != 0f && Math.abs(g - 1) > 0.05;
        assertTrue(foldedSomething || !gates.isActive(Axis.HIDDEN), "gate values away from 1 were folded");
    }

    /** Six layers, every axis whole except depth: the target keeps 4 layers. */
    static final ModelConfig SIX = ModelConfig.uniform(Architecture.LLAMA, 16, 6, 2, 2, 8, 8, 20, 64, 1e-5f, 10000, false, false);

    /** logAlpha high (+4) everywhere, then the listed units of one depth axis low (−4). */
    static L0Gates depthGates(LayerGates mode, Axis axis, int... off) {
        L0Gates gates = new L0Gates(SIX, PruneTarget.uniform(4, 16, 2, 2, 8), mode);
        java.util.Arrays.fill(gates.logAlpha(), 4);
        for (int l : off) gates.logAlpha()[gates.offset(axis, 0) + l] = -4;
        return gates;
    }

    /** One gate per layer (the reference's default): the two layers whose gate is off go, whole; the others stay whole. */
    @org.junit.jupiter.api.Test
    void oneGatePerLayerRemovesTheLayersItsGatesSwitchOff() {
        L0Gates gates = depthGates(LayerGates.LAYER, Axis.LAYER, 1, 4);
        assertTrue(gates.isActive(Axis.LAYER) && !gates.isActive(Axis.ATTENTION_LAYER) && !gates.isActive(Axis.FFN_LAYER));
        PruningPlan plan = Finalisation.plan(gates);
        for (int l = 0; l < 6; l++) {
            boolean kept = l != 1 && l != 4;
            assertEquals(kept, plan.layers().get(l).kept(), "layer " + l);
            if (kept) assertTrue(plan.layers().get(l).count(Axis.HEAD) == 2 && plan.layers().get(l).count(Axis.FFN) == 8, "layer " + l + " whole");
        }
        // the layer gate scales both sub-layers of its layer
        MaskSet masks = gates.write(gates.scores());
        double layerScore = HardConcrete.deterministicScore(4);
        assertEquals(layerScore, masks.get(Axis.ATTENTION_LAYER)[0], 1e-6);
        assertEquals(HardConcrete.deterministicScore(-4), masks.get(Axis.FFN_LAYER)[1], 1e-6, "inactive sub-layer gates are 1");
    }

    /**
     * Issue 14's RedPajama case with separate sub-layer gates: attention switched off in layers 3 and 5, FFN in
     * 4 and 5. Keeping whole layers by summed scores kept layer 4's switched-off FFN and dropped layer 3's
     * switched-on one; each kind now keeps its own best sub-layers, so no sub-layer whose gate is off is kept
     * while one that is on is dropped, and layer 5, which keeps neither, is removed.
     */
    @org.junit.jupiter.api.Test
    void separateSubLayerGatesKeepEachKindsOwnBestSubLayers() {
        L0Gates gates = new L0Gates(SIX, PruneTarget.uniform(4, 16, 2, 2, 8), LayerGates.SUB_LAYERS);
        java.util.Arrays.fill(gates.logAlpha(), 4);
        for (int l : new int[] {3, 5}) gates.logAlpha()[gates.offset(Axis.ATTENTION_LAYER, 0) + l] = -4;
        for (int l : new int[] {4, 5}) gates.logAlpha()[gates.offset(Axis.FFN_LAYER, 0) + l] = -4;
        assertTrue(!gates.isActive(Axis.LAYER) && gates.isActive(Axis.ATTENTION_LAYER) && gates.isActive(Axis.FFN_LAYER));
        PruningPlan plan = Finalisation.plan(gates);
        boolean[] attention = {true, true, true, false, true, false}, ffn = {true, true, true, true, false, false};
        for (int l = 0; l < 6; l++) {
            assertEquals(attention[l] || ffn[l], plan.layers().get(l).kept(), "layer " + l);
            assertEquals(attention[l], plan.layers().get(l).count(Axis.HEAD) > 0, "attention of layer " + l);
            assertEquals(ffn[l], plan.layers().get(l).count(Axis.FFN) > 0, "FFN of layer " + l);
        }
        Model parent = TinyModels.random(SIX, 3);
        Model pruned = Finalisation.finalise(parent, gates, plan);
        assertEquals(5, pruned.config().numLayers(), "layers 3 and 4 keep one sub-layer each");
        int[] tokens = {1, 5, 7, 2, 9};
        float[] gated = Transformer.forward(parent, tokens, 1, 5, Activations.forInference(SIX, 1, 5), Finalisation.masks(gates, plan)).clone();
        float[] sliced = Transformer.forward(pruned, tokens, 1, 5, Activations.forInference(pruned.config(), 1, 5), MaskSet.NONE);
        Close.assertClose("sub-layer finalisation", gated, sliced, 1e-5, 1e-5);
    }
}
