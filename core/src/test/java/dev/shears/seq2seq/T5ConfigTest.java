package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** T5 config.json and weight files: defaults as transformers' T5Config, and one-line errors naming the file and the key or tensor. */
class T5ConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LAYER_SHAPES_DECODER_0 = T5Config.LAYER_SHAPES + ".decoder[0]";

    @TempDir
    Path dir;

    private static Path fixture(String name) {
        try {
            return Path.of(T5ConfigTest.class.getResource("/torchref-t5/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The relu fixture's folder copied to the temporary folder, its config.json edited. */
    private Path edited(Consumer<ObjectNode> edit) throws IOException {
        Path source = fixture("t5_relu_tied");
        Files.copy(source.resolve("model.safetensors"), dir.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    private static void assertOneLineError(Runnable read, String... mentions) {
        ShearsException e = assertThrows(ShearsException.class, read::run);
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "'" + e.getMessage() + "' should mention " + m);
    }

    @Test
    void defaultsFollowTransformers() throws IOException {
        Path folder = edited(c -> {
            for (String key : new String[]{"num_decoder_layers", "relative_attention_num_buckets", "relative_attention_max_distance",
                    "layer_norm_epsilon", "feed_forward_proj", "tie_word_embeddings", "pad_token_id"}) c.remove(key);
        });
        T5Config c = T5Config.read(folder.resolve("config.json"));
        assertEquals(c.encoder().size(), c.decoder().size(), "num_decoder_layers defaults to num_layers");
        assertEquals(32, c.numBuckets());
        assertEquals(128, c.maxDistance());
        assertEquals(1e-6f, c.eps());
        assertEquals(T5Config.FeedForward.RELU, c.feedForward());
        assertTrue(c.tiedEmbeddings());
        assertEquals((float) Math.pow(16, -0.5), c.headScale());
        assertEquals(0, c.padToken());
    }

    @Test
    void badConfigValuesNameFileAndKey() throws IOException {
        Path file = edited(c -> c.remove("d_model")).resolve("config.json");
        assertOneLineError(() -> T5Config.read(file), file.toString(), "d_model");
        edited(c -> c.put("feed_forward_proj", "gated-silu"));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "feed_forward_proj", "gated-silu");
        edited(c -> c.remove("decoder_start_token_id"));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "decoder_start_token_id");
        edited(c -> c.put("relative_attention_max_distance", 3));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "relative_attention_max_distance");
        edited(c -> c.put("num_layers", 2.5));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "num_layers");
        edited(c -> c.putObject(T5Config.LAYER_SHAPES).putArray("encoder").addObject().put("num_heads", 3).put("d_ff", 8));
        assertOneLineError(() -> T5Config.read(file), file.toString(), T5Config.LAYER_SHAPES + ".encoder", "2 layers");
        edited(c -> {
            ObjectNode shapes = c.putObject(T5Config.LAYER_SHAPES);
            for (int l = 0; l < 2; l++) shapes.withArray("encoder").addObject().put("num_heads", 3).put("d_ff", 8);
            for (int l = 0; l < 2; l++) shapes.withArray("decoder").addObject().put("num_heads", 5).put("num_cross_heads", 1).put("d_ff", 8);
        });
        assertOneLineError(() -> T5Config.read(file), file.toString(), "bias_heads", "outside the 3 columns");
        edited(c -> {
            ObjectNode shapes = c.putObject(T5Config.LAYER_SHAPES);
            for (int l = 0; l < 2; l++) shapes.withArray("encoder").addObject().put("num_heads", 2).put("d_ff", 8);
            for (int l = 0; l < 2; l++) {
                ObjectNode layer = shapes.withArray("decoder").addObject().put("num_heads", 2).put("num_cross_heads", 1).put("d_ff", 8);
                layer.putArray("bias_heads").add(2);
            }
        });
        assertOneLineError(() -> T5Config.read(file), file.toString(), LAYER_SHAPES_DECODER_0, "bias_heads lists 1 columns for 2 heads");
        edited(c -> c.put("layer_norm_epsilon", "small"));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "layer_norm_epsilon");
        edited(c -> c.put("tie_word_embeddings", "yes"));
        assertOneLineError(() -> T5Config.read(file), file.toString(), "tie_word_embeddings");
        Files.writeString(file, "{\"d_model\": ");
        assertOneLineError(() -> T5Config.read(file), file.toString(), "not valid JSON");
    }

    @Test
    void weightsThatDoNotFitTheConfigNameTheTensor() throws IOException {
        Path folder = edited(c -> c.put("d_ff", 25));
        assertOneLineError(() -> T5Model.load(folder), "model.safetensors", "encoder.block.0.layer.1.DenseReluDense.wi.weight", "[24, 16]", "[25, 16]");
        edited(c -> c.put("num_layers", 3));
        assertOneLineError(() -> T5Model.load(folder), folder.toString(), "no tensor named encoder.block.2.layer.0.layer_norm.weight");
        edited(c -> c.put("feed_forward_proj", "gated-gelu"));
        assertOneLineError(() -> T5Model.load(folder), folder.toString(), "no tensor named encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
        edited(c -> c.put("num_decoder_layers", 1));
        assertOneLineError(() -> T5Model.load(folder), "model.safetensors", "decoder.block.1.", "not part of a T5 model");
    }

    /** transformers' copies of the shared embedding and old checkpoints' unused cross-attention bias are ignored, as transformers does. */
    @Test
    void copiesOfTheEmbeddingAndTheUnusedCrossBiasAreIgnored() throws IOException {
        Path source = fixture("t5_relu_tied");
        List<TensorData> tensors = new ArrayList<>();
        try (Safetensors.File file = Safetensors.open(source.resolve("model.safetensors"))) {
            for (String name : file.entries().keySet()) tensors.add(file.read(name));
        }
        TensorData shared = tensors.stream().filter(t -> t.name().equals("shared.weight")).findFirst().orElseThrow();
        for (String copy : new String[]{"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}) {
            tensors.add(new TensorData(copy, shared.shape(), shared.values()));
        }
        tensors.add(new TensorData("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", new int[]{8, 3}, new float[24]));
        Path folder = edited(c -> { });
        Safetensors.write(folder.resolve("model.safetensors"), tensors, DType.F32, Map.of());
        T5Model original = T5Model.load(source);
        T5Model loaded = T5Model.load(folder);
        int[] ids = {5, 7, 9, 11};
        int[] labels = {3, 4, 6};
        assertArrayEquals(T5.forward(original, ids, labels, 1, 4, 3).logits(), T5.forward(loaded, ids, labels, 1, 4, 3).logits());

        tensors.add(new TensorData("encoder.block.0.layer.0.SelfAttention.q.bias", new int[]{18}, new float[18]));
        Safetensors.write(folder.resolve("model.safetensors"), tensors, DType.F32, Map.of());
        assertOneLineError(() -> T5Model.load(folder), "model.safetensors", "encoder.block.0.layer.0.SelfAttention.q.bias", "not part of a T5 model");
    }

    /** A folder of two safetensors shards and their index reads as the single file does. */
    @Test
    void shardedFolderLoads() throws IOException {
        Path source = fixture("t5_gated_untied");
        List<TensorData> tensors = new ArrayList<>();
        try (Safetensors.File file = Safetensors.open(source.resolve("model.safetensors"))) {
            for (String name : file.entries().keySet()) tensors.add(file.read(name));
        }
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        for (int shard = 0; shard < 2; shard++) {
            String file = "model-0000" + (shard + 1) + "-of-00002.safetensors";
            List<TensorData> part = new ArrayList<>();
            for (int i = shard; i < tensors.size(); i += 2) {
                part.add(tensors.get(i));
                map.put(tensors.get(i).name(), file);
            }
            Safetensors.write(dir.resolve(file), part, DType.F32, Map.of());
        }
        JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        int[] ids = {5, 7, 9, 11};
        int[] labels = {3, 4, 6};
        assertArrayEquals(T5.forward(T5Model.load(source), ids, labels, 1, 4, 3).logits(), T5.forward(T5Model.load(dir), ids, labels, 1, 4, 3).logits());
    }

    @Test
    void aFolderWithoutWeightsSaysSo() throws IOException {
        Path folder = edited(c -> { });
        Files.delete(folder.resolve("model.safetensors"));
        assertOneLineError(() -> T5Model.load(folder), folder.toString(), "pytorch_model.bin");
    }

    @Test
    void tiedHeadIsTheSharedEmbedding() {
        T5Model tied = T5Model.load(fixture("t5_relu_tied"));
        assertTrue(tied.weights().lmHead() == tied.weights().shared(), "a tied head is the shared array itself");
        T5Model untied = T5Model.load(fixture("t5_gated_untied"));
        assertFalse(untied.weights().lmHead() == untied.weights().shared());
        assertEquals(1f, untied.config().headScale());
    }
}
