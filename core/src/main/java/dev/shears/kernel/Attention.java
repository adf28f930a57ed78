package dev.shears.kernel;

import dev.shears.tensor.Parallel;

/**
 * Causal scaled dot-product attention with grouped-query heads (Ainslie et al. 2023), as
 * {@code torch.nn.functional.scaled_dot_product_attention(q, repeat_kv(k), repeat_kv(v), is_causal=True)}
 * with scale {@code 1/sqrt(headDim)}. Query head {@code h} reads key/value head {@code h / (numHeads / numKvHeads)}.
 * Work is split over heads (independent outputs), so results do not depend on the thread count. The
 * products inside a head run in register tiles of four rows ({@link HeadProducts}): a score is one fused
 * multiply-add chain over the head dimension against a transposed copy of the keys, a weighted sum of
 * rows adds its terms in key (or query) order, whatever the grouping of rows into tiles.
 */
public final class Attention {
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
     * Rows of a packed call ({@link #forwardPacked}): segment s is rows {@code [start[s], start[s] + length[s])},
     * and its rows see the keys of rows {@code [prefixStart[s], prefixStart[s] + prefixLength[s])} before their own
     * (prefix length 0: none).
     */
    public record Segments(int[] start, int[] length, int[] prefixStart, int[] prefixLength) {
        public Segments {
            if (length.length != start.length || prefixStart.length != start.length || prefixLength.length != start.length) {
                throw new IllegalArgumentException("segment arrays of different lengths");
            }
        }

        public int count() {
            return start.length;
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

    /** Attention for one sequence without keeping probabilities (scoring and generation; per-thread scratch). */
    public static void forwardInference(float[] ctx, int ctxOff, float[] q, int qOff, float[] k, float[] v, int kvOff, Shape shape) {
        run(ctx, ctxOff, null, 0, 0, 0, q, qOff, k, v, kvOff, shape);
    }

    private static void run(float[] ctx, int ctxOff, float[] probs, int probsOff, int headStride, int rowStride,
                            float[] q, int qOff, float[] k, float[] v, int kvOff, Shape shape) {
        int hd = shape.headDim();
        int qWidth = shape.numHeads() * hd;
        int kvWidth = shape.numKvHeads() * hd;
        int group = shape.numHeads() / shape.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int keys = shape.keys();
        int ldk = HeadProducts.padded(keys);
        Parallel.forEach(shape.numHeads(), h -> {
            Work work = Work.get(hd * ldk, HeadProducts.ROWS * ldk, 0, 0);
            int kvCol = kvOff + (h / group) * hd;
            HeadProducts.transpose(work.transposed, ldk, k, kvCol, kvWidth, keys, hd);
            head(ctx, ctxOff + h * hd, qWidth, probs, probsOff + h * headStride, rowStride, q, qOff + h * hd,
                    work.transposed, ldk, work.scores, v, kvCol, kvWidth, shape.queries(), shape.startPos(), hd, scale);
        });
    }

    /**
     * Several sequences packed into one call, for scoring many short sequences with one pass through the
     * weights: segment s's query i (row {@code start + i}) attends to the keys of its prefix rows, then to
     * those of its own rows up to itself, as if the prefix were a KV cache ({@link #forwardInference} with
     * {@code startPos} the prefix length). Each (segment, head) reads its keys and values into per-thread
     * scratch in that order and then runs the same code as {@link #forwardInference}: a segment's context is
     * bit for bit that of its sequence attended alone, whatever else is packed with it and whatever the
     * thread count. Work is split over (segment, head) pairs.
     *
     * @param ctx [rows, numHeads*headDim], overwritten for the rows of every segment
     * @param q   [rows, numHeads*headDim], after RoPE
     * @param k   [rows, numKvHeads*headDim], after RoPE
     * @param v   [rows, numKvHeads*headDim]
     */
    public static void forwardPacked(float[] ctx, float[] q, float[] k, float[] v, Segments segments, int numHeads, int numKvHeads, int headDim) {
        int hd = headDim;
        int qWidth = numHeads * hd;
        int kvWidth = numKvHeads * hd;
        int group = numHeads / numKvHeads;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.forEach(segments.count() * numHeads, t -> {
            int s = t / numHeads, h = t % numHeads;
            int start = segments.start()[s], queries = segments.length()[s];
            int prefixStart = segments.prefixStart()[s], prefix = segments.prefixLength()[s];
            int keys = prefix + queries;
            int ldk = HeadProducts.padded(keys);
            Work work = Work.get(hd * ldk, HeadProducts.ROWS * ldk, 0, 2 * keys * hd);
            float[] kv = work.gathered; // [keys, hd] of keys, then [keys, hd] of values
            int kvCol = (h / group) * hd;
            for (int j = 0; j < keys; j++) {
                int row = j < prefix ? prefixStart + j : start + j - prefix;
                System.arraycopy(k, row * kvWidth + kvCol, kv, j * hd, hd);
                System.arraycopy(v, row * kvWidth + kvCol, kv, (keys + j) * hd, hd);
            }
            HeadProducts.transpose(work.transposed, ldk, kv, 0, hd, keys, hd);
            head(ctx, start * qWidth + h * hd, qWidth, null, 0, 0, q, start * qWidth + h * hd,
                    work.transposed, ldk, work.scores, kv, keys * hd, hd, queries, prefix, hd, scale);
        });
    }

    /**
     * One head of one sequence: {@code queries} rows at positions {@code start..}, each attending to keys
     * {@code 0..start + i}. Keys come transposed ({@code kt}, [headDim, ldk]), values as rows
     * ({@code v[vOff + t·vStride ..]}); offsets of ctx and q already point at the head's columns.
     *
     * @param probs the probabilities kept for training from {@code probsOff} (rows of {@code rowStride}), or
     *              null (rowStride 0) for inference, which turns the scores into them in place
     * @param sc    scratch scores, {@value HeadProducts#ROWS} rows of ldk
     */
    private static void head(float[] ctx, int ctxOff, int qWidth, float[] probs, int probsOff, int rowStride, float[] q, int qOff,
                             float[] kt, int ldk, float[] sc, float[] v, int vOff, int vStride, int queries, int start, int hd, float scale) {
        int keys = start + queries;
        for (int i0 = 0; i0 < queries; i0 += HeadProducts.ROWS) {
            int rows = Math.min(HeadProducts.ROWS, queries - i0);
            HeadProducts.scores(sc, 0, ldk, q, qOff + i0 * qWidth, qWidth, rows, kt, ldk, start + i0 + rows, hd);
            // training keeps each row's probabilities; inference turns the scores into them in place
            float[] p = rowStride > 0 ? probs : sc;
            int p0 = rowStride > 0 ? probsOff + i0 * rowStride : 0;
            int pRow = rowStride > 0 ? rowStride : ldk;
            for (int r = 0; r < rows; r++) {
                int pr = p0 + r * pRow, sr = r * ldk;
                int visible = start + i0 + r + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    float s = sc[sr + j] * scale;
                    p[pr + j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j < visible; j++) {
                    float e = (float) Math.exp(p[pr + j] - max);
                    p[pr + j] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int j = 0; j < visible; j++) p[pr + j] *= inv;
                if (rowStride > 0) java.util.Arrays.fill(probs, pr + visible, pr + keys, 0f);
                int c = ctxOff + (i0 + r) * qWidth;
                java.util.Arrays.fill(ctx, c, c + hd, 0f);
            }
            weightedRows(ctx, ctxOff + i0 * qWidth, qWidth, p, p0, pRow, 1, v, vOff, vStride, rows, start + i0 + 1, 1, hd);
        }
    }

    /**
     * {@code rows} rows of {@link HeadProducts#accumulate}: row r adds terms t &lt; {@code count + r·countStep}
     * of {@code w[wOff + r·wRowStride + t·wStride]·x[t]} into {@code y[yOff + r·yStride ..]}, four rows at a
     * time over the terms they share, then each row's own remaining terms, so every row keeps its t order.
     */
    private static void weightedRows(float[] y, int yOff, int yStride, float[] w, int wOff, int wRowStride, int wStride,
                                     float[] x, int xOff, int xStride, int rows, int count, int countStep, int n) {
        int shared = 0;
        if (rows == HeadProducts.ROWS) {
            shared = count;
            HeadProducts.accumulate4(y, yOff, yStride, w, wOff, wRowStride, wStride, x, xOff, xStride, shared, n);
        }
        for (int r = 0; r < rows; r++) {
            HeadProducts.accumulate(y, yOff + r * yStride, w, wOff + r * wRowStride + shared * wStride, wStride,
                    x, xOff + shared * xStride, xStride, count + r * countStep - shared, n);
        }
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
        int ldk = HeadProducts.padded(keys);
        int rowsMax = HeadProducts.ROWS;
        Parallel.forEach(shape.numKvHeads(), kvHead -> {
            Work work = Work.get(hd * ldk, rowsMax * ldk, queries * keys, 0);
            float[] vt = work.transposed, sc = work.scores, dS = work.dScores;
            int kvCol = kvOff + kvHead * hd;
            HeadProducts.transpose(vt, ldk, v, kvCol, kvWidth, keys, hd);
            for (int h = kvHead * group; h < (kvHead + 1) * group; h++) {
                int ph = probsOff + h * queries * keys;
                int qCol = qOff + h * hd;
                for (int i0 = 0; i0 < queries; i0 += rowsMax) {
                    int rows = Math.min(rowsMax, queries - i0);
                    HeadProducts.scores(sc, 0, ldk, dCtx, qCol + i0 * qWidth, qWidth, rows, vt, ldk, start + i0 + rows, hd); // dP
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        int p = ph + i * keys, row = i * keys, sr = r * ldk;
                        int visible = start + i + 1;
                        float rowSum = 0;
                        for (int j = 0; j < visible; j++) rowSum += probs[p + j] * sc[sr + j];
                        for (int j = 0; j < visible; j++) dS[row + j] = probs[p + j] * (sc[sr + j] - rowSum) * scale;
                    }
                    weightedRows(dQ, qCol + i0 * qWidth, qWidth, dS, i0 * keys, keys, 1, k, kvCol, kvWidth,
                            rows, start + i0 + 1, 1, hd);
                }
                // key j is seen by queries i >= j - startPos; dV and dK gather over them in query order,
                // four keys at a time over the queries all four see
                for (int j0 = 0; j0 < keys; j0 += rowsMax) {
                    int group4 = Math.min(rowsMax, keys - j0);
                    int lastFirst = Math.max(0, j0 + group4 - 1 - start);
                    boolean joint = group4 == rowsMax && lastFirst < queries;
                    for (int r = 0; r < group4; r++) {
                        int first = Math.max(0, j0 + r - start);
                        if (first >= queries) break;
                        int upTo = joint ? lastFirst : queries;
                        int kj = kvOff + (j0 + r) * kvWidth + kvHead * hd;
                        HeadProducts.accumulate(dV, kj, probs, ph + first * keys + j0 + r, keys, dCtx, qCol + first * qWidth, qWidth, upTo - first, hd);
                        HeadProducts.accumulate(dK, kj, dS, first * keys + j0 + r, keys, q, qCol + first * qWidth, qWidth, upTo - first, hd);
                    }
                    if (joint) {
                        int kj = kvOff + j0 * kvWidth + kvHead * hd;
                        HeadProducts.accumulate4(dV, kj, kvWidth, probs, ph + lastFirst * keys + j0, 1, keys,
                                dCtx, qCol + lastFirst * qWidth, qWidth, queries - lastFirst, hd);
                        HeadProducts.accumulate4(dK, kj, kvWidth, dS, lastFirst * keys + j0, 1, keys,
                                q, qCol + lastFirst * qWidth, qWidth, queries - lastFirst, hd);
                    }
                }
            }
        });
    }

    /** Per-thread working space, grown on demand. */
    private static final class Work {
        private static final ThreadLocal<Work> LOCAL = ThreadLocal.withInitial(Work::new);
        float[] transposed = new float[0];
        float[] scores = new float[0];
        float[] dScores = new float[0];
        /** A head's keys and values copied out of packed rows ({@link #forwardPacked}). */
        float[] gathered = new float[0];

        static Work get(int transposedSize, int scoresSize, int dScoresSize, int gatheredSize) {
            Work w = LOCAL.get();
            if (w.transposed.length < transposedSize) w.transposed = new float[transposedSize];
            if (w.scores.length < scoresSize) w.scores = new float[scoresSize];
            if (w.dScores.length < dScoresSize) w.dScores = new float[dScoresSize];
            if (w.gathered.length < gatheredSize) w.gathered = new float[gatheredSize];
            return w;
        }
    }
}
