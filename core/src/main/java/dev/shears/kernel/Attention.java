package dev.shears.kernel;

import dev.shears.tensor.Lanes;
import dev.shears.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled dot-product attention with grouped-query heads (Ainslie et al. 2023), as
 * {@code torch.nn.functional.scaled_dot_product_attention(q, repeat_kv(k), repeat_kv(v), is_causal=True)}
 * with scale {@code 1/sqrt(headDim)}. Query head {@code h} reads key/value head {@code h / (numHeads / numKvHeads)}.
 * Work is split over heads (independent outputs), so results do not depend on the thread count.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {
    }

    /** The shape of one attention call over one sequence. */
    public record Shape(int queries, int startPos, int numHeads, int numKvHeads, int headDim) {
        /** Keys attended by the last query. */
        public int keys() {
            return startPos + queries;
        }
    }

    /**
     * Attention for one sequence, keeping every probability for the backward pass.
     *
     * @param ctx   [queries, numHeads*headDim] from {@code ctxOff}, overwritten
     * @param probs [numHeads, queries, keys] from {@code probsOff}; entries above the diagonal are written as 0
     * @param q     [queries, numHeads*headDim] from {@code qOff}: positions startPos.. startPos+queries-1
     * @param k     [keys, numKvHeads*headDim] from {@code kvOff}
     * @param v     [keys, numKvHeads*headDim] from {@code kvOff}
     */
    public static void forward(float[] ctx, int ctxOff, float[] probs, int probsOff, float[] q, int qOff,
                               float[] k, float[] v, int kvOff, Shape shape) {
        int keys = shape.keys();
        run(ctx, ctxOff, probs, probsOff, shape.queries() * keys, keys, q, qOff, k, v, kvOff, shape);
    }

    /**
     * Attention for one sequence without keeping probabilities (scoring and generation).
     *
     * @param scratch [numHeads, keys] working space
     */
    public static void forwardInference(float[] ctx, int ctxOff, float[] scratch, float[] q, int qOff,
                                        float[] k, float[] v, int kvOff, Shape shape) {
        run(ctx, ctxOff, scratch, 0, shape.keys(), 0, q, qOff, k, v, kvOff, shape);
    }

    private static void run(float[] ctx, int ctxOff, float[] probs, int probsOff, int headStride, int rowStride,
                            float[] q, int qOff, float[] k, float[] v, int kvOff, Shape shape) {
        int hd = shape.headDim();
        int qWidth = shape.numHeads() * hd;
        int kvWidth = shape.numKvHeads() * hd;
        int group = shape.numHeads() / shape.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int keys = shape.keys();
        Parallel.forEach(shape.numHeads(), h -> {
            int kvHead = h / group;
            for (int i = 0; i < shape.queries(); i++) {
                int p = probsOff + h * headStride + i * rowStride;
                int qi = qOff + i * qWidth + h * hd;
                int visible = shape.startPos() + i + 1;
                dots(probs, p, q, qi, k, kvOff + kvHead * hd, kvWidth, visible, hd);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    float s = probs[p + j] * scale;
                    probs[p + j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j < visible; j++) {
                    float e = (float) Math.exp(probs[p + j] - max);
                    probs[p + j] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int j = 0; j < visible; j++) probs[p + j] *= inv;
                int c = ctxOff + i * qWidth + h * hd;
                java.util.Arrays.fill(ctx, c, c + hd, 0f);
                accumulate(ctx, c, probs, p, 1, v, kvOff + kvHead * hd, kvWidth, visible, hd);
                if (rowStride > 0) java.util.Arrays.fill(probs, p + visible, p + keys, 0f);
            }
        });
    }

    /** The scalar twin of {@link #forward}: the documentation and the test oracle. */
    public static void forwardScalar(float[] ctx, int ctxOff, float[] probs, int probsOff, float[] q, int qOff,
                                     float[] k, float[] v, int kvOff, Shape shape) {
        int hd = shape.headDim();
        int qWidth = shape.numHeads() * hd;
        int kvWidth = shape.numKvHeads() * hd;
        int group = shape.numHeads() / shape.numKvHeads();
        int keys = shape.keys();
        double scale = 1.0 / Math.sqrt(hd);
        for (int h = 0; h < shape.numHeads(); h++) {
            int kvHead = h / group;
            for (int i = 0; i < shape.queries(); i++) {
                int visible = shape.startPos() + i + 1;
                double[] score = new double[visible];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) q[qOff + i * qWidth + h * hd + d] * k[kvOff + j * kvWidth + kvHead * hd + d];
                    score[j] = s * scale;
                    max = Math.max(max, score[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++) {
                    score[j] = Math.exp(score[j] - max);
                    sum += score[j];
                }
                int p = probsOff + (h * shape.queries() + i) * keys;
                for (int j = 0; j < keys; j++) probs[p + j] = j < visible ? (float) (score[j] / sum) : 0f;
                for (int d = 0; d < hd; d++) {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) acc += score[j] / sum * v[kvOff + j * kvWidth + kvHead * hd + d];
                    ctx[ctxOff + i * qWidth + h * hd + d] = (float) acc;
                }
            }
        }
    }

    /**
     * Backward of {@link #forward} for one sequence. With {@code S = q·kᵀ·scale}, {@code P = softmax(S)},
     * {@code ctx = P·v}: {@code dv += Pᵀ·dctx}, {@code dP = dctx·vᵀ}, {@code dS = P ⊙ (dP − rowsum(P ⊙ dP))},
     * {@code dq += scale·dS·k}, {@code dk += scale·dSᵀ·q}. Work is split over key/value heads, each
     * owning its own slice of dK and dV, so results do not depend on the thread count. Accumulates.
     *
     * @param dQ    [queries, numHeads*headDim] from {@code qOff}
     * @param dK    [keys, numKvHeads*headDim] from {@code kvOff}
     * @param dV    [keys, numKvHeads*headDim] from {@code kvOff}
     * @param dCtx  [queries, numHeads*headDim] from {@code qOff}
     * @param probs [numHeads, queries, keys] from {@code probsOff}, saved by {@link #forward}
     */
    public static void backward(float[] dQ, float[] dK, float[] dV, float[] dCtx, int qOff, int kvOff,
                                float[] probs, int probsOff, float[] q, float[] k, float[] v, Shape shape) {
        int hd = shape.headDim();
        int qWidth = shape.numHeads() * hd;
        int kvWidth = shape.numKvHeads() * hd;
        int group = shape.numHeads() / shape.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int keys = shape.keys();
        int queries = shape.queries();
        int start = shape.startPos();
        Parallel.forEach(shape.numKvHeads(), kvHead -> {
            float[] dS = SCRATCH.get();
            if (dS.length < queries * keys) {
                dS = new float[queries * keys];
                SCRATCH.set(dS);
            }
            int kvCol = kvOff + kvHead * hd;
            for (int h = kvHead * group; h < (kvHead + 1) * group; h++) {
                int ph = probsOff + h * queries * keys;
                int qCol = qOff + h * hd;
                for (int i = 0; i < queries; i++) {
                    int p = ph + i * keys;
                    int row = i * keys;
                    int visible = start + i + 1;
                    dots(dS, row, dCtx, qCol + i * qWidth, v, kvCol, kvWidth, visible, hd); // dP
                    float rowSum = 0;
                    for (int j = 0; j < visible; j++) rowSum += probs[p + j] * dS[row + j];
                    for (int j = 0; j < visible; j++) dS[row + j] = probs[p + j] * (dS[row + j] - rowSum) * scale;
                    accumulate(dQ, qCol + i * qWidth, dS, row, 1, k, kvCol, kvWidth, visible, hd);
                }
                // key j is seen by queries i >= j - startPos; dV and dK gather over them in query order
                for (int j = 0; j < keys; j++) {
                    int first = Math.max(0, j - start);
                    if (first >= queries) continue;
                    int kj = kvOff + j * kvWidth + kvHead * hd;
                    accumulate(dV, kj, probs, ph + first * keys + j, keys, dCtx, qCol + first * qWidth, qWidth, queries - first, hd);
                    accumulate(dK, kj, dS, first * keys + j, keys, q, qCol + first * qWidth, qWidth, queries - first, hd);
                }
            }
        });
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * {@code out[outOff + j] = dot(a[aOff..], b[bOff + j·bStride ..], n)} for j in [0, count), bit for bit
     * what {@link #dot} gives for each j, four rows of b at a time: the loads of a are shared, and the
     * four fixed-order lane sums run side by side instead of one long dependent chain each.
     */
    static void dots(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int bStride, int count, int n) {
        int len = S.length();
        int bound = n >= len ? S.loopBound(n) : 0;
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int b0 = bOff + j * bStride, b1 = b0 + bStride, b2 = b1 + bStride, b3 = b2 + bStride;
            float d0 = 0, d1 = 0, d2 = 0, d3 = 0;
            if (bound > 0) {
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int i = 0; i < bound; i += len) {
                    FloatVector av = FloatVector.fromArray(S, a, aOff + i);
                    s0 = av.fma(FloatVector.fromArray(S, b, b0 + i), s0);
                    s1 = av.fma(FloatVector.fromArray(S, b, b1 + i), s1);
                    s2 = av.fma(FloatVector.fromArray(S, b, b2 + i), s2);
                    s3 = av.fma(FloatVector.fromArray(S, b, b3 + i), s3);
                }
                d0 = Lanes.sum(s0);
                d1 = Lanes.sum(s1);
                d2 = Lanes.sum(s2);
                d3 = Lanes.sum(s3);
            }
            for (int i = bound; i < n; i++) {
                float ai = a[aOff + i];
                d0 += ai * b[b0 + i];
                d1 += ai * b[b1 + i];
                d2 += ai * b[b2 + i];
                d3 += ai * b[b3 + i];
            }
            out[outOff + j] = d0;
            out[outOff + j + 1] = d1;
            out[outOff + j + 2] = d2;
            out[outOff + j + 3] = d3;
        }
        for (; j < count; j++) out[outOff + j] = dot(a, aOff, b, bOff + j * bStride, n);
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /**
     * {@code y[yOff + d] += Σ_t w[wOff + t·wStride] · x[xOff + t·xStride + d]} for d in [0, n), the terms
     * added one at a time in t order (fused multiply-adds in the vector part) — bit for bit a loop of
     * {@code y += w_t · x_t} over t — with y held in registers, up to four vectors at a time.
     */
    static void accumulate(float[] y, int yOff, float[] w, int wOff, int wStride, float[] x, int xOff, int xStride, int count, int n) {
        int len = S.length();
        int bound = S.loopBound(n);
        int d = 0;
        for (; d + 4 * len <= bound; d += 4 * len) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d), a1 = FloatVector.fromArray(S, y, yOff + d + len);
            FloatVector a2 = FloatVector.fromArray(S, y, yOff + d + 2 * len), a3 = FloatVector.fromArray(S, y, yOff + d + 3 * len);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                FloatVector wt = FloatVector.broadcast(S, w[wi]);
                a0 = FloatVector.fromArray(S, x, xi).fma(wt, a0);
                a1 = FloatVector.fromArray(S, x, xi + len).fma(wt, a1);
                a2 = FloatVector.fromArray(S, x, xi + 2 * len).fma(wt, a2);
                a3 = FloatVector.fromArray(S, x, xi + 3 * len).fma(wt, a3);
            }
            a0.intoArray(y, yOff + d);
            a1.intoArray(y, yOff + d + len);
            a2.intoArray(y, yOff + d + 2 * len);
            a3.intoArray(y, yOff + d + 3 * len);
        }
        if (d + 2 * len <= bound) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d), a1 = FloatVector.fromArray(S, y, yOff + d + len);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                FloatVector wt = FloatVector.broadcast(S, w[wi]);
                a0 = FloatVector.fromArray(S, x, xi).fma(wt, a0);
                a1 = FloatVector.fromArray(S, x, xi + len).fma(wt, a1);
            }
            a0.intoArray(y, yOff + d);
            a1.intoArray(y, yOff + d + len);
            d += 2 * len;
        }
        if (d < bound) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                a0 = FloatVector.fromArray(S, x, xi).fma(FloatVector.broadcast(S, w[wi]), a0);
            }
            a0.intoArray(y, yOff + d);
            d += len;
        }
        for (; d < n; d++) {
            float acc = y[yOff + d];
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) acc += w[wi] * x[xi];
            y[yOff + d] = acc;
        }
    }
}
