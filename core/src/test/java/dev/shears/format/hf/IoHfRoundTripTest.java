package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.format.IoTestFiles;
import dev.shears.format.ModelLoader;
import dev.shears.io.DType;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.shears.format.IoTestFiles.assertSameWeights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hugging Face folders: write then read gives the same config and bit-identical weights, in one file or sharded. */
class IoHfRoundTripTest {
    record Case(String label, ModelConfig config) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Case> configs() {
        ModelConfig gqa = TinyModels.gqa();
        return Stream.of(
                new Case("uniform GQA, tied", gqa),
                new Case("uniform, untied, qkv bias", ModelConfig.uniform(Architecture.LLAMA, 24, 2, 4, 4, 6, 40, 50, 64, 1e-6f, 500000, false, true)),
                new Case("non-uniform qwen2 with removed sub-layers", TinyModels.nonUniformWithBias()),
                new Case("non-uniform llama, tied, llama3 rope", new ModelConfig(Architecture.LLAMA, 16, 4, 30,
                        List.of(new LayerShape(4, 2, 24), new LayerShape(2, 2, 8), new LayerShape(4, 1, 0)), 1e-5f, 10000,
                        RopeScaling.llama3(8, 1, 4, 8192), 128, true, false, 1, 2)),
                new Case("mistral, linear rope, no bos/eos", new ModelConfig(Architecture.MISTRAL, 16, 8, 20,
                        List.of(new LayerShape(2, 1, 12), new LayerShape(2, 1, 12)), 1e-5f, 1e6, RopeScaling.linear(2), 32, false, false, -1, -1)));
    }

    /** Random weights plus the values a careless converter loses: ±0, ±inf, NaN with a payload, subnormals, extremes. */
    static Model awkward(ModelConfig config) {
        Model model = TinyModels.random(config, 42);
        float[] e = model.weights().get(TensorRole.EMBEDDING);
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffa00000),
                Float.MIN_VALUE, -Float.MIN_NORMAL / 3, Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, 1e-8f};
        System.arraycopy(special, 0, e, 0, special.length);
        return model;
    }

    @ParameterizedTest
    @MethodSource("configs")
    void singleFileRoundTripIsBitExact(Case c, @TempDir Path dir) {
        Model model = awkward(c.config());
        HfModel.write(model, dir);
        assertTrue(Files.isRegularFile(dir.resolve(HfModel.WEIGHTS)));
        assertFalse(Files.exists(dir.resolve(HfModel.INDEX)));
        assertSameWeights(model, HfModel.read(dir));
        assertSameWeights(model, ModelLoader.load(dir));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void shardedRoundTripIsBitExact(Case c, @TempDir Path dir) throws IOException {
        Model model = awkward(c.config());
        HfModel.write(model, dir, DType.F32, 2000);
        JsonNode index = new ObjectMapper().readTree(dir.resolve(HfModel.INDEX).toFile());
        long shards = Stream.of(dir.toFile().list()).filter(n -> n.matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
        assertTrue(shards > 2, "several shards: " + shards);
        assertFalse(Files.exists(dir.resolve(HfModel.WEIGHTS)));
        long[] total = {0};
        model.weights().forEach((role, layer, values) -> total[0] += 4L * values.length);
        assertEquals(total[0], index.path("metadata").path("total_size").asLong());
        assertSameWeights(model, HfModel.read(dir));
    }

    @Test
    void perLayerShapesAreInConfigJsonOnlyForNonUniformModels(@TempDir Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        HfModel.write(TinyModels.random(TinyModels.gqa(), 1), dir.resolve("uniform"));
        JsonNode uniform = json.readTree(dir.resolve("uniform/config.json").toFile());
        assertFalse(uniform.has(HfConfig.LAYER_SHAPES));
        assertEquals(4, uniform.path("num_attention_heads").asInt());
        assertEquals(2, uniform.path("num_key_value_heads").asInt());
        assertEquals(true, uniform.path("tie_word_embeddings").asBoolean());
        HfModel.write(TinyModels.random(TinyModels.nonUniformWithBias(), 1), dir.resolve("pruned"));
        JsonNode pruned = json.readTree(dir.resolve("pruned/config.json").toFile());
        JsonNode shapes = pruned.path(HfConfig.LAYER_SHAPES);
        assertEquals(4, shapes.size());
        assertEquals(0, shapes.get(2).path("num_attention_heads").asInt());
        assertEquals(0, shapes.get(3).path("intermediate_size").asInt());
        assertEquals(24, pruned.path("intermediate_size").asInt(), "stock fields hold the widest layer");
        assertEquals("Qwen2ForCausalLM", pruned.path("architectures").get(0).asText());
    }

    /** A Llama child with one query-head count, 256-multiple FFN widths and a dropped sub-layer: expressible in the Hub's block_configs. */
    static ModelConfig nemotronShaped() {
        return new ModelConfig(Architecture.LLAMA, 32, 8, 40,
                List.of(new LayerShape(4, 2, 512), new LayerShape(0, 0, 256), new LayerShape(4, 4, 768), new LayerShape(4, 1, 0)),
                1e-5f, 10000, RopeScaling.NONE, 64, false, false, 1, 2);
    }

    /** Issue 13: a non-uniform HF export in the heterogeneous-Llama layout of the Hub (DeciLM / Nemotron-NAS block_configs) where the shape allows it. */
    @Test
    void nonUniformHfExportUsesBlockConfigsWhereExpressible(@TempDir Path dir) throws IOException {
        Model model = awkward(nemotronShaped());
        HfModel.write(model, dir);
        JsonNode n = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("DeciLMForCausalLM", n.path("architectures").get(0).asText());
        assertEquals("nemotron-nas", n.path("model_type").asText());
        assertFalse(n.has(HfConfig.LAYER_SHAPES));
        assertEquals(4, n.path("num_attention_heads").asInt());
        assertTrue(n.path("intermediate_size").isNull() && n.path("num_key_value_heads").isNull(), n.toString());
        JsonNode blocks = n.path("block_configs");
        assertEquals(4, blocks.size());
        assertEquals(2, blocks.get(0).path("attention").path("n_heads_in_group").asInt());
        assertTrue(blocks.get(1).path("attention").path("no_op").asBoolean());
        assertEquals(4, blocks.get(3).path("attention").path("n_heads_in_group").asInt());
        assertTrue(blocks.get(3).path("ffn").path("no_op").asBoolean());
        assertEquals(1.5 * 768 / 32, blocks.get(2).path("ffn").path("ffn_mult").asDouble());
        assertTrue(n.path("auto_map").path("AutoModelForCausalLM").asText().endsWith("--modeling_decilm.DeciLMForCausalLM"));
        assertTrue(HfConfig.readers(model.config()).contains("convert_hf_to_gguf"));
        Model back = HfModel.read(dir);
        assertEquals(model.config(), back.config());
        assertSameWeights(model, back);
        try (Stream<Path> files = Files.list(dir)) {
            // the layer without attention has no attention tensors and no input norm, as DeciLM's code expects
            String names = new String(Files.readAllBytes(dir.resolve(HfModel.WEIGHTS)), 0, 4000, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertFalse(names.contains("layers.1.self_attn") || names.contains("layers.1.input_layernorm") || names.contains("layers.3.mlp"), names);
            assertTrue(names.contains("layers.3.self_attn.q_proj"));
            assertEquals(2, files.count());
        }
    }

    /** The readers' ffn_mult formula (int(2·m·d/3), rounded up to 256) gives back every width written, for every hidden size. */
    @Test
    void ffnMultipliersRoundTripEveryWidth() {
        for (int dim = 64; dim <= 16384; dim += 64) {
            for (int width = 256; width <= 8 * dim && width <= 65536; width += 256) {
                assertEquals(width, DeciLmLayout.intermediateSize(DeciLmLayout.ffnMult(width, dim), dim), dim + " " + width);
            }
        }
        // Nemotron-51B's own entries: hidden 8192, ffn_mult 2.625 → 14336 and 1.3125 → 7168
        assertEquals(14336, DeciLmLayout.intermediateSize(2.625, 8192));
        assertEquals(7168, DeciLmLayout.intermediateSize(1.3125, 8192));
    }

    /** Shapes the layout cannot hold keep Shears' own key, and the export says who reads them. */
    @Test
    void inexpressibleShapesKeepTheShearsKey() {
        ModelConfig unevenHeads = nemotronShaped().withLayers(List.of(new LayerShape(4, 2, 512), new LayerShape(2, 2, 512),
                new LayerShape(4, 4, 768), new LayerShape(4, 1, 256)));
        ModelConfig oddFfn = nemotronShaped().withLayers(List.of(new LayerShape(4, 2, 500), new LayerShape(4, 2, 512),
                new LayerShape(4, 4, 768), new LayerShape(4, 1, 256)));
        for (ModelConfig c : List.of(unevenHeads, oddFfn, TinyModels.nonUniformWithBias())) {
            JsonNode n = HfConfig.toJson(c, "float32");
            assertTrue(n.has(HfConfig.LAYER_SHAPES) && !n.has("block_configs"), c.describe());
            assertTrue(HfConfig.readers(c).startsWith("Shears only"), HfConfig.readers(c));
            assertEquals(c.layers(), HfConfig.parse(Path.of("config.json"), n).layers());
        }
        assertTrue(HfConfig.readers(unevenHeads).contains("same number of query heads"), HfConfig.readers(unevenHeads));
        assertTrue(HfConfig.readers(oddFfn).contains("multiples of 256"), HfConfig.readers(oddFfn));
    }

    @Test
    void malformedBlockConfigsAreOneLineErrors() {
        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode good = HfConfig.toJson(nemotronShaped(), "float32");
        for (String[] edit : new String[][] {{"0", "attention", "n_heads_in_group", "3"}, {"0", "attention", "replace_with_linear", "true"},
                {"2", "ffn", "ffn_mult", "-1"}, {"2", "ffn", "ffn_mult", "\"x\""}}) {
            com.fasterxml.jackson.databind.node.ObjectNode n = good.deepCopy();
            try {
                ((com.fasterxml.jackson.databind.node.ObjectNode) n.path("block_configs").get(Integer.parseInt(edit[0])).path(edit[1])).set(edit[2], json.readTree(edit[3]));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            dev.shears.ShearsException e = org.junit.jupiter.api.Assertions.assertThrows(dev.shears.ShearsException.class, () -> HfConfig.parse(Path.of("config.json"), n));
            assertTrue(e.getMessage().startsWith("config.json: block_configs[" + edit[0] + "]") && !e.getMessage().contains("\n"), e.getMessage());
        }
        com.fasterxml.jackson.databind.node.ObjectNode wrongArch = good.deepCopy();
        wrongArch.putArray("architectures").add("LlamaForCausalLM");
        wrongArch.put("model_type", "llama");
        org.junit.jupiter.api.Assertions.assertThrows(dev.shears.ShearsException.class, () -> HfConfig.parse(Path.of("config.json"), wrongArch));
    }

    @Test
    void rewritingAFolderRemovesTheOldLayoutsWeightFiles(@TempDir Path dir) {
        Model model = TinyModels.random(TinyModels.gqa(), 3);
        HfModel.write(model, dir, DType.F32, 2000);
        HfModel.write(model, dir);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("config.json", HfModel.WEIGHTS), files.map(p -> p.getFileName().toString()).sorted().toList());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        HfModel.write(model, dir, DType.F32, 2000);
        assertFalse(Files.exists(dir.resolve(HfModel.WEIGHTS)));
        assertSameWeights(model, HfModel.read(dir));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void f16AndBf16StorageRoundsToNearestEvenAndLoadsExactly(Case c, @TempDir Path dir) {
        Model model = awkward(c.config());
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            Path folder = dir.resolve(dtype.name());
            HfModel.write(model, folder, dtype, 3000);
            Model read = HfModel.read(folder);
            assertEquals(model.config(), read.config());
            model.weights().forEach((role, layer, values) -> {
                float[] got = read.weights().get(role, layer);
                for (int i = 0; i < values.length; i++) {
                    float expected = dtype == DType.F16 ? IoDTypeFileTest.f16(values[i]) : IoDTypeFileTest.bf16(values[i]);
                    boolean same = Float.isNaN(expected) ? Float.isNaN(got[i]) : Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(got[i]);
                    if (!same) throw new AssertionError(dtype + " " + role + " layer " + layer + " [" + i + "]: " + values[i] + " → expected " + expected + " got " + got[i]);
                }
            });
        }
    }
}
