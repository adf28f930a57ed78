package dev.shears.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A weight matrix read in place from a memory-mapped model file, in the file's encoding. Rows may be
 * stored in another order (GGUF keeps query and key rows interleaved for RoPE): {@code rowOrder[r]}
 * is the stored row of logical row r. The segment belongs to the file's mapping; whoever opened the
 * file closes it.
 */
public final class MappedTensor implements Tensor {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, S.vectorBitSize() / 4)));
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;
    private final Encoding encoding;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final int[] rowOrder;

    private MappedTensor(MemorySegment data, Encoding encoding, int rows, int cols, int[] rowOrder) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + " × " + cols);
        if (cols % encoding.blockSize != 0) throw new IllegalArgumentException(encoding + " rows need a multiple of " + encoding.blockSize + " columns, got " + cols);
        this.rowBytes = encoding.bytes(cols);
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException(rows + " × " + cols + " " + encoding + " needs " + rowBytes * rows + " bytes, the segment has " + data.byteSize());
        }
        this.data = data;
        this.encoding = encoding;
        this.rows = rows;
        this.cols = cols;
        this.rowOrder = rowOrder;
    }

    /**
     * @param data exactly the tensor's bytes, row-major
     */
    public static MappedTensor of(MemorySegment data, Encoding encoding, int rows, int cols) {
        return new MappedTensor(data, encoding, rows, cols, null);
    }

    /** The same bytes read with logical row r taken from stored row {@code order[r]}. */
    public MappedTensor withRowOrder(int[] order) {
        if (order.length != rows) throw new IllegalArgumentException(order.length + " row indices for " + rows + " rows");
        int[] seen = order.clone();
        Arrays.sort(seen);
        for (int i = 0; i < rows; i++) {
            if (seen[i] != i) throw new IllegalArgumentException("row order is not a permutation of 0.." + (rows - 1));
        }
        int[] composed = new int[rows];
        for (int r = 0; r < rows; r++) composed[r] = storedRow(order[r]);
        return new MappedTensor(data, encoding, rows, cols, composed);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public Encoding encoding() {
        return encoding;
    }

    /** The bytes, row-major in stored order (see {@link #rowOffset}); valid while the file is open. */
    public MemorySegment data() {
        return data;
    }

    /** The byte offset of logical row {@code row} in {@link #data}. */
    public long rowOffset(int row) {
        return storedRow(row) * rowBytes;
    }

    /** One vector of bf16 values at {@code offset}, widened exactly as {@link #read} widens them. */
    public static FloatVector bf16(MemorySegment data, long offset) {
        ShortVector bits = ShortVector.fromMemorySegment(HALF, data, offset, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) bits.convertShape(VectorOperators.S2I, INT, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private int storedRow(int row) {
        return rowOrder == null ? row : rowOrder[row];
    }

    @Override
    public void read(int row, int col, int n, float[] dst, int dstOff) {
        if (row < 0 || row >= rows || col < 0 || n < 0 || col + n > cols) {
            throw new IndexOutOfBoundsException("row " + row + ", columns [" + col + ", " + (col + n) + ") of a " + rows + " × " + cols + " tensor");
        }
        long base = storedRow(row) * rowBytes;
        switch (encoding) {
            case F32 -> MemorySegment.copy(data, F32, base + 4L * col, dst, dstOff, n);
            case BF16 -> readBf16(data, base + 2L * col, n, dst, dstOff);
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(data.get(I16, base + 2L * (col + i)));
            }
            case Q8_0 -> readQ8(base, col, n, dst, dstOff);
        }
    }

    /** bf16 → fp32 is a 16-bit shift: widen a vector of shorts to ints, shift, reinterpret. */
    private static void readBf16(MemorySegment data, long offset, int n, float[] dst, int dstOff) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) bf16(data, offset + 2L * i).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat((data.get(I16, offset + 2L * i) & 0xffff) << 16);
    }

    /**
     * ggml's {@code dequantize_row_q8_0}: element i of a block is {@code q[i] · d}, d the block's f16
     * scale (an int8 widens to float exactly, so vector lanes give the scalar loop's products).
     */
    private void readQ8(long rowBase, int col, int n, float[] dst, int dstOff) {
        int end = col + n;
        int e = col;
        while (e < end) {
            int block = e / 32;
            long at = rowBase + 34L * block;
            float d = Float.float16ToFloat(data.get(I16, at));
            int stop = Math.min(end, block * 32 + 32);
            if (e == block * 32 && stop == e + 32 && 32 % S.length() == 0 && BYTES.length() == S.length()) {
                for (int v = 0; v < 32; v += S.length()) {
                    ((FloatVector) ByteVector.fromMemorySegment(BYTES, data, at + 2 + v, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, S, 0)).mul(d).intoArray(dst, dstOff + e - col + v);
                }
                e = stop;
            }
            for (; e < stop; e++) dst[dstOff + e - col] = data.get(ValueLayout.JAVA_BYTE, at + 2 + (e - block * 32)) * d;
        }
    }

    @Override
    public void release() {
        if (data.isMapped()) data.unload();
    }
}
