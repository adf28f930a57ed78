package dev.shears.model;

import java.util.Arrays;
import java.util.List;

/**
 * Gates on every prunable structure, keyed by {@link Axis}, each scaling its unit at one site of the
 * forward pass (docs/design.md, idea 3):
 * <ul>
 *   <li>{@link Axis#HIDDEN} [dim]: the embedding output, each attention and FFN block output, and every
 *       RMSNorm, whose mean of squares is then taken over the channels with a non-zero gate only;</li>
 *   <li>{@link Axis#HEAD} [layer][numHeads]: each head's context before the output projection;</li>
 *   <li>{@link Axis#FFN} [layer][ffnDim]: {@code silu(gate)·up} before the down projection;</li>
 *   <li>{@link Axis#ATTENTION_LAYER}, {@link Axis#FFN_LAYER} [numLayers]: the attention and FFN block
 *       outputs before the residual add.</li>
 * </ul>
 * Other axes have no site of their own (a key/value group gate reaches the model through its heads).
 * {@link #NONE} has no gates at all, so inference and plain training pay nothing. Gate values are
 * mutable: Taylor importance reads the gradient at 1, learned masks write sampled values.
 */
public final class MaskSet {
    /** The axes with a gate site, in the order the gates are stored. */
    public static final List<Axis> SITES = List.of(Axis.HIDDEN, Axis.HEAD, Axis.FFN, Axis.ATTENTION_LAYER, Axis.FFN_LAYER);

    /** No gates: the plain model. */
    public static final MaskSet NONE = new MaskSet(null);

    /** [axis ordinal][row][unit], null for axes without a site. */
    private final float[][][] gates;

    private MaskSet(float[][][] gates) {
        this.gates = gates;
    }

    /** Every gate present and equal to {@code value}. */
    public static MaskSet filled(ModelConfig config, float value) {
        float[][][] gates = new float[Axis.values().length][][];
        for (Axis a : SITES) {
            float[][] rows = new float[a.rows(config)][];
            for (int r = 0; r < rows.length; r++) rows[r] = new float[a.units(config, r)];
            gates[a.ordinal()] = rows;
        }
        MaskSet m = new MaskSet(gates);
        m.fill(value);
        return m;
    }

    /** Every gate present and 1: the same outputs as {@link #NONE}, with gate sites live. */
    public static MaskSet ones(ModelConfig config) {
        return filled(config, 1f);
    }

    /** True when gates are present (every site at once). */
    public boolean isActive() {
        return gates != null;
    }

    /** The gates of one row of an axis with a site: [units of that row]. */
    public float[] get(Axis axis, int row) {
        if (gates == null) throw new IllegalStateException("MaskSet.NONE has no gates");
        float[][] rows = gates[axis.ordinal()];
        if (rows == null) throw new IllegalArgumentException(axis + " has no gate site");
        return rows[row];
    }

    /** The gates of a one-row axis (hidden channels, sub-layers). */
    public float[] get(Axis axis) {
        if (axis.perLayer) throw new IllegalArgumentException(axis + " has one row per layer");
        return get(axis, 0);
    }

    /** Sets every gate to {@code value}. */
    public void fill(float value) {
        forEachRow(row -> Arrays.fill(row, value));
    }

    /** An independent copy of the gate values. */
    public MaskSet copy() {
        if (gates == null) return this;
        float[][][] copy = new float[gates.length][][];
        for (int a = 0; a < gates.length; a++) {
            if (gates[a] == null) continue;
            copy[a] = new float[gates[a].length][];
            for (int r = 0; r < gates[a].length; r++) copy[a][r] = gates[a][r].clone();
        }
        return new MaskSet(copy);
    }

    /** Applies {@code action} to every row of gates, site by site in {@link #SITES} storage order (none for {@link #NONE}). */
    public void forEachRow(java.util.function.Consumer<float[]> action) {
        if (gates == null) return;
        for (float[][] rows : gates) if (rows != null) for (float[] row : rows) action.accept(row);
    }
}
