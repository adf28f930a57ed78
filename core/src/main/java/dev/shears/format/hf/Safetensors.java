package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.MappedFiles;
import dev.shears.io.NamedTensor;
import dev.shears.io.Printable;
import dev.shears.io.TensorData;
import dev.shears.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header mapping names to {@code dtype}, {@code shape} and {@code data_offsets}, then the raw data.
 * Read by memory mapping; written to a temporary file that is then moved into place.
 */
public final class Safetensors {
    /** Headers larger than this are refused as corrupt. */
    static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Safetensors() {
    }

    /** One tensor's entry in a header. */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) implements WeightFile.TensorEntry {
    }

    /** An opened file: its entries, readable one tensor at a time. */
    public static final class File implements WeightFile {
        private final Path path;
        private final Arena arena;
        private final MemorySegment data;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;

        private File(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
            this.path = path;
            this.arena = arena;
            this.data = data;
            this.entries = entries;
            this.metadata = metadata;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public Map<String, Entry> entries() {
            return entries;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        @Override
        public MemorySegment data(String name) {
            Entry e = entries.get(name);
            if (e == null) throw Printable.error(path + ": no tensor named " + name);
            return data.asSlice(e.begin(), e.end() - e.begin());
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Opens and validates a safetensors file. */
    public static File open(Path path) {
        return MappedFiles.map(path, (arena, all) -> read(path, arena, all));
    }

    private static File read(Path path, Arena arena, MemorySegment all) {
        long size = all.byteSize();
        if (size < 8) throw Printable.error(path + ": truncated safetensors file (" + size + " bytes, no header)");
        long headerLength = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength < 2 || headerLength > MAX_HEADER || headerLength > size - 8) {
            throw Printable.error(path + ": safetensors header length " + headerLength + " is impossible for a file of " + size + " bytes");
        }
        byte[] headerBytes = all.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw Printable.error(path + ": safetensors header is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (header == null || !header.isObject()) throw Printable.error(path + ": safetensors header is not a JSON object");
        MemorySegment data = all.asSlice(8 + headerLength);
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equals("__metadata__")) {
                if (!f.getValue().isObject()) throw Printable.error(path + ": safetensors __metadata__ is not a JSON object");
                f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            entries.put(f.getKey(), entry(path, f.getKey(), f.getValue(), data.byteSize()));
        }
        checkOverlaps(path, entries.values());
        return new File(path, arena, data, entries, metadata);
    }

    private static Entry entry(Path path, String name, JsonNode node, long dataSize) {
        String where = path + ": tensor " + name;
        if (!node.isObject()) throw Printable.error(where + " has a header entry that is not a JSON object");
        String dtypeName = node.path("dtype").asText();
        DType dtype = DType.fromSafetensors(dtypeName)
                .orElseThrow(() -> Printable.error(where + " has unsupported dtype '" + dtypeName + "' (supported: F32, F16, BF16)"));
        JsonNode shapeNode = node.path("shape");
        JsonNode offsets = node.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw Printable.error(where + " has a malformed header entry (needs \"dtype\", \"shape\" and two \"data_offsets\")");
        }
        if (!offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong() || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()) {
            throw Printable.error(where + " has non-integer data offsets " + offsets);
        }
        int[] shape = new int[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = shapeNode.get(i).isIntegralNumber() && shapeNode.get(i).canConvertToLong() ? shapeNode.get(i).asLong() : -1;
            if (d < 0 || d > Integer.MAX_VALUE) throw Printable.error(where + " has an invalid dimension " + shapeNode.get(i));
            shape[i] = (int) d;
            if (d != 0 && elements > Long.MAX_VALUE / 8 / d) throw Printable.error(where + " has an impossible shape " + shapeNode);
            elements *= d;
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataSize) {
            throw Printable.error(where + " has data offsets [" + begin + ", " + end + "] outside the " + dataSize + " data bytes (truncated file?)");
        }
        if (end - begin != elements * dtype.bytes) {
            throw Printable.error(where + ": shape " + java.util.Arrays.toString(shape) + " × " + dtype + " needs " + elements * dtype.bytes
                    + " bytes but its data range holds " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkOverlaps(Path path, java.util.Collection<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).begin() < sorted.get(i - 1).end()) {
                throw Printable.error(path + ": tensors " + sorted.get(i - 1).name() + " and " + sorted.get(i).name() + " overlap");
            }
        }
    }

    /**
     * Writes tensors (sorted by name, as the reference implementation does) in {@code dtype}, atomically.
     *
     * @param metadata the {@code __metadata__} strings (e.g. {"format": "pt"})
     */
    public static void write(Path path, List<TensorData> tensors, DType dtype, Map<String, String> metadata) {
        AtomicFiles.write(path, content(tensors.stream().map(TensorData::named).toList(), dtype, metadata));
    }

    /**
     * The bytes of a file of these tensors, for {@link AtomicFiles}: the header first (every size is
     * known from the shapes), then each tensor streamed one row at a time in {@code dtype}, so writing
     * holds one row, whatever the tensors' size and wherever they live.
     */
    public static AtomicFiles.Content content(List<NamedTensor> tensors, DType dtype, Map<String, String> metadata) {
        List<NamedTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparing(NamedTensor::name));
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (NamedTensor t : sorted) {
            if (t.name().equals("__metadata__") || header.has(t.name())) throw new IllegalArgumentException("two tensors are named " + t.name());
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", dtype.safetensorsName);
            var shape = e.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long bytes = t.tensor().size() * dtype.bytes;
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        return out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(length.array());
            out.write(headerBytes);
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (NamedTensor t : sorted) {
                Tensor tensor = t.tensor();
                float[] row = new float[tensor.cols()];
                for (int r = 0; r < tensor.rows(); r++) {
                    tensor.read(r, 0, row.length, row, 0);
                    for (float v : row) {
                        if (buffer.remaining() < 4) flush(buffer, out);
                        int bits = dtype.encode(v);
                        if (dtype.bytes == 4) buffer.putInt(bits);
                        else buffer.putShort((short) bits);
                    }
                }
                tensor.release();
            }
            flush(buffer, out);
        };
    }

    private static void flush(ByteBuffer buffer, OutputStream out) throws IOException {
        out.write(buffer.array(), 0, buffer.position());
        buffer.clear();
    }

}
