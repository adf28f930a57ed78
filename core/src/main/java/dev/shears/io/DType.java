package dev.shears.io;

import dev.shears.tensor.Encoding;

import java.util.Arrays;
import java.util.Optional;

/** Element types of stored tensors; all are converted to fp32 on load. */
public enum DType {
    F32("F32", 4, Encoding.F32), F16("F16", 2, Encoding.F16), BF16("BF16", 2, Encoding.BF16);

    /** The safetensors header name. */
    public final String safetensorsName;
    public final int bytes;
    /** How mapped tensors of this type are widened. */
    public final Encoding encoding;

    DType(String safetensorsName, int bytes, Encoding encoding) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
        this.encoding = encoding;
    }

    public static Optional<DType> fromSafetensors(String name) {
        return Arrays.stream(values()).filter(d -> d.safetensorsName.equals(name)).findFirst();
    }

    /** fp32 → this type's bits (round to nearest even for the 16-bit types). */
    int encode(float value) {
        return this == F32 ? Float.floatToRawIntBits(value) : encoding.encode16(value);
    }

    /** This type's bits → fp32. */
    float decode(int bits) {
        return this == F32 ? Float.intBitsToFloat(bits) : encoding.decode16(bits);
    }
}
