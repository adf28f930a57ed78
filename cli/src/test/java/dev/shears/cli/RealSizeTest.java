package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real-size paths at test size: {@code shears init} checkpoints (sharded bf16, Llama 2 tokenizer),
 * {@code info} from headers, the memory-plan refusal, and a prune that succeeds in a JVM whose heap
 * is smaller than the model's fp32 size because it streams layer by layer.
 */
class RealSizeTest {
    static final String TOKENIZER = "tokenizers/llama2/tokenizer.model";

    /** dim 1024, 8 layers, GQA 16/8 heads, FFN 2816, vocab 32000: 160M parameters, 320 MB in bf16, 640 MB in fp32. */
    private static Path init(Path tmp, String shardSize) throws IOException {
        Path config = tmp.resolve("config.json");
        Files.writeString(config, """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 8,
                 "num_attention_heads": 16, "num_key_value_heads": 8, "intermediate_size": 2816, "vocab_size": 32000,
                 "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": 2}
                """);
        Path model = tmp.resolve("model");
        CliTest.Run r = shears("init", "--config", config.toString(), "--dtype", "bf16", "--tokenizer", SharedData.require(TOKENIZER).toString(),
                "--shard-size", shardSize, "--out", model.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        return model;
    }

    @Test
    void initWritesAShardedCheckpointThatInfoReadsFromItsHeaders(@TempDir Path tmp) throws IOException {
        Path model = init(tmp, "120000000");
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors.index.json")));
        try (var files = Files.list(model)) {
            List<Path> shards = files.filter(f -> f.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).toList();
            assertTrue(shards.size() >= 3, "shards: " + shards);
            for (Path shard : shards) assertTrue(Files.size(shard) <= 120_000_000, shard + " is larger than --shard-size");
        }
        assertTrue(Files.isRegularFile(model.resolve("tokenizer.model")), "the tokenizer under its standard name");
        assertTrue(Files.readString(model.resolve("config.json")).contains("\"bfloat16\""));
        try (var files = Files.list(tmp)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().contains(".partial-")), "no temporary folder is left");
        }

        CliTest.Run info = shears("info", model.toString(), "--json");
        assertEquals(0, info.code(), info.err());
        JsonNode n = info.json();
        assertEquals(159_925_248, n.path("params").asLong());
        assertEquals("bf16", n.path("memoryDtype").asText());
        assertEquals(8, n.path("numLayers").asInt());
        assertEquals(1024, n.path("dim").asInt());
        assertEquals(8, n.path("layers").get(0).path("numKvHeads").asInt());
        assertEquals(32000, n.path("tokenizerVocabSize").asInt());

        CliTest.Run again = shears("init", "--shape", "tinyllama-1.1b", "--out", model.toString());
        assertEquals(2, again.code(), "an existing model is never overwritten");
        assertTrue(again.err().contains("not empty"), again.err());
        CliTest.Run badShape = shears("init", "--shape", "llama-9", "--out", tmp.resolve("x").toString());
        assertEquals(2, badShape.code());
        assertTrue(badShape.err().contains("llama-2-7b"), badShape.err());

        CliTest.Run ppl = shears("perplexity", model.toString(), "--text", calibration(tmp).toString(), "--context", "64", "--json");
        assertEquals(0, ppl.code(), ppl.err());
        assertTrue(ppl.json().path("ppl").asDouble() > 1000, "random weights: near-uniform over 32000 tokens");
    }

    @Test
    void aPruneThatCannotFitRefusesInOneLineBeforeAnyWork(@TempDir Path tmp) throws IOException {
        Path model = init(tmp, "5000000000");
        Path out = tmp.resolve("pruned");
        CliTest.Run r = shears("prune", model.toString(), "--calibration", calibration(tmp).toString(), "--samples", "4000", "--seq-len", "4000",
                "--importance", "taylor", "--ffn", "0.5", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("needs about") && r.err().contains("SHEARS_JAVA_OPTS=-Xmx"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void theLauncherAsksForAHeapPlanBeforeRunning(@TempDir Path tmp) throws IOException {
        Path model = init(tmp, "5000000000");
        CliTest.Run plan = shears("--heap-plan", "prune", model.toString(), "--calibration", calibration(tmp).toString(), "--samples", "4",
                "--seq-len", "32", "--importance", "taylor", "--ffn", "0.5", "--out", tmp.resolve("never").toString());
        assertEquals(0, plan.code(), plan.err());
        long bytes = Long.parseLong(plan.out().strip());
        assertTrue(bytes > 64L << 20 && bytes < 1L << 30, "a small calibration of a 160M model plans well under a gigabyte: " + bytes);
        assertFalse(Files.exists(tmp.resolve("never")), "planning runs nothing");
        CliTest.Run perplexity = shears("--heap-plan", "perplexity", model.toString(), "--text", calibration(tmp).toString(), "--context", "64");
        assertTrue(Long.parseLong(perplexity.out().strip()) > 0, perplexity.out());
        CliTest.Run none = shears("--heap-plan", "info", model.toString());
        assertEquals("", none.out().strip(), "commands without a plan print nothing (the launcher's default applies)");
        CliTest.Run wrong = shears("--heap-plan", "prune", tmp.resolve("missing").toString(), "--ffn", "0.5", "--out", tmp.resolve("x").toString());
        assertEquals(0, wrong.code());
        assertEquals("", wrong.out().strip(), "bad input gets no plan; the real run reports it");
    }

    /** A forked JVM with a 300 MB heap prunes a model whose fp32 weights take 657 MB: nothing proportional to the model is on the heap. */
    @Test
    void pruneStreamsUnderAHeapSmallerThanTheModel(@TempDir Path tmp) throws Exception {
        Path model = init(tmp, "5000000000");
        Path out = tmp.resolve("pruned");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx300m",
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "prune", model.toString(), "--calibration", calibration(tmp).toString(), "--samples", "4", "--seq-len", "32",
                "--importance", "taylor", "--layer-importance", "block-influence", "--layers", "0.25", "--ffn", "0.5", "--heads", "0.5",
                "--out", out.toString(), "--json"));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), stderr);
        JsonNode n = dev.shears.cli.Json.MAPPER.readTree(stdout);
        assertEquals(6, n.path("after").path("numLayers").asInt(), n.toString());
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"bfloat16\""), "the child keeps the parent's dtype");
        CliTest.Run info = shears("info", out.toString(), "--json");
        assertEquals(0, info.code(), info.err());
        assertEquals(1408, info.json().path("layers").get(0).path("ffnDim").asInt());
    }

    /** A few KB of real text. */
    private static Path calibration(Path tmp) throws IOException {
        Path text = tmp.resolve("calibration.txt");
        if (!Files.exists(text)) {
            String all = Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt"));
            Files.writeString(text, all.substring(0, 6000));
        }
        return text;
    }
}
