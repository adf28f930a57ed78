package dev.shears.kernel;

import dev.shears.tensor.Encoding;
import dev.shears.tensor.MappedTensor;
import dev.shears.tensor.Parallel;
import dev.shears.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.shears.kernel.MatMul.ceilDiv;

/**
 * {@link MatMul#forward}'s matrix–vector path, for generation ({@code rows} ≤ {@value MatMul#SKINNY_ROWS}),
 * which is memory-bound: dot products along inDim with vector accumulators reduced in a fixed lane order,
 * four weight rows at a time sharing the loads of x, split over blocks of output rows (bit-identical for
 * any thread count). A bf16 weight is widened in registers, one row at a time; other mapped encodings four
 * rows at a time into a per-thread buffer.
 */
final class MatVec {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Output rows of the weight per parallel task. */
    private static final int SKINNY_BLOCK = 64;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MatVec() {
    }

    /** The weight is {@code weight} when on the heap, else {@code mapped}, whose rows are widened four at a time. */
    static void forward(float[] out, float[] x, float[] weight, Tensor mapped, float[] bias, int rows, int inDim, int outDim) {
        if (rows == 0 || outDim == 0) return;
        Parallel.forEach(ceilDiv(outDim, SKINNY_BLOCK), t -> {
            Scratch s = SCRATCH.get();
            float[] lanes = s.lanes;
            float[] w = mapped == null ? weight : s.rows(4 * inDim);
            int o1 = Math.min(outDim, (t + 1) * SKINNY_BLOCK);
            int o = t * SKINNY_BLOCK;
            if (mapped instanceof MappedTensor bf16 && bf16.encoding() == Encoding.BF16) {
                // memory-bound: widen in registers instead of through a buffer (the same floats, the same sums), one
                // weight row at a time: a single sequential stream runs at 1.6× the bandwidth of four rows read side by
                // side (24-27 vs 16 GB/s on one EPYC core: rows of 4 KiB alias in the cache sets and defeat the prefetcher)
                for (; o < o1; o++) {
                    for (int r = 0; r < rows; r++) out[r * outDim + o] = dotBf16(x, r * inDim, bf16, o, inDim, lanes);
                }
            }
            for (; o + 4 <= o1; o += 4) {
                int wOff = o * inDim;
                if (mapped != null) {
                    for (int j = 0; j < 4; j++) mapped.read(o + j, 0, inDim, w, j * inDim);
                    wOff = 0;
                }
                for (int r = 0; r < rows; r++) dot4(out, r * outDim + o, x, r * inDim, w, wOff, inDim, lanes);
            }
            for (; o < o1; o++) {
                int wOff = o * inDim;
                if (mapped != null) {
                    mapped.read(o, 0, inDim, w, 0);
                    wOff = 0;
                }
                for (int r = 0; r < rows; r++) out[r * outDim + o] = dot(x, r * inDim, w, wOff, inDim, lanes);
            }
            if (bias != null) {
                for (int r = 0; r < rows; r++) {
                    for (int j = t * SKINNY_BLOCK; j < o1; j++) out[r * outDim + j] += bias[j];
                }
            }
        });
    }

    /** out[outOff + j] = dot(x row, weight row j) for j = 0..3, sharing the loads of x. */
    private static void dot4(float[] out, int outOff, float[] x, int xOff, float[] w, int wOff, int n, float[] lanes) {
        int w0 = wOff, w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xOff + i);
            s0 = FloatVector.fromArray(S, w, w0 + i).fma(xv, s0);
            s1 = FloatVector.fromArray(S, w, w1 + i).fma(xv, s1);
            s2 = FloatVector.fromArray(S, w, w2 + i).fma(xv, s2);
            s3 = FloatVector.fromArray(S, w, w3 + i).fma(xv, s3);
        }
        float d0 = sumLanes(s0, lanes), d1 = sumLanes(s1, lanes), d2 = sumLanes(s2, lanes), d3 = sumLanes(s3, lanes);
        for (; i < n; i++) {
            float xi = x[xOff + i];
            d0 = Math.fma(xi, w[w0 + i], d0);
            d1 = Math.fma(xi, w[w1 + i], d1);
            d2 = Math.fma(xi, w[w2 + i], d2);
            d3 = Math.fma(xi, w[w3 + i], d3);
        }
        out[outOff] = d0;
        out[outOff + 1] = d1;
        out[outOff + 2] = d2;
        out[outOff + 3] = d3;
    }

    /** {@link #dot} with weight row {@code o} read as bf16 from a mapped tensor and widened in registers, bit for bit. */
    private static float dotBf16(float[] x, int xOff, MappedTensor w, int o, int n, float[] lanes) {
        MemorySegment data = w.data();
        long w0 = w.rowOffset(o);
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            s = MappedTensor.bf16(data, w0 + 2L * i).fma(FloatVector.fromArray(S, x, xOff + i), s);
        }
        float d = sumLanes(s, lanes);
        for (; i < n; i++) d = Math.fma(x[xOff + i], bf16At(data, w0 + 2L * i), d);
        return d;
    }

    private static float bf16At(MemorySegment data, long offset) {
        return Float.intBitsToFloat((data.get(I16, offset) & 0xffff) << 16);
    }

    /** The same sum as one lane of {@link #dot4}, bit for bit. */
    private static float dot(float[] x, int xOff, float[] w, int wOff, int n, float[] lanes) {
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            s = FloatVector.fromArray(S, w, wOff + i).fma(FloatVector.fromArray(S, x, xOff + i), s);
        }
        float d = sumLanes(s, lanes);
        for (; i < n; i++) d = Math.fma(x[xOff + i], w[wOff + i], d);
        return d;
    }

    /** Lanes summed in a fixed order (pairwise), unlike {@code reduceLanes}, whose order may change after JIT compilation. */
    private static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        for (int width = L / 2; width > 0; width /= 2) {
            for (int i = 0; i < width; i++) lanes[i] += lanes[i + width];
        }
        return lanes[0];
    }

    /** Per-thread buffers: the lanes of a fixed-order sum, and widened rows of a mapped weight (grown on demand). */
    private static final class Scratch {
        final float[] lanes = new float[L];
        private float[] rows = new float[0];

        float[] rows(int length) {
            if (rows.length < length) rows = new float[length];
            return rows;
        }
    }
}
