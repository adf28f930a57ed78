package dev.shears.format.gguf;

import dev.shears.SharedData;
import dev.shears.format.IoTestFiles;
import dev.shears.format.ModelLoader;
import dev.shears.io.IoDTypeFileTest;
import dev.shears.model.Architecture;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.RopeScaling;
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
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.shears.format.IoTestFiles.assertSameWeights;
import static dev.shears.format.IoTestFiles.ids;
import static dev.shears.format.IoTestFiles.logits;
import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF files written by GgufWriter/GgufModelWriter and read back by GgufFile/GgufModel. */
class GgufFileTest {
    private static final ModelConfig WIDE = ModelConfig.uniform(Architecture.LLAMA, 64, 2, 4, 2, 16, 96, 40, 64, 1e-5f, 10000, false, true);

    @Test
    void headerMetadataAndAlignmentFollowTheSpec(@TempDir Path dir) throws IOException {
        for (int alignment : new int[] {32, 64}) {
            Path file = dir.resolve("meta" + alignment + ".gguf");
            GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putU8("a.u8", 200).putU32("a.u32", 4_000_000_000L)
                    .putI32("a.i32", -5).putU64("a.u64", 1L << 40).putF32("a.f32", 0.1f).putF64("a.f64", 0.1).putBool("a.bool", true)
                    .putStrings("a.strings", List.of("", "é▁x", "<0x0A>")).putF32s("a.f32s", new float[] {1.5f, -0f}).putI32s("a.i32s", new int[] {3, -1});
            if (alignment != 32) w.putU32("general.alignment", alignment);
            w.tensor("odd", new int[] {3}, GgufType.F32, new float[] {1, 2, 3});
            w.tensor("m", new int[] {2, 32}, GgufType.Q8_0, new float[64]);
            w.tensor("h", new int[] {5, 1}, GgufType.F16, new float[] {1, 2, 3, 4, 5});
            w.write(file);
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals("GGUF", new String(Files.readAllBytes(file), 0, 4, StandardCharsets.US_ASCII));
            assertEquals(3, b.getInt(4), "version");
            assertEquals(3, b.getLong(8), "tensor count");
            assertEquals(alignment == 32 ? 11 : 12, b.getLong(16), "metadata count");
            assertEquals("general.architecture".length(), b.getLong(24));
            try (GgufFile g = GgufFile.open(file)) {
                Map<String, Object> m = g.metadata();
                assertEquals("llama", m.get("general.architecture"));
                assertEquals(200L, m.get("a.u8"));
                assertEquals(4_000_000_000L, m.get("a.u32"));
                assertEquals(-5L, m.get("a.i32"));
                assertEquals(1L << 40, m.get("a.u64"));
                assertEquals((double) 0.1f, m.get("a.f32"));
                assertEquals(0.1, m.get("a.f64"));
                assertEquals(true, m.get("a.bool"));
                assertEquals(List.of("", "é▁x", "<0x0A>"), m.get("a.strings"));
                assertEquals(List.of(1.5, -0.0), m.get("a.f32s"));
                assertEquals(List.of(3L, -1L), m.get("a.i32s"));
                assertEquals(alignment, g.alignment());
                for (GgufFile.Tensor t : g.tensors().values()) {
                    assertEquals(0, g.dataPosition(t) % alignment, t.name() + " is aligned");
                }
                assertArrayEquals(new int[] {5, 1}, g.tensors().get("h").shape(), "shape outermost first");
                assertArrayEquals(new float[] {1, 2, 3}, g.read(g.tensors().get("odd")));
                assertArrayEquals(new float[] {1, 2, 3, 4, 5}, g.read(g.tensors().get("h")));
                GgufFile.Tensor h = g.tensors().get("h");
                assertEquals(Files.size(file), g.dataPosition(h) + alignment, "the last tensor (10 bytes) is padded to the alignment");
                for (long i = g.dataPosition(h) + 10; i < Files.size(file); i++) assertEquals(0, b.get((int) i), "padding is zeros");
            }
        }
    }

    /** ggml's quantize_row_q8_0_ref, written independently: d = amax/127, q = roundf(x / d) with halves away from zero. */
    private static void expectQ8_0Block(float[] x, int block, ByteBuffer file, long at, float[] read) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[block * 32 + j]));
        float d = amax / 127;
        float id = d == 0 ? 0 : 1 / d;
        short dBits = file.getShort((int) at);
        assertEquals(Float.floatToFloat16(d), dBits, "fp16 scale of block " + block);
        float d16 = Float.float16ToFloat(dBits);
        for (int j = 0; j < 32; j++) {
            float v = x[block * 32 + j] * id;
            int q = v < 0 ? -Math.round(-v) : Math.round(v);
            byte stored = file.get((int) at + 2 + j);
            assertEquals(q, stored, "q of block " + block + " element " + j + " (" + x[block * 32 + j] + ")");
            assertEquals(Float.floatToRawIntBits(stored * d16), Float.floatToRawIntBits(read[block * 32 + j]), "dequantised value is d * q exactly");
            assertTrue(Math.abs(read[block * 32 + j] - x[block * 32 + j]) <= 0.5f * d16 + 128 * Math.abs(d16 - d) + 1e-30f, "within quantisation error");
        }
    }

    @Test
    void q8_0IsQuantisedAndDequantisedAsGgmlDoes(@TempDir Path dir) throws IOException {
        Random r = new Random(11);
        float[] x = new float[32 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * (i < 32 ? 1e-3f : 1);
        for (int j = 32; j < 64; j++) x[j] = 0;                         // all zero: d = 0, q = 0
        x[64] = 127;                                                     // integers: x * (1/d) lands on halves and wholes
        for (int j = 65; j < 96; j++) x[j] = (j - 80) + 0.5f;
        x[96] = -254;                                                    // negative halves round away from zero
        for (int j = 97; j < 128; j++) x[j] = -(j - 96) - 0.5f * (j % 2);
        x[128] = 65504 * 127f;                                           // a scale at the top of fp16's range
        Path file = dir.resolve("q8.gguf");
        new GgufWriter().tensor("x", new int[] {4, 64}, GgufType.Q8_0, x).write(file);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        try (GgufFile g = GgufFile.open(file)) {
            GgufFile.Tensor t = g.tensors().get("x");
            assertEquals(GgufType.Q8_0, t.type());
            assertEquals(8 * 34, t.byteSize());
            float[] read = g.read(t);
            for (int b = 0; b < 8; b++) expectQ8_0Block(x, b, bytes, g.dataPosition(t) + 34L * b, read);
        }
    }

    static List<ModelConfig> modelConfigs() {
        return List.of(TinyModels.gqa(), WIDE, TinyModels.nonUniformWithBias(),
                new ModelConfig(Architecture.LLAMA, 16, 4, 30, List.of(new LayerShape(4, 2, 24), new LayerShape(2, 2, 8), new LayerShape(0, 0, 16)),
                        1e-6f, 500000, RopeScaling.linear(4), 128, true, false, 1, 2));
    }

    @Test
    void f32ModelRoundTripIsBitExactWithIdenticalLogits(@TempDir Path dir) {
        for (ModelConfig config : modelConfigs()) {
            Model model = TinyModels.random(config, 5);
            Path file = dir.resolve(config.architecture() + "-" + config.numLayers() + ".gguf");
            GgufModelWriter.write(model, file);
            Model read = ModelLoader.load(file);
            assertSameWeights(model, read);
            int[] ids = ids(config.vocabSize(), 9);
            assertArrayEquals(logits(model, ids), logits(read, ids), "logits of " + config);
        }
    }

    @Test
    void queryAndKeyRowsAreStoredInterleavedForLlama(@TempDir Path dir) {
        Model model = TinyModels.random(WIDE, 6);
        Path file = dir.resolve("m.gguf");
        GgufModelWriter.write(model, file);
        try (GgufFile g = GgufFile.open(file)) {
            float[] stored = g.read(g.tensors().get("blk.1.attn_k.weight"));
            float[] storedBias = g.read(g.tensors().get("blk.1.attn_q.bias"));
            float[] k = model.weights().get(TensorRole.KEY, 1);
            float[] qBias = model.weights().get(TensorRole.QUERY_BIAS, 1);
            int hd = WIDE.headDim(), dim = WIDE.dim();
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    // llama.cpp pairs rows (2i, 2i+1) of a head; Shears pairs (i, i + headDim/2)
                    assertArrayEquals(java.util.Arrays.copyOfRange(k, (h * hd + i) * dim, (h * hd + i + 1) * dim),
                            java.util.Arrays.copyOfRange(stored, (h * hd + 2 * i) * dim, (h * hd + 2 * i + 1) * dim));
                    assertArrayEquals(java.util.Arrays.copyOfRange(k, (h * hd + hd / 2 + i) * dim, (h * hd + hd / 2 + i + 1) * dim),
                            java.util.Arrays.copyOfRange(stored, (h * hd + 2 * i + 1) * dim, (h * hd + 2 * i + 2) * dim));
                    assertEquals(qBias[h * hd + hd / 2 + i], storedBias[h * hd + 2 * i + 1]);
                }
            }
            assertEquals(List.of(), g.metadata().keySet().stream().filter(key -> key.startsWith("qwen2")).toList());
            assertEquals(16L, g.metadata().get("llama.attention.key_length"));
        }
    }

    @Test
    void f16AndQ8_0ModelsLoadWithinTheirRoundingAndGiveCloseLogits(@TempDir Path dir) {
        Model model = TinyModels.random(WIDE, 8);
        int[] ids = ids(WIDE.vocabSize(), 12);
        float[] expected = logits(model, ids);
        for (GgufType type : List.of(GgufType.F16, GgufType.BF16, GgufType.Q8_0)) {
            Path file = dir.resolve(type + ".gguf");
            GgufModelWriter.write(model, file, GgufModelWriter.Options.defaults().withMatrixType(type));
            Model read = ModelLoader.load(file);
            assertEquals(model.config(), read.config());
            try (GgufFile g = GgufFile.open(file)) {
                assertEquals(type, g.tensors().get("blk.0.ffn_down.weight").type());
                assertEquals(GgufType.F32, g.tensors().get("blk.0.attn_norm.weight").type(), "vectors stay F32");
            }
            model.weights().forEach((role, layer, values) -> {
                float[] got = read.weights().get(role, layer);
                if (role.rank() == 1) {
                    assertArrayEquals(values, got, role + " is stored exactly");
                    return;
                }
                for (int i = 0; i < values.length; i++) {
                    float blockMax = 0;
                    for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) blockMax = Math.max(blockMax, Math.abs(values[j]));
                    float want = switch (type) {
                        case F16 -> IoDTypeFileTest.f16(values[i]);
                        case BF16 -> IoDTypeFileTest.bf16(values[i]);
                        default -> values[i];
                    };
                    // half a step of d = amax / 127, plus the fp16 rounding of d over up to 127 steps
                    float tolerance = type == GgufType.Q8_0 ? blockMax / 127 * (0.5f + 127 * 0x1p-11f) * 1.001f : 0;
                    if (!(Math.abs(got[i] - want) <= tolerance)) throw new AssertionError(type + " " + role + " [" + i + "]: " + values[i] + " → " + got[i]);
                }
            });
            assertClose(type + " logits", expected, logits(read, ids), type == GgufType.Q8_0 ? 2e-2 : 2e-2, 2e-2);
        }
    }

    @Test
    void stories260KConvertedToGgufGivesTheLogitsOfTheBinFile(@TempDir Path dir) throws IOException {
        Path models = SharedData.require("models/stories260K");
        Model bin = ModelLoader.load(models.resolve("stories260K.bin"));
        GgufTokenizerData tokenizer = IoTestFiles.llama2cTokenizer(models.resolve("tok512.bin"), bin.config().vocabSize());
        Path file = dir.resolve("stories260K.gguf");
        GgufModelWriter.write(bin, file, GgufModelWriter.Options.defaults().withTokenizer(tokenizer).withName("stories260K"));
        Model gguf = ModelLoader.load(file);
        assertSameWeights(bin, gguf);
        int[] ids = {1, 403, 407, 261, 378, 434, 267, 360, 412, 267, 300, 358, 298, 426};
        assertArrayEquals(logits(bin, ids), logits(gguf, ids), "identical logits");
        assertEquals(tokenizer, GgufModel.readTokenizer(file).orElseThrow());
        // the tokenizer inside the file serves the model on its own, with the ids of the llama2.c tokenizer
        dev.shears.recipe.LoadedModel opened = dev.shears.recipe.ModelSource.open(file, java.util.Optional.empty());
        String prompt = "Once upon a time, there was a little girl named Lily.";
        assertArrayEquals(dev.shears.format.TokenizerLoader.load(models.resolve("tok512.bin")).encode(prompt), opened.tokenizer().encode(prompt));
        assertEquals(prompt, opened.tokenizer().decode(opened.tokenizer().encode(prompt)));
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals("stories260K", g.metadata().get("general.name"));
            assertEquals(512L, g.metadata().get("llama.context_length"));
            assertEquals(4L, g.metadata().get("llama.attention.head_count_kv"));
        }
        Path q8 = dir.resolve("stories260K-q8_0.gguf");
        GgufModelWriter.write(bin, q8, GgufModelWriter.Options.defaults().withTokenizer(tokenizer).withMatrixType(GgufType.Q8_0));
        float[] exact = logits(bin, ids);
        float[] quantised = logits(ModelLoader.load(q8), ids);
        int v = bin.config().vocabSize();
        int agree = 0;
        for (int t = 0; t < ids.length; t++) {
            if (argmax(exact, t * v, v) == argmax(quantised, t * v, v)) agree++;
        }
        assertTrue(agree >= ids.length - 1, "Q8_0 keeps the greedy token at " + agree + " of " + ids.length + " positions");
        assertClose("Q8_0 logits", exact, quantised, 0.6, 0.05);
    }

    private static int argmax(float[] x, int from, int n) {
        int best = from;
        for (int i = from; i < from + n; i++) if (x[i] > x[best]) best = i;
        return best - from;
    }
}
