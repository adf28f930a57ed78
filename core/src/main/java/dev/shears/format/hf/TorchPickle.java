package dev.shears.format.hf;

import dev.shears.io.DType;
import dev.shears.io.MappedFiles;
import dev.shears.io.Printable;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's torch.save format, as in a Hugging Face folder's {@code pytorch_model.bin}: a zip archive
 * (since PyTorch 1.6) of {@code <dir>/data.pkl}, the pickled state dict, whose tensors name their
 * storages by key, each stored uncompressed as {@code <dir>/data/<key>} (and {@code <dir>/version},
 * {@code <dir>/byteorder} since 2.1). The pickle is read by {@link TorchUnpickler}, which runs
 * nothing and accepts only what a state dict of float tensors needs; tensors are read in place from
 * the mapped file, like safetensors. Tied weights share a storage; a tensor may start inside its
 * storage, but must be contiguous in it. Reference: torch/serialization.py ({@code _save},
 * {@code _load}), torch/_utils.py ({@code _rebuild_tensor_v2}).
 *
 * <pre>{@code
 * try (TorchPickle.File f = TorchPickle.open(Path.of("pytorch_model.bin"))) {
 *     TensorData w = f.read("model.norm.weight");
 * }
 * }</pre>
 */
public final class TorchPickle {
    private static final String PICKLE = "data.pkl";
    private static final String STORAGES = "data/";
    private static final String BYTE_ORDER = "byteorder";
    /** Larger pickles are refused as corrupt: a state dict's pickle holds names and shapes, ~200 bytes a tensor. */
    static final long MAX_PICKLE = 256L << 20;

    private TorchPickle() {
    }

    /**
     * One tensor: its storage (the zip entry {@code data/<storage>}) read from element {@code storageOffset}
     * on, row-major.
     *
     * @param strides in elements, as torch records them (contiguous, but for dimensions of size 1)
     */
    public record Entry(String name, DType dtype, int[] shape, long[] strides, long storageOffset, String storage) implements WeightFile.TensorEntry {
    }

    /** An opened archive: its tensors, in the state dict's order, read in place. */
    public static final class File implements WeightFile {
        private final Path path;
        private final Arena arena;
        private final Map<String, Entry> entries;
        private final Map<String, MemorySegment> storages;

        private File(Path path, Arena arena, Map<String, Entry> entries, Map<String, MemorySegment> storages) {
            this.path = path;
            this.arena = arena;
            this.entries = entries;
            this.storages = storages;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public Map<String, Entry> entries() {
            return entries;
        }

        @Override
        public MemorySegment data(String name) {
            Entry e = entries.get(name);
            if (e == null) throw Printable.error(path + ": no tensor named " + name);
            long bytes = e.dtype().bytes;
            return storages.get(e.storage()).asSlice(e.storageOffset() * bytes, e.elements() * bytes);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Whether a file starts as a zip archive does, as torch.save's do (and llama2.c checkpoints, legacy torch.save pickles, do not). */
    public static boolean isArchive(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && ByteBuffer.wrap(magic).order(ByteOrder.LITTLE_ENDIAN).getInt() == StoredZip.LOCAL_HEADER;
        } catch (IOException e) {
            throw Printable.error(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Opens and validates a torch.save archive; only its pickle is read here. */
    public static File open(Path path) {
        return MappedFiles.map(path, (arena, all) -> read(path, arena, all));
    }

    private static File read(Path path, Arena arena, MemorySegment all) {
        if (all.byteSize() < 4 || all.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) != StoredZip.LOCAL_HEADER) {
            boolean pickle = all.byteSize() >= 2 && all.get(ValueLayout.JAVA_BYTE, 0) == (byte) 0x80;
            throw Printable.error(path + (pickle
                    ? ": the legacy torch.save format (PyTorch before 1.6, a bare pickle) is not supported; re-save it with a current PyTorch or convert it to safetensors"
                    : ": not a torch.save zip archive (it does not start with a zip entry)"));
        }
        StoredZip zip = StoredZip.read(path, all);
        String dir = folder(path, zip);
        if (zip.contains(dir + BYTE_ORDER)) {
            String order = new String(zip.stored(dir + BYTE_ORDER).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
            if (!order.equals("little")) throw Printable.error(path + ": stores its tensors in byte order '" + order + "'; only little-endian is supported");
        }
        MemorySegment pickle = zip.stored(dir + PICKLE);
        if (pickle.byteSize() > MAX_PICKLE) throw Printable.error(path + ": " + dir + PICKLE + " of " + pickle.byteSize() + " bytes is beyond any state dict's (corrupt file?)");
        Object root = TorchUnpickler.load(path + ": " + dir + PICKLE, pickle.toArray(ValueLayout.JAVA_BYTE));
        if (!(root instanceof TorchUnpickler.Dict dict)) {
            throw Printable.error(path + ": holds a " + TorchUnpickler.describe(root) + ", not a state dict (a dict of tensors)");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, MemorySegment> storages = new HashMap<>();
        for (Map.Entry<Object, Object> item : dict.items.entrySet()) {
            if (!(item.getKey() instanceof String name)) throw Printable.error(path + ": the state dict has a key that is an int, not a tensor name");
            if (!(item.getValue() instanceof TorchUnpickler.Rebuilt t)) {
                throw Printable.error(path + ": '" + name + "' is a " + TorchUnpickler.describe(item.getValue())
                        + ", not a tensor (a checkpoint holding its state dict under a key is not supported)");
            }
            storages.computeIfAbsent(t.storage().key(), key -> storage(path, zip, dir, t.storage()));
            entries.put(name, entry(path, name, t));
        }
        return new File(path, arena, entries, storages);
    }

    /** The archive's one folder, the one holding data.pkl ("archive" since PyTorch 2.1, the file's stem before). */
    private static String folder(Path path, StoredZip zip) {
        List<String> pickles = zip.entries().keySet().stream()
                .filter(n -> n.endsWith("/" + PICKLE) && n.indexOf('/') == n.length() - PICKLE.length() - 1).toList();
        if (pickles.size() != 1) {
            throw Printable.error(path + ": " + (pickles.isEmpty() ? "a zip archive without <folder>/data.pkl, not written by torch.save" : "several data.pkl records " + pickles));
        }
        String p = pickles.getFirst();
        return p.substring(0, p.length() - PICKLE.length());
    }

    private static MemorySegment storage(Path path, StoredZip zip, String dir, TorchUnpickler.Storage s) {
        String name = dir + STORAGES + s.key();
        if (!zip.contains(name)) throw Printable.error(path + ": the pickle names storage " + s.key() + ", but there is no zip entry " + name);
        MemorySegment bytes = zip.stored(name);
        int size = s.type().dtype.bytes;
        if (s.numel() > bytes.byteSize() / size) {
            throw Printable.error(path + ": storage " + s.key() + " holds " + bytes.byteSize() + " bytes, not the " + s.numel() + " × " + s.type().dtype + " its pickle says (truncated file?)");
        }
        return bytes.asSlice(0, s.numel() * size);
    }

    private static Entry entry(Path path, String name, TorchUnpickler.Rebuilt t) {
        String where = path + ": tensor " + name;
        int[] shape = new int[t.shape().length];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = t.shape()[i];
            if (d < 0 || d > Integer.MAX_VALUE) throw Printable.error(where + " has an invalid dimension " + d);
            shape[i] = (int) d;
            if (d != 0 && elements > Long.MAX_VALUE / d) throw Printable.error(where + " has an impossible shape " + Arrays.toString(t.shape()));
            elements *= d;
        }
        // a dimension of size 1 may have any stride: it is never stepped along
        long step = 1;
        for (int i = shape.length - 1; i >= 0 && elements > 0; i--) {
            if (shape[i] != 1 && t.strides()[i] != step) {
                throw Printable.error(where + " has strides " + Arrays.toString(t.strides()) + " for shape " + Arrays.toString(shape)
                        + ": not contiguous (a view such as a transpose); save it with .contiguous()");
            }
            step *= shape[i];
        }
        if (t.offset() < 0 || elements > t.storage().numel() - t.offset()) {
            throw Printable.error(where + ": shape " + Arrays.toString(shape) + " from element " + t.offset() + " runs past its storage of "
                    + t.storage().numel() + " elements");
        }
        return new Entry(name, t.storage().type().dtype, shape, t.strides().clone(), t.offset(), t.storage().key());
    }
}
