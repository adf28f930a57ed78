package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.ModelConfig;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A score per prunable unit (higher = more important), keyed by {@link Axis}: hidden channels, query
 * heads and FFN neurons (per layer), whole layers and each attention and FFN sub-layer. Key/value
 * groups are scored by their heads ({@link #kvGroups}). One calibration serves several prunings:
 * scores are saved as JSON and reloaded ({@link PlanFiles}).
 *
 * @param criterion how they were computed
 * @param rows      per scored axis, [row][unit] (one row for model-wide axes, one per layer otherwise)
 * @param samples   calibration sequences used (0 for data-free criteria)
 */
public record ImportanceScores(Criterion criterion, Map<Axis, double[][]> rows, int samples) {
    /** The scored axes, in the order scores are drawn and written. */
    public static final List<Axis> AXES = List.of(Axis.HIDDEN, Axis.LAYER, Axis.ATTENTION_LAYER, Axis.FFN_LAYER, Axis.HEAD, Axis.FFN);

    public ImportanceScores {
        rows = new EnumMap<>(rows);
        for (Axis a : AXES) if (!rows.containsKey(a)) throw new IllegalArgumentException("scores lack axis " + a.key);
    }

    /** All scores 0, shaped for {@code c}. */
    public static ImportanceScores zeros(ModelConfig c, Criterion criterion, int samples) {
        Map<Axis, double[][]> rows = new EnumMap<>(Axis.class);
        for (Axis a : AXES) {
            double[][] r = new double[a.rows(c)][];
            for (int i = 0; i < r.length; i++) r[i] = new double[a.units(c, i)];
            rows.put(a, r);
        }
        return new ImportanceScores(criterion, rows, samples);
    }

    /** The scores of one row of an axis, live. */
    public double[] of(Axis axis, int row) {
        double[][] r = rows.get(axis);
        if (r == null) throw new IllegalArgumentException("no scores for " + axis.key);
        return r[row];
    }

    /** The scores of a one-row axis (hidden channels, layers, sub-layers), live. */
    public double[] of(Axis axis) {
        if (axis.perLayer) throw new IllegalArgumentException(axis.key + " has one row per layer");
        return of(axis, 0);
    }

    /** The rows of a per-layer axis, live. */
    public double[][] perLayer(Axis axis) {
        return rows.get(axis);
    }

    /** Whether units of this axis carry their own scores. */
    public static boolean scores(Axis axis) {
        return AXES.contains(axis);
    }

    /** Applies {@code action} to every row of every axis, in {@link #AXES} order. */
    public void forEachRow(Consumer<double[]> action) {
        for (Axis a : AXES) for (double[] r : rows.get(a)) action.accept(r);
    }

    /** The number of scores: units of every row of every axis. */
    public int size() {
        int size = 0;
        for (Axis a : AXES) for (double[] r : rows.get(a)) size += r.length;
        return size;
    }

    /** Every score, row by row in {@link #forEachRow} order. */
    public double[] values() {
        double[] values = new double[size()];
        int[] at = {0};
        forEachRow(r -> {
            System.arraycopy(r, 0, values, at[0], r.length);
            at[0] += r.length;
        });
        return values;
    }

    /** Overwrites every score with {@code values}, row by row in {@link #forEachRow} order (the inverse of {@link #values}). */
    public void setValues(double[] values) {
        if (values.length != size()) throw new IllegalArgumentException(values.length + " values for " + size() + " scores");
        int[] at = {0};
        forEachRow(r -> {
            System.arraycopy(values, at[0], r, 0, r.length);
            at[0] += r.length;
        });
    }

    /** The same scores recorded as computed by another criterion (block influence from an activation pass). */
    public ImportanceScores as(Criterion other) {
        return new ImportanceScores(other, rows, samples);
    }

    /** Width scores (units inside layers) from this, depth scores (layers and sub-layers) from {@code depth}, recorded under depth's criterion. */
    public ImportanceScores withDepthFrom(ImportanceScores depth) {
        Map<Axis, double[][]> merged = new EnumMap<>(rows);
        for (Axis a : AXES) if (a.isDepth()) merged.put(a, depth.rows.get(a));
        return new ImportanceScores(depth.criterion, merged, Math.max(samples, depth.samples));
    }

    /** Score of each KV group of a layer: the sum of its query heads' scores. */
    public double[] kvGroups(int layer, int groupSize) {
        double[] h = of(Axis.HEAD, layer);
        double[] g = new double[h.length / Math.max(groupSize, 1)];
        for (int i = 0; i < h.length; i++) g[i / groupSize] += h[i];
        return g;
    }
}
