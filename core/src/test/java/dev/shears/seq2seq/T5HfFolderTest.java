package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A T5 written as a Hugging Face folder reads back as the same model: the same config, every weight
 * bit for bit in f32 (within bf16's rounding in bf16), and the same logits; per-layer widths travel in
 * {@code shears_layer_shapes}.
 */
class T5HfFolderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] SOURCE = {5, 9, 1, 3, 7, 2};
    private static final int[] TARGET = {4, 8, 6, 1};

    @TempDir
    Path dir;

    private static Path fixture(String name) {
        try {
            return Path.of(T5HfFolderTest.class.getResource("/torchref-t5/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static List<float[]> tensors(T5Model m) {
        List<float[]> out = new ArrayList<>();
        m.weights().forEach(m.config(), (name, shape, values) -> out.add(values));
        return out;
    }

    private static float[] logits(T5Model m) {
        return T5.forward(m, SOURCE, TARGET, 1, SOURCE.length, TARGET.length).logits();
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5_relu_tied", "t5_gated_untied", "t5_nonuniform"})
    void f32ExportReadsBackToTheSameWeightsAndLogits(String name) throws IOException {
        T5Model source = T5Model.load(fixture(name));
        Path out = dir.resolve(name);
        Files.createDirectories(out);
        T5HfFolder.write(source, T5HfFolder.configJson(source.config(), DType.F32), out, DType.F32);
        T5Model back = T5Model.load(out);
        assertEquals(source.config(), back.config(), name + ": config.json reads back to the same config");
        List<float[]> expected = tensors(source);
        List<float[]> actual = tensors(back);
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(expected.get(i), actual.get(i), name + ": tensor " + i);
        assertArrayEquals(logits(source), logits(back), name + ": identical logits");
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("float32", config.path("torch_dtype").asText());
        assertEquals(!name.equals("t5_nonuniform"), config.path(T5Config.LAYER_SHAPES).isMissingNode(), "per-layer shapes only where layers differ");
        assertEquals(!name.equals("t5_nonuniform"), T5HfFolder.isUniform(source.config()));
    }

    @Test
    void safetensorsHoldsHuggingFaceNamesAndLeavesTheTiedHeadOut() throws IOException {
        T5Model source = T5Model.load(fixture("t5_relu_tied"));
        T5HfFolder.write(source, T5HfFolder.configJson(source.config(), DType.F32), dir, DType.F32);
        try (Safetensors.File file = Safetensors.open(dir.resolve("model.safetensors"))) {
            List<String> names = new ArrayList<>();
            source.weights().forEach(source.config(), (n, shape, values) -> {
                names.add(n);
                assertArrayEquals(shape, file.entries().get(n).shape(), n);
            });
            assertEquals(names.size(), file.entries().size());
            assertTrue(file.entries().containsKey("encoder.block.1.layer.1.DenseReluDense.wi.weight"));
            assertTrue(file.entries().containsKey("decoder.block.0.layer.1.EncDecAttention.o.weight"));
            assertFalse(file.entries().containsKey("lm_head.weight"), "tied: transformers takes the head from shared.weight");
            assertEquals("pt", file.metadata().get("format"));
        }
    }

    @Test
    void bf16ExportRoundsEachWeightOnce() throws IOException {
        T5Model source = T5Model.load(fixture("t5_gated_untied"));
        T5HfFolder.write(source, T5HfFolder.configJson(source.config(), DType.BF16), dir, DType.BF16);
        T5Model back = T5Model.load(dir);
        List<float[]> expected = tensors(source);
        List<float[]> actual = tensors(back);
        for (int i = 0; i < expected.size(); i++) {
            for (int j = 0; j < expected.get(i).length; j++) {
                float e = expected.get(i)[j];
                float rounded = Float.intBitsToFloat(DType.BF16.encode(e) << 16);
                assertEquals(rounded, actual.get(i)[j], "tensor " + i + " element " + j + ": bf16 of " + e);
            }
        }
        assertEquals("bfloat16", JSON.readTree(dir.resolve("config.json").toFile()).path("torch_dtype").asText());
    }
}
