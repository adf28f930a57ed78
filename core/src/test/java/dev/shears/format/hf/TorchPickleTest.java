package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.format.ModelLoader;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import dev.shears.io.TensorNames;
import dev.shears.model.Model;
import dev.shears.tensor.Encoding;
import dev.shears.tensor.MappedTensor;
import dev.shears.model.TensorRole;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static dev.shears.format.IoTestFiles.assertFails;
import static dev.shears.format.IoTestFiles.assertSameWeights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * torch.save archives read as torch.load reads them: the real t5-tiny-random checkpoint and the
 * fixtures of tools/fixtures/torch_pickle_fixture.py (Debian's python3-torch), values bit for bit;
 * Hugging Face folders with only pytorch_model.bin load like safetensors ones; hostile and broken
 * archives are refused with one line naming the file, the byte in data.pkl and the offender.
 */
class TorchPickleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path resource(String name) {
        URL url = TorchPickleTest.class.getResource("/torchpickle/" + name);
        if (url == null) fail("fixture torchpickle/" + name + " is missing; regenerate it with tools/fixtures/torch_pickle_fixture.py");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).intValue();
        return out;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).longValue();
        return out;
    }

    /** Name, dtype, shape, strides and storage offset as torch.load reports them. */
    private static void assertSameEntry(JsonNode expected, TorchPickle.Entry e) {
        String name = expected.path("name").asText();
        assertEquals(name, e.name());
        assertEquals(expected.path("dtype").asText(), e.dtype().torchName, name);
        assertArrayEquals(ints(expected.path("shape")), e.shape(), name);
        assertArrayEquals(longs(expected.path("stride")), e.strides(), name);
        assertEquals(expected.path("storage_offset").asLong(), e.storageOffset(), name);
    }

    private static void assertBits(float expected, float actual, String what) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what + ": expected " + expected + ", got " + actual);
    }

    @Test
    void t5TinyRandomReadsAsTorchLoadReadsIt() throws IOException {
        Path file = SharedData.require("models/t5-tiny-random/pytorch_model.bin");
        JsonNode expected = JSON.readTree(resource("t5_tiny_random.json").toFile()).path("tensors");
        assertEquals(113, expected.size());
        try (TorchPickle.File f = TorchPickle.open(file)) {
            assertEquals(expected.size(), f.entries().size());
            List<String> names = new ArrayList<>(f.entries().keySet());
            for (int i = 0; i < expected.size(); i++) {
                JsonNode x = expected.get(i);
                String name = x.path("name").asText();
                assertEquals(name, names.get(i), "state dict order");
                TorchPickle.Entry e = f.entries().get(name);
                assertSameEntry(x, e);
                float[] v = f.read(name).values();
                assertBits((float) x.path("first").asDouble(), v[0], name + " first");
                assertBits((float) x.path("middle").asDouble(), v[v.length / 2], name + " middle");
                assertBits((float) x.path("last").asDouble(), v[v.length - 1], name + " last");
                double sum = 0;
                double abs = 0;
                for (float value : v) {
                    sum += value;
                    abs += Math.abs(value);
                }
                assertEquals(x.path("sum").asDouble(), sum, 1e-12 * abs, name + " sum");
            }
            // the tied embeddings are one storage, read in place from the mapped file
            assertEquals(f.entries().get("shared.weight").storage(), f.entries().get("lm_head.weight").storage());
            assertEquals(f.entries().get("shared.weight").storage(), f.entries().get("decoder.embed_tokens.weight").storage());
            assertTrue(f.data("shared.weight").isMapped());
        }
    }

    @Test
    void viewsReadAsTorchLoadReadsThem() throws IOException {
        JsonNode expected = JSON.readTree(resource("fixtures.json").toFile()).path("views.bin");
        try (TorchPickle.File f = TorchPickle.open(resource("views.bin"))) {
            assertEquals(expected.size(), f.entries().size());
            for (JsonNode x : expected) {
                String name = x.path("name").asText();
                TorchPickle.Entry e = f.entries().get(name);
                assertNotNull(e, name);
                assertSameEntry(x, e);
                TensorData t = f.read(name);
                JsonNode values = x.path("values");
                assertEquals(values.size(), t.values().length, name);
                for (int i = 0; i < values.size(); i++) assertBits((float) values.get(i).asDouble(), t.values()[i], name + "[" + i + "]");
            }
            assertEquals(4, f.entries().get("rows").storageOffset());
            assertEquals(f.entries().get("base").storage(), f.entries().get("row").storage());
            assertEquals(DType.BF16, f.entries().get("bf16").dtype());
            assertEquals(Encoding.BF16, f.mapped("bf16", 2, 3).encoding());
            assertEquals(DType.F16, f.entries().get("f16").dtype());
            assertArrayEquals(new int[0], f.entries().get("scalar").shape());
        }
    }

    @Test
    void theByteorderRecordOfNewerTorchIsRead() {
        try (TorchPickle.File f = TorchPickle.open(resource("byteorder_little.bin"))) {
            assertArrayEquals(new float[] {0, 1, 2, 3}, f.read("w").values());
        }
    }

    /** Each folder holds the same seeded weights (f16 with tied embeddings); expected.safetensors has what torch.load reads. */
    @ParameterizedTest
    @ValueSource(strings = {"llama_f32", "llama_bf16", "llama_f16", "llama_sharded"})
    void aFolderWithOnlyPytorchModelBinLoadsLikeSafetensors(String folder) {
        Path model = resource(folder);
        Map<String, float[]> expected = new LinkedHashMap<>();
        try (Safetensors.File f = Safetensors.open(resource("expected.safetensors"))) {
            for (String name : f.entries().keySet()) {
                if (name.startsWith(folder + "/")) expected.put(name.substring(folder.length() + 1), f.read(name).values());
            }
        }
        assertTrue(expected.containsKey("model.layers.0.self_attn.rotary_emb.inv_freq"), "the fixture holds the buffers old checkpoints carry");
        Model dense = ModelLoader.load(model);
        int[] checked = {0};
        dense.weights().forEach((role, layer, values) -> {
            String name = TensorNames.HF.name(role, layer);
            float[] x = expected.get(name);
            assertNotNull(x, name);
            assertEquals(x.length, values.length, name);
            for (int i = 0; i < x.length; i++) assertBits(x[i], values[i], folder + " " + name + "[" + i + "]");
            checked[0]++;
        });
        assertEquals(expected.size() - 2 - (dense.config().tiedEmbeddings() ? 1 : 0), checked[0], "every tensor but the inv_freq buffers (and a tied head)");
        DType dtype = folder.equals("llama_bf16") ? DType.BF16 : folder.equals("llama_f16") ? DType.F16 : DType.F32;
        try (Model mapped = HfModel.open(model)) {
            MappedTensor q = assertInstanceOf(MappedTensor.class, mapped.weights().tensor(TensorRole.QUERY, 1), "matrices stay in the mapped file");
            assertEquals(dtype.encoding, q.encoding());
        }
    }

    @Test
    void thePathOfPytorchModelBinStandsForItsFolder() throws IOException {
        Path bin = resource("llama_f32/pytorch_model.bin");
        assertEquals("hf", ModelLoader.format(bin));
        assertSameWeights(HfModel.read(resource("llama_f32")), ModelLoader.load(bin));
        Path alone = Files.copy(bin, dir.resolve("pytorch_model.bin"));
        assertFails(alone, () -> ModelLoader.open(alone), "without a config.json beside it");
    }

    @Test
    void aShardedFolderListsItsShardsInTheIndex() {
        HfModel.Weights w = HfModel.shards(resource("llama_sharded"));
        assertEquals(HfModel.Layout.TORCH, w.layout());
        assertEquals(2, w.files().values().stream().distinct().count());
    }

    @Test
    void safetensorsWinOverPytorchModelBinAndExportIsBitExact() throws IOException {
        Model torch = HfModel.read(resource("llama_f32"));
        Path both = dir.resolve("both");
        HfModel.write(torch, both);
        Files.copy(resource("llama_f32/pytorch_model.bin"), both.resolve(HfModel.TORCH_WEIGHTS));
        assertEquals(HfModel.Layout.SAFETENSORS, HfModel.shards(both).layout());
        assertSameWeights(torch, HfModel.read(both));
    }

    // ---- refusals

    /** The hostile pickles and unreadable files of the fixture script, each with what its one line must say. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "posix_system.bin           | GLOBAL posix.system is not allowed",
            "builtins_eval.bin          | GLOBAL builtins.eval is not allowed",
            "stack_global_os_system.bin | STACK_GLOBAL os.system is not allowed",
            "inst.bin                   | opcode INST (0x69)",
            "reduce_on_storage.bin      | REDUCE calls a torch.FloatStorage",
            "build_on_tensor.bin        | BUILD on a tensor",
            "int64.bin                  | GLOBAL torch.LongStorage: tensors of that type are not supported"})
    void hostilePicklesAreRefusedAtTheirByte(String file, String says) throws IOException {
        Path path = resource("refused/" + file);
        JsonNode refusal = JSON.readTree(resource("fixtures.json").toFile()).path("refused").path(file);
        assertTrue(refusal.has("offset"), file + " in fixtures.json");
        assertFails(path, () -> TorchPickle.open(path), "data.pkl byte " + refusal.path("offset").asInt() + ": " + says);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "transposed.bin | tensor t has strides [1, 3] for shape [3, 4]: not contiguous",
            "compressed.bin | zip entry carrier/data/0 is compressed (method 8)",
            "big_endian.bin | byte order 'big'; only little-endian",
            "legacy.bin     | legacy torch.save format"})
    void unreadableArchivesAreRefused(String file, String says) {
        Path path = resource("refused/" + file);
        assertFails(path, () -> TorchPickle.open(path), says);
    }

    @Test
    void everyRefusedFixtureIsTested() throws IOException {
        try (var files = Files.list(resource("refused"))) {
            assertEquals(11, files.count(), "a new file in refused/ needs a row above");
        }
    }

    @Test
    void aHostileFileInAModelFolderStopsTheLoad() throws IOException {
        Path folder = dir.resolve("hostile");
        Files.createDirectories(folder);
        Files.copy(resource("llama_f32/config.json"), folder.resolve("config.json"));
        Files.copy(resource("refused/posix_system.bin"), folder.resolve(HfModel.TORCH_WEIGHTS));
        assertFails(folder.resolve(HfModel.TORCH_WEIGHTS), () -> ModelLoader.open(folder), "GLOBAL posix.system");
    }

    // ---- hand-made archives: what a broken or odd file does

    /** A pickle assembled opcode by opcode. */
    static final class Pickle {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int b : bytes) out.write(b);
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X').out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        Pickle global(String module, String name) {
            op('c').out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle int1(int v) {
            return op('K', v);
        }

        /** {@code _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, (size,), (1,), False, OrderedDict())}. */
        Pickle tensor(String key, int numel, int offset, int size) {
            global("torch._utils", "_rebuild_tensor_v2").op('(').op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").int1(numel).op('t', 'Q');
            int1(offset).int1(size).op(0x85).int1(1).op(0x85).op(0x89).global("collections", "OrderedDict").op(')', 'R').op('t', 'R');
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        static Pickle dict() {
            return new Pickle().op(0x80, 2, '}');
        }
    }

    /** A torch zip of this pickle and these storages, every entry stored. */
    private Path archive(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path file = dir.resolve(name);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        storages.forEach((key, bytes) -> entries.put("archive/data/" + key, bytes));
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                z.setMethod(ZipEntry.STORED);
                z.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                z.setCrc(crc.getValue());
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    /**
     * The same archive as torch.save writes a file past 4 GiB: every size and offset in zip64 extra fields
     * (0xffffffff in the 32-bit fields), a zip64 end-of-directory record and its locator (APPNOTE 4.3.14-15, 4.5.3).
     */
    private Path zip64Archive(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        storages.forEach((key, bytes) -> entries.put("archive/data/" + key, bytes));
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Integer> offsets = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            offsets.put(e.getKey(), b.position());
            byte[] n = e.getKey().getBytes(StandardCharsets.US_ASCII);
            b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0).putInt(crc(e.getValue()))
                    .putInt(-1).putInt(-1).putShort((short) n.length).putShort((short) 20).put(n)
                    .putShort((short) 1).putShort((short) 16).putLong(e.getValue().length).putLong(e.getValue().length).put(e.getValue());
        }
        int directory = b.position();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] n = e.getKey().getBytes(StandardCharsets.US_ASCII);
            b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0).putInt(crc(e.getValue()))
                    .putInt(-1).putInt(-1).putShort((short) n.length).putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt(-1).put(n)
                    .putShort((short) 1).putShort((short) 24).putLong(e.getValue().length).putLong(e.getValue().length).putLong(offsets.get(e.getKey()));
        }
        int record = b.position();
        b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(entries.size()).putLong(entries.size()).putLong(record - directory).putLong(directory);
        b.putInt(0x07064b50).putInt(0).putLong(record).putInt(1);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1).putInt(-1).putInt(-1).putShort((short) 0);
        return Files.write(dir.resolve(name), Arrays.copyOf(b.array(), b.position()));
    }

    private static int crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    @Test
    void aHandMadeArchiveReadsInPlace() throws IOException {
        byte[] pickle = Pickle.dict().op('(').str("a").tensor("0", 4, 1, 3).str("b").tensor("0", 4, 0, 2).op('u', '.').bytes();
        Path file = archive("ok.bin", pickle, Map.of("0", floats(1, 2, 3, 4)));
        try (TorchPickle.File f = TorchPickle.open(file)) {
            assertEquals(List.of("a", "b"), List.copyOf(f.entries().keySet()));
            assertArrayEquals(new float[] {2, 3, 4}, f.read("a").values());
            assertArrayEquals(new float[] {1, 2}, f.read("b").values());
        }
    }

    @Test
    void aZip64ArchiveReadsInPlace() throws IOException {
        byte[] pickle = Pickle.dict().str("a").tensor("0", 4, 1, 3).op('s', '.').bytes();
        Path file = zip64Archive("zip64.bin", pickle, Map.of("0", floats(1, 2, 3, 4)));
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
            assertEquals(2, zip.size(), "the JDK reads the hand-made zip64 archive too");
        }
        try (TorchPickle.File f = TorchPickle.open(file)) {
            assertArrayEquals(new float[] {2, 3, 4}, f.read("a").values());
        }
    }

    @Test
    void brokenArchivesAreRefusedWithOneLine() throws IOException {
        byte[] four = floats(1, 2, 3, 4);
        Path past = archive("past.bin", Pickle.dict().str("a").tensor("0", 4, 3, 2).op('s', '.').bytes(), Map.of("0", four));
        assertFails(past, () -> TorchPickle.open(past), "tensor a", "from element 3 runs past its storage of 4 elements");
        Path shortStorage = archive("short.bin", Pickle.dict().str("a").tensor("0", 4, 0, 4).op('s', '.').bytes(), Map.of("0", floats(1, 2)));
        assertFails(shortStorage, () -> TorchPickle.open(shortStorage), "storage 0 holds 8 bytes, not the 4 × F32");
        Path missing = archive("missing.bin", Pickle.dict().str("a").tensor("7", 4, 0, 4).op('s', '.').bytes(), Map.of("0", four));
        assertFails(missing, () -> TorchPickle.open(missing), "no zip entry archive/data/7");
        Path nested = archive("nested.bin", Pickle.dict().str("model").op('}').op('s', '.').bytes(), Map.of());
        assertFails(nested, () -> TorchPickle.open(nested), "'model' is a dict, not a tensor");
        Path list = archive("list.bin", new Pickle().op(0x80, 2, ']', '.').bytes(), Map.of());
        assertFails(list, () -> TorchPickle.open(list), "holds a list, not a state dict");
        // a list that holds itself: refused as what it is, without walking it
        Path cycle = archive("cycle.bin", Pickle.dict().str("a").op(']', 'q', 0, 'h', 0, 'a').op('s', '.').bytes(), Map.of());
        assertFails(cycle, () -> TorchPickle.open(cycle), "'a' is a list, not a tensor");
        Path unknownMemo = archive("memo.bin", Pickle.dict().op('h', 9, '.').bytes(), Map.of());
        assertFails(unknownMemo, () -> TorchPickle.open(unknownMemo), "archive/data.pkl byte 3: BINGET 9 of a value never memoized");
        Path truncated = archive("truncated.bin", Pickle.dict().str("a").bytes(), Map.of());
        assertFails(truncated, () -> TorchPickle.open(truncated), "data.pkl byte 9: the pickle ends where an opcode should be (truncated data.pkl?)");
        Path wrongArgs = archive("args.bin", Pickle.dict().str("a").global("torch._utils", "_rebuild_tensor_v2").str("x").op(0x85, 'R', 's', '.').bytes(), Map.of());
        assertFails(wrongArgs, () -> TorchPickle.open(wrongArgs), "REDUCE calls torch._utils._rebuild_tensor_v2 with tuple of 1");
        Path notZip = Files.write(dir.resolve("text.bin"), "hello, world".getBytes(StandardCharsets.US_ASCII));
        assertFails(notZip, () -> TorchPickle.open(notZip), "not a torch.save zip archive");
        byte[] whole = Files.readAllBytes(past);
        Path cut = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(whole, whole.length - 30));
        assertFails(cut, () -> TorchPickle.open(cut), "corrupt zip archive");
    }

    @Test
    void noFolderOfWeightsNamesBothFormats() throws IOException {
        Path folder = dir.resolve("empty");
        Files.createDirectories(folder);
        Files.copy(resource("llama_f32/config.json"), folder.resolve("config.json"));
        assertFails(folder, () -> HfModel.open(folder), "no model.safetensors", "pytorch_model.bin");
    }
}
