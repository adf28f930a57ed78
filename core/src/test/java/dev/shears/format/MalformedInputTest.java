package dev.shears.format;

import dev.shears.format.gguf.GgufFile;
import dev.shears.format.gguf.GgufModelWriter;
import dev.shears.format.gguf.GgufType;
import dev.shears.format.gguf.GgufWriter;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.Safetensors;
import dev.shears.format.llama2c.Llama2cModel;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import dev.shears.io.TensorNames;
import dev.shears.model.Model;
import dev.shears.model.TensorRole;
import dev.shears.model.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.shears.format.IoTestFiles.assertFails;
import static dev.shears.format.IoTestFiles.rawSafetensors;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every reader on broken input: each failure is a ShearsException with a one-line message naming
 * the file and the problem, never an IndexOutOfBounds, OutOfMemoryError or BufferUnderflow.
 */
class MalformedInputTest {
    @TempDir
    Path dir;

    private static final String ONE = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private static void openSafetensors(Path file) {
        try (Safetensors.File f = Safetensors.open(file)) {
            f.entries().keySet().forEach(f::read);
        }
    }

    // ---- safetensors

    @Test
    void safetensorsTruncatedBeforeTheHeaderLength() throws IOException {
        Path file = Files.write(dir.resolve("short.safetensors"), new byte[] {1, 2, 3, 4, 5});
        assertFails(file, () -> openSafetensors(file), "truncated", "5 bytes");
    }

    @Test
    void safetensorsTruncatedInTheData() throws IOException {
        Path file = rawSafetensors(dir.resolve("cut.safetensors"), ONE, new byte[5]);
        assertFails(file, () -> openSafetensors(file), "tensor a", "outside the 5 data bytes", "truncated");
    }

    @Test
    void safetensorsHeaderLengthBeyondTheFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Path file = Files.write(dir.resolve("absurd.safetensors"), b.array());
        assertFails(file, () -> openSafetensors(file), "header length 1099511627776", "64 bytes");
    }

    @Test
    void safetensorsHeaderNotJson() throws IOException {
        Path file = rawSafetensors(dir.resolve("garbage.safetensors"), "{\"a\": [1, 2", new byte[8]);
        assertFails(file, () -> openSafetensors(file), "not valid JSON");
        Path trailing = rawSafetensors(dir.resolve("trailing.safetensors"), ONE + "}", new byte[8]);
        assertFails(trailing, () -> openSafetensors(trailing), "not valid JSON");
    }

    @Test
    void safetensorsDataOffsetsOutOfRange() throws IOException {
        Path file = rawSafetensors(dir.resolve("range.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[8]);
        assertFails(file, () -> openSafetensors(file), "tensor a", "data offsets [8, 16]");
        Path reversed = rawSafetensors(dir.resolve("reversed.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8]);
        assertFails(reversed, () -> openSafetensors(reversed), "data offsets [8, 0]");
    }

    @Test
    void safetensorsOverlappingTensors() throws IOException {
        Path file = rawSafetensors(dir.resolve("overlap.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertFails(file, () -> openSafetensors(file), "tensors a and b overlap");
    }

    @Test
    void safetensorsUnknownDtype() throws IOException {
        Path file = rawSafetensors(dir.resolve("dtype.safetensors"), "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
        assertFails(file, () -> openSafetensors(file), "tensor a", "unsupported dtype 'F8_E4M3'");
    }

    @Test
    void safetensorsShapeAndDtypeDisagreeWithTheDataSize() throws IOException {
        Path file = rawSafetensors(dir.resolve("size.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertFails(file, () -> openSafetensors(file), "tensor a", "[3]", "needs 12 bytes", "holds 8");
        Path huge = rawSafetensors(dir.resolve("huge.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", new byte[8]);
        assertFails(huge, () -> openSafetensors(huge), "tensor a", "impossible shape");
    }

    // ---- Hugging Face folders

    private Path hfFolder() {
        return hfFolder("hf");
    }

    private Path hfFolder(String name) {
        Path folder = dir.resolve(name);
        HfModel.write(TinyModels.random(TinyModels.gqa(), 1), folder);
        return folder;
    }

    /** Rewrites model.safetensors with the model's tensors, changed by {@code edit}. */
    private static void rewriteWeights(Path folder, java.util.function.Consumer<List<TensorData>> edit) {
        Model model = HfModel.read(folder);
        List<TensorData> tensors = new ArrayList<>();
        model.weights().forEach((role, layer, values) -> tensors.add(new TensorData(TensorNames.HF.name(role, layer), role.shape(model.config(), layer), values)));
        edit.accept(tensors);
        Safetensors.write(folder.resolve(HfModel.WEIGHTS), tensors, DType.F32, Map.of());
    }

    @Test
    void hfFolderWithoutConfigJson() throws IOException {
        Path folder = hfFolder();
        Files.delete(folder.resolve("config.json"));
        assertFails(folder.resolve("config.json"), () -> HfModel.read(folder), "missing");
        assertFails(folder, () -> ModelLoader.load(folder), "no config.json");
    }

    @Test
    void hfFolderWithUnsupportedArchitecture() throws IOException {
        Path folder = hfFolder();
        Path config = folder.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("LlamaForCausalLM", "GPT2LMHeadModel").replace("\"llama\"", "\"gpt2\""));
        assertFails(config, () -> HfModel.read(folder), "unsupported architecture 'GPT2LMHeadModel'");
    }

    @Test
    void hfFolderMissingATensor() {
        Path folder = hfFolder();
        rewriteWeights(folder, t -> t.removeIf(x -> x.name().equals("model.layers.2.mlp.up_proj.weight")));
        assertFails(folder, () -> HfModel.read(folder), "missing tensor 'model.layers.2.mlp.up_proj.weight'");
    }

    @Test
    void hfFolderWithAnUnknownTensor() {
        Path folder = hfFolder();
        rewriteWeights(folder, t -> t.add(new TensorData("model.layers.0.mlp.extra.weight", new int[] {2}, new float[2])));
        assertFails(folder.resolve(HfModel.WEIGHTS), () -> HfModel.read(folder), "unknown tensor 'model.layers.0.mlp.extra.weight'");
        Path other = hfFolder("other");
        rewriteWeights(other, t -> t.add(new TensorData("model.layers.7.mlp.up_proj.weight", new int[] {40, 24}, new float[960])));
        assertFails(other.resolve(HfModel.WEIGHTS), () -> HfModel.read(other), "layer 7", "3 layers");
    }

    @Test
    void hfFolderWithATensorShapeThatContradictsTheConfig() {
        Path folder = hfFolder();
        rewriteWeights(folder, t -> {
            t.removeIf(x -> x.name().equals("model.norm.weight"));
            t.add(new TensorData("model.norm.weight", new int[] {23}, new float[23]));
        });
        assertFails(folder.resolve(HfModel.WEIGHTS), () -> HfModel.read(folder), "'model.norm.weight' has shape [23]", "config implies [24]");
    }

    @Test
    void hfIndexNamingAMissingShard() throws IOException {
        Path folder = dir.resolve("sharded");
        HfModel.write(TinyModels.random(TinyModels.gqa(), 1), folder, DType.F32, 2000);
        Files.delete(folder.resolve("model-00002-of-" + shardCount(folder) + ".safetensors"));
        assertFails(folder.resolve(HfModel.INDEX), () -> HfModel.read(folder), "lists shard model-00002-of-", "missing");
        Path index = folder.resolve(HfModel.INDEX);
        Files.writeString(index, Files.readString(index).replace("model-00001-of-", "../model-00001-of-"));
        assertFails(index, () -> HfModel.read(folder), "not a file name in the folder");
    }

    private static String shardCount(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model-00001-of-")).findFirst().orElseThrow().substring(15, 20);
        }
    }

    // ---- llama2.c

    /** A legacy llama2.c checkpoint: dim 8, hidden 16, 1 layer, 2 heads, 1 KV head, vocab 10 (shared), seq_len 4: 696 floats. */
    private Path llama2c(String name, int[] header, int floats) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + 4 * floats).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : header) b.putInt(h);
        for (int i = 0; i < floats; i++) b.putFloat(i * 1e-3f);
        return Files.write(dir.resolve(name), b.array());
    }

    private static final int[] TINY = {8, 16, 1, 2, 1, 10, 4};

    @Test
    void llama2cTruncated() throws IOException {
        Path ok = llama2c("ok.bin", TINY, 696);
        assertEquals(8, Llama2cModel.read(ok).config().dim());
        Path file = llama2c("cut.bin", TINY, 600);
        assertFails(file, () -> Llama2cModel.read(file), "truncated llama2.c checkpoint", "2400 weight bytes", "implies 2784");
        Path tiny = Files.write(dir.resolve("tiny.bin"), new byte[12]);
        assertFails(tiny, () -> Llama2cModel.read(tiny), "truncated", "12 bytes");
    }

    @Test
    void llama2cAbsurdHeader() throws IOException {
        Path file = llama2c("absurd.bin", new int[] {8, 16, 1, 3, 1, 10, 4}, 696);
        assertFails(file, () -> Llama2cModel.read(file), "implausible header", "heads 3");
        Path huge = llama2c("huge.bin", new int[] {8, Integer.MAX_VALUE, 1000, 2, 1, 10, Integer.MAX_VALUE}, 696);
        assertFails(huge, () -> Llama2cModel.read(huge), "truncated", "implies");
        Path negative = llama2c("negative.bin", new int[] {8, 16, 1, 2, 1, Integer.MIN_VALUE, 4}, 696);
        assertFails(negative, () -> Llama2cModel.read(negative), "implausible header");
    }

    @Test
    void llama2cSizeNotMatchingTheConfig() throws IOException {
        Path file = llama2c("long.bin", TINY, 696 + 80);   // e.g. an unshared classifier the header does not announce
        assertFails(file, () -> Llama2cModel.read(file), "larger than its header implies", "3104 weight bytes", "implies 2784");
    }

    // ---- GGUF

    private Path gguf(String name) {
        Path file = dir.resolve(name);
        new GgufWriter().putString("general.architecture", "llama").putStrings("tokenizer.ggml.tokens", List.of("a", "b", "c"))
                .tensor("t", new int[] {1, 256}, GgufType.F32, new float[256]).write(file);
        return file;
    }

    private static void openGguf(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            g.tensors().values().forEach(g::read);
        }
    }

    private static void patch(Path file, int at, long value, int bytes) throws IOException {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes == 4) buffer.putInt(at, (int) value);
        else buffer.putLong(at, value);
        Files.write(file, b);
    }

    private static int indexOf(Path file, String text) throws IOException {
        byte[] b = Files.readAllBytes(file);
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + t.length <= b.length; i++) {
            if (Arrays.equals(b, i, i + t.length, t, 0, t.length)) return i;
        }
        throw new AssertionError(text + " not in " + file);
    }

    @Test
    void ggufBadMagic() throws IOException {
        Path file = gguf("magic.gguf");
        patch(file, 0, 0x46554746, 4);
        assertFails(file, () -> openGguf(file), "not a GGUF file", "bad magic");
    }

    @Test
    void ggufUnsupportedVersion() throws IOException {
        Path file = gguf("version.gguf");
        patch(file, 4, 1, 4);
        assertFails(file, () -> openGguf(file), "GGUF version 1 is not supported");
        patch(file, 4, -1, 4);
        assertFails(file, () -> openGguf(file), "GGUF version 4294967295 is not supported");
    }

    @Test
    void ggufTruncatedMetadata() throws IOException {
        Path file = gguf("cut.gguf");
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, indexOf(file, "tokenizer.ggml.tokens") + 30));
        assertFails(file, () -> openGguf(file), "truncated", "metadata");
    }

    @Test
    void ggufAbsurdStringLength() throws IOException {
        Path file = gguf("string.gguf");
        patch(file, 24, 1L << 40, 8);
        assertFails(file, () -> openGguf(file), "implausible metadata key length 1099511627776 at byte 24");
        Path value = gguf("value.gguf");
        patch(value, indexOf(value, "tokenizer.ggml.tokens") + 21 + 4 + 4 + 8, Long.MAX_VALUE, 8);
        assertFails(value, () -> openGguf(value), "implausible value of tokenizer.ggml.tokens length");
    }

    @Test
    void ggufAbsurdArrayLength() throws IOException {
        Path file = gguf("array.gguf");
        int count = indexOf(file, "tokenizer.ggml.tokens") + 21 + 4 + 4;
        patch(file, count, 1L << 50, 8);
        assertFails(file, () -> openGguf(file), "tokenizer.ggml.tokens claims 1125899906842624 elements at byte " + count);
        patch(file, count, -1L, 8);
        assertFails(file, () -> openGguf(file), "impossible array length 18446744073709551615");
    }

    @Test
    void ggufUnsupportedTensorType() throws IOException {
        Path file = gguf("type.gguf");
        int type = indexOf(file, "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000t") + 9 + 4 + 16;
        patch(file, type, GgufType.Q4_K.id, 4);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(GgufType.Q4_K, g.tensors().get("t").type(), "a file with types Shears cannot dequantise still opens");
        }
        assertFails(file, () -> openGguf(file), "tensor t has type Q4_K, which Shears cannot read");
        patch(file, type, 99, 4);
        assertFails(file, () -> openGguf(file), "tensor t has unknown ggml type 99");
    }

    @Test
    void ggufTensorDataBeyondTheEndOfTheFile() throws IOException {
        Path file = gguf("data.gguf");
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - 100));
        assertFails(file, () -> openGguf(file), "tensor t data", "beyond the end of the file");
        Path shape = gguf("shape.gguf");
        patch(shape, indexOf(shape, "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000t") + 9 + 4, 1L << 31 - 1, 8);
        assertFails(shape, () -> openGguf(shape), "tensor t");
    }

    @Test
    void ggufModelMetadataThatContradictsTheTensors() {
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        Path file = dir.resolve("model.gguf");
        GgufWriter w = GgufModelWriter.writer(model, file, GgufModelWriter.Options.defaults());
        w.tensor("blk.9.attn_q.weight", new int[] {24, 24}, GgufType.F32, new float[24 * 24]);
        w.write(file);
        assertFails(file, () -> ModelLoader.load(file), "unexpected tensor 'blk.9.attn_q.weight'");
        assertEquals(TensorRole.QUERY, TensorNames.GGUF.parse("blk.9.attn_q.weight").orElseThrow().role());
    }
}
