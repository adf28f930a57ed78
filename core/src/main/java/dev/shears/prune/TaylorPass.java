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
 *
 * <p>With the windows shared over ranks, the weight gradients' sums Σ g and Σ g² run in window order over every rank,
 * as one process adds them ({@link Moments}): the rank holding window 0 adds its windows' gradients as they come, a later
 * rank keeps each of its windows' gradients of the current layer (or head, or embedding table) apart until the running
 * sums reach it ({@link OrderedSum#sumContinuing}).
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
    private final Collective collective;
    /** Whether this rank holds window 0 (one process holds them all): it adds each window's weight gradients as they come. */
    private final boolean first;
    /** Weight-level variants only: the salience of every tensor seen so far. */
    private final WeightSalience salience;

    private TaylorPass(Model model, LayerwisePass pass, Activations acts, MaskSet masks, int windows, CriterionOptions options, Collective collective) {
        this.model = model;
        this.c = model.config();
        this.pass = pass;
        this.acts = acts;
        this.masks = masks;
        this.variant = options.taylor();
        this.own = pass.windows();
        this.n = windows;
        this.rows = pass.seqLen() * c.dim();
        this.collective = collective;
        this.first = own > 0 && OrderedSum.first(windows, collective.rank(), collective.size()) == 0;
        this.salience = variant.family == TaylorVariant.Family.WEIGHT ? new WeightSalience(c, variant, options.taylorReduction()) : null;
    }

    /**
     * Scores into {@code s} and returns the loss of each window of this rank's pass. With more than one rank in
     * {@code collective}, the ranks' gate gradients are gathered in window order before they are scored, and the weight
     * gradients' sums run over every rank's windows in window order.
     *
     * @param inputs  [layer][window of the pass]: each layer's input, released as the pass goes down
     * @param windows all windows, over every rank
     */
    static double[] run(Model model, LayerwisePass pass, Activations acts, MaskSet masks, float[][][] inputs, ImportanceScores s,
                        CriterionOptions options, Progress progress, Collective collective, int windows) {
        return new TaylorPass(model, pass, acts, masks, windows, options, collective).run(inputs, s, progress);
    }

    private double[] run(float[][][] inputs, ImportanceScores s, Progress progress) {
        boolean weights = salience != null;
        boolean tied = c.tiedEmbeddings();
        float[][] dResidual = new float[own][];
        MaskSet[] dMasks = new MaskSet[own];
        double[] losses = new double[own];
        // the head: final norm and LM head (with a tied table, the embedding's head part)
        Moments head = weights ? new Moments((role, layer) -> role == TensorRole.FINAL_NORM || role == TensorRole.LM_HEAD || tied && role == TensorRole.EMBEDDING,
                List.of(TensorRole.FINAL_NORM, tied ? TensorRole.EMBEDDING : TensorRole.LM_HEAD), -1) : null;
        // tied table: each sequence's head-part gradient at the rows its tokens will add to on the way out (for F's cross term)
        float[][] headRows = weights && tied && variant.needsFisher() ? new float[own][] : null;
        for (int i = 0; i < own; i++) {
            float[] logits = pass.head(i, acts, masks);
            losses[i] = CrossEntropy.forwardBackward(logits, pass.target(i), pass.seqLen(), c.vocabSize(), acts.gradients().logits, 1f);
            ModelWeights grads = weights ? head.next() : null;
            Transformer.headBackward(model, acts, masks, Optional.ofNullable(grads));
            if (weights) head.done(grads);
            if (headRows != null) headRows[i] = rowsOf(grads.get(TensorRole.EMBEDDING), pass.input(i));
            dResidual[i] = Arrays.copyOf(acts.gradients().residual, rows);
            dMasks[i] = MaskSet.filled(c, 0f);
        }
        if (weights) head.reduce(null);
        if (weights && !tied) {
            head.addTo(salience, model);
            head = null; // its buffers go before the layers' (a tied table's sums stay: its embedding parts continue them)
        }
        progress.start("back-propagating to the " + (weights ? "weights" : "gates"), c.numLayers(), "layer");
        for (int l = c.numLayers() - 1; l >= 0; l--) {
            int layer = l;
            Moments moments = weights ? new Moments((role, at) -> role.perLayer && at == layer, presentRoles(l), l) : null;
            for (int i = 0; i < own; i++) {
                System.arraycopy(inputs[l][i], 0, acts.residual, 0, rows);
                Transformer.layerForward(model, l, acts, masks);
                System.arraycopy(dResidual[i], 0, acts.gradients().residual, 0, rows);
                ModelWeights grads = weights ? moments.next() : null;
                Transformer.layerBackward(model, l, acts, masks, Optional.ofNullable(grads), dMasks[i]);
                if (weights) moments.done(grads);
                System.arraycopy(acts.gradients().residual, 0, dResidual[i], 0, rows);
            }
            if (weights) {
                moments.reduce(null);
                moments.addTo(salience, model);
            }
            inputs[l] = null;
            model.weights().release(l);
            progress.advance(1);
        }
        progress.finish();
        // the embedding table (tied: its sums continue from the head parts of every window)
        Moments embed = weights ? (tied ? head.table() : new Moments((role, layer) -> role == TensorRole.EMBEDDING, List.of(TensorRole.EMBEDDING), -1)) : null;
        for (int i = 0; i < own; i++) {
            System.arraycopy(dResidual[i], 0, acts.gradients().residual, 0, rows);
            int[] tokens = pass.input(i);
            ModelWeights grads = weights ? embed.next() : null;
            Transformer.embedBackward(model, tokens, acts, masks, Optional.ofNullable(grads), dMasks[i]);
            if (weights && tied) embed.doneTable(grads, tokens, headRows == null ? null : headRows[i]);
            else if (weights) embed.done(grads);
        }
        if (weights) embed.reduce(headRows);
        if (weights) (tied ? head : embed).addTo(salience, model);
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

    /** The positions of {@code tokens} where each distinct token first occurs: the rows a window's embedding gradient touched, once each. */
    private int[] firstOccurrences(int[] tokens) {
        boolean[] seen = new boolean[c.vocabSize()];
        int[] at = new int[tokens.length];
        int count = 0;
        for (int t = 0; t < tokens.length; t++) {
            if (seen[tokens[t]]) continue;
            seen[tokens[t]] = true;
            at[count++] = t;
        }
        return Arrays.copyOf(at, count);
    }

    /** A tied table's Fisher term of one window at one element, whose head part h was counted already: (h + e)² − h² = 2·h·e + e². */
    private static float tableTerm(float h, float e) {
        return 2 * h * e + e * e;
    }

    /**
     * Σ_j g_j and Σ_j g_j² of some tensors over every rank's windows, in window order, {@code ((g₀ + g₁) + g₂) + …} in
     * float as one process adds them. The rank holding window 0 (one process: every window) adds each window's gradient as
     * it comes, from one buffer zeroed per window; a later rank keeps each of its windows' gradients in a buffer of its own
     * until {@link #reduce} brings the running sums to it ({@link OrderedSum#sumContinuing}). A running sum that starts at
     * +0 never becomes −0, so the elements a window's gradient leaves at zero add nothing, whether added or skipped.
     */
    private final class Moments {
        /** The tensors a window's gradient buffer holds (the backward may write more than the summed roles). */
        private final BiPredicate<TensorRole, Integer> held;
        private final List<TensorRole> roles;
        private final int layer;
        private final float[][] sum;
        private final float[][] squares;
        /** The one buffer of the rank holding window 0, zeroed per window; null on a later rank. */
        private final ModelWeights grads;
        /** A later rank's windows' gradients, in window order, until {@link #reduce}. */
        private final List<ModelWeights> kept = new ArrayList<>();

        Moments(BiPredicate<TensorRole, Integer> held, List<TensorRole> roles, int layer) {
            this(held, roles, layer, new float[roles.size()][], new float[roles.size()][], first ? buffers(held) : null);
            for (int k = 0; k < roles.size(); k++) {
                int size = Math.toIntExact((long) roles.get(k).rows(c, layer) * roles.get(k).cols(c, layer));
                sum[k] = new float[size];
                squares[k] = variant.needsFisher() ? new float[size] : null;
            }
        }

        private Moments(BiPredicate<TensorRole, Integer> held, List<TensorRole> roles, int layer, float[][] sum, float[][] squares, ModelWeights grads) {
            this.held = held;
            this.roles = roles;
            this.layer = layer;
            this.sum = sum;
            this.squares = squares;
            this.grads = grads;
        }

        /** A tied table's embedding parts, summed onto this head's sums of the table (after {@link #reduce}: every window's head parts). */
        Moments table() {
            int k = roles.indexOf(TensorRole.EMBEDDING);
            return new Moments((role, at) -> role == TensorRole.EMBEDDING, List.of(TensorRole.EMBEDDING), -1, new float[][] {sum[k]}, new float[][] {squares[k]},
                    grads);
        }

        /** The zeroed buffer the next window's backward accumulates into. */
        ModelWeights next() {
            if (grads == null) return buffers(held);
            for (TensorRole role : roles) Arrays.fill(grads.get(role, layer), 0f);
            return grads;
        }

        /** The window's gradient is complete in {@code g} (from {@link #next}): added at once on the rank holding window 0, else kept. */
        void done(ModelWeights g) {
            if (grads == null) {
                kept.add(g);
                return;
            }
            for (int k = 0; k < roles.size(); k++) {
                float[] x = g.get(roles.get(k), layer);
                for (int i = 0; i < x.length; i++) sum[k][i] += x[i];
                if (squares[k] != null) for (int i = 0; i < x.length; i++) squares[k][i] += x[i] * x[i];
            }
        }

        /**
         * A tied table's embedding part e of one window, whose head part h was counted already: Σ gets e, and F gets
         * (h + e)² − h² = 2·h·e + e² at the rows the tokens touched (e is 0 elsewhere).
         *
         * @param headRows the window's head part at its tokens' rows, in token order (null without a Fisher term)
         */
        void doneTable(ModelWeights g, int[] tokens, float[] headRows) {
            if (grads == null) {
                kept.add(g);
                return;
            }
            float[] e = g.get(TensorRole.EMBEDDING);
            int dim = c.dim();
            for (int t : firstOccurrences(tokens)) {
                for (int j = 0; j < dim; j++) {
                    int i = tokens[t] * dim + j;
                    sum[0][i] += e[i];
                    if (squares[0] != null) squares[0][i] += tableTerm(headRows[t * dim + j], e[i]);
                }
            }
        }

        /**
         * The sums over every rank's windows, in window order, on every rank: the running sums pass along the ranks, each
         * later rank adding its kept gradients, then (with a Fisher term) their squares, made in place.
         *
         * @param headRows a tied table's embedding parts ({@link #table}): each of this rank's windows' head part at its
         *                 tokens' rows, for F's cross term; else null
         */
        void reduce(float[][] headRows) {
            for (int k = 0; k < roles.size(); k++) {
                TensorRole role = roles.get(k);
                List<float[]> mine = kept.stream().map(g -> g.get(role, layer)).toList();
                OrderedSum.sumContinuing(collective, n, mine, sum[k]);
                if (squares[k] == null) continue;
                for (int j = 0; j < mine.size(); j++) {
                    float[] x = mine.get(j);
                    if (headRows == null) {
                        for (int i = 0; i < x.length; i++) x[i] = x[i] * x[i];
                    } else {
                        int[] tokens = pass.input(j);
                        int dim = c.dim();
                        for (int t : firstOccurrences(tokens)) {
                            for (int d = 0; d < dim; d++) x[tokens[t] * dim + d] = tableTerm(headRows[j][t * dim + d], x[tokens[t] * dim + d]);
                        }
                    }
                }
                OrderedSum.sumContinuing(collective, n, mine, squares[k]);
            }
            kept.clear();
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
