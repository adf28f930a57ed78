package dev.shears.io;

import dev.shears.tensor.Encoding;

import java.util.Arrays;
import java.util.Optional;

/** Element types of safetensors tensors; mapped tensors are widened to fp32 as they are read ({@link Encoding}). */
public enum DType {
    F32("F32", 4, Encoding.F32, "float32"), F16("F16", 2, Encoding.F16, "float16"), BF16("BF16", 2, Encoding.BF16, "bfloat16");

    /** The safetensors header name. */
    public final String safetensorsName;
    /** The name in a Hugging Face config's {@code torch_dtype}. */
    public final String torchName;
    public final int bytes;
    /** How mapped tensors of this type are widened. */
    public final Encoding encoding;

    DType(String safetensorsName, int bytes, Encoding encoding, String torchName) {
        this.safetensorsName = safetensorsName;
        this.torchName = torchName;
        this.bytes = bytes;
        this.encoding = encoding;
    }

    /** The dtype that holds a tensor of this encoding: itself, or f16 for Q8_0 (whose values f16 holds closest of the 16-bit types). */
    public static DType of(Encoding encoding) {
        return switch (encoding) {
            case F32 -> F32;
            case F16, Q8_0 -> F16;
            case BF16 -> BF16;
        };
    }

    /** A dtype as users write it: f32, f16, bf16 (or float32, float16, bfloat16). */
    public static Optional<DType> parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "float32" -> Optional.of(F32);
            case "f16", "float16" -> Optional.of(F16);
            case "bf16", "bfloat16" -> Optional.of(BF16);
            default -> Optional.empty();
        };
    }

    public static Optional<DType> fromSafetensors(String name) {
        return Arrays.stream(values()).filter(d -> d.safetensorsName.equals(name)).findFirst();
    }

    /** fp32 → this type's bits (round to nearest even for the 16-bit types). */
    public int encode(float value) {
        return this == F32 ? Float.floatToRawIntBits(value) : encoding.encode16(value);
    }
}
