package dev.shears.tensor;

/**
 * How the elements of a stored weight tensor are encoded in memory: fp32, the two 16-bit floats, or
 * ggml's Q8_0 (blocks of 32 int8 values sharing one f16 scale: 2 + 32 bytes, value = scale · q).
 * Every encoding widens to fp32 exactly as the file readers always did, so a computation on a mapped
 * tensor gives the bits of the same computation on its widened copy.
 */
public enum Encoding {
    F32(1, 4), F16(1, 2), BF16(1, 2), Q8_0(32, 34);

    /** Elements per block; a row's length must be a multiple of it. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    Encoding(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes taken by {@code elements} values (a whole number of blocks). */
    public long bytes(long elements) {
        return elements / blockSize * blockBytes;
    }

    /** fp32 → bits of a 16-bit encoding (round to nearest even; a NaN stays a quiet NaN). */
    public int encode16(float value) {
        return switch (this) {
            case F16 -> Float.floatToFloat16(value) & 0xffff;
            case BF16 -> {
                int bits = Float.floatToRawIntBits(value);
                if (Float.isNaN(value)) yield (bits >>> 16) | 0x40;
                yield ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
            }
            default -> throw new IllegalStateException(this + " is not a 16-bit encoding");
        };
    }
}
