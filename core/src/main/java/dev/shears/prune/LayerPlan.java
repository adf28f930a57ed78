package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.ModelConfig;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What one decoder layer keeps: per per-layer {@link Axis} (query heads, key/value heads, FFN
 * neurons), indices into the parent layer, strictly increasing. Every kept query head's group must be
 * among the kept key/value heads, and every kept group must keep the same number of query heads, so
 * the grouping stays valid; no heads removes the attention sub-layer, no neurons the FFN sub-layer.
 *
 * @param kept  false when the whole layer is removed (every axis is then empty)
 * @param units kept unit indices of every per-layer axis
 */
public record LayerPlan(boolean kept, Map<Axis, int[]> units) {
    /** The per-layer axes, in the order plans are written. */
    public static final List<Axis> AXES = Arrays.stream(Axis.values()).filter(a -> a.perLayer).toList();

    public LayerPlan {
        Map<Axis, int[]> copy = new EnumMap<>(Axis.class);
        for (Axis a : AXES) {
            int[] u = units.get(a);
            if (u == null) throw new IllegalArgumentException("layer plan has no " + a.key);
            copy.put(a, u.clone());
        }
        units = copy;
    }

    /** A kept layer with these units. */
    public static LayerPlan of(Map<Axis, int[]> units) {
        return new LayerPlan(true, units);
    }

    /** The removed layer. */
    public static LayerPlan removed() {
        Map<Axis, int[]> none = new EnumMap<>(Axis.class);
        for (Axis a : AXES) none.put(a, new int[0]);
        return new LayerPlan(false, none);
    }

    /** Keeps everything of layer {@code layer}. */
    public static LayerPlan all(ModelConfig config, int layer) {
        Map<Axis, int[]> all = new EnumMap<>(Axis.class);
        for (Axis a : AXES) all.put(a, IndexSets.range(a.units(config, layer)));
        return of(all);
    }

    /** The kept indices along one per-layer axis (a copy). */
    public int[] kept(Axis axis) {
        int[] u = units.get(axis);
        if (u == null) throw new IllegalArgumentException(axis.key + " is not a per-layer axis");
        return u.clone();
    }

    /** How many units of an axis are kept. */
    public int count(Axis axis) {
        return units.get(axis).length;
    }

    @Override
    public Map<Axis, int[]> units() {
        Map<Axis, int[]> copy = new EnumMap<>(Axis.class);
        units.forEach((a, u) -> copy.put(a, u.clone()));
        return copy;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LayerPlan p) || kept != p.kept) return false;
        for (Axis a : AXES) if (!Arrays.equals(units.get(a), p.units.get(a))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        int h = Boolean.hashCode(kept);
        for (Axis a : AXES) h = 31 * h + Arrays.hashCode(units.get(a));
        return h;
    }

    @Override
    public String toString() {
        if (!kept) return "LayerPlan[removed]";
        return "LayerPlan[heads=" + Arrays.toString(units.get(Axis.HEAD)) + ", kvHeads=" + Arrays.toString(units.get(Axis.KV_HEAD)) + ", ffn="
                + count(Axis.FFN) + " neurons]";
    }
}
