package dev.shears.io;

import dev.shears.ShearsException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (ggml-org/ggml docs/gguf.md, versions 2 and 3), memory-mapped: metadata key/values,
 * tensor infos, and tensors dequantised to fp32 (F32, F16, BF16, Q8_0). Dimensions are stored
 * innermost first; {@link Tensor#shape()} gives them outermost first, as everywhere else in Shears.
 */
public final class GgufFile implements AutoCloseable {
    static final int MAGIC = 0x46554747;
    static final int F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor's info. */
    public record Tensor(String name, int[] shape, int type, long offset) {
        long elements() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private long position;
    private long dataStart;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        if (file.byteSize() < 24) throw error("truncated GGUF file (" + file.byteSize() + " bytes)");
        if (file.get(I32, 0) != MAGIC) throw error("not a GGUF file (bad magic)");
        version = file.get(I32, 4);
        if (version != 2 && version != 3) throw error("GGUF version " + version + " is not supported (2 and 3 are)");
        position = 8;
        long tensorCount = u64("tensor count");
        long kvCount = u64("metadata count");
        if (tensorCount > 1_000_000 || kvCount > 1_000_000) throw error("implausible header: " + tensorCount + " tensors, " + kvCount + " metadata entries");
        for (long i = 0; i < kvCount; i++) {
            String key = string();
            metadata.put(key, value(u32(), key));
        }
        for (long i = 0; i < tensorCount; i++) {
            String name = string();
            int dims = u32();
            if (dims < 1 || dims > 4) throw error("tensor " + name + " has " + dims + " dimensions");
            int[] shape = new int[dims];
            for (int d = 0; d < dims; d++) {
                long n = u64("dimension");
                if (n < 0 || n > Integer.MAX_VALUE) throw error("tensor " + name + " has dimension " + n);
                shape[dims - 1 - d] = (int) n;
            }
            int type = u32();
            long offset = u64("offset");
            tensors.put(name, new Tensor(name, shape, type, offset));
        }
        long alignment = metadata.get("general.alignment") instanceof Number n ? n.longValue() : 32;
        if (alignment <= 0 || Long.bitCount(alignment) != 1) throw error("invalid general.alignment " + alignment);
        dataStart = (position + alignment - 1) / alignment * alignment;
        for (Tensor t : tensors.values()) {
            long bytes = byteSize(t);
            if (t.offset() < 0 || dataStart + t.offset() + bytes > file.byteSize()) {
                throw error("tensor " + t.name() + " lies outside the file (truncated?)");
            }
        }
    }

    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return new GgufFile(path, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
        } catch (IOException e) {
            arena.close();
            throw new ShearsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** Metadata values: Long for integers, Double for floats, Boolean, String, or List of those. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** Reads one tensor as fp32. */
    public float[] read(Tensor t) {
        int n = Math.toIntExact(t.elements());
        float[] out = new float[n];
        long base = dataStart + t.offset();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(file, F, base, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(file.get(I16, base + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((file.get(I16, base + 2L * i) & 0xffff) << 16);
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long block = base + 34L * b;
                    float scale = Float.float16ToFloat(file.get(I16, block));
                    for (int i = 0; i < 32; i++) out[b * 32 + i] = scale * file.get(ValueLayout.JAVA_BYTE, block + 2 + i);
                }
            }
            default -> throw error("tensor " + t.name() + " has unsupported type " + t.type() + " (supported: F32, F16, BF16, Q8_0)");
        }
        return out;
    }

    private long byteSize(Tensor t) {
        long n = t.elements();
        return switch (t.type()) {
            case F32 -> 4 * n;
            case F16, BF16 -> 2 * n;
            case Q8_0 -> {
                if (t.shape()[t.shape().length - 1] % 32 != 0) throw error("Q8_0 tensor " + t.name() + " has rows not a multiple of 32");
                yield n / 32 * 34;
            }
            default -> throw error("tensor " + t.name() + " has unsupported type " + t.type() + " (supported: F32, F16, BF16, Q8_0)");
        };
    }

    private Object value(int type, String key) {
        return switch (type) {
            case 0 -> (long) (u8() & 0xff);
            case 1 -> (long) u8();
            case 2 -> (long) (u16() & 0xffff);
            case 3 -> (long) u16();
            case 4 -> Integer.toUnsignedLong(u32());
            case 5 -> (long) u32();
            case 6 -> (double) Float.intBitsToFloat(u32());
            case 7 -> u8() != 0;
            case 8 -> string();
            case 9 -> {
                int elementType = u32();
                long count = u64("array length");
                if (count > file.byteSize()) throw error("metadata " + key + " claims " + count + " elements");
                List<Object> list = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) list.add(value(elementType, key));
                yield list;
            }
            case 10, 11 -> {
                need(8);
                long v = file.get(I64, position);
                position += 8;
                yield v;
            }
            case 12 -> {
                need(8);
                double d = file.get(D, position);
                position += 8;
                yield d;
            }
            default -> throw error("metadata " + key + " has unknown value type " + type);
        };
    }

    private String string() {
        long length = u64("string length");
        if (length < 0 || length > 1 << 24) throw error("implausible string length " + length + " at byte " + (position - 8));
        need(length);
        byte[] bytes = file.asSlice(position, length).toArray(ValueLayout.JAVA_BYTE);
        position += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private byte u8() {
        need(1);
        return file.get(ValueLayout.JAVA_BYTE, position++);
    }

    private short u16() {
        need(2);
        short v = file.get(I16, position);
        position += 2;
        return v;
    }

    private int u32() {
        need(4);
        int v = file.get(I32, position);
        position += 4;
        return v;
    }

    private long u64(String what) {
        need(8);
        long v = file.get(I64, position);
        position += 8;
        if (v < 0) throw error("negative " + what + " at byte " + (position - 8));
        return v;
    }

    private void need(long bytes) {
        if (position + bytes > file.byteSize()) throw error("truncated at byte " + position);
    }

    private ShearsException error(String message) {
        return new ShearsException(path + ": " + message);
    }

    @Override
    public void close() {
        arena.close();
    }
}
