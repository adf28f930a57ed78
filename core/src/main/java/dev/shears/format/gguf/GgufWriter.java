package dev.shears.format.gguf;

import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file (ggml-org/ggml docs/gguf.md): typed metadata in the order it was put,
 * tensor infos, then each tensor's data at an offset that is a multiple of {@code general.alignment}
 * (32 unless put), zero-padded. Tensors are given in fp32 and encoded on write: F32, F16 and BF16 by
 * round to nearest even, Q8_0 exactly as ggml's {@code quantize_row_q8_0_ref}. The file appears
 * atomically (see {@link AtomicFiles}).
 */
public final class GgufWriter {
    static final int VERSION = 3;
    private static final int UINT8 = 0, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, FLOAT64 = 12;

    private record Value(int type, int elementType, Object value) {
    }

    private record Entry(String name, int[] shape, GgufType type, Tensor values) {
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    public GgufWriter putString(String key, String value) {
        return put(key, new Value(STRING, -1, value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, new Value(BOOL, -1, value));
    }

    public GgufWriter putU8(String key, int value) {
        if (value < 0 || value > 0xff) throw new IllegalArgumentException(key + ": " + value + " is not a uint8");
        return put(key, new Value(UINT8, -1, (long) value));
    }

    public GgufWriter putU32(String key, long value) {
        if (value < 0 || value > 0xffffffffL) throw new IllegalArgumentException(key + ": " + value + " is not a uint32");
        return put(key, new Value(UINT32, -1, value));
    }

    public GgufWriter putI32(String key, int value) {
        return put(key, new Value(INT32, -1, (long) value));
    }

    public GgufWriter putU64(String key, long value) {
        return put(key, new Value(UINT64, -1, value));
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, new Value(FLOAT32, -1, (double) value));
    }

    public GgufWriter putF64(String key, double value) {
        return put(key, new Value(FLOAT64, -1, value));
    }

    public GgufWriter putStrings(String key, List<String> values) {
        return put(key, new Value(ARRAY, STRING, List.copyOf(values)));
    }

    public GgufWriter putF32s(String key, float[] values) {
        List<Object> list = new ArrayList<>(values.length);
        for (float v : values) list.add((double) v);
        return put(key, new Value(ARRAY, FLOAT32, list));
    }

    /** An array of uint8, as gguf-py writes a {@code bytes} value (SentencePiece's precompiled character map). */
    public GgufWriter putU8s(String key, byte[] values) {
        List<Object> list = new ArrayList<>(values.length);
        for (byte v : values) list.add((long) (v & 0xff));
        return put(key, new Value(ARRAY, UINT8, list));
    }

    public GgufWriter putI32s(String key, int[] values) {
        return put(key, new Value(ARRAY, INT32, Arrays.stream(values).mapToObj(v -> (Object) (long) v).toList()));
    }

    private GgufWriter put(String key, Value value) {
        if (metadata.containsKey(key)) throw new IllegalArgumentException("metadata " + key + " was already put");
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor, encoded as {@code type} when written.
     *
     * @param shape  outermost first (the file stores it innermost first)
     * @param values row-major, {@code product(shape)} elements; not copied
     */
    public GgufWriter tensor(String name, int[] shape, GgufType type, float[] values) {
        int cols = shape.length == 0 ? 0 : shape[shape.length - 1];
        if (cols == 0 || values.length % cols != 0) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " does not fit " + values.length + " elements");
        }
        return tensor(name, shape, type, new DenseTensor(values, values.length / cols, cols));
    }

    /**
     * Adds a tensor whose rows (the innermost dimension) are read one at a time while the file is
     * written, wherever they live.
     *
     * @param shape outermost first (the file stores it innermost first)
     */
    public GgufWriter tensor(String name, int[] shape, GgufType type, Tensor values) {
        if (!type.isSupported()) throw new IllegalArgumentException("cannot write tensor " + name + " as " + type + " (F32, F16, BF16 and Q8_0 are supported)");
        if (shape.length < 1 || shape.length > 4) throw new IllegalArgumentException("tensor " + name + " has " + shape.length + " dimensions (1 to 4 allowed)");
        long n = 1;
        for (int d : shape) n *= d;
        if (n != values.size() || values.cols() != shape[shape.length - 1]) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds " + n + " elements, got " + values.rows() + " × " + values.cols());
        }
        if (shape[shape.length - 1] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + shape[shape.length - 1] + " are not a multiple of the " + type + " block size " + type.blockSize);
        }
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor " + name + " was already added");
        tensors.put(name, new Entry(name, shape.clone(), type, values));
        return this;
    }

    private long alignment() {
        Value a = metadata.get("general.alignment");
        long alignment = a == null ? GgufFile.DEFAULT_ALIGNMENT : (Long) a.value();
        if (a != null && a.type() != UINT32 || alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("general.alignment must be a uint32 power of two, got " + alignment);
        }
        return alignment;
    }

    /** Writes the file atomically. */
    public void write(Path path) {
        AtomicFiles.write(path, this::writeTo);
    }

    /** Writes the file's bytes to a stream. */
    public void writeTo(OutputStream out) throws IOException {
        long alignment = alignment();
        Sink header = new Sink(out);
        header.i32(GgufFile.MAGIC).i32(VERSION).i64(tensors.size()).i64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            header.string(e.getKey()).i32(e.getValue().type());
            value(header, e.getValue().type(), e.getValue().elementType(), e.getValue().value());
        }
        long offset = 0;
        for (Entry t : tensors.values()) {
            header.string(t.name()).i32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) header.i64(t.shape()[d]);
            header.i32(t.type().id).i64(offset);
            offset = align(offset + t.type().bytes(t.values().size()), alignment);
        }
        header.pad(alignment);
        for (Entry t : tensors.values()) {
            float[] row = new float[t.values().cols()];
            for (int r = 0; r < t.values().rows(); r++) {
                t.values().read(r, 0, row.length, row, 0);
                switch (t.type()) {
                    case F32 -> {
                        for (float v : row) header.i32(Float.floatToRawIntBits(v));
                    }
                    case F16 -> {
                        for (float v : row) header.i16(DType.F16.encode(v));
                    }
                    case BF16 -> {
                        for (float v : row) header.i16(DType.BF16.encode(v));
                    }
                    case Q8_0 -> quantizeQ8_0(row, header);
                    default -> throw new AssertionError(t.type());
                }
            }
            t.values().release();
            header.pad(alignment);
        }
        header.flush();
    }

    private static void value(Sink out, int type, int elementType, Object v) throws IOException {
        switch (type) {
            case UINT8 -> out.i8((int) (long) (Long) v);
            case UINT32, INT32 -> out.i32((int) (long) (Long) v);
            case UINT64 -> out.i64((Long) v);
            case FLOAT32 -> out.i32(Float.floatToRawIntBits((float) (double) (Double) v));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.i8((Boolean) v ? 1 : 0);
            case STRING -> out.string((String) v);
            case ARRAY -> {
                List<?> list = (List<?>) v;
                out.i32(elementType).i64(list.size());
                for (Object element : list) value(out, elementType, -1, element);
            }
            default -> throw new AssertionError(type);
        }
    }

    /**
     * ggml's {@code quantize_row_q8_0_ref}: per block of 32, {@code d = amax / 127} (stored as fp16),
     * {@code q = roundf(x * (1 / d))} with the fp32 {@code d}, rounding halves away from zero.
     */
    static void quantizeQ8_0(float[] x, Sink out) throws IOException {
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            out.i16(DType.F16.encode(d));
            for (int j = 0; j < 32; j++) {
                float v = x[b * 32 + j] * id;
                out.i8((int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v));
            }
        }
    }

    private static long align(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    /** A little-endian buffered sink that counts bytes (for padding). */
    static final class Sink {
        private final OutputStream out;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Sink(OutputStream out) {
            this.out = out;
        }

        private Sink room(int bytes) throws IOException {
            if (buffer.remaining() < bytes) flush();
            written += bytes;
            return this;
        }

        Sink i8(int v) throws IOException {
            room(1).buffer.put((byte) v);
            return this;
        }

        Sink i16(int v) throws IOException {
            room(2).buffer.putShort((short) v);
            return this;
        }

        Sink i32(int v) throws IOException {
            room(4).buffer.putInt(v);
            return this;
        }

        Sink i64(long v) throws IOException {
            room(8).buffer.putLong(v);
            return this;
        }

        Sink string(String s) throws IOException {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            i64(bytes.length);
            for (byte b : bytes) i8(b);
            return this;
        }

        void pad(long alignment) throws IOException {
            while (written % alignment != 0) i8(0);
        }

        void flush() throws IOException {
            out.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
    }
}
