package dev.shears.io;

import java.util.Arrays;
import java.util.Optional;

/** Element types of stored tensors; all are converted to fp32 on load. */
public enum DType {
    F32("F32", 4), F16("F16", 2), BF16("BF16", 2);

    /** The safetensors header name. */
    public final String safetensorsName;
    public final int bytes;

    DType(String safetensorsName, int bytes) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
    }

    public static Optional<DType> fromSafetensors(String name) {
        return Arrays.stream(values()).filter(d -> d.safetensorsName.equals(name)).findFirst();
    }

    /** fp32 → this type's bits (round to nearest even for the 16-bit types). */
    int encode(float value) {
        return switch (this) {
            case F32 -> Float.floatToRawIntBits(value);
            case F16 -> Float.floatToFloat16(value) & 0xffff;
            case BF16 -> {
                int bits = Float.floatToRawIntBits(value);
                if (Float.isNaN(value)) yield (bits >>> 16) | 0x40;
                yield ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
            }
        };
    }

    /** This type's bits → fp32. */
    float decode(int bits) {
        return switch (this) {
            case F32 -> Float.intBitsToFloat(bits);
            case F16 -> Float.float16ToFloat((short) bits);
            case BF16 -> Float.intBitsToFloat(bits << 16);
        };
    }
}
