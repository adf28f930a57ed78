package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.SubLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Turns importance scores and a target shape into a {@link PruningPlan}: the highest-scoring units are
 * kept (ties broken by index, so plans are deterministic). Heads are chosen GQA-aware: the best
 * {@code numKvHeads} groups by summed head score, then the best {@code numHeads / numKvHeads} query
 * heads inside each kept group, so the grouping stays valid.
 */
public final class PlanBuilder {
    private PlanBuilder() {
    }

    public static PruningPlan build(ModelConfig parent, ImportanceScores scores, PruneTarget target) {
        check(parent, target);
        boolean[] droppedLayer = chooseDroppedLayers(parent, scores, target);
        int[] hidden = topK(scores.of(Axis.HIDDEN), target.kept(Axis.HIDDEN));
        boolean[] noAttention = dropSubLayers(scores.of(Axis.ATTENTION_LAYER), droppedLayer, target.dropped(SubLayer.ATTENTION), "attention");
        boolean[] noFfn = dropSubLayers(scores.of(Axis.FFN_LAYER), droppedLayer, target.dropped(SubLayer.FFN), "FFN");

        int[] ffnCounts = new int[parent.numLayers()];
        int[] groupCounts = new int[parent.numLayers()];
        for (int l = 0; l < parent.numLayers(); l++) {
            ffnCounts[l] = target.kept(Axis.FFN);
            groupCounts[l] = target.kept(Axis.KV_HEAD);
        }
        if (target.nonUniform()) {
            ffnCounts = distribute(scores.perLayer(Axis.FFN), droppedLayer, noFfn, target.kept(Axis.FFN));
            double[][] groups = new double[parent.numLayers()][];
            for (int l = 0; l < parent.numLayers(); l++) groups[l] = scores.kvGroups(l, parent.layer(l).groupSize());
            groupCounts = distribute(groups, droppedLayer, noAttention, target.kept(Axis.KV_HEAD));
        }
        int headsPerGroup = target.kept(Axis.HEAD) / target.kept(Axis.KV_HEAD);

        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < parent.numLayers(); l++) {
            if (droppedLayer[l]) {
                layers.add(LayerPlan.removed());
                continue;
            }
            LayerShape s = parent.layer(l);
            int[] kv = new int[0];
            int[] heads = new int[0];
            if (!noAttention[l] && s.hasAttention() && groupCounts[l] > 0) {
                kv = topK(scores.kvGroups(l, s.groupSize()), groupCounts[l]);
                heads = new int[kv.length * headsPerGroup];
                for (int g = 0; g < kv.length; g++) {
                    double[] inGroup = Arrays.copyOfRange(scores.of(Axis.HEAD, l), kv[g] * s.groupSize(), (kv[g] + 1) * s.groupSize());
                    int[] best = topK(inGroup, headsPerGroup);
                    for (int i = 0; i < best.length; i++) heads[g * headsPerGroup + i] = kv[g] * s.groupSize() + best[i];
                }
            }
            int[] ffn = !noFfn[l] && s.hasFfn() ? topK(scores.of(Axis.FFN, l), ffnCounts[l]) : new int[0];
            layers.add(LayerPlan.of(Map.of(Axis.HEAD, heads, Axis.KV_HEAD, kv, Axis.FFN, ffn)));
        }
        PruningPlan plan = new PruningPlan(hidden, layers, IndexSets.range(parent.vocabSize()));
        plan.validate(parent);
        return plan;
    }

    /** Checks that a target fits the parent, before any work: every message names the axis and the limit. */
    public static void check(ModelConfig parent, PruneTarget t) {
        if (t.kept(Axis.LAYER) < 1 || t.kept(Axis.LAYER) > parent.numLayers()) {
            throw new ShearsException("target keeps " + t.kept(Axis.LAYER) + " layers; the model has " + parent.numLayers());
        }
        if (t.kept(Axis.HIDDEN) < 1 || t.kept(Axis.HIDDEN) > parent.dim()) throw new ShearsException("target hidden size " + t.kept(Axis.HIDDEN) + " is outside 1.." + parent.dim());
        if (t.kept(Axis.KV_HEAD) < 1 || t.kept(Axis.HEAD) % t.kept(Axis.KV_HEAD) != 0) {
            throw new ShearsException("target heads " + t.kept(Axis.HEAD) + " must be a positive multiple of target kv heads " + t.kept(Axis.KV_HEAD));
        }
        for (int l = 0; l < parent.numLayers(); l++) {
            LayerShape s = parent.layer(l);
            if (!s.hasAttention()) continue;
            if (t.kept(Axis.KV_HEAD) > s.numKvHeads() || t.kept(Axis.HEAD) / t.kept(Axis.KV_HEAD) > s.groupSize()) {
                throw new ShearsException("target " + t.kept(Axis.HEAD) + " heads / " + t.kept(Axis.KV_HEAD) + " kv heads does not fit layer " + l
                        + " (" + s.numHeads() + " heads / " + s.numKvHeads() + " kv heads): kv heads ≤ " + s.numKvHeads()
                        + " and heads per kv head ≤ " + s.groupSize());
            }
            if (t.kept(Axis.FFN) > s.ffnDim()) throw new ShearsException("target FFN width " + t.kept(Axis.FFN) + " exceeds layer " + l + "'s " + s.ffnDim());
        }
    }

    private static boolean[] chooseDroppedLayers(ModelConfig parent, ImportanceScores scores, PruneTarget t) {
        int n = parent.numLayers();
        int drop = n - t.kept(Axis.LAYER);
        boolean[] dropped = new boolean[n];
        if (!t.dropLayers().isEmpty()) {
            if (t.dropLayers().size() != drop) {
                throw new ShearsException("explicit layers to drop " + t.dropLayers() + " must number " + drop + " to keep " + t.kept(Axis.LAYER));
            }
            for (int l : t.dropLayers()) {
                if (l < 0 || l >= n) throw new ShearsException("layer " + l + " to drop is outside 0.." + (n - 1));
                dropped[l] = true;
            }
            return dropped;
        }
        if (drop == 0) return dropped;
        switch (scores.criterion()) {
            case ANGULAR -> dropped = contiguousRun(scores.of(Axis.LAYER), drop);
            case EVERY_K -> {
                // Jha et al.: evenly spaced and data-free: layers round((i+1)·n/(drop+1)); layer 0 always stays
                for (int i = 0; i < drop; i++) dropped[(int) Math.round((i + 1) * (double) n / (drop + 1))] = true;
            }
            default -> {
                for (int l : bottomK(scores.of(Axis.LAYER), drop)) dropped[l] = true;
            }
        }
        return dropped;
    }

    private static boolean[] dropSubLayers(double[] scores, boolean[] droppedLayer, int count, String what) {
        boolean[] dropped = new boolean[scores.length];
        if (count == 0) return dropped;
        double[] candidates = scores.clone();
        int available = 0;
        for (int l = 0; l < candidates.length; l++) {
            if (droppedLayer[l]) candidates[l] = Double.POSITIVE_INFINITY;
            else available++;
        }
        if (count > available) throw new ShearsException("cannot drop " + count + " " + what + " sub-layers: only " + available + " layers remain");
        for (int l : bottomK(candidates, count)) dropped[l] = true;
        return dropped;
    }

    /**
     * Non-uniform widths: the total of the uniform target is spread over layers by a global ranking of
     * unit scores, each normalised by its layer's mean so layers of different scale compete fairly; every
     * kept layer keeps at least one unit.
     */
    private static int[] distribute(double[][] scores, boolean[] droppedLayer, boolean[] removed, int perLayer) {
        int n = scores.length;
        int[] counts = new int[n];
        int active = 0;
        record Unit(int layer, double score) {
        }
        List<Unit> units = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            if (droppedLayer[l] || removed[l] || scores[l].length == 0) continue;
            active++;
            double mean = Arrays.stream(scores[l]).average().orElse(1);
            double norm = mean > 0 ? mean : 1;
            for (double v : scores[l]) units.add(new Unit(l, v / norm));
            counts[l] = 1;
        }
        // every active layer starts with one unit; the rest of the budget goes by global rank
        int budget = perLayer * active - active;
        units.sort(Comparator.comparingDouble(Unit::score).reversed());
        for (Unit u : units) {
            if (budget <= 0) break;
            if (counts[u.layer()] < scores[u.layer()].length) {
                counts[u.layer()]++;
                budget--;
            }
        }
        return counts;
    }

    /** Indices of the k largest values, sorted ascending (ties: lower index wins). */
    public static int[] topK(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed()
                .sorted((a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * Gromov et al.'s rule: the block of {@code drop} consecutive layers whose first layer scores lowest (the angular
     * distance from its input to the input {@code drop} layers later); the earliest on ties.
     *
     * @return [layers], true for the layers that go
     */
    public static boolean[] contiguousRun(double[] scores, int drop) {
        boolean[] dropped = new boolean[scores.length];
        if (drop == 0) return dropped;
        int start = 0;
        for (int l = 1; l + drop <= scores.length; l++) if (scores[l] < scores[start]) start = l;
        for (int l = start; l < start + drop; l++) dropped[l] = true;
        return dropped;
    }

    /** Indices of the k smallest values, sorted ascending (ties: higher index goes first). */
    public static int[] bottomK(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed()
                .sorted((a, b) -> scores[a] != scores[b] ? Double.compare(scores[a], scores[b]) : Integer.compare(b, a))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }
}
