package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.SubLayer;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The shape to prune to, for one-shot pruning and learned masks alike: kept units per {@link Axis}.
 * Per-layer axes give the count in every kept layer (a uniform shape unless {@code nonUniform});
 * {@link Axis#LAYER} the layers kept; {@link Axis#ATTENTION_LAYER} and {@link Axis#FFN_LAYER} how many
 * of the kept layers keep that sub-layer. The vocabulary has its own target ({@link VocabTarget}).
 * Build it from ratios, counts or a target config with {@link TargetParser}, which checks it against the parent.
 *
 * @param kept       kept units of every axis but {@link Axis#VOCAB}
 * @param dropLayers explicit layer indices to remove (overrides scores for depth when not empty)
 * @param nonUniform per-layer head and FFN counts follow importance; the totals equal the uniform target's
 */
public record PruneTarget(Map<Axis, Integer> kept, List<Integer> dropLayers, boolean nonUniform) {
    public PruneTarget {
        kept = Collections.unmodifiableMap(new EnumMap<>(kept));
        dropLayers = List.copyOf(dropLayers);
        for (Axis a : Axis.values()) {
            if (a != Axis.VOCAB && !kept.containsKey(a)) throw new IllegalArgumentException("target has no count for " + a.key);
        }
    }

    /** The same shape in every one of {@code layers} layers, every sub-layer kept. */
    public static PruneTarget uniform(int layers, int dim, int heads, int kvHeads, int ffn) {
        Map<Axis, Integer> k = new EnumMap<>(Axis.class);
        k.put(Axis.LAYER, layers);
        k.put(Axis.HIDDEN, dim);
        k.put(Axis.HEAD, heads);
        k.put(Axis.KV_HEAD, kvHeads);
        k.put(Axis.FFN, ffn);
        k.put(Axis.ATTENTION_LAYER, layers);
        k.put(Axis.FFN_LAYER, layers);
        return new PruneTarget(k, List.of(), false);
    }

    /** This target with {@code attention} attention and {@code ffn} FFN sub-layers removed from kept layers. */
    public PruneTarget droppingSubLayers(int attention, int ffn) {
        Map<Axis, Integer> k = new EnumMap<>(kept);
        k.put(Axis.ATTENTION_LAYER, kept(Axis.LAYER) - attention);
        k.put(Axis.FFN_LAYER, kept(Axis.LAYER) - ffn);
        return new PruneTarget(k, dropLayers, nonUniform);
    }

    /** This target removing the given layers, with widths following importance when {@code nonUniform}. */
    public PruneTarget with(List<Integer> layersToDrop, boolean nonUniformWidths) {
        return new PruneTarget(kept, layersToDrop, nonUniformWidths);
    }

    /** Units kept along an axis (per layer for per-layer axes). */
    public int kept(Axis axis) {
        Integer k = kept.get(axis);
        if (k == null) throw new IllegalArgumentException("a shape target has no count for " + axis.key);
        return k;
    }

    /** Kept layers that lose this sub-layer. */
    public int dropped(SubLayer subLayer) {
        return kept(Axis.LAYER) - kept(subLayer.axis());
    }

    /** Whether some kept layer loses a sub-layer (the child then has no uniform config). */
    public boolean dropsSubLayers() {
        return dropped(SubLayer.ATTENTION) > 0 || dropped(SubLayer.FFN) > 0;
    }

    /** Query heads kept inside each kept group. */
    public int headsPerGroup() {
        return kept(Axis.HEAD) / kept(Axis.KV_HEAD);
    }

    /** The target model's config: the parent's hyper-parameters with this shape in every layer. */
    public ModelConfig config(ModelConfig parent) {
        if (dropsSubLayers()) throw new IllegalStateException("a target that drops sub-layers has no uniform config");
        LayerShape shape = new LayerShape(kept(Axis.HEAD), kept(Axis.KV_HEAD), kept(Axis.FFN));
        return parent.withLayers(Collections.nCopies(kept(Axis.LAYER), shape)).withDim(kept(Axis.HIDDEN));
    }
}
