package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.format.hf.FolderWeights;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.NamedTensor;
import dev.shears.io.TensorData;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A T5 model as a Hugging Face {@code T5ForConditionalGeneration} folder: {@code model.safetensors}
 * with the names of {@link T5Weights#forEach} (one file: {@link T5Weights#load} reads no shards) and a
 * {@code config.json} that {@link T5Config#read} reads back to the same config. A uniform model's
 * config is stock T5; a model whose layers differ keeps the stock keys and adds
 * {@link T5Config#LAYER_SHAPES}, which transformers ignores: it would build every layer at
 * {@code num_heads}/{@code d_ff} and fail on the first narrower weight, so only Shears loads it.
 */
public final class T5HfFolder {
    private T5HfFolder() {
    }

    /** Whether every layer of both stacks has {@code num_heads} heads (self and cross) and one FFN width: what transformers can build. */
    public static boolean isUniform(T5Config c) {
        int ffn = c.encoder().getFirst().ffnDim();
        for (T5Config.Block b : c.encoder()) if (b.numHeads() != c.biasHeads() || !inOrder(b) || b.ffnDim() != ffn) return false;
        for (T5Config.Block b : c.decoder()) {
            if (b.numHeads() != c.biasHeads() || !inOrder(b) || b.crossHeads() != c.biasHeads() || b.ffnDim() != ffn) return false;
        }
        return true;
    }

    /** Whether head h of the layer reads bias column h, for every h. */
    private static boolean inOrder(T5Config.Block b) {
        for (int h = 0; h < b.biasColumns().size(); h++) if (b.biasColumns().get(h) != h) return false;
        return true;
    }

    /**
     * The config.json of {@code c}: {@code base} (the source's config.json, whose other keys such as
     * {@code n_positions}, {@code eos_token_id} or {@code task_specific_params} are kept) with every key
     * the config owns set from it. For per-layer widths {@code d_ff} is the widest layer's.
     */
    public static ObjectNode configJson(T5Config c, ObjectNode base, DType dtype) {
        ObjectNode n = base.deepCopy();
        n.putArray("architectures").add("T5ForConditionalGeneration");
        n.put("model_type", "t5");
        n.put("d_model", c.dim());
        n.put("d_kv", c.headDim());
        n.put("vocab_size", c.vocabSize());
        n.put("num_heads", c.biasHeads());
        n.put("num_layers", c.encoder().size());
        n.put("num_decoder_layers", c.decoder().size());
        int widest = 0;
        for (T5Config.Block b : c.encoder()) widest = Math.max(widest, b.ffnDim());
        for (T5Config.Block b : c.decoder()) widest = Math.max(widest, b.ffnDim());
        n.put("d_ff", widest);
        n.put("relative_attention_num_buckets", c.numBuckets());
        n.put("relative_attention_max_distance", c.maxDistance());
        n.put("layer_norm_epsilon", (double) c.eps());
        n.put("feed_forward_proj", c.feedForward().key);
        // what transformers derives from feed_forward_proj, written as its save_pretrained writes them
        n.put("dense_act_fn", c.feedForward().gated() ? "gelu_new" : "relu");
        n.put("is_gated_act", c.feedForward().gated());
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("decoder_start_token_id", c.decoderStartToken());
        n.put("pad_token_id", c.padToken());
        n.put("torch_dtype", dtype.torchName);
        n.remove(T5Config.LAYER_SHAPES);
        if (!isUniform(c)) {
            ObjectNode shapes = n.putObject(T5Config.LAYER_SHAPES);
            ArrayNode encoder = shapes.putArray("encoder");
            for (T5Config.Block b : c.encoder()) biasHeads(encoder.addObject().put("num_heads", b.numHeads()).put("d_ff", b.ffnDim()), b);
            ArrayNode decoder = shapes.putArray("decoder");
            for (T5Config.Block b : c.decoder()) {
                biasHeads(decoder.addObject().put("num_heads", b.numHeads()).put("num_cross_heads", b.crossHeads()).put("d_ff", b.ffnDim()), b);
            }
        }
        return n;
    }

    /** The bias-table column each self-attention head of {@code b} reads ({@link T5Config.Block#biasColumns}). */
    private static void biasHeads(ObjectNode layer, T5Config.Block b) {
        ArrayNode columns = layer.putArray("bias_heads");
        for (int column : b.biasColumns()) columns.add(column);
    }

    /** A config.json with nothing but the config's own keys. */
    public static ObjectNode configJson(T5Config c, DType dtype) {
        return configJson(c, JsonNodeFactory.instance.objectNode(), dtype);
    }

    /**
     * Writes {@code model.safetensors} in {@code dtype} and {@code config.json} into {@code dir}, each
     * under a temporary name, moved into place together (weights before the config).
     *
     * @param config the config.json to write ({@link #configJson})
     */
    public static void write(T5Model model, ObjectNode config, Path dir, DType dtype) {
        write(visitor -> model.weights().forEach(model.config(), visitor), config, dir, dtype);
    }

    /** Writes the tensors {@code weights} visits as {@code model.safetensors} and {@code config}, as {@link #write(T5Model, ObjectNode, Path, DType)} does. */
    static void write(Consumer<FolderWeights.Visitor> weights, ObjectNode config, Path dir, DType dtype) {
        List<NamedTensor> tensors = new ArrayList<>();
        weights.accept((name, shape, values) -> tensors.add(new TensorData(name, shape, values).named()));
        String configText = config.toPrettyString() + "\n";
        try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
            batch.add(dir.resolve(HfModel.WEIGHTS), Safetensors.content(tensors, dtype, Map.of("format", "pt")));
            batch.add(dir.resolve("config.json"), out -> out.write(configText.getBytes(StandardCharsets.UTF_8)));
            batch.commit();
        }
    }
}
