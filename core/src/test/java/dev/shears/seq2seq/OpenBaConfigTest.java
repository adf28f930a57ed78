package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenBA config.json and weight files: defaults as the published OpenBAConfig, and one-line errors naming the file and the key or tensor. */
class OpenBaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The fixture's folder copied to the temporary folder, its config.json edited. */
    private Path edited(String fixture, Consumer<ObjectNode> edit) throws IOException {
        Path source = OpenBaReferenceTest.resource(fixture);
        Files.copy(source.resolve("model.safetensors"), dir.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    private Path edited(Consumer<ObjectNode> edit) throws IOException {
        return edited("openba_bias_asym", edit);
    }

    private static void assertOneLineError(Runnable read, String... mentions) {
        ShearsException e = assertThrows(ShearsException.class, read::run);
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "'" + e.getMessage() + "' should mention " + m);
    }

    @Test
    void defaultsFollowThePublishedConfig() throws IOException {
        Path folder = edited(c -> {
            for (String key : new String[]{"num_decoder_layers", "add_qkv_bias", "add_lm_head_bias", "add_ffn_bias", "tie_word_embeddings",
                    "max_seq_length", "decoder_max_seq_length", "decoder_start_token_id", "pad_token_id"}) c.remove(key);
        });
        OpenBaConfig c = OpenBaConfig.read(folder.resolve("config.json"));
        assertEquals(c.encoder().size(), c.decoder().size(), "num_decoder_layers defaults to num_layers");
        assertFalse(c.qkvBias() || c.lmHeadBias(), "biases default to off");
        assertTrue(c.tiedEmbeddings(), "transformers' tie_word_embeddings default");
        assertEquals((float) Math.pow(12, -0.5), c.headScale());
        assertEquals(1024, c.maxSrcLen());
        assertEquals(256, c.maxTgtLen());
        assertEquals(0, c.decoderStartToken());
        assertEquals(0, c.padToken());
        assertTrue(OpenBaConfig.describes(folder));
        assertFalse(T5Config.describes(folder), "an OpenBA folder is not taken for T5");
    }

    @Test
    void badConfigValuesNameFileAndKey() throws IOException {
        Path file = edited(c -> c.remove("hidden_size")).resolve("config.json");
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "hidden_size");
        edited(c -> c.put("kv_channels", 5));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "kv_channels 5", "even");
        edited(c -> c.put("add_ffn_bias", true));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "add_ffn_bias");
        edited(c -> c.put("add_qkv_bias", "yes"));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "add_qkv_bias");
        edited(c -> c.put("num_layers", 2.5));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "num_layers");
        edited(c -> c.put("decoder_start_token_id", 99));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "token id 99", "vocabulary of 37");
        edited(c -> c.putArray("architectures").add("T5ForConditionalGeneration"));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "T5ForConditionalGeneration", "OpenBAForConditionalGeneration");
        edited(c -> c.putObject(OpenBaConfig.LAYER_SHAPES).putArray("encoder").addObject().put("num_heads", 3).put("ffn_width", 8));
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), OpenBaConfig.LAYER_SHAPES + ".decoder", "3 layers");
        edited(c -> {
            ObjectNode shapes = c.putObject(OpenBaConfig.LAYER_SHAPES);
            shapes.withArray("encoder").addObject().put("num_heads", 3).put("ffn_width", 8);
            for (int l = 0; l < 3; l++) shapes.withArray("decoder").addObject().put("num_heads", 3).put("ffn_width", 8);
        });
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), OpenBaConfig.LAYER_SHAPES, "num_cross_heads -1");
        Files.writeString(file, "{\"hidden_size\": ");
        assertOneLineError(() -> OpenBaConfig.read(file), file.toString(), "not valid JSON");
    }

    @Test
    void inputsLongerThanTheRotaryTablesAreRefused() {
        OpenBaModel model = OpenBaModel.load(OpenBaReferenceTest.resource("openba_bias_asym"));
        int src = model.config().maxSrcLen() + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenBa.forward(model, new int[src], new int[]{2}, 1, src, 1));
        assertTrue(e.getMessage().contains("max_seq_length"), e.getMessage());
    }

    @Test
    void weightsThatDoNotFitTheConfigNameTheTensor() throws IOException {
        Path folder = edited(c -> c.put("ffn_hidden_size", 400));
        assertOneLineError(() -> OpenBaModel.load(folder), "model.safetensors", "encoder.block.0.mlp.fc_in.weight", "[512, 12]", "[1024, 12]");
        edited(c -> c.put("num_layers", 2));
        assertOneLineError(() -> OpenBaModel.load(folder), "model.safetensors", "no tensor named encoder.block.1.input_layernorm.weight");
        edited(c -> c.put("num_decoder_layers", 2));
        assertOneLineError(() -> OpenBaModel.load(folder), "model.safetensors", "decoder.block.2.", "not part of an OpenBA model");
        edited(c -> c.put("add_qkv_bias", false));
        assertOneLineError(() -> OpenBaModel.load(folder), "model.safetensors", "_attn.", ".bias", "not part of an OpenBA model");
        edited("openba_nobias_tied", c -> c.put("add_lm_head_bias", true));
        assertOneLineError(() -> OpenBaModel.load(folder), "model.safetensors", "no tensor named lm_head.bias");
    }

    @Test
    void aFolderWithoutWeightsSaysSo() throws IOException {
        Path folder = edited(c -> { });
        Files.delete(folder.resolve("model.safetensors"));
        assertOneLineError(() -> OpenBaModel.load(folder), folder.toString(), "pytorch_model.bin");
    }

    /** torch.save's state dict, with the stacks' embed_tokens references sharing the embedding's storage, gives the safetensors weights bit for bit. */
    @Test
    void pytorchModelBinGivesTheSameWeights() throws IOException {
        Path source = OpenBaReferenceTest.resource("openba_nonuniform");
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(source.resolve("pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        OpenBaModel fromSafetensors = OpenBaModel.load(source);
        OpenBaModel fromTorch = OpenBaModel.load(dir);
        Map<String, float[]> expected = new HashMap<>();
        fromSafetensors.weights().forEach(fromSafetensors.config(), (name, shape, values) -> expected.put(name, values));
        int[] count = {0};
        fromTorch.weights().forEach(fromTorch.config(), (name, shape, values) -> {
            assertArrayEquals(expected.get(name), values, name);
            count[0]++;
        });
        assertEquals(expected.size(), count[0]);
    }

    @Test
    void tiedHeadIsTheSharedEmbedding() {
        OpenBaModel tied = OpenBaModel.load(OpenBaReferenceTest.resource("openba_nobias_tied"));
        assertTrue(tied.weights().lmHead() == tied.weights().shared(), "a tied head is the shared array itself");
        OpenBaModel untied = OpenBaModel.load(OpenBaReferenceTest.resource("openba_bias_asym"));
        assertFalse(untied.weights().lmHead() == untied.weights().shared());
        assertEquals(1f, untied.config().headScale());
    }
}
