package dev.shears.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix products inside one attention head, in register tiles of four rows: scores
 * {@code Q·Kᵀ} (and {@code dCtx·Vᵀ}) against a transposed copy of K, and weighted sums of rows
 * {@code y += Σ_t w_t·x_t} (context, dQ, dK, dV). Each output element keeps one fixed summation order
 * that does not depend on how rows are grouped into tiles, so {@link Attention} stays bit-identical for
 * any thread count; the plain-loop forms ({@link #scoresScalar}, {@link #accumulate}) are the twins.
 */
final class HeadProducts {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Rows per register tile. */
    static final int ROWS = 4;

    private HeadProducts() {
    }

    /** {@code count} rounded up to whole vectors: the row stride of transposed and score buffers. */
    static int padded(int count) {
        return (count + L - 1) / L * L;
    }

    /**
     * {@code kt[d·ldk + j] = k[kOff + j·kStride + d]} for j &lt; count, d &lt; n; zero for count ≤ j &lt; ldk.
     *
     * @param kt [n, ldk], ldk ≥ {@link #padded}(count)
     */
    static void transpose(float[] kt, int ldk, float[] k, int kOff, int kStride, int count, int n) {
        for (int j = 0; j < count; j++) {
            int src = kOff + j * kStride;
            for (int d = 0, dst = j; d < n; d++, dst += ldk) kt[dst] = k[src + d];
        }
        for (int d = 0; d < n; d++) java.util.Arrays.fill(kt, d * ldk + count, d * ldk + ldk, 0f);
    }

    /**
     * {@code out[outOff + r·ldo + j] = Σ_d q[qOff + r·qStride + d]·kt[d·ldk + j]} for r &lt; {@value #ROWS} and
     * j &lt; {@link #padded}(count): two fused multiply-add chains from 0, over the first and the second half
     * of d in increasing order (two short chains keep the rounding error of a long dot product down and
     * double the independent work), then added ({@link #scoresScalar}). Rows r ≥ {@code rows} repeat the last valid row of q: {@code out} must
     * have room for {@value #ROWS} rows of {@link #padded}(count).
     */
    static void scores(float[] out, int outOff, int ldo, float[] q, int qOff, int qStride, int rows,
                       float[] kt, int ldk, int count, int n) {
        int q0 = qOff, q1 = qOff + Math.min(1, rows - 1) * qStride, q2 = qOff + Math.min(2, rows - 1) * qStride,
                q3 = qOff + Math.min(3, rows - 1) * qStride;
        int o0 = outOff, o1 = o0 + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
        int end = padded(count);
        int half = n / 2;
        int j = 0;
        for (; j + 2 * L <= end; j += 2 * L) {
            FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            FloatVector e00 = c00, e01 = c00, e10 = c00, e11 = c00, e20 = c00, e21 = c00, e30 = c00, e31 = c00;
            for (int d = 0, b = j, b2 = j + half * ldk; d < half; d++, b += ldk, b2 += ldk) {
                FloatVector k0 = FloatVector.fromArray(S, kt, b), k1 = FloatVector.fromArray(S, kt, b + L);
                FloatVector m0 = FloatVector.fromArray(S, kt, b2), m1 = FloatVector.fromArray(S, kt, b2 + L);
                FloatVector a = FloatVector.broadcast(S, q[q0 + d]), e = FloatVector.broadcast(S, q[q0 + half + d]);
                c00 = a.fma(k0, c00);
                c01 = a.fma(k1, c01);
                e00 = e.fma(m0, e00);
                e01 = e.fma(m1, e01);
                a = FloatVector.broadcast(S, q[q1 + d]);
                e = FloatVector.broadcast(S, q[q1 + half + d]);
                c10 = a.fma(k0, c10);
                c11 = a.fma(k1, c11);
                e10 = e.fma(m0, e10);
                e11 = e.fma(m1, e11);
                a = FloatVector.broadcast(S, q[q2 + d]);
                e = FloatVector.broadcast(S, q[q2 + half + d]);
                c20 = a.fma(k0, c20);
                c21 = a.fma(k1, c21);
                e20 = e.fma(m0, e20);
                e21 = e.fma(m1, e21);
                a = FloatVector.broadcast(S, q[q3 + d]);
                e = FloatVector.broadcast(S, q[q3 + half + d]);
                c30 = a.fma(k0, c30);
                c31 = a.fma(k1, c31);
                e30 = e.fma(m0, e30);
                e31 = e.fma(m1, e31);
            }
            if (n > 2 * half) { // odd n: the last element ends the second chain
                int b2 = j + (n - 1) * ldk;
                FloatVector m0 = FloatVector.fromArray(S, kt, b2), m1 = FloatVector.fromArray(S, kt, b2 + L);
                FloatVector e = FloatVector.broadcast(S, q[q0 + n - 1]);
                e00 = e.fma(m0, e00);
                e01 = e.fma(m1, e01);
                e = FloatVector.broadcast(S, q[q1 + n - 1]);
                e10 = e.fma(m0, e10);
                e11 = e.fma(m1, e11);
                e = FloatVector.broadcast(S, q[q2 + n - 1]);
                e20 = e.fma(m0, e20);
                e21 = e.fma(m1, e21);
                e = FloatVector.broadcast(S, q[q3 + n - 1]);
                e30 = e.fma(m0, e30);
                e31 = e.fma(m1, e31);
            }
            c00.add(e00).intoArray(out, o0 + j);
            c01.add(e01).intoArray(out, o0 + j + L);
            c10.add(e10).intoArray(out, o1 + j);
            c11.add(e11).intoArray(out, o1 + j + L);
            c20.add(e20).intoArray(out, o2 + j);
            c21.add(e21).intoArray(out, o2 + j + L);
            c30.add(e30).intoArray(out, o3 + j);
            c31.add(e31).intoArray(out, o3 + j + L);
        }
        if (j < end) {
            FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
            for (int d = 0, b = j; d < half; d++, b += ldk) {
                FloatVector k0 = FloatVector.fromArray(S, kt, b);
                c0 = FloatVector.broadcast(S, q[q0 + d]).fma(k0, c0);
                c1 = FloatVector.broadcast(S, q[q1 + d]).fma(k0, c1);
                c2 = FloatVector.broadcast(S, q[q2 + d]).fma(k0, c2);
                c3 = FloatVector.broadcast(S, q[q3 + d]).fma(k0, c3);
            }
            for (int d = half, b = j + half * ldk; d < n; d++, b += ldk) {
                FloatVector k0 = FloatVector.fromArray(S, kt, b);
                e0 = FloatVector.broadcast(S, q[q0 + d]).fma(k0, e0);
                e1 = FloatVector.broadcast(S, q[q1 + d]).fma(k0, e1);
                e2 = FloatVector.broadcast(S, q[q2 + d]).fma(k0, e2);
                e3 = FloatVector.broadcast(S, q[q3 + d]).fma(k0, e3);
            }
            c0.add(e0).intoArray(out, o0 + j);
            c1.add(e1).intoArray(out, o1 + j);
            c2.add(e2).intoArray(out, o2 + j);
            c3.add(e3).intoArray(out, o3 + j);
        }
    }

    /** The scalar twin of {@link #scores} for one row: {@code out[outOff + j]} for j &lt; count. */
    static void scoresScalar(float[] out, int outOff, float[] q, int qOff, float[] k, int kOff, int kStride, int count, int n) {
        for (int j = 0; j < count; j++) {
            float first = 0, second = 0;
            for (int d = 0; d < n / 2; d++) first = Math.fma(q[qOff + d], k[kOff + j * kStride + d], first);
            for (int d = n / 2; d < n; d++) second = Math.fma(q[qOff + d], k[kOff + j * kStride + d], second);
            out[outOff + j] = first + second;
        }
    }

    /**
     * {@value #ROWS} rows of {@link #accumulate} sharing the loads of x: row r adds
     * {@code Σ_t w[wOff + r·wRowStride + t·wStride]·x[xOff + t·xStride + d]} into {@code y[yOff + r·yStride + d]},
     * bit for bit what {@link #accumulate} gives for each row.
     */
    static void accumulate4(float[] y, int yOff, int yStride, float[] w, int wOff, int wRowStride, int wStride,
                            float[] x, int xOff, int xStride, int count, int n) {
        if (count <= 0) return;
        int y0 = yOff, y1 = y0 + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
        int w0 = wOff, w1 = w0 + wRowStride, w2 = w1 + wRowStride, w3 = w2 + wRowStride;
        int bound = S.loopBound(n);
        int d = 0;
        for (; d + 2 * L <= bound; d += 2 * L) {
            FloatVector a00 = FloatVector.fromArray(S, y, y0 + d), a01 = FloatVector.fromArray(S, y, y0 + d + L);
            FloatVector a10 = FloatVector.fromArray(S, y, y1 + d), a11 = FloatVector.fromArray(S, y, y1 + d + L);
            FloatVector a20 = FloatVector.fromArray(S, y, y2 + d), a21 = FloatVector.fromArray(S, y, y2 + d + L);
            FloatVector a30 = FloatVector.fromArray(S, y, y3 + d), a31 = FloatVector.fromArray(S, y, y3 + d + L);
            for (int t = 0, wt = 0, xi = xOff + d; t < count; t++, wt += wStride, xi += xStride) {
                FloatVector x0 = FloatVector.fromArray(S, x, xi), x1 = FloatVector.fromArray(S, x, xi + L);
                FloatVector b = FloatVector.broadcast(S, w[w0 + wt]);
                a00 = x0.fma(b, a00);
                a01 = x1.fma(b, a01);
                b = FloatVector.broadcast(S, w[w1 + wt]);
                a10 = x0.fma(b, a10);
                a11 = x1.fma(b, a11);
                b = FloatVector.broadcast(S, w[w2 + wt]);
                a20 = x0.fma(b, a20);
                a21 = x1.fma(b, a21);
                b = FloatVector.broadcast(S, w[w3 + wt]);
                a30 = x0.fma(b, a30);
                a31 = x1.fma(b, a31);
            }
            a00.intoArray(y, y0 + d);
            a01.intoArray(y, y0 + d + L);
            a10.intoArray(y, y1 + d);
            a11.intoArray(y, y1 + d + L);
            a20.intoArray(y, y2 + d);
            a21.intoArray(y, y2 + d + L);
            a30.intoArray(y, y3 + d);
            a31.intoArray(y, y3 + d + L);
        }
        if (d < bound) {
            FloatVector a0 = FloatVector.fromArray(S, y, y0 + d), a1 = FloatVector.fromArray(S, y, y1 + d);
            FloatVector a2 = FloatVector.fromArray(S, y, y2 + d), a3 = FloatVector.fromArray(S, y, y3 + d);
            for (int t = 0, wt = 0, xi = xOff + d; t < count; t++, wt += wStride, xi += xStride) {
                FloatVector x0 = FloatVector.fromArray(S, x, xi);
                a0 = x0.fma(FloatVector.broadcast(S, w[w0 + wt]), a0);
                a1 = x0.fma(FloatVector.broadcast(S, w[w1 + wt]), a1);
                a2 = x0.fma(FloatVector.broadcast(S, w[w2 + wt]), a2);
                a3 = x0.fma(FloatVector.broadcast(S, w[w3 + wt]), a3);
            }
            a0.intoArray(y, y0 + d);
            a1.intoArray(y, y1 + d);
            a2.intoArray(y, y2 + d);
            a3.intoArray(y, y3 + d);
            d += L;
        }
        if (d < n) {
            accumulateTail(y, y0, w, w0, wStride, x, xOff, xStride, count, d, n);
            accumulateTail(y, y1, w, w1, wStride, x, xOff, xStride, count, d, n);
            accumulateTail(y, y2, w, w2, wStride, x, xOff, xStride, count, d, n);
            accumulateTail(y, y3, w, w3, wStride, x, xOff, xStride, count, d, n);
        }
    }

    /**
     * {@code y[yOff + d] += Σ_t w[wOff + t·wStride] · x[xOff + t·xStride + d]} for d in [0, n), the terms
     * added one at a time in t order (fused multiply-adds in the vector part, multiply then add in the
     * scalar tail) — bit for bit a loop of {@code y += w_t · x_t} over t — with y held in registers.
     */
    static void accumulate(float[] y, int yOff, float[] w, int wOff, int wStride, float[] x, int xOff, int xStride, int count, int n) {
        if (count <= 0) return;
        int bound = S.loopBound(n);
        int d = 0;
        for (; d + 4 * L <= bound; d += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d), a1 = FloatVector.fromArray(S, y, yOff + d + L);
            FloatVector a2 = FloatVector.fromArray(S, y, yOff + d + 2 * L), a3 = FloatVector.fromArray(S, y, yOff + d + 3 * L);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                FloatVector wt = FloatVector.broadcast(S, w[wi]);
                a0 = FloatVector.fromArray(S, x, xi).fma(wt, a0);
                a1 = FloatVector.fromArray(S, x, xi + L).fma(wt, a1);
                a2 = FloatVector.fromArray(S, x, xi + 2 * L).fma(wt, a2);
                a3 = FloatVector.fromArray(S, x, xi + 3 * L).fma(wt, a3);
            }
            a0.intoArray(y, yOff + d);
            a1.intoArray(y, yOff + d + L);
            a2.intoArray(y, yOff + d + 2 * L);
            a3.intoArray(y, yOff + d + 3 * L);
        }
        if (d + 2 * L <= bound) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d), a1 = FloatVector.fromArray(S, y, yOff + d + L);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                FloatVector wt = FloatVector.broadcast(S, w[wi]);
                a0 = FloatVector.fromArray(S, x, xi).fma(wt, a0);
                a1 = FloatVector.fromArray(S, x, xi + L).fma(wt, a1);
            }
            a0.intoArray(y, yOff + d);
            a1.intoArray(y, yOff + d + L);
            d += 2 * L;
        }
        if (d < bound) {
            FloatVector a0 = FloatVector.fromArray(S, y, yOff + d);
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) {
                a0 = FloatVector.fromArray(S, x, xi).fma(FloatVector.broadcast(S, w[wi]), a0);
            }
            a0.intoArray(y, yOff + d);
            d += L;
        }
        if (d < n) accumulateTail(y, yOff, w, wOff, wStride, x, xOff, xStride, count, d, n);
    }

    private static void accumulateTail(float[] y, int yOff, float[] w, int wOff, int wStride, float[] x, int xOff, int xStride,
                                       int count, int from, int n) {
        for (int d = from; d < n; d++) {
            float acc = y[yOff + d];
            for (int t = 0, wi = wOff, xi = xOff + d; t < count; t++, wi += wStride, xi += xStride) acc += w[wi] * x[xi];
            y[yOff + d] = acc;
        }
    }
}
