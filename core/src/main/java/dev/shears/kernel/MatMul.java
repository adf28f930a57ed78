package dev.shears.kernel;

import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Parallel;
import dev.shears.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Matrix products in PyTorch {@code nn.Linear} layout: {@code weight} is [outDim, inDim], everything
 * row-major. {@link MatMulScalar} holds the same products as plain loops: the documentation and the
 * test oracle.
 *
 * <p>How it is fast: every product is one blocked matrix product {@code C[M,N] (+)= A[M,K]·B[K,N]}
 * (Goto and van de Geijn 2008, "Anatomy of high-performance matrix multiplication"). A register
 * micro-kernel keeps an {@value #MR} × 2-vector tile of C in 12 vector accumulators, broadcasting one
 * element of A and loading two vectors of B per step of K. B is packed per K block into panels of
 * {@code 2·lanes} columns (k-major, zero-padded at the right edge), so the kernel reads it with unit
 * stride from L1/L2; A is read in place along k (rows of x or dOut), except a short last row panel and
 * A stored along m ({@link #backwardWeight}'s dOutᵀ), which are copied per K block into rows along k,
 * zero-padded. Edge tiles run the same kernel into a small scratch tile.
 *
 * <p>Determinism: in the blocked path each output element is one fused multiply-add chain over k in
 * increasing order, {@code c = fma(a[k], b[k], c)}, starting from 0 ({@link #forward}) or from the
 * existing value (the backward products accumulate in place). Blocking over K stores and reloads the
 * exact partial sum, so the result does not depend on the tile sizes, the split over threads or the
 * edge handling: it is bit-identical for any thread count. Work is split over output tiles only
 * ({@link Parallel}); {@link #backwardWeight}, a reduction over rows, is split over (out, in) tiles.
 *
 * <p>Generation ({@code rows} ≤ {@value #SKINNY_ROWS} in {@link #forward}) is memory-bound: it takes a
 * matrix–vector path instead ({@link MatVec}), dot products along inDim with vector accumulators reduced in a fixed
 * lane order, split over blocks of output rows (again bit-identical for any thread count).
 *
 * <p>Weights may be a {@link Tensor} mapped from a file in bf16, f16 or Q8_0: they are widened to fp32
 * while B is packed (and, in the matrix–vector path, four rows at a time into a per-thread buffer), so
 * every product sums the same floats in the same order as on the widened copy: the same bits.
 */
public final class MatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Rows of C per micro-kernel tile. */
    static final int MR = 6;
    /** Columns of C per micro-kernel tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a K block: the packed B block (KC × NC) stays in L2, one B panel row is 2 vectors. */
    static final int KC = 256;
    /** Columns of C per parallel tile (a multiple of NR). */
    static final int NC = 8 * NR;
    /** Smallest row chunk a parallel tile gets when rows are split to feed more threads. */
    private static final int MIN_ROWS_PER_TILE = 8 * MR;
    /** Row counts up to this take the matrix–vector path ({@link MatVec}) in {@link #forward}. */
    static final int SKINNY_ROWS = 4;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MatMul() {
    }

    /**
     * {@code out = x · weightᵀ}, as {@code torch.nn.functional.linear(x, weight)}.
     *
     * @param out    [rows, outDim], overwritten
     * @param x      [rows, inDim]
     * @param weight [outDim, inDim]
     */
    public static void forward(float[] out, float[] x, float[] weight, int rows, int inDim, int outDim) {
        forward(out, x, weight, null, rows, inDim, outDim);
    }

    /**
     * {@code out = x · weightᵀ + bias}; the bias is added after the sum, as in the scalar twin.
     *
     * @param bias [outDim], or null for none
     */
    public static void forward(float[] out, float[] x, float[] weight, float[] bias, int rows, int inDim, int outDim) {
        check(weight, outDim, inDim, "weight");
        forward(out, x, weight, null, bias, rows, inDim, outDim, SKINNY_ROWS);
    }

    /** {@code out = x · weightᵀ} with the weight wherever it lives (heap or mapped file). */
    public static void forward(float[] out, float[] x, Tensor weight, int rows, int inDim, int outDim) {
        forward(out, x, weight, null, rows, inDim, outDim);
    }

    /**
     * {@code out = x · weightᵀ (+ bias)} with the weight wherever it lives (heap or mapped file).
     *
     * @param weight [outDim, inDim]
     * @param bias   [outDim], or null for none
     */
    public static void forward(float[] out, float[] x, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        forward(out, x, weight, bias, rows, inDim, outDim, SKINNY_ROWS);
    }

    /**
     * {@link #forward(float[], float[], Tensor, float[], int, int, int)} by the blocked product whatever the
     * row count: each row of {@code out} is then the same bits however many rows are multiplied together
     * (the matrix–vector path, taken for a few rows, sums in another order). Packed scoring uses it, so a
     * sequence's scores do not depend on what it is packed with.
     */
    public static void forwardRowIndependent(float[] out, float[] x, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        forward(out, x, weight, bias, rows, inDim, outDim, 0);
    }

    /** @param skinnyRows row counts up to this take the matrix–vector path */
    private static void forward(float[] out, float[] x, Tensor weight, float[] bias, int rows, int inDim, int outDim, int skinnyRows) {
        check(weight, outDim, inDim);
        if (weight instanceof DenseTensor d) forward(out, x, d.values(), null, bias, rows, inDim, outDim, skinnyRows);
        else forward(out, x, null, weight, bias, rows, inDim, outDim, skinnyRows);
    }

    /** The weight is {@code weight} when on the heap, else {@code mapped}. */
    private static void forward(float[] out, float[] x, float[] weight, Tensor mapped, float[] bias, int rows, int inDim, int outDim, int skinnyRows) {
        check(out, rows, outDim, "out");
        check(x, rows, inDim, "x");
        if (bias != null && bias.length < outDim) throw new IllegalArgumentException("bias has " + bias.length + " < " + outDim + " elements");
        if (rows <= skinnyRows) {
            MatVec.forward(out, x, weight, mapped, bias, rows, inDim, outDim);
            return;
        }
        new Gemm(rows, outDim, inDim, x, inDim, 1, weight, mapped, inDim, true, out, false, bias).run();
    }

    /**
     * {@code dX += dOut · weight}, the input gradient of {@link #forward}.
     *
     * @param dX     [rows, inDim], accumulated into
     * @param dOut   [rows, outDim]
     * @param weight [outDim, inDim]
     */
    public static void backwardInput(float[] dX, float[] dOut, float[] weight, int rows, int inDim, int outDim) {
        check(weight, outDim, inDim, "weight");
        backwardInput(dX, dOut, weight, null, rows, inDim, outDim);
    }

    /** {@link #backwardInput(float[], float[], float[], int, int, int)} with the weight wherever it lives. */
    public static void backwardInput(float[] dX, float[] dOut, Tensor weight, int rows, int inDim, int outDim) {
        check(weight, outDim, inDim);
        if (weight instanceof DenseTensor d) backwardInput(dX, dOut, d.values(), null, rows, inDim, outDim);
        else backwardInput(dX, dOut, null, weight, rows, inDim, outDim);
    }

    private static void backwardInput(float[] dX, float[] dOut, float[] weight, Tensor mapped, int rows, int inDim, int outDim) {
        check(dX, rows, inDim, "dX");
        check(dOut, rows, outDim, "dOut");
        new Gemm(rows, inDim, outDim, dOut, outDim, 1, weight, mapped, inDim, false, dX, true, null).run();
    }

    /**
     * {@code dWeight += dOutᵀ · x}, the weight gradient of {@link #forward}. A reduction over rows, split
     * over (out, in) tiles so that each element's sum keeps one order.
     *
     * @param dWeight [outDim, inDim], accumulated into
     * @param dOut    [rows, outDim]
     * @param x       [rows, inDim]
     */
    public static void backwardWeight(float[] dWeight, float[] dOut, float[] x, int rows, int inDim, int outDim) {
        check(dWeight, outDim, inDim, "dWeight");
        check(dOut, rows, outDim, "dOut");
        check(x, rows, inDim, "x");
        new Gemm(outDim, inDim, rows, dOut, 1, outDim, x, null, inDim, false, dWeight, true, null).run();
    }

    private static void check(Tensor weight, int outDim, int inDim) {
        if (weight.rows() != outDim || weight.cols() != inDim) {
            throw new IllegalArgumentException("weight is " + weight.rows() + " × " + weight.cols() + ", needs " + outDim + " × " + inDim);
        }
    }

    private static void check(float[] a, int rows, int cols, String name) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative size " + rows + " x " + cols);
        if ((long) rows * cols > a.length) throw new IllegalArgumentException(name + " has " + a.length + " elements, needs " + rows + " x " + cols);
    }

    // ---------------------------------------------------------------- blocked matrix product

    /**
     * {@code C[M,N] (+)= A[M,K]·B[K,N]} with A(m,k) = {@code a[m·aRs + k·aKs]}, B(k,n) = {@code b[n·ldb + k]}
     * when {@code bT} (a weight read as its transpose) or {@code b[k·ldb + n]}, and C dense with row
     * stride N. A weight not on the heap is {@code mapped} instead of {@code b} (same indexing, read
     * through {@link Tensor#read} while packing).
     */
    private record Gemm(int m, int n, int k, float[] a, int aRs, int aKs, float[] b, Tensor mapped, int ldb, boolean bT,
                        float[] c, boolean accumulate, float[] bias) {
        void run() {
            if (m == 0 || n == 0) return;
            if (k == 0) {
                if (!accumulate) {
                    for (int r = 0; r < m; r++) {
                        if (bias == null) Arrays.fill(c, r * n, r * n + n, 0f);
                        else System.arraycopy(bias, 0, c, r * n, n);
                    }
                }
                return;
            }
            int nTiles = ceilDiv(n, NC);
            // Tile sizes may follow the thread count: they do not change any element's summation order.
            int want = ceilDiv(4 * Parallel.threads(), nTiles);
            int mChunks = Math.max(1, Math.min(want, m / MIN_ROWS_PER_TILE));
            int rowsPerTile = ceilDiv(ceilDiv(m, mChunks), MR) * MR;
            int mTiles = ceilDiv(m, rowsPerTile);
            Parallel.forEach(mTiles * nTiles, t -> tile((t / nTiles) * rowsPerTile, Math.min(m, (t / nTiles + 1) * rowsPerTile),
                    (t % nTiles) * NC, Math.min(n, (t % nTiles + 1) * NC)));
        }

        private void tile(int m0, int m1, int n0, int n1) {
            Scratch s = SCRATCH.get();
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean load = accumulate || pc > 0;
                packB(s.b, pc, kc, n0, n1);
                for (int ir = m0; ir < m1; ir += MR) {
                    int mv = Math.min(MR, m1 - ir);
                    float[] pa = a;
                    int aOff = ir * aRs + pc * aKs, rs = aRs;
                    if (mv < MR || aKs != 1) {
                        packA(s.a, ir, mv, pc, kc);
                        pa = s.a;
                        aOff = 0;
                        rs = KC;
                    }
                    for (int jr = n0, p = 0; jr < n1; jr += NR, p++) {
                        int nv = Math.min(NR, n1 - jr);
                        if (mv == MR && nv == NR) {
                            kernel(kc, pa, aOff, rs, s.b, p * KC * NR, c, ir * n + jr, n, load);
                        } else {
                            float[] t = s.c;
                            Arrays.fill(t, 0f);
                            if (load) {
                                for (int i = 0; i < mv; i++) System.arraycopy(c, (ir + i) * n + jr, t, i * NR, nv);
                            }
                            kernel(kc, pa, aOff, rs, s.b, p * KC * NR, t, 0, NR, true);
                            for (int i = 0; i < mv; i++) System.arraycopy(t, i * NR, c, (ir + i) * n + jr, nv);
                        }
                    }
                }
            }
            if (bias != null) {
                for (int r = m0; r < m1; r++) {
                    for (int j = n0; j < n1; j++) c[r * n + j] += bias[j];
                }
            }
        }

        /** Packs B(pc..pc+kc, n0..n1) into panels of NR columns, panel p at p·KC·NR, k-major, zero-padded. */
        private void packB(float[] dst, int pc, int kc, int n0, int n1) {
            for (int jr = n0, p = 0; jr < n1; jr += NR, p++) {
                int nv = Math.min(NR, n1 - jr);
                int base = p * KC * NR;
                if (mapped != null) {
                    packMapped(dst, base, pc, kc, jr, nv);
                } else if (bT) {
                    int j = 0;
                    for (; j + 4 <= nv; j += 4) {
                        int s0 = (jr + j) * ldb + pc, s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
                        for (int kk = 0, d = base + j; kk < kc; kk++, d += NR) {
                            dst[d] = b[s0 + kk];
                            dst[d + 1] = b[s1 + kk];
                            dst[d + 2] = b[s2 + kk];
                            dst[d + 3] = b[s3 + kk];
                        }
                    }
                    for (; j < nv; j++) {
                        int s0 = (jr + j) * ldb + pc;
                        for (int kk = 0; kk < kc; kk++) dst[base + kk * NR + j] = b[s0 + kk];
                    }
                    if (nv < NR) {
                        for (int kk = 0; kk < kc; kk++) Arrays.fill(dst, base + kk * NR + nv, base + kk * NR + NR, 0f);
                    }
                } else if (nv == NR) {
                    for (int kk = 0; kk < kc; kk++) {
                        int src = (pc + kk) * ldb + jr, d = base + kk * NR;
                        FloatVector.fromArray(S, b, src).intoArray(dst, d);
                        FloatVector.fromArray(S, b, src + L).intoArray(dst, d + L);
                    }
                } else {
                    for (int kk = 0; kk < kc; kk++) {
                        int d = base + kk * NR;
                        System.arraycopy(b, (pc + kk) * ldb + jr, dst, d, nv);
                        Arrays.fill(dst, d + nv, d + NR, 0f);
                    }
                }
            }
        }

        /** {@link #packB}'s panel from a mapped weight: rows widened into a per-thread buffer (bT) or straight into the panel. */
        private void packMapped(float[] dst, int base, int pc, int kc, int jr, int nv) {
            if (bT) {
                float[] row = SCRATCH.get().row;
                for (int j = 0; j < nv; j++) {
                    mapped.read(jr + j, pc, kc, row, 0);
                    for (int kk = 0, d = base + j; kk < kc; kk++, d += NR) dst[d] = row[kk];
                }
                if (nv < NR) {
                    for (int kk = 0; kk < kc; kk++) Arrays.fill(dst, base + kk * NR + nv, base + kk * NR + NR, 0f);
                }
            } else {
                for (int kk = 0; kk < kc; kk++) {
                    int d = base + kk * NR;
                    mapped.read(pc + kk, jr, nv, dst, d);
                    Arrays.fill(dst, d + nv, d + NR, 0f);
                }
            }
        }

        /**
         * Copies A(ir..ir+mv, pc..pc+kc) into dst as MR rows of stride KC, zero rows below mv: the last, short
         * row panel, and every panel of an A that is not stored along k ({@link #backwardWeight}'s dOutᵀ).
         */
        private void packA(float[] dst, int ir, int mv, int pc, int kc) {
            for (int i = mv; i < MR; i++) Arrays.fill(dst, i * KC, i * KC + kc, 0f);
            for (int kk = 0; kk < kc; kk++) {
                int src = ir * aRs + (pc + kk) * aKs;
                for (int i = 0; i < mv; i++) dst[i * KC + kk] = a[src + i * aRs];
            }
        }
    }

    /**
     * The register micro-kernel: {@code C[MR, NR] (+)= A[MR, kc]·B[kc, NR]} with A(i,k) = {@code a[aOff + i·rs + k]},
     * B(k, ·) = {@code b[bOff + k·NR ..]} and C rows at {@code c[cOff + i·ldc ..]}. Each of the 12 accumulators
     * is an independent chain, enough to hide the FMA latency; C is loaded when {@code load}, else starts at 0.
     * A is read with unit stride along k: with a variable stride C2 keeps a bounds check per read of A in the
     * loop, and the kernel ran at 74% of the FMA peak instead of 93% (256 × 2048 × 2048, AVX2, one thread).
     */
    private static void kernel(int kc, float[] a, int aOff, int rs, float[] b, int bOff,
                               float[] c, int cOff, int ldc, boolean load) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        if (load) {
            c00 = FloatVector.fromArray(S, c, r0);
            c01 = FloatVector.fromArray(S, c, r0 + L);
            c10 = FloatVector.fromArray(S, c, r1);
            c11 = FloatVector.fromArray(S, c, r1 + L);
            c20 = FloatVector.fromArray(S, c, r2);
            c21 = FloatVector.fromArray(S, c, r2 + L);
            c30 = FloatVector.fromArray(S, c, r3);
            c31 = FloatVector.fromArray(S, c, r3 + L);
            c40 = FloatVector.fromArray(S, c, r4);
            c41 = FloatVector.fromArray(S, c, r4 + L);
            c50 = FloatVector.fromArray(S, c, r5);
            c51 = FloatVector.fromArray(S, c, r5 + L);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(S);
        }
        int a0 = aOff, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = a4 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector av = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Per-thread packing buffers, allocated once per thread. */
    private static final class Scratch {
        final float[] b = new float[KC * NC];
        final float[] a = new float[MR * KC];
        final float[] c = new float[MR * NR];
        /** One row of a mapped weight, widened ({@link Gemm#packMapped}). */
        final float[] row = new float[KC];
    }
}
