package dev.shears.l0;

import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.ModelConfig;
import dev.shears.prune.PruneTarget;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Learnable hard-concrete gates of every gated {@link Axis}, stored as one flat {@code logAlpha} vector
 * (so the optimizer, clamping and checkpoints treat them as one tensor). Axis {@code a}, row {@code r}
 * (a layer, or 0 for the one-row axes) occupies {@code [offset(a, r), offset(a, r) + units(a, r))}.
 * Axes the target does not prune are inactive: their gates stay exactly 1, are never sampled and
 * carry no Lagrangian term (as Sheared-LLaMA creates masks only for pruned modules).
 * <p>
 * The gates act on the model through a {@link MaskSet}: hidden and FFN gates directly; the gate at query
 * head h of layer l is {@code z[KV_HEAD, l, h / groupSize] · z[HEAD, l, h]}; the gate on layer l's attention
 * (FFN) block is {@code z[LAYER, l] · z[ATTENTION_LAYER, l]} ({@code z[LAYER, l] · z[FFN_LAYER, l]}). Which
 * depth gates carry the target's layer count is {@link LayerGates}.
 */
public final class L0Gates {
    /** Mean of the initial logAlpha: every unit starts on (Sheared-LLaMA: N(5, 0.01)). */
    public static final double INIT_MEAN = 5;
    public static final double INIT_STD = 0.01;

    private final ModelConfig parent;
    private final PruneTarget target;
    private final LayerGates layerGates;
    private final int[][] offsets;
    private final int[][] units;
    private final boolean[] active;
    private final int size;
    private final double[] logAlpha;
    private final double[] u;
    private final double[] z;
    private final MaskSet masks;

    /** Gates with one gate per layer (the reference's default). */
    public L0Gates(ModelConfig parent, PruneTarget target) {
        this(parent, target, LayerGates.LAYER);
    }

    public L0Gates(ModelConfig parent, PruneTarget target, LayerGates layerGates) {
        this.parent = parent;
        this.target = target;
        this.layerGates = layerGates;
        int axes = Axis.values().length;
        offsets = new int[axes][0];
        units = new int[axes][0];
        active = new boolean[axes];
        int next = 0;
        for (Axis a : Axis.gatedAxes()) {
            int rows = a.rows(parent);
            offsets[a.ordinal()] = new int[rows];
            units[a.ordinal()] = new int[rows];
            for (int r = 0; r < rows; r++) {
                int count = a.units(parent, r);
                offsets[a.ordinal()][r] = next;
                units[a.ordinal()][r] = count;
                next += count;
                int counted = countedUnits(a, r);
                if (counted > 0 && keptInRow(a, r) < counted) active[a.ordinal()] = true;
            }
        }
        size = next;
        logAlpha = new double[size];
        u = new double[size];
        z = new double[size];
        Arrays.fill(logAlpha, INIT_MEAN);
        Arrays.fill(z, 1);
        masks = MaskSet.ones(parent);
    }

    /** logAlpha ~ N(5, 0.01) on active axes, seeded. */
    public void initialize(long seed) {
        Random r = new Random(seed);
        for (int i = 0; i < size; i++) logAlpha[i] = INIT_MEAN + INIT_STD * r.nextGaussian();
    }

    public ModelConfig parent() {
        return parent;
    }

    public PruneTarget target() {
        return target;
    }

    public LayerGates layerGates() {
        return layerGates;
    }

    /** Number of gates of all axes together. */
    public int size() {
        return size;
    }

    /** The flat logAlpha vector, live: the optimizer updates it in place. */
    public double[] logAlpha() {
        return logAlpha;
    }

    public int rows(Axis axis) {
        return offsets[axis.ordinal()].length;
    }

    public int offset(Axis axis, int row) {
        return offsets[axis.ordinal()][row];
    }

    public int units(Axis axis, int row) {
        return units[axis.ordinal()][row];
    }

    /**
     * Units of one row the target keeps; for {@link Axis#HEAD} the kept query heads if every group kept
     * {@link PruneTarget#headsPerGroup()} of its heads, so the kept fraction is the within-group fraction.
     */
    int keptInRow(Axis axis, int row) {
        boolean perLayerGate = layerGates == LayerGates.LAYER;
        if (axis == Axis.LAYER) return perLayerGate ? target.kept(axis) : parent.numLayers();
        // with one gate per layer the sub-layer gates learn only the sub-layers removed from kept layers
        if (axis.isDepth()) return perLayerGate ? countedUnits(axis, row) - target.dropped(axis.subLayer) : target.kept(axis);
        if (!axis.perLayer) return target.kept(axis);
        LayerShape shape = parent.layer(row);
        if (!axis.subLayer.isIn(shape)) return 0;
        return axis == Axis.HEAD ? target.headsPerGroup() * shape.numKvHeads() : target.kept(axis);
    }

    /** Whether the target prunes this axis (otherwise its gates are fixed at 1). */
    public boolean isActive(Axis axis) {
        return active[axis.ordinal()];
    }

    /** Whether a unit exists in the parent: a sub-layer gate of a layer without that sub-layer gates nothing. */
    public boolean counts(Axis axis, int row, int unit) {
        return axis.exists(parent, row, unit);
    }

    /** Units of a row that exist in the parent. */
    public int countedUnits(Axis axis, int row) {
        int c = 0;
        for (int i = 0; i < units(axis, row); i++) if (counts(axis, row, i)) c++;
        return c;
    }

    /** The axis of a flat index. */
    public Axis axisOf(int index) {
        Axis found = Axis.HIDDEN;
        for (Axis a : Axis.gatedAxes()) if (offset(a, 0) <= index) found = a;
        return found;
    }

    /**
     * Draws a training sample: for every active gate {@code u ~ U(0, 1)} from a generator seeded by
     * (seed, step, micro-batch), so a resumed run draws the same gates, and {@code z = HardConcrete.sample(logAlpha, u)}.
     * Micro-batch 0 draws what earlier versions drew for the whole step.
     *
     * @return the gates as a MaskSet (one buffer, overwritten by the next call)
     */
    public MaskSet sample(long seed, long step, int micro) {
        SplittableRandom random = uniforms(seed, step, micro);
        for (int i = 0; i < size; i++) {
            u[i] = random.nextDouble();
            z[i] = isActive(axisOf(i)) ? HardConcrete.sample(logAlpha[i], u[i]) : 1;
        }
        return write(z);
    }

    /**
     * The generator of the uniforms of (seed, step, micro-batch): the golden-ratio and SplitMix64 multipliers spread the
     * three over the seed space; micro-batch 0 draws what earlier versions drew for the whole step. Shared with
     * {@link EncoderDecoderGates#sample}.
     */
    static SplittableRandom uniforms(long seed, long step, int micro) {
        long stream = seed * 0x9E3779B97F4A7C15L + step;
        return new SplittableRandom(micro == 0 ? stream : stream * 0xBF58476D1CE4E5B9L + micro);
    }

    /** The flat gate values of the last sample (for tests). */
    double[] lastSample() {
        return z;
    }

    /** Sets explicit uniforms (for tests) and returns the sample they give. */
    public MaskSet sampleWith(double[] uniforms) {
        System.arraycopy(uniforms, 0, u, 0, size);
        for (int i = 0; i < size; i++) z[i] = isActive(axisOf(i)) ? HardConcrete.sample(logAlpha[i], u[i]) : 1;
        return write(z);
    }

    /** Writes flat gate values into the MaskSet buffer: head sites get the product of group and head gates. */
    public MaskSet write(double[] values) {
        int n = parent.numLayers();
        copy(values, offset(Axis.HIDDEN, 0), masks.get(Axis.HIDDEN));
        float[] attention = masks.get(Axis.ATTENTION_LAYER), ffn = masks.get(Axis.FFN_LAYER);
        int a0 = offset(Axis.ATTENTION_LAYER, 0), f0 = offset(Axis.FFN_LAYER, 0), l0 = offset(Axis.LAYER, 0);
        for (int l = 0; l < n; l++) {
            attention[l] = (float) (values[l0 + l] * values[a0 + l]);
            ffn[l] = (float) (values[l0 + l] * values[f0 + l]);
        }
        for (int l = 0; l < n; l++) {
            copy(values, offset(Axis.FFN, l), masks.get(Axis.FFN, l));
            float[] heads = masks.get(Axis.HEAD, l);
            int group = parent.layer(l).groupSize();
            int g0 = offset(Axis.KV_HEAD, l), h0 = offset(Axis.HEAD, l);
            for (int h = 0; h < heads.length; h++) heads[h] = (float) (values[g0 + h / group] * values[h0 + h]);
        }
        return masks;
    }

    private static void copy(double[] from, int offset, float[] to) {
        for (int i = 0; i < to.length; i++) to[i] = (float) from[offset + i];
    }

    /**
     * The chain rule from the gate sites to logAlpha, for the last sample:
     * {@code dLogAlpha += dL/dz · dz/dlogAlpha} with {@code dz/dlogAlpha = HardConcrete.sampleGradient}, where a
     * head site's gradient splits as {@code dz_head = dm·z_group} and {@code dz_group = Σ_heads dm·z_head}, and a
     * sub-layer site's as {@code dz_sub = dm·z_layer} and {@code dz_layer = Σ_sub-layers dm·z_sub}.
     *
     * @param dMasks    gradients of the loss at the gate sites (from {@code Transformer.backward})
     * @param dLogAlpha [size], accumulated into
     */
    public void backward(MaskSet dMasks, double[] dLogAlpha) {
        double[] dz = new double[size];
        add(dMasks.get(Axis.HIDDEN), dz, offset(Axis.HIDDEN, 0));
        float[] dAttention = dMasks.get(Axis.ATTENTION_LAYER), dFfn = dMasks.get(Axis.FFN_LAYER);
        int a0 = offset(Axis.ATTENTION_LAYER, 0), f0 = offset(Axis.FFN_LAYER, 0), l0 = offset(Axis.LAYER, 0);
        for (int l = 0; l < parent.numLayers(); l++) {
            dz[a0 + l] += dAttention[l] * z[l0 + l];
            dz[f0 + l] += dFfn[l] * z[l0 + l];
            dz[l0 + l] += dAttention[l] * z[a0 + l] + dFfn[l] * z[f0 + l];
        }
        for (int l = 0; l < parent.numLayers(); l++) {
            add(dMasks.get(Axis.FFN, l), dz, offset(Axis.FFN, l));
            float[] dHeads = dMasks.get(Axis.HEAD, l);
            int group = parent.layer(l).groupSize();
            int g0 = offset(Axis.KV_HEAD, l), h0 = offset(Axis.HEAD, l);
            for (int h = 0; h < dHeads.length; h++) {
                dz[h0 + h] += dHeads[h] * z[g0 + h / group];
                dz[g0 + h / group] += dHeads[h] * z[h0 + h];
            }
        }
        for (int i = 0; i < size; i++) {
            if (isActive(axisOf(i))) dLogAlpha[i] += dz[i] * HardConcrete.sampleGradient(logAlpha[i], u[i]);
        }
    }

    private static void add(float[] from, double[] to, int offset) {
        for (int i = 0; i < from.length; i++) to[offset + i] += from[i];
    }

    /** P(z > 0) of every gate (1 on inactive axes). */
    public double[] keepProbabilities() {
        double[] p = new double[size];
        for (int i = 0; i < size; i++) p[i] = isActive(axisOf(i)) ? HardConcrete.keepProbability(logAlpha[i]) : 1;
        return p;
    }

    /** dP(z > 0)/dlogAlpha of every gate (0 on inactive axes). */
    public double[] keepProbabilityGradients() {
        double[] d = new double[size];
        for (int i = 0; i < size; i++) d[i] = isActive(axisOf(i)) ? HardConcrete.keepProbabilityGradient(logAlpha[i]) : 0;
        return d;
    }

    /** The deterministic scores {@code σ(logAlpha/β·0.8)} (1 on inactive axes). */
    public double[] scores() {
        double[] s = new double[size];
        for (int i = 0; i < size; i++) s[i] = isActive(axisOf(i)) ? HardConcrete.deterministicScore(logAlpha[i]) : 1;
        return s;
    }

    /** Clamps every logAlpha to [log 1e-2, log 1e2], as after each optimizer step. */
    public void clamp() {
        for (int i = 0; i < size; i++) logAlpha[i] = HardConcrete.clampLogAlpha(logAlpha[i]);
    }
}
