package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Kept indices on every axis, per layer: the complete description of a structured pruning, as data.
 * Saved as {@code pruning-plan.json} beside the pruned weights. {@link #validate} checks it against
 * the parent before anything is cut.
 *
 * @param hidden kept hidden channels
 * @param layers one entry per parent layer
 * @param vocab  kept vocabulary entries (new id i is old id vocab[i])
 */
public record PruningPlan(int[] hidden, List<LayerPlan> layers, int[] vocab) {
    public PruningPlan {
        hidden = hidden.clone();
        layers = List.copyOf(layers);
        vocab = vocab.clone();
    }

    /** The plan that keeps everything. */
    public static PruningPlan keepAll(ModelConfig parent) {
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < parent.numLayers(); l++) layers.add(LayerPlan.all(parent, l));
        return new PruningPlan(IndexSets.range(parent.dim()), layers, IndexSets.range(parent.vocabSize()));
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    @Override
    public int[] vocab() {
        return vocab.clone();
    }

    /** The kept unit indices along any axis but the depth axes: per layer for per-layer axes ({@code layer} is ignored otherwise). */
    public int[] kept(Axis axis, int layer) {
        return switch (axis) {
            case HIDDEN -> hidden();
            case VOCAB -> vocab();
            default -> {
                if (!axis.perLayer) throw new IllegalArgumentException(axis.key + ": a plan keeps layers, not a list of " + axis.key);
                yield layers.get(layer).kept(axis);
            }
        };
    }

    public PruningPlan withLayers(List<LayerPlan> newLayers) {
        return new PruningPlan(hidden, newLayers, vocab);
    }

    public PruningPlan withVocab(int[] newVocab) {
        return new PruningPlan(hidden, layers, newVocab);
    }

    /** Throws a {@link ShearsException} naming the first problem. */
    public void validate(ModelConfig parent) {
        require(IndexSets.problem(hidden, parent.dim()), "hidden");
        if (hidden.length == 0) throw new ShearsException("pruning plan keeps no hidden channel");
        require(IndexSets.problem(vocab, parent.vocabSize()), "vocab");
        if (vocab.length == 0) throw new ShearsException("pruning plan keeps no vocabulary entry");
        if (layers.size() != parent.numLayers()) {
            throw new ShearsException("pruning plan has " + layers.size() + " layers, the model has " + parent.numLayers());
        }
        int keptLayers = 0;
        for (int l = 0; l < layers.size(); l++) {
            LayerPlan p = layers.get(l);
            LayerShape s = parent.layer(l);
            String where = "layer " + l;
            if (!p.kept()) {
                if (LayerPlan.AXES.stream().anyMatch(a -> p.count(a) > 0)) throw new ShearsException(where + " is removed but lists kept units");
                continue;
            }
            keptLayers++;
            for (Axis a : LayerPlan.AXES) require(IndexSets.problem(p.kept(a), a.units(parent, l)), where + " " + a.key);
            int[] heads = p.kept(Axis.HEAD);
            int[] kvHeads = p.kept(Axis.KV_HEAD);
            if ((heads.length == 0) != (kvHeads.length == 0)) {
                throw new ShearsException(where + ": keeps " + heads.length + " query heads but " + kvHeads.length + " kv heads");
            }
            if (heads.length == 0) continue;
            int group = s.groupSize();
            int perGroup = heads.length / kvHeads.length;
            if (perGroup * kvHeads.length != heads.length) {
                throw new ShearsException(where + ": " + heads.length + " query heads cannot be shared evenly by " + kvHeads.length + " kv heads");
            }
            // query head i of the pruned layer must read kv head i / perGroup of the pruned layer
            for (int i = 0; i < heads.length; i++) {
                int kv = heads[i] / group;
                if (kv != kvHeads[i / perGroup]) {
                    throw new ShearsException(where + ": query head " + heads[i] + " belongs to kv head " + kv
                            + "; each kept kv head must keep the same number of its own query heads (GQA grouping)");
                }
            }
        }
        if (keptLayers == 0) throw new ShearsException("pruning plan removes every layer");
    }

    /** The shape of the pruned model. */
    public ModelConfig resultConfig(ModelConfig parent) {
        List<LayerShape> shapes = new ArrayList<>();
        for (LayerPlan p : layers) {
            if (p.kept()) shapes.add(new LayerShape(p.count(Axis.HEAD), p.count(Axis.KV_HEAD), p.count(Axis.FFN)));
        }
        return parent.withLayers(shapes).withDim(hidden.length).withVocabSize(vocab.length)
                .withTokens(remap(parent.bosId()), remap(parent.eosId()));
    }

    /**
     * The gates that make the parent behave like the pruned model: 0 on every dropped unit, 1 elsewhere.
     * (Vocabulary pruning has no gate: compare logits at the kept ids.)
     */
    public MaskSet toMasks(ModelConfig parent) {
        MaskSet masks = MaskSet.filled(parent, 0f);
        for (int c : hidden) masks.get(Axis.HIDDEN)[c] = 1f;
        for (int l = 0; l < layers.size(); l++) {
            LayerPlan p = layers.get(l);
            if (!p.kept()) continue;
            for (int h : p.kept(Axis.HEAD)) masks.get(Axis.HEAD, l)[h] = 1f;
            for (int i : p.kept(Axis.FFN)) masks.get(Axis.FFN, l)[i] = 1f;
            masks.get(Axis.ATTENTION_LAYER)[l] = p.count(Axis.HEAD) > 0 ? 1f : 0f;
            masks.get(Axis.FFN_LAYER)[l] = p.count(Axis.FFN) > 0 ? 1f : 0f;
        }
        return masks;
    }

    private int remap(int oldId) {
        if (oldId < 0) return oldId;
        int i = Arrays.binarySearch(vocab, oldId);
        return i >= 0 ? i : -1;
    }

    private static void require(String problem, String where) {
        if (problem != null) throw new ShearsException("pruning plan, " + where + ": " + problem);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PruningPlan p && Arrays.equals(hidden, p.hidden) && layers.equals(p.layers) && Arrays.equals(vocab, p.vocab);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(hidden) + layers.hashCode()) + Arrays.hashCode(vocab);
    }

    @Override
    public String toString() {
        return "PruningPlan[hidden=" + hidden.length + ", layers=" + layers + ", vocab=" + vocab.length + "]";
    }
}
