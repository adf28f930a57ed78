package dev.shears.l0;

import dev.shears.ShearsException;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.EncoderDecoderTarget;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Learnable hard-concrete gates of an encoder–decoder (T5, OpenBA), the counterpart of {@link L0Gates}: one flat
 * {@code logAlpha} vector over every {@link Row} of every {@link Axis}, in the order hidden, encoder layers, decoder layers,
 * then per encoder layer its heads and FFN neurons, per decoder layer its heads, cross-attention heads and FFN
 * neurons. Every row knows the units its target keeps ({@link EncoderDecoderTarget}: the fractions of every layer's own width,
 * at least one unit; the layer counts of each stack). Axes the target does not prune are inactive: their gates stay
 * exactly 1, are never sampled and carry no Lagrangian term. Each gate acts directly at its site of
 * {@link EncoderDecoderMasks} (no products of gates as GQA groups need in the decoder-only model).
 */
public final class EncoderDecoderGates {
    /** The gated axes of an encoder–decoder, each with its own λ pair. */
    public enum Axis {
        HIDDEN("hidden"), ENCODER_LAYER("encoderLayers"), DECODER_LAYER("decoderLayers"), HEAD("heads"), CROSS_HEAD("crossHeads"), FFN("ffn");

        /** The name in metrics and gates.json. */
        public final String key;

        Axis(String key) {
            this.key = key;
        }
    }

    /** Which stack a row's layer belongs to; {@link #MODEL} for the rows of model-wide axes (hidden, each stack's layer gates). */
    public enum Stack { MODEL, ENCODER, DECODER }

    /**
     * One row of gates: the units of one axis in one layer (or the one row of hidden and of each stack's layers).
     *
     * @param layer  the layer within its stack, or -1 for a model-wide row
     * @param offset its first gate in the flat vector
     * @param units  its gates
     * @param kept   the units the target keeps
     */
    public record Row(Axis axis, Stack stack, int layer, int offset, int units, int kept) {
        /** The final target sparsity of the row: {@code 1 − kept / units}. */
        public double targetSparsity() {
            return 1 - (double) kept / units;
        }
    }

    private final EncoderDecoderConfig parent;
    private final EncoderDecoderTarget target;
    private final List<Row> rows = new ArrayList<>();
    private final boolean[] active = new boolean[Axis.values().length];
    private final int size;
    private final double[] logAlpha;
    private final double[] u;
    private final double[] z;
    private final EncoderDecoderMasks masks;

    public EncoderDecoderGates(EncoderDecoderConfig parent, EncoderDecoderTarget target) {
        this.parent = parent;
        this.target = target;
        int nE = parent.encoder().size(), nD = parent.decoder().size();
        int next = add(Axis.HIDDEN, Stack.MODEL, -1, 0, parent.dim(), EncoderDecoderTarget.kept(parent.dim(), target.hidden()));
        next = add(Axis.ENCODER_LAYER, Stack.MODEL, -1, next, nE, layers(target.encoderLayers().orElse(nE), nE, "--enc-layers", "encoder"));
        next = add(Axis.DECODER_LAYER, Stack.MODEL, -1, next, nD, layers(target.decoderLayers().orElse(nD), nD, "--dec-layers", "decoder"));
        for (int l = 0; l < nE; l++) {
            EncoderDecoderConfig.Layer b = parent.encoder().get(l);
            next = add(Axis.HEAD, Stack.ENCODER, l, next, b.numHeads(), EncoderDecoderTarget.kept(b.numHeads(), target.heads()));
            next = add(Axis.FFN, Stack.ENCODER, l, next, b.ffnDim(), EncoderDecoderTarget.kept(b.ffnDim(), target.ffn()));
        }
        for (int l = 0; l < nD; l++) {
            EncoderDecoderConfig.Layer b = parent.decoder().get(l);
            next = add(Axis.HEAD, Stack.DECODER, l, next, b.numHeads(), EncoderDecoderTarget.kept(b.numHeads(), target.heads()));
            next = add(Axis.CROSS_HEAD, Stack.DECODER, l, next, b.crossHeads(), EncoderDecoderTarget.kept(b.crossHeads(), target.heads()));
            next = add(Axis.FFN, Stack.DECODER, l, next, b.ffnDim(), EncoderDecoderTarget.kept(b.ffnDim(), target.ffn()));
        }
        size = next;
        logAlpha = new double[size];
        u = new double[size];
        z = new double[size];
        Arrays.fill(logAlpha, L0Gates.INIT_MEAN);
        Arrays.fill(z, 1);
        masks = EncoderDecoderMasks.ones(parent);
    }

    private int add(Axis axis, Stack stack, int layer, int offset, int units, int kept) {
        rows.add(new Row(axis, stack, layer, offset, units, kept));
        if (kept < units) active[axis.ordinal()] = true;
        return offset + units;
    }

    private static int layers(int keep, int n, String option, String stack) {
        if (keep < 1 || keep > n) throw new ShearsException(option + " " + keep + " must keep 1.." + n + " " + stack + " layers");
        return keep;
    }

    /** logAlpha ~ N(5, 0.01), seeded (every unit starts on, as {@link L0Gates#initialize}). */
    public void initialize(long seed) {
        Random r = new Random(seed);
        for (int i = 0; i < size; i++) logAlpha[i] = L0Gates.INIT_MEAN + L0Gates.INIT_STD * r.nextGaussian();
    }

    public EncoderDecoderConfig parent() {
        return parent;
    }

    public EncoderDecoderTarget target() {
        return target;
    }

    /** Every row, in the order of the flat vector. */
    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The rows of one axis. */
    public List<Row> rows(Axis axis) {
        return rows.stream().filter(r -> r.axis() == axis).toList();
    }

    /** The one row of a model-wide axis (hidden, encoder layers, decoder layers). */
    public Row row(Axis axis) {
        return rows(axis).getFirst();
    }

    /** The row of a per-layer axis in one layer of one stack. */
    public Row row(Axis axis, Stack stack, int layer) {
        return rows.stream().filter(r -> r.axis() == axis && r.stack() == stack && r.layer() == layer).findFirst().orElseThrow();
    }

    public int size() {
        return size;
    }

    /** The flat logAlpha, live: the optimizer updates it in place. */
    public double[] logAlpha() {
        return logAlpha;
    }

    /** Whether the target prunes this axis (otherwise its gates are fixed at 1). */
    public boolean isActive(Axis axis) {
        return active[axis.ordinal()];
    }

    private boolean activeAt(Row row) {
        return active[row.axis().ordinal()];
    }

    /**
     * A training sample, as {@link L0Gates#sample}: for every active gate {@code u ~ U(0, 1)} from a generator seeded by
     * (seed, step, micro-batch), so a resumed run draws the same, and {@code z = HardConcrete.sample(logAlpha, u)}.
     *
     * @return the gates (one buffer, overwritten by the next call)
     */
    public EncoderDecoderMasks sample(long seed, long step, int micro) {
        SplittableRandom random = L0Gates.uniforms(seed, step, micro);
        for (int i = 0; i < size; i++) u[i] = random.nextDouble();
        for (Row r : rows) {
            for (int i = r.offset(); i < r.offset() + r.units(); i++) z[i] = activeAt(r) ? HardConcrete.sample(logAlpha[i], u[i]) : 1;
        }
        return write(z);
    }

    /** Writes flat gate values into the masks buffer. */
    public EncoderDecoderMasks write(double[] values) {
        for (Row r : rows) for (int i = 0; i < r.units(); i++) site(masks, r, i)[index(r, i)] = (float) values[r.offset() + i];
        return masks;
    }

    /** The flat gate values of {@code m}: the inverse of {@link #write}. */
    public double[] read(EncoderDecoderMasks m) {
        double[] values = new double[size];
        for (Row r : rows) for (int i = 0; i < r.units(); i++) values[r.offset() + i] = site(m, r, i)[index(r, i)];
        return values;
    }

    /**
     * The chain rule from the gate sites to logAlpha for the last sample: {@code dLogAlpha += dL/dz · dz/dlogAlpha}.
     *
     * @param dMasks    d loss / d gate at every site (from the model's backward)
     * @param dLogAlpha [size], accumulated into
     */
    public void backward(EncoderDecoderMasks dMasks, double[] dLogAlpha) {
        for (Row r : rows) {
            if (!activeAt(r)) continue;
            for (int i = 0; i < r.units(); i++) {
                int k = r.offset() + i;
                dLogAlpha[k] += site(dMasks, r, i)[index(r, i)] * HardConcrete.sampleGradient(logAlpha[k], u[k]);
            }
        }
    }

    /** The array of {@code m} that holds unit {@code i} of row {@code r}; its index there is {@link #index}. */
    private static float[] site(EncoderDecoderMasks m, Row r, int i) {
        return switch (r.axis()) {
            case HIDDEN -> m.hidden();
            case ENCODER_LAYER -> m.encoder().get(i).layer();
            case DECODER_LAYER -> m.decoder().get(i).layer();
            case HEAD -> layer(m, r).heads();
            case CROSS_HEAD -> layer(m, r).crossHeads();
            case FFN -> layer(m, r).ffn();
        };
    }

    /** Where unit {@code i} of row {@code r} sits in its {@link #site}: a layer gate is the one value of its layer's array. */
    private static int index(Row r, int i) {
        return r.axis() == Axis.ENCODER_LAYER || r.axis() == Axis.DECODER_LAYER ? 0 : i;
    }

    private static EncoderDecoderMasks.Layer layer(EncoderDecoderMasks m, Row r) {
        return (r.stack() == Stack.ENCODER ? m.encoder() : m.decoder()).get(r.layer());
    }

    /** P(z > 0) of every gate (1 on inactive axes). */
    public double[] keepProbabilities() {
        double[] p = new double[size];
        for (Row r : rows) for (int i = r.offset(); i < r.offset() + r.units(); i++) p[i] = activeAt(r) ? HardConcrete.keepProbability(logAlpha[i]) : 1;
        return p;
    }

    /** dP(z > 0)/dlogAlpha of every gate (0 on inactive axes). */
    public double[] keepProbabilityGradients() {
        double[] d = new double[size];
        for (Row r : rows) for (int i = r.offset(); i < r.offset() + r.units(); i++) d[i] = activeAt(r) ? HardConcrete.keepProbabilityGradient(logAlpha[i]) : 0;
        return d;
    }

    /** The deterministic scores {@code σ(logAlpha/β·0.8)} (1 on inactive axes). */
    public double[] scores() {
        double[] s = new double[size];
        for (Row r : rows) for (int i = r.offset(); i < r.offset() + r.units(); i++) s[i] = activeAt(r) ? HardConcrete.deterministicScore(logAlpha[i]) : 1;
        return s;
    }

    /** Clamps every logAlpha to [log 1e-2, log 1e2]. */
    public void clamp() {
        for (int i = 0; i < size; i++) logAlpha[i] = HardConcrete.clampLogAlpha(logAlpha[i]);
    }

    /** The values of one row of a flat vector. */
    public static double[] values(double[] flat, Row r) {
        return Arrays.copyOfRange(flat, r.offset(), r.offset() + r.units());
    }
}
