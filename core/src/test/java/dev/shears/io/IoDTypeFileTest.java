package dev.shears.io;

import dev.shears.format.IoTestFiles;
import dev.shears.format.hf.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * F16 and BF16 in safetensors files: the exact bits written for awkward values (round to nearest
 * even, subnormals, ±0, ±inf, NaN, overflow) and the exact value of every one of the 65536 bit
 * patterns on load, against an oracle written here in exact double arithmetic.
 */
public class IoDTypeFileTest {
    /** Round to nearest even into a binary format with {@code mantissaBits} stored bits, exponents [minExp, maxExp]. */
    private static float round(float x, int mantissaBits, int minExp, int maxExp) {
        if (Float.isNaN(x) || Float.isInfinite(x) || x == 0) return x;
        double a = Math.abs((double) x);
        int e = Math.max(Math.getExponent(a), minExp);
        double ulp = Math.scalb(1.0, e - mantissaBits);
        double r = Math.rint(a / ulp) * ulp;
        double max = (2 - Math.scalb(1.0, -mantissaBits)) * Math.scalb(1.0, maxExp);
        if (r > max) r = Double.POSITIVE_INFINITY;
        return (float) Math.copySign(r, x);
    }

    public static float f16(float x) {
        return round(x, 10, -14, 15);
    }

    public static float bf16(float x) {
        return round(x, 7, -126, 127);
    }

    /** IEEE binary16 bits → value, from the definition. */
    private static float f16Value(int bits) {
        int sign = bits >> 15 & 1, exp = bits >> 10 & 0x1f, m = bits & 0x3ff;
        double v = exp == 0 ? m * Math.scalb(1.0, -24) : exp == 31 ? (m == 0 ? Double.POSITIVE_INFINITY : Double.NaN) : (1 + m / 1024.0) * Math.scalb(1.0, exp - 15);
        return (float) (sign == 1 ? -v : v);
    }

    private static short[] writtenShorts(Path file, float[] values, DType dtype) throws IOException {
        Safetensors.write(file, List.of(new TensorData("t", new int[] {values.length}, values)), dtype, Map.of());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = b.getLong(0);
        short[] out = new short[values.length];
        for (int i = 0; i < out.length; i++) out[i] = b.getShort((int) (8 + headerLength + 2L * i));
        return out;
    }

    private static void assertBits(Path file, DType dtype, Map<Float, Integer> expected) throws IOException {
        float[] values = new float[expected.size()];
        int i = 0;
        for (float v : expected.keySet()) values[i++] = v;
        short[] bits = writtenShorts(file, values, dtype);
        i = 0;
        for (Map.Entry<Float, Integer> e : expected.entrySet()) {
            assertEquals(String.format("0x%04x", e.getValue()), String.format("0x%04x", bits[i] & 0xffff), dtype + " bits of " + e.getKey() + " (" + Float.toHexString(e.getKey()) + ")");
            i++;
        }
        try (Safetensors.File f = Safetensors.open(file)) {
            float[] read = f.read("t").values();
            i = 0;
            for (float v : expected.keySet()) {
                float want = dtype == DType.F16 ? f16(v) : bf16(v);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(read[i]), "NaN stays NaN");
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(read[i]), dtype + " value of " + v);
                i++;
            }
        }
    }

    @Test
    void f16BitsForAwkwardValues(@TempDir Path dir) throws IOException {
        Map<Float, Integer> bits = new LinkedHashMap<>();
        bits.put(0f, 0x0000);
        bits.put(-0f, 0x8000);
        bits.put(1f, 0x3c00);
        bits.put(-2f, 0xc000);
        bits.put(65504f, 0x7bff);                               // largest finite
        bits.put(65519.996f, 0x7bff);                           // just below the rounding boundary
        bits.put(65520f, 0x7c00);                               // halfway to 2^16: ties to even, which is infinity
        bits.put(Float.MAX_VALUE, 0x7c00);
        bits.put(Float.POSITIVE_INFINITY, 0x7c00);
        bits.put(Float.NEGATIVE_INFINITY, 0xfc00);
        bits.put(0x1p-24f, 0x0001);                             // smallest subnormal
        bits.put(0x1p-25f, 0x0000);                             // halfway to it: ties to even (zero)
        bits.put(0x1.8p-24f, 0x0002);                           // 1.5 ulp: ties to even (2)
        bits.put(0x1.8p-25f, 0x0001);                           // 0.75 ulp: rounds up
        bits.put(0x3ffp-24f, 0x03ff);                           // largest subnormal
        bits.put(0x1p-14f, 0x0400);                             // smallest normal
        bits.put(1 + 0x1p-11f, 0x3c00);                         // halfway between 1 and 1+2^-10: even
        bits.put(1 + 0x3p-11f, 0x3c02);                         // halfway between 1+2^-10 and 1+2^-9: even
        bits.put(1 + 0x1p-11f + 0x1p-20f, 0x3c01);              // just above halfway
        bits.put(Float.MIN_VALUE, 0x0000);
        bits.put(-Float.MIN_VALUE, 0x8000);
        assertBits(dir.resolve("f16.safetensors"), DType.F16, bits);
        short[] nan = writtenShorts(dir.resolve("nan.safetensors"), new float[] {Float.NaN, Float.intBitsToFloat(0x7f800001)}, DType.F16);
        for (short s : nan) assertTrue((s & 0x7c00) == 0x7c00 && (s & 0x3ff) != 0, "NaN (even with a payload only in low bits) stays NaN");
    }

    @Test
    void bf16BitsForAwkwardValues(@TempDir Path dir) throws IOException {
        Map<Float, Integer> bits = new LinkedHashMap<>();
        bits.put(0f, 0x0000);
        bits.put(-0f, 0x8000);
        bits.put(1f, 0x3f80);
        bits.put(1 + 0x1p-8f, 0x3f80);                          // halfway: even
        bits.put(1 + 0x3p-8f, 0x3f82);                          // halfway: even (up)
        bits.put(1 + 0x1p-8f + 0x1p-20f, 0x3f81);               // above halfway
        bits.put(Float.intBitsToFloat(0x7f7f0000), 0x7f7f);     // largest finite bf16
        bits.put(Float.MAX_VALUE, 0x7f80);                      // above the last halfway point: infinity
        bits.put(-Float.MAX_VALUE, 0xff80);
        bits.put(Float.POSITIVE_INFINITY, 0x7f80);
        bits.put(Float.NEGATIVE_INFINITY, 0xff80);
        bits.put(Float.intBitsToFloat(0x00010000), 0x0001);     // smallest bf16 subnormal, 2^-133
        bits.put(Float.intBitsToFloat(0x00008000), 0x0000);     // halfway to it: even
        bits.put(Float.intBitsToFloat(0x00018000), 0x0002);     // 1.5 ulp: even
        bits.put(Float.MIN_VALUE, 0x0000);
        bits.put(Float.MIN_NORMAL, 0x0080);
        assertBits(dir.resolve("bf16.safetensors"), DType.BF16, bits);
        short[] nan = writtenShorts(dir.resolve("nan.safetensors"), new float[] {Float.NaN, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xff800001)}, DType.BF16);
        for (short s : nan) assertTrue((s & 0x7f80) == 0x7f80 && (s & 0x7f) != 0, "NaN (even with a payload only in low bits) stays NaN, not infinity");
    }

    @Test
    void randomBitPatternsRoundAsTheOracleSays(@TempDir Path dir) throws IOException {
        Random r = new Random(7);
        float[] values = new float[20000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 2 == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) (r.nextGaussian() * Math.pow(2, r.nextInt(60) - 40));
        }
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            Path file = dir.resolve(dtype + ".safetensors");
            Safetensors.write(file, List.of(new TensorData("x", new int[] {values.length}, values)), dtype, Map.of());
            try (Safetensors.File f = Safetensors.open(file)) {
                float[] read = f.read("x").values();
                for (int i = 0; i < values.length; i++) {
                    float want = dtype == DType.F16 ? f16(values[i]) : bf16(values[i]);
                    if (Float.isNaN(want) ? !Float.isNaN(read[i]) : Float.floatToRawIntBits(want) != Float.floatToRawIntBits(read[i])) {
                        throw new AssertionError(dtype + ": " + Float.toHexString(values[i]) + " → " + Float.toHexString(read[i]) + ", expected " + Float.toHexString(want));
                    }
                }
            }
        }
    }

    @Test
    void every16BitPatternDecodesExactly(@TempDir Path dir) throws IOException {
        byte[] data = new byte[2 * 65536];
        for (int i = 0; i < 65536; i++) {
            data[2 * i] = (byte) i;
            data[2 * i + 1] = (byte) (i >> 8);
        }
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            Path file = IoTestFiles.rawSafetensors(dir.resolve(dtype + ".safetensors"),
                    "{\"all\":{\"dtype\":\"" + dtype.safetensorsName + "\",\"shape\":[256,256],\"data_offsets\":[0,131072]}}", data);
            try (Safetensors.File f = Safetensors.open(file)) {
                float[] values = f.read("all").values();
                for (int bits = 0; bits < 65536; bits++) {
                    float want = dtype == DType.F16 ? f16Value(bits) : Float.intBitsToFloat(bits << 16);
                    if (Float.isNaN(want)) {
                        assertTrue(Float.isNaN(values[bits]), dtype + " NaN pattern " + Integer.toHexString(bits));
                    } else if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(values[bits])) {
                        throw new AssertionError(dtype + " pattern 0x" + Integer.toHexString(bits) + " → " + values[bits] + ", expected " + want);
                    }
                }
            }
        }
    }
}
