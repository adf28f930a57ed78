package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.prune.Criterion;
import dev.shears.prune.TaylorVariant;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One score per prunable unit of a T5 or an OpenBA, in the shape of an {@link EncoderDecoderPlan}; higher is kept.
 *
 * @param criterion how they were computed
 * @param hidden    [dim]: per hidden channel, over both stacks, the embedding and the head
 * @param encoder   per encoder layer
 * @param decoder   per decoder layer
 */
public record EncoderDecoderScores(Criterion criterion, double[] hidden, List<Layer> encoder, List<Layer> decoder) {
    /**
     * One layer's unit scores.
     *
     * @param heads      [numHeads] self-attention heads
     * @param crossHeads [crossHeads] cross-attention heads (empty in the encoder)
     * @param ffn        [ffnDim] FFN neurons
     */
    public record Layer(double[] heads, double[] crossHeads, double[] ffn) {
        static Layer zeros(EncoderDecoderConfig.Layer b) {
            return new Layer(new double[b.numHeads()], new double[b.crossHeads()], new double[b.ffnDim()]);
        }
    }

    public EncoderDecoderScores {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
    }

    /** Every score 0, in the shapes of either model's config {@code c}: to accumulate into. */
    static EncoderDecoderScores zeros(EncoderDecoderConfig c, Criterion criterion) {
        return zeros(c.dim(), c.encoder(), c.decoder(), criterion);
    }

    private static EncoderDecoderScores zeros(int dim, List<? extends EncoderDecoderConfig.Layer> encoder, List<? extends EncoderDecoderConfig.Layer> decoder, Criterion criterion) {
        return new EncoderDecoderScores(criterion, new double[dim], encoder.stream().map(Layer::zeros).toList(), decoder.stream().map(Layer::zeros).toList());
    }

    /**
     * Magnitude (METHODS.md §4), as {@link Criterion#MAGNITUDE} for decoder-only models: the L2 norm of every weight
     * that belongs to the unit. A head owns its q, k, v rows and o columns; a neuron its wi (wi_0, wi_1) row and wo
     * column; a hidden channel its column of the embedding, an untied head and every q, k, v, wi, its row of every o
     * and wo, and its entry of every layer norm.
     */
    public static EncoderDecoderScores magnitude(T5Model model) {
        T5Config c = model.config();
        T5Weights w = model.weights();
        EncoderDecoderScores s = zeros(c, Criterion.MAGNITUDE);
        int d = c.dim();
        embedding(s.hidden, w.shared(), d);
        if (!c.tiedEmbeddings()) embedding(s.hidden, w.lmHead(), d);
        square(s.hidden, w.encoderNorm());
        square(s.hidden, w.decoderNorm());
        for (int l = 0; l < c.encoder().size(); l++) {
            attention(s.hidden, s.encoder.get(l).heads, c, w.encoder().get(l).self());
            feedForward(s.hidden, s.encoder.get(l).ffn, c, w.encoder().get(l).ffn());
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            attention(s.hidden, s.decoder.get(l).heads, c, w.decoder().get(l).self());
            attention(s.hidden, s.decoder.get(l).crossHeads, c, w.decoder().get(l).cross());
            feedForward(s.hidden, s.decoder.get(l).ffn, c, w.decoder().get(l).ffn());
        }
        s.forEachRow(row -> {
            for (int i = 0; i < row.length; i++) row[i] = Math.sqrt(row[i]);
        });
        return s;
    }

    /**
     * Magnitude of an OpenBA, as {@link #magnitude(T5Model)}: a self-attention head owns its [q | k | v] rows of the fused
     * qkv and their biases, a cross-attention head its q rows, its [k | v] rows of the fused kv and their biases, and
     * each its o columns; a neuron i its rows i (gate) and ffnDim + i (up) of fc_in and its fc_out column; a hidden
     * channel its column of the embedding, an untied head and every qkv, q, kv, fc_in, its row of every o and fc_out,
     * its entry of every o bias and of every LayerNorm's weight and bias. The LM-head bias is per token: no unit's.
     */
    public static EncoderDecoderScores magnitude(OpenBaModel model) {
        OpenBaConfig c = model.config();
        OpenBaWeights w = model.weights();
        EncoderDecoderScores s = zeros(c, Criterion.MAGNITUDE);
        int d = c.dim();
        int hd = c.headDim();
        embedding(s.hidden, w.shared(), d);
        if (!c.tiedEmbeddings()) embedding(s.hidden, w.lmHead(), d);
        square(s.hidden, w.encoderNorm());
        square(s.hidden, w.decoderNorm());
        for (int l = 0; l < c.encoder().size(); l++) {
            self(s.hidden, s.encoder.get(l).heads, c, w.encoder().get(l).self());
            feedForward(s.hidden, s.encoder.get(l).ffn, c, w.encoder().get(l).ffn());
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            OpenBaWeights.DecoderLayer layer = w.decoder().get(l);
            double[] cross = s.decoder.get(l).crossHeads;
            self(s.hidden, s.decoder.get(l).heads, c, layer.self());
            OpenBaWeights.CrossAttention a = layer.cross();
            int inner = a.heads() * hd;
            square(s.hidden, a.norm());
            rows(s.hidden, a.query(), inner, d, cross, hd);
            entries(a.queryBias(), cross, hd);
            rows(s.hidden, a.keyValue(), 2 * inner, d, cross, 2 * hd);
            entries(a.keyValueBias(), cross, 2 * hd);
            columns(s.hidden, a.output(), d, inner, cross, hd);
            entries(a.outputBias(), s.hidden, 1);
            feedForward(s.hidden, s.decoder.get(l).ffn, c, layer.ffn());
        }
        s.forEachRow(row -> {
            for (int i = 0; i < row.length; i++) row[i] = Math.sqrt(row[i]);
        });
        return s;
    }

    /** Seeded uniform scores (the OpenBA-V2 choice, and a baseline): the same seed gives the same units. */
    public static EncoderDecoderScores random(T5Config c, long seed) {
        return random(zeros(c, Criterion.RANDOM), seed);
    }

    /** {@link #random(T5Config, long)} for an OpenBA. */
    public static EncoderDecoderScores random(OpenBaConfig c, long seed) {
        return random(zeros(c, Criterion.RANDOM), seed);
    }

    private static EncoderDecoderScores random(EncoderDecoderScores s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        s.forEachRow(row -> {
            for (int i = 0; i < row.length; i++) row[i] = r.nextDouble();
        });
        return s;
    }

    /**
     * Activation (Minitron, METHODS.md §4), as {@link Criterion#ACTIVATION} for decoder-only models: each window runs
     * through the encoder and the teacher-forced decoder ({@link T5#forwardWindow}: its first half is the encoder input,
     * the rest the labels). Per window, a head scores the mean over positions of its context's L2 norm (what o reads), a
     * neuron the mean of |what wo reads|, a hidden channel the mean of |each sub-layer's normed input| summed over every
     * sub-layer of both stacks; each unit's per-window scores are aggregated by L2 over the windows.
     *
     * @param windows token ids, each at least 2 long
     */
    public static EncoderDecoderScores activation(T5Model model, List<int[]> windows) {
        return activation(model, windows, new SingleProcess());
    }

    /** {@link #activation(T5Model, List)} of an OpenBA ({@link OpenBa#forwardWindow}): the same reads of the same activations. */
    public static EncoderDecoderScores activation(OpenBaModel model, List<int[]> windows) {
        return activation(model, windows, new SingleProcess());
    }

    /**
     * {@link #activation(T5Model, List)} of either model, the windows shared over the ranks of {@code collective}: each
     * window's squared scores are added in window order ({@link SharedWindows}), the same bits for any number of ranks.
     */
    public static EncoderDecoderScores activation(EncoderDecoder model, List<int[]> windows, Collective collective) {
        if (windows.isEmpty()) throw new ShearsException("the activation criterion needs calibration windows");
        EncoderDecoderConfig c = model.config();
        int headDim = c.headDim();
        EncoderDecoderScores s = zeros(c, Criterion.ACTIVATION);
        double[] sum = SharedWindows.sum(collective, windows, s.size(), w -> {
            WindowActivations p = WindowActivations.forward(model, w);
            int srcLen = p.srcLen();
            int tgtLen = p.tgtLen();
            EncoderDecoderScores one = zeros(c, Criterion.ACTIVATION);
            for (int l = 0; l < p.encoder().size(); l++) {
                WindowActivations.Layer a = p.encoder().get(l);
                heads(one.encoder.get(l).heads, a.selfCtx(), headDim, srcLen);
                meanAbsColumns(one.encoder.get(l).ffn, a.act(), srcLen);
                meanAbsColumns(one.hidden, a.selfNormed(), srcLen);
                meanAbsColumns(one.hidden, a.ffnNormed(), srcLen);
            }
            for (int l = 0; l < p.decoder().size(); l++) {
                WindowActivations.Layer a = p.decoder().get(l);
                heads(one.decoder.get(l).heads, a.selfCtx(), headDim, tgtLen);
                heads(one.decoder.get(l).crossHeads, a.crossCtx(), headDim, tgtLen);
                meanAbsColumns(one.decoder.get(l).ffn, a.act(), tgtLen);
                meanAbsColumns(one.hidden, a.selfNormed(), tgtLen);
                meanAbsColumns(one.hidden, a.crossNormed(), tgtLen);
                meanAbsColumns(one.hidden, a.ffnNormed(), tgtLen);
            }
            double[] v = one.values();
            for (int i = 0; i < v.length; i++) v[i] *= v[i];
            return v;
        });
        for (int i = 0; i < sum.length; i++) sum[i] = Math.sqrt(sum[i]);
        s.setValues(sum);
        return s;
    }

    /**
     * First-order Taylor (LLM-Pruner, METHODS.md §4) at Shears' gates, as the decoder-only criterion's gate variants: a
     * unit's gate z scales what it contributes (z = 1 is the model, z = 0 removes the unit), and its derivative
     * g = ∂L/∂z = Σ w·∂L/∂w over the weights at the gate's site ({@link #gates(T5Model, T5Weights)}). L is a window's
     * mean teacher-forced loss (its first half the encoder input, the rest the decoder's labels, as {@link T5#forwardWindow}
     * cuts it); the gradients come from the model's own backward ({@link T5#backward}, {@link OpenBa#backward}). How the
     * windows' g are scored is the {@code variant}'s ({@link TaylorVariant#salience} at w = 1): {@code gate-per-sequence}
     * Σ_j |g_j|, {@code gate} |ḡ|, {@code gate-mix-per-sequence} Σ_j |g_j − ½·g_j²|, {@code gate-mix} |ḡ − ½·F| with
     * F = (1/N)·Σ_j g_j². The windows are shared over the ranks of {@code collective} and their vectors added in window
     * order ({@link SharedWindows}): the same bits for any number of ranks.
     */
    public static EncoderDecoderScores taylor(EncoderDecoder model, List<int[]> windows, TaylorVariant variant, Collective collective) {
        if (windows.isEmpty()) throw new ShearsException("the taylor criterion needs calibration windows");
        if (variant.family != TaylorVariant.Family.GATE) {
            throw new ShearsException("--taylor " + variant.key() + " is not supported for an encoder-decoder; use gate, gate-per-sequence, gate-mix or gate-mix-per-sequence");
        }
        EncoderDecoderScores s = zeros(model.config(), Criterion.TAYLOR);
        int units = s.size();
        int n = windows.size();
        double[] sum = SharedWindows.sum(collective, windows, variant.perSequence ? units : 2 * units, w -> {
            double[] g = gates(model, w).values();
            double[] v = new double[variant.perSequence ? units : 2 * units];
            for (int u = 0; u < units; u++) {
                if (variant.perSequence) {
                    v[u] = Math.abs(variant.salience(1, g[u], g[u] * g[u]));
                } else {
                    v[u] = g[u] / n;
                    v[units + u] = g[u] * g[u] / n;
                }
            }
            return v;
        });
        double[] scores = variant.perSequence ? sum : new double[units];
        if (!variant.perSequence) for (int u = 0; u < units; u++) scores[u] = Math.abs(variant.salience(1, sum[u], sum[units + u]));
        s.setValues(scores);
        return s;
    }

    /** One window's gate gradients g = ∂L/∂z of every unit, in the shape of the scores ({@link #taylor}). */
    static EncoderDecoderScores gates(EncoderDecoder model, int[] window) {
        int[] labels = T5.windowLabels(window);
        float[] dLogits = new float[labels.length * model.vocabSize()];
        return switch (model) {
            case T5Model t5 -> {
                T5Pass p = T5.forwardWindow(t5, window);
                T5.loss(p, labels, dLogits);
                T5Weights grads = T5Weights.zeros(t5.config());
                T5.backward(t5, p, dLogits, grads);
                yield gates(t5, grads);
            }
            case OpenBaModel openBa -> {
                OpenBaPass p = OpenBa.forwardWindow(openBa, window);
                OpenBa.loss(p, labels, dLogits);
                OpenBaWeights grads = OpenBaWeights.zeros(openBa.config());
                OpenBa.backward(openBa, p, dLogits, grads);
                yield gates(openBa, grads);
            }
        };
    }

    /**
     * The gate gradients of a T5 from its weight gradients: Σ w·g over the weights whose output a unit's gate scales. A
     * head's gate scales its context before o (its o columns), a neuron's what wo reads (its wo column), a hidden channel's
     * channel j of the embedding's output, of every attention and FFN output and of each stack's final norm (the
     * decoder's as the head's input): column j of the embedding table (with a tied head, its use as the head too), of an
     * untied head, row j of every o and wo, and entry j of the encoder's final norm.
     */
    static EncoderDecoderScores gates(T5Model model, T5Weights g) {
        T5Config c = model.config();
        T5Weights w = model.weights();
        EncoderDecoderScores s = zeros(c, Criterion.TAYLOR);
        int d = c.dim();
        int hd = c.headDim();
        embeddingProducts(s.hidden, w.shared(), g.shared(), d);
        if (!c.tiedEmbeddings()) embeddingProducts(s.hidden, w.lmHead(), g.lmHead(), d);
        products(s.hidden, w.encoderNorm(), g.encoderNorm(), 1);
        for (int l = 0; l < c.encoder().size(); l++) {
            T5Weights.EncoderLayer wl = w.encoder().get(l), gl = g.encoder().get(l);
            columnProducts(s.hidden, s.encoder.get(l).heads, wl.self().output(), gl.self().output(), d, wl.self().heads() * hd, hd);
            columnProducts(s.hidden, s.encoder.get(l).ffn, wl.ffn().down(), gl.ffn().down(), d, wl.ffn().ffnDim(), 1);
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            T5Weights.DecoderLayer wl = w.decoder().get(l), gl = g.decoder().get(l);
            columnProducts(s.hidden, s.decoder.get(l).heads, wl.self().output(), gl.self().output(), d, wl.self().heads() * hd, hd);
            columnProducts(s.hidden, s.decoder.get(l).crossHeads, wl.cross().output(), gl.cross().output(), d, wl.cross().heads() * hd, hd);
            columnProducts(s.hidden, s.decoder.get(l).ffn, wl.ffn().down(), gl.ffn().down(), d, wl.ffn().ffnDim(), 1);
        }
        return s;
    }

    /**
     * {@link #gates(T5Model, T5Weights)} of an OpenBA: the same sites, where a hidden channel's also holds entry j of
     * every attention's o bias and of the encoder's final LayerNorm's weight and bias.
     */
    static EncoderDecoderScores gates(OpenBaModel model, OpenBaWeights g) {
        OpenBaConfig c = model.config();
        OpenBaWeights w = model.weights();
        EncoderDecoderScores s = zeros(c, Criterion.TAYLOR);
        int d = c.dim();
        int hd = c.headDim();
        embeddingProducts(s.hidden, w.shared(), g.shared(), d);
        if (!c.tiedEmbeddings()) embeddingProducts(s.hidden, w.lmHead(), g.lmHead(), d);
        products(s.hidden, w.encoderNorm().weight(), g.encoderNorm().weight(), 1);
        products(s.hidden, w.encoderNorm().bias(), g.encoderNorm().bias(), 1);
        for (int l = 0; l < c.encoder().size(); l++) {
            OpenBaWeights.EncoderLayer wl = w.encoder().get(l), gl = g.encoder().get(l);
            columnProducts(s.hidden, s.encoder.get(l).heads, wl.self().output(), gl.self().output(), d, wl.self().heads() * hd, hd);
            products(s.hidden, wl.self().outputBias(), gl.self().outputBias(), 1);
            columnProducts(s.hidden, s.encoder.get(l).ffn, wl.ffn().fcOut(), gl.ffn().fcOut(), d, wl.ffn().ffnDim(), 1);
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            OpenBaWeights.DecoderLayer wl = w.decoder().get(l), gl = g.decoder().get(l);
            columnProducts(s.hidden, s.decoder.get(l).heads, wl.self().output(), gl.self().output(), d, wl.self().heads() * hd, hd);
            products(s.hidden, wl.self().outputBias(), gl.self().outputBias(), 1);
            columnProducts(s.hidden, s.decoder.get(l).crossHeads, wl.cross().output(), gl.cross().output(), d, wl.cross().heads() * hd, hd);
            products(s.hidden, wl.cross().outputBias(), gl.cross().outputBias(), 1);
            columnProducts(s.hidden, s.decoder.get(l).ffn, wl.ffn().fcOut(), gl.ffn().fcOut(), d, wl.ffn().ffnDim(), 1);
        }
        return s;
    }

    /** A [rows, cols] table (the embedding, an untied head): w·g of each entry to its column's channel. */
    private static void embeddingProducts(double[] hidden, float[] w, float[] g, int cols) {
        for (int i = 0; i < w.length; i++) hidden[i % cols] += (double) w[i] * g[i];
    }

    /** A vector (a norm's weight or bias, an o bias): w·g of entry i to unit i / width. */
    private static void products(double[] units, float[] w, float[] g, int width) {
        for (int i = 0; i < w.length; i++) units[i / width] += (double) w[i] * g[i];
    }

    /** An output projection [hidden, cols]: w·g of each entry to its row's channel and to its column's unit (column / width). */
    private static void columnProducts(double[] hidden, double[] units, float[] w, float[] g, int rows, int cols, int width) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double wg = (double) w[i * cols + j] * g[i * cols + j];
                hidden[i] += wg;
                units[j / width] += wg;
            }
        }
    }

    /** Per head: the mean over the rows of the L2 norm of its headDim context values; ctx [rows, heads·headDim]. */
    private static void heads(double[] into, float[] ctx, int hd, int rows) {
        int width = into.length * hd;
        for (int h = 0; h < into.length; h++) {
            for (int t = 0; t < rows; t++) {
                double norm = 0;
                for (int d = 0; d < hd; d++) norm += (double) ctx[t * width + h * hd + d] * ctx[t * width + h * hd + d];
                into[h] += Math.sqrt(norm) / rows;
            }
        }
    }

    /** {@code into[j]} += the mean over the rows of |x[r, j]|; x [rows, into.length]. */
    private static void meanAbsColumns(double[] into, float[] x, int rows) {
        int cols = into.length;
        for (int r = 0; r < rows; r++) for (int j = 0; j < cols; j++) into[j] += Math.abs(x[r * cols + j]) / rows;
    }

    /** How many scores there are, over every axis. */
    int size() {
        int[] n = {0};
        forEachRow(row -> n[0] += row.length);
        return n[0];
    }

    /** Every score in {@link #forEachRow}'s order, one vector. */
    double[] values() {
        double[] v = new double[size()];
        int[] at = {0};
        forEachRow(row -> {
            System.arraycopy(row, 0, v, at[0], row.length);
            at[0] += row.length;
        });
        return v;
    }

    /** Puts {@code v} ({@link #values()}'s layout) into the score arrays. */
    void setValues(double[] v) {
        int[] at = {0};
        forEachRow(row -> {
            System.arraycopy(v, at[0], row, 0, row.length);
            at[0] += row.length;
        });
    }

    /** Every score array, in a fixed order: hidden, then each encoder layer's, then each decoder layer's. */
    void forEachRow(Consumer<double[]> f) {
        f.accept(hidden);
        for (Layer l : encoder) {
            f.accept(l.heads);
            f.accept(l.ffn);
        }
        for (Layer l : decoder) {
            f.accept(l.heads);
            f.accept(l.crossHeads);
            f.accept(l.ffn);
        }
    }

    private static void attention(double[] hidden, double[] heads, T5Config c, T5Weights.Attention a) {
        int d = c.dim();
        int inner = a.heads() * c.headDim();
        square(hidden, a.norm());
        for (float[] m : new float[][]{a.query(), a.key(), a.value()}) rows(hidden, m, inner, d, heads, c.headDim());
        columns(hidden, a.output(), d, inner, heads, c.headDim());
    }

    private static void feedForward(double[] hidden, double[] neurons, T5Config c, T5Weights.FeedForward f) {
        int d = c.dim();
        square(hidden, f.norm());
        if (c.feedForward().gated()) rows(hidden, f.gate(), f.ffnDim(), d, neurons, 1);
        rows(hidden, f.up(), f.ffnDim(), d, neurons, 1);
        columns(hidden, f.down(), d, f.ffnDim(), neurons, 1);
    }

    /** A [vocabSize, hidden] matrix (the embedding, an untied head): each squared entry to its column's channel. */
    private static void embedding(double[] hidden, float[] m, int cols) {
        for (int i = 0; i < m.length; i++) hidden[i % cols] += (double) m[i] * m[i];
    }

    /** A [rows, hidden] matrix: each squared entry to its column's channel and to its row's unit (row / width). */
    private static void rows(double[] hidden, float[] m, int rows, int cols, double[] units, int width) {
        for (int i = 0; i < rows; i++) {
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                double sq = (double) m[i * cols + j] * m[i * cols + j];
                hidden[j] += sq;
                sum += sq;
            }
            units[i / width] += sum;
        }
    }

    /** A [hidden, cols] matrix: each squared entry to its row's channel and to its column's unit (column / width). */
    private static void columns(double[] hidden, float[] m, int rows, int cols, double[] units, int width) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sq = (double) m[i * cols + j] * m[i * cols + j];
                hidden[i] += sq;
                units[j / width] += sq;
            }
        }
    }

    private static void self(double[] hidden, double[] heads, OpenBaConfig c, OpenBaWeights.SelfAttention a) {
        int d = c.dim();
        int hd = c.headDim();
        int inner = a.heads() * hd;
        square(hidden, a.norm());
        rows(hidden, a.qkv(), 3 * inner, d, heads, 3 * hd);
        entries(a.qkvBias(), heads, 3 * hd);
        columns(hidden, a.output(), d, inner, heads, hd);
        entries(a.outputBias(), hidden, 1);
    }

    /** fc_in's gate half (rows 0..ffnDim) and up half each give row i to neuron i. */
    private static void feedForward(double[] hidden, double[] neurons, OpenBaConfig c, OpenBaWeights.FeedForward f) {
        int d = c.dim();
        int half = f.ffnDim() * d;
        square(hidden, f.norm());
        rows(hidden, Arrays.copyOfRange(f.fcIn(), 0, half), f.ffnDim(), d, neurons, 1);
        rows(hidden, Arrays.copyOfRange(f.fcIn(), half, 2 * half), f.ffnDim(), d, neurons, 1);
        columns(hidden, f.fcOut(), d, f.ffnDim(), neurons, 1);
    }

    private static void square(double[] hidden, OpenBaWeights.Norm norm) {
        square(hidden, norm.weight());
        square(hidden, norm.bias());
    }

    /** A bias: each squared entry to its unit (entry / width). */
    private static void entries(float[] bias, double[] units, int width) {
        for (int i = 0; i < bias.length; i++) units[i / width] += (double) bias[i] * bias[i];
    }

    private static void square(double[] hidden, float[] norm) {
        for (int i = 0; i < norm.length; i++) hidden[i] += (double) norm[i] * norm[i];
    }
}
