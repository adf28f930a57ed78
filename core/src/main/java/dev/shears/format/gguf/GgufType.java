package dev.shears.format.gguf;

import java.util.Optional;

/**
 * ggml tensor types as numbered in GGUF files ({@code enum ggml_type} in ggml.h), with their block
 * sizes from ggml's type traits, so that any file's tensor sizes can be checked against the file
 * even where Shears cannot dequantise the type. Only F32, F16, BF16 and Q8_0 are read and written.
 */
public enum GgufType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176),
    Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74), IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82), IQ4_XS(23, 256, 136),
    I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8), IQ1_M(29, 256, 56), BF16(30, 1, 2),
    TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    /** The number in the file. */
    public final int id;
    /** Elements per block; a row's length must be a multiple of it. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgufType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public static Optional<GgufType> fromId(long id) {
        for (GgufType t : values()) {
            if (t.id == id) return Optional.of(t);
        }
        return Optional.empty();
    }

    /** Whether Shears reads this type (to fp32) and writes it. */
    public boolean isSupported() {
        return this == F32 || this == F16 || this == BF16 || this == Q8_0;
    }

    /** {@code general.file_type} of a file whose matrices are of this type ({@code enum llama_ftype}: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_BF16 32). */
    public int fileType() {
        return switch (this) {
            case F16 -> 1;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> 0;
        };
    }

    /** Bytes taken by {@code elements} values (a whole number of blocks). */
    public long bytes(long elements) {
        return elements / blockSize * blockBytes;
    }
}
