package dev.shears.prune;

import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TensorRole;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.RandomTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;

/**
 * Taylor importance's way down, after a {@link LayerwisePass} saved every layer's input: the loss
 * gradient at the top of every sequence, then for each layer from the last, its forward recomputed from
 * the saved input and its backward to the gate gradients and, for the weight-level variants, to that
 * layer's weight gradients alone (one layer's worth of buffers at a time). Sums run over the sequences
 * in order. What is done with the gradients is the {@link TaylorVariant}.
 */
final class TaylorPass {
    private final Model model;
    private final ModelConfig c;
    private final LayerwisePass pass;
    private final Activations acts;
    private final MaskSet masks;
    private final TaylorVariant variant;
    /** The windows of this rank's pass. */
    private final int own;
    /** All windows, over every rank: what the means divide by. */
    private final int n;
    private final int rows;
    /** Weight-level variants only: the salience of every tensor seen so far. */
    private final WeightSalience salience;

    private TaylorPass(Model model, LayerwisePass pass, Activations acts, MaskSet masks, int windows, CriterionOptions options) {
        this.model = model;
        this.c = model.config();
        this.pass = pass;
        this.acts = acts;
        this.masks = masks;
        this.variant = options.taylor();
        this.own = pass.windows();
        this.n = windows;
        this.rows = pass.seqLen() * c.dim();
        this.salience = variant.family == TaylorVariant.Family.WEIGHT ? new WeightSalience(c, variant, options.taylorReduction()) : null;
    }

    /**
     * Scores into {@code s} and returns the loss of each window of this rank's pass. With more than one rank in
     * {@code collective} (gate variants only), the ranks' gate gradients are gathered in window order before they are scored.
     *
     * @param inputs  [layer][window of the pass]: each layer's input, released as the pass goes down
     * @param windows all windows, over every rank
     */
    static double[] run(Model model, LayerwisePass pass, Activations acts, MaskSet masks, float[][][] inputs, ImportanceScores s,
                        CriterionOptions options, Progress progress, Collective collective, int windows) {
        TaylorPass taylor = new TaylorPass(model, pass, acts, masks, windows, options);
        if (taylor.salience != null && windows != pass.windows()) throw new IllegalArgumentException("weight-level taylor variants run in one process");
        return taylor.run(inputs, s, progress, collective);
    }

    private double[] run(float[][][] inputs, ImportanceScores s, Progress progress, Collective collective) {
        boolean weights = salience != null;
        boolean tied = c.tiedEmbeddings();
        float[][] dResidual = new float[own][];
        MaskSet[] dMasks = new MaskSet[own];
        double[] losses = new double[own];
        // the head: final norm and LM head (with a tied table, the embedding's head part)
        ModelWeights headGrads = weights ? buffers((role, layer) -> role == TensorRole.FINAL_NORM || role == TensorRole.LM_HEAD
                || tied && role == TensorRole.EMBEDDING) : null;
        Moments head = weights ? new Moments(headGrads, List.of(TensorRole.FINAL_NORM, tied ? TensorRole.EMBEDDING : TensorRole.LM_HEAD), -1) : null;
        // tied table: each sequence's head-part gradient at the rows its tokens will add to on the way out (for F's cross term)
        float[][] headRows = weights && tied && variant.needsFisher() ? new float[own][] : null;
        for (int i = 0; i < own; i++) {
            float[] logits = pass.head(i, acts, masks);
            losses[i] = CrossEntropy.forwardBackward(logits, pass.target(i), pass.seqLen(), c.vocabSize(), acts.gradients().logits, 1f);
            if (weights) head.zero();
            Transformer.headBackward(model, acts, masks, Optional.ofNullable(headGrads));
            if (weights) head.accumulate();
            if (headRows != null) headRows[i] = rowsOf(headGrads.get(TensorRole.EMBEDDING), pass.input(i));
            dResidual[i] = Arrays.copyOf(acts.gradients().residual, rows);
            dMasks[i] = MaskSet.filled(c, 0f);
        }
        if (weights && !tied) {
            head.addTo(salience, model);
            head = null;
        }
        progress.start("back-propagating to the " + (weights ? "weights" : "gates"), c.numLayers(), "layer");
        for (int l = c.numLayers() - 1; l >= 0; l--) {
            int layer = l;
            ModelWeights grads = weights ? buffers((role, at) -> role.perLayer && at == layer) : null;
            Moments moments = weights ? new Moments(grads, presentRoles(l), l) : null;
            for (int i = 0; i < own; i++) {
                System.arraycopy(inputs[l][i], 0, acts.residual, 0, rows);
                Transformer.layerForward(model, l, acts, masks);
                System.arraycopy(dResidual[i], 0, acts.gradients().residual, 0, rows);
                if (weights) moments.zero();
                Transformer.layerBackward(model, l, acts, masks, Optional.ofNullable(grads), dMasks[i]);
                if (weights) moments.accumulate();
                System.arraycopy(acts.gradients().residual, 0, dResidual[i], 0, rows);
            }
            if (weights) moments.addTo(salience, model);
            inputs[l] = null;
            model.weights().release(l);
            progress.advance(1);
        }
        progress.finish();
        ModelWeights embedGrads = weights ? (tied ? headGrads : buffers((role, layer) -> role == TensorRole.EMBEDDING)) : null;
        Moments embed = weights ? (tied ? head : new Moments(embedGrads, List.of(TensorRole.EMBEDDING), -1)) : null;
        for (int i = 0; i < own; i++) {
            System.arraycopy(dResidual[i], 0, acts.gradients().residual, 0, rows);
            int[] tokens = pass.input(i);
            if (weights) Arrays.fill(embedGrads.get(TensorRole.EMBEDDING), 0f);
            Transformer.embedBackward(model, tokens, acts, masks, Optional.ofNullable(embedGrads), dMasks[i]);
            if (weights && tied) embed.accumulateTable(tokens, headRows == null ? null : headRows[i]);
            else if (weights) embed.accumulate();
        }
        if (weights) embed.addTo(salience, model);
        gateScores(s, gathered(collective, dMasks));
        if (weights) salience.addTo(s);
        return losses;
    }

    /** Every window's gate gradients in window order, on every rank: this rank's, {@code mine}, and the others' (floats, exactly). */
    private MaskSet[] gathered(Collective collective, MaskSet[] mine) {
        int[] gates = {0};
        MaskSet.filled(c, 0f).forEachRow(row -> gates[0] += row.length);
        List<double[]> values = new ArrayList<>(mine.length);
        for (MaskSet m : mine) {
            double[] v = new double[gates[0]];
            int[] at = {0};
            m.forEachRow(row -> {
                for (float g : row) v[at[0]++] = g;
            });
            values.add(v);
        }
        List<double[]> all = OrderedSum.gather(collective, n, values);
        MaskSet[] out = new MaskSet[n];
        for (int i = 0; i < n; i++) {
            double[] v = all.get(i);
            int[] at = {0};
            out[i] = MaskSet.filled(c, 0f);
            out[i].forEachRow(row -> {
                for (int u = 0; u < row.length; u++) row[u] = (float) v[at[0]++];
            });
        }
        return out;
    }

    /**
     * Gate scores: of every axis for the gate variants; of layers and sub-layers alone for the weight-level
     * ones (LLM-Pruner scores no layers: its formula applied to the sub-layer gate, w = 1).
     */
    private void gateScores(ImportanceScores s, MaskSet[] dMasks) {
        if (variant.perSequence) {
            for (MaskSet d : dMasks) addGates(s, d, null);
            return;
        }
        MaskSet mean = MaskSet.filled(c, 0f);
        MaskSet fisher = MaskSet.filled(c, 0f);
        for (MaskSet d : dMasks) {
            forEachGateRow(d, (axis, row, g) -> {
                float[] m = mean.get(axis, row), f = fisher.get(axis, row);
                for (int u = 0; u < g.length; u++) {
                    m[u] += g[u] / n;
                    f[u] += g[u] * g[u] / n;
                }
            });
        }
        addGates(s, mean, fisher);
    }

    /** Adds |salience| of each gate (w = 1); per sequence, F is that sequence's g². */
    private void addGates(ImportanceScores s, MaskSet grad, MaskSet fisher) {
        forEachGateRow(grad, (axis, row, g) -> {
            float[] f = fisher == null ? null : fisher.get(axis, row);
            double[] into = s.of(axis, row);
            for (int u = 0; u < g.length; u++) into[u] += Math.abs(variant.salience(1, g[u], f == null ? (double) g[u] * g[u] : f[u]));
        });
        float[] gAttention = grad.get(Axis.ATTENTION_LAYER), gFfn = grad.get(Axis.FFN_LAYER);
        for (int l = 0; l < c.numLayers(); l++) {
            double fa = fisher == null ? (double) gAttention[l] * gAttention[l] : fisher.get(Axis.ATTENTION_LAYER)[l];
            double ff = fisher == null ? (double) gFfn[l] * gFfn[l] : fisher.get(Axis.FFN_LAYER)[l];
            s.of(Axis.LAYER)[l] += Math.abs(variant.salience(1, gAttention[l], fa)) + Math.abs(variant.salience(1, gFfn[l], ff));
        }
    }

    private interface GateRow {
        void accept(Axis axis, int row, float[] gates);
    }

    /** Every gated row the variant scores by its gates: sub-layers, and unless the weights score them, hidden channels, heads and FFN neurons. */
    private void forEachGateRow(MaskSet m, GateRow action) {
        for (Axis a : List.of(Axis.ATTENTION_LAYER, Axis.FFN_LAYER)) action.accept(a, 0, m.get(a));
        if (salience != null) return;
        action.accept(Axis.HIDDEN, 0, m.get(Axis.HIDDEN));
        for (int l = 0; l < c.numLayers(); l++) {
            action.accept(Axis.HEAD, l, m.get(Axis.HEAD, l));
            action.accept(Axis.FFN, l, m.get(Axis.FFN, l));
        }
    }

    /** The per-layer roles layer l has (biases included: they are back-propagated, then skipped by the salience). */
    private List<TensorRole> presentRoles(int l) {
        List<TensorRole> roles = new ArrayList<>();
        for (TensorRole role : TensorRole.values()) if (role.perLayer && role.isPresent(c, l)) roles.add(role);
        return roles;
    }

    /**
     * Gradient buffers for the tensors {@code wanted} selects, fp32 zeros; every other slot holds a
     * shape-only placeholder (reading it as an array fails), so one layer's gradients need one layer's memory.
     */
    private ModelWeights buffers(BiPredicate<TensorRole, Integer> wanted) {
        return ModelWeights.of(c, (role, layer) -> {
            int r = role.rows(c, layer), k = role.cols(c, layer);
            return wanted.test(role, layer) ? new DenseTensor(new float[Math.toIntExact((long) r * k)], r, k) : new RandomTensor(r, k, 0, 0f, 0);
        }, List.of());
    }

    /** The rows of a [vocabSize, dim] gradient at the given tokens, in token order (repeats included). */
    private float[] rowsOf(float[] table, int[] tokens) {
        int dim = c.dim();
        float[] out = new float[tokens.length * dim];
        for (int t = 0; t < tokens.length; t++) System.arraycopy(table, tokens[t] * dim, out, t * dim, dim);
        return out;
    }

    /** Σ_j g_j and Σ_j g_j² of some tensors, over the sequences, from one gradient buffer zeroed per sequence. */
    private final class Moments {
        private final ModelWeights grads;
        private final List<TensorRole> roles;
        private final int layer;
        private final float[][] sum;
        private final float[][] squares;

        Moments(ModelWeights grads, List<TensorRole> roles, int layer) {
            this.grads = grads;
            this.roles = roles;
            this.layer = layer;
            this.sum = new float[roles.size()][];
            this.squares = new float[roles.size()][];
            for (int k = 0; k < roles.size(); k++) {
                int size = grads.get(roles.get(k), layer).length;
                sum[k] = new float[size];
                squares[k] = variant.needsFisher() ? new float[size] : null;
            }
        }

        void zero() {
            for (TensorRole role : roles) Arrays.fill(grads.get(role, layer), 0f);
        }

        void accumulate() {
            for (int k = 0; k < roles.size(); k++) {
                float[] g = grads.get(roles.get(k), layer);
                for (int i = 0; i < g.length; i++) sum[k][i] += g[i];
                if (squares[k] != null) for (int i = 0; i < g.length; i++) squares[k][i] += g[i] * g[i];
            }
        }

        /**
         * A tied table's embedding part e of one sequence, whose head part h was accumulated already:
         * Σ gets e, and F gets (h + e)² − h² = 2·h·e + e² at the rows the tokens touched (e is 0 elsewhere).
         */
        void accumulateTable(int[] tokens, float[] headRows) {
            int k = roles.indexOf(TensorRole.EMBEDDING);
            float[] e = grads.get(TensorRole.EMBEDDING, layer);
            int dim = c.dim();
            boolean[] seen = new boolean[c.vocabSize()];
            for (int t = 0; t < tokens.length; t++) {
                int token = tokens[t];
                if (seen[token]) continue;
                seen[token] = true;
                for (int j = 0; j < dim; j++) {
                    int i = token * dim + j;
                    sum[k][i] += e[i];
                    if (squares[k] != null) squares[k][i] += 2 * headRows[t * dim + j] * e[i] + e[i] * e[i];
                }
            }
        }

        /** Folds ḡ = Σ/N and F = Σ²/N of each tensor into the salience. */
        void addTo(WeightSalience into, Model model) {
            for (int k = 0; k < roles.size(); k++) {
                TensorRole role = roles.get(k);
                for (int i = 0; i < sum[k].length; i++) sum[k][i] /= n;
                if (squares[k] != null) for (int i = 0; i < squares[k].length; i++) squares[k][i] /= n;
                into.add(role, layer, model.weights().tensor(role, layer), sum[k], squares[k]);
            }
        }
    }
}
