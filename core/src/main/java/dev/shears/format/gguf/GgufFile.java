package dev.shears.format.gguf;

import dev.shears.ShearsException;
import dev.shears.io.MappedFiles;
import dev.shears.io.Printable;

import dev.shears.tensor.Encoding;
import dev.shears.tensor.MappedTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (ggml-org/ggml docs/gguf.md, versions 2 and 3), memory-mapped: metadata key/values,
 * tensor infos, and tensors dequantised to fp32 (F32, F16, BF16, Q8_0). Dimensions are stored
 * innermost first; {@link Tensor#shape()} gives them outermost first, as everywhere else in Shears.
 * Every length and offset is checked against the file before it is used, so a corrupt file fails
 * with a {@link ShearsException} naming the file and the byte, never with a stray runtime exception.
 */
public final class GgufFile implements AutoCloseable {
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;
    private static final long MAX_STRING = 1 << 24;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor's info; {@code offset} is relative to the start of the data section. */
    public record Tensor(String name, int[] shape, GgufType type, long offset) {
        public long elements() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        public long byteSize() {
            return type.bytes(elements());
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final long alignment;
    private long position;
    private final long dataStart;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        if (file.byteSize() < 24) throw error("truncated GGUF file (" + file.byteSize() + " bytes, the header needs 24)");
        if (file.get(I32, 0) != MAGIC) throw error("not a GGUF file (bad magic " + String.format("0x%08x", file.get(I32, 0)) + ")");
        version = file.get(I32, 4);
        if (version != 2 && version != 3) throw error("GGUF version " + Integer.toUnsignedString(version) + " is not supported (2 and 3 are)");
        position = 8;
        long tensorCount = u64("tensor count");
        long kvCount = u64("metadata count");
        // every entry takes at least 8 (name length) + 4 (type) bytes: larger counts cannot fit in the file
        if (tensorCount > file.byteSize() / 12 || kvCount > file.byteSize() / 12) {
            throw error("implausible header: " + tensorCount + " tensors and " + kvCount + " metadata entries in " + file.byteSize() + " bytes");
        }
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key");
            if (metadata.containsKey(key)) throw error("duplicate metadata key " + key);
            metadata.put(key, value(u32(), key, 0));
        }
        for (long i = 0; i < tensorCount; i++) tensor();
        Object a = metadata.getOrDefault("general.alignment", (long) DEFAULT_ALIGNMENT);
        if (!(a instanceof Long n) || n <= 0 || n > 1 << 30 || Long.bitCount(n) != 1) throw error("invalid general.alignment " + a);
        alignment = n;
        dataStart = (position + alignment - 1) / alignment * alignment;
        for (Tensor t : tensors.values()) {
            if (t.offset() % alignment != 0) throw error("tensor " + t.name() + " data offset " + t.offset() + " is not a multiple of the alignment " + alignment);
            if (t.offset() > file.byteSize() || dataStart + t.offset() + t.byteSize() > file.byteSize()) {
                throw error("tensor " + t.name() + " data [" + (dataStart + t.offset()) + ", +" + t.byteSize() + ") lies beyond the end of the file at "
                        + file.byteSize() + " (truncated?)");
            }
        }
    }

    private void tensor() {
        String name = string("tensor name");
        if (tensors.containsKey(name)) throw error("duplicate tensor " + name);
        int dims = u32();
        if (dims < 1 || dims > MAX_DIMS) throw error("tensor " + name + " has " + Integer.toUnsignedString(dims) + " dimensions (1 to " + MAX_DIMS + " allowed)");
        int[] shape = new int[dims];
        // no ggml type packs more than 8 values into a byte: more elements than that cannot be in the file
        long limit = file.byteSize() * 8;
        long elements = 1;
        for (int d = 0; d < dims; d++) {
            long n = u64("dimension");
            if (n > Integer.MAX_VALUE) throw error("tensor " + name + " has dimension " + n);
            shape[dims - 1 - d] = (int) n;
            if (n != 0 && elements > limit / n) throw error("tensor " + name + " has more elements than the file can hold");
            elements *= n;
        }
        int typeId = u32();
        GgufType type = GgufType.fromId(Integer.toUnsignedLong(typeId))
                .orElseThrow(() -> error("tensor " + name + " has unknown ggml type " + Integer.toUnsignedString(typeId)));
        if (shape[dims - 1] % type.blockSize != 0) {
            throw error("tensor " + name + " of type " + type + " has rows of " + shape[dims - 1] + ", not a multiple of its block size " + type.blockSize);
        }
        long offset = u64("tensor offset");
        tensors.put(name, new Tensor(name, shape, type, offset));
    }

    public static GgufFile open(Path path) {
        return MappedFiles.map(path, (arena, file) -> new GgufFile(path, arena, file));
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    /** Metadata values: Long for integers, Double for floats, Boolean, String, or an unmodifiable List of those. */
    public Map<String, Object> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The absolute file position of a tensor's first byte. */
    public long dataPosition(Tensor t) {
        return dataStart + t.offset();
    }

    /** Reads one tensor widened to fp32 (see {@link #mapped}). */
    public float[] read(Tensor t) {
        if (t.elements() > Integer.MAX_VALUE - 8) throw error("tensor " + t.name() + " has " + t.elements() + " elements, too many for one array");
        return mapped(t, 1, (int) t.elements()).toArray();
    }

    /**
     * One tensor read in place as a [rows, cols] matrix, valid until this file is closed; Q8_0 widens
     * as ggml's {@code dequantize_row_q8_0} does ({@code d * q}).
     */
    public MappedTensor mapped(Tensor t, int rows, int cols) {
        Encoding encoding = switch (t.type()) {
            case F32 -> Encoding.F32;
            case F16 -> Encoding.F16;
            case BF16 -> Encoding.BF16;
            case Q8_0 -> Encoding.Q8_0;
            default -> throw error("tensor " + t.name() + " has type " + t.type() + ", which Shears cannot read (supported: F32, F16, BF16, Q8_0)");
        };
        if ((long) rows * cols != t.elements()) throw new IllegalArgumentException(t.name() + " has " + t.elements() + " elements, not " + rows + " × " + cols);
        return MappedTensor.of(file.asSlice(dataPosition(t), t.byteSize()), encoding, rows, cols);
    }

    private Object value(int type, String key, int depth) {
        return switch (type) {
            case 0 -> (long) (u8() & 0xff);
            case 1 -> (long) u8();
            case 2 -> (long) (u16() & 0xffff);
            case 3 -> (long) u16();
            case 4 -> Integer.toUnsignedLong(u32());
            case 5 -> (long) u32();
            case 6 -> (double) Float.intBitsToFloat(u32());
            case 7 -> u8() != 0;
            case 8 -> string("value of " + key);
            case 9 -> {
                if (depth > 0) throw error("metadata " + key + " nests arrays, which GGUF readers do not support");
                int elementType = u32();
                long countAt = position;
                long count = u64("array length");
                long min = minBytes(elementType, key);
                if (count > (file.byteSize() - position) / min) {
                    throw error("metadata " + key + " claims " + count + " elements at byte " + countAt + ", more than the rest of the file holds");
                }
                List<Object> list = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) list.add(value(elementType, key, depth + 1));
                yield Collections.unmodifiableList(list);
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
            default -> throw error("metadata " + key + " has unknown value type " + Integer.toUnsignedString(type) + " at byte " + (position - 4));
        };
    }

    /** The fewest bytes one value of a type takes, to bound array lengths before allocating. */
    private long minBytes(int type, String key) {
        return switch (type) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 8, 10, 11, 12 -> 8;
            case 9 -> 12;
            default -> throw error("metadata " + key + " is an array of unknown value type " + Integer.toUnsignedString(type));
        };
    }

    private String string(String what) {
        long at = position;
        long length = u64(what + " length");
        if (length > MAX_STRING || length > file.byteSize() - position) {
            throw error("implausible " + what + " length " + length + " at byte " + at + " (the file has " + file.byteSize() + " bytes)");
        }
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
        if (v < 0) throw error("impossible " + what + " " + Long.toUnsignedString(v) + " at byte " + (position - 8));
        return v;
    }

    private void need(long bytes) {
        if (position + bytes > file.byteSize()) throw error("truncated: the metadata needs byte " + (position + bytes - 1) + " but the file ends at " + file.byteSize());
    }

    private ShearsException error(String message) {
        return Printable.error(path + ": " + message);
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + metadata.size() + " metadata, " + tensors.size() + " tensors: "
                + tensors.values().stream().limit(3).map(t -> t.name() + Arrays.toString(t.shape())).toList() + ")";
    }
}
