package dev.shears.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.eval.Generation;
import dev.shears.eval.GenerationSettings;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.kernel.LogSoftmax;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.shears.tensor.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real stories260K model against its reference outputs: prompt ids, logits, greedy continuations
 * and TinyStories NLL from the float64 NumPy reference, and every logit of llama2.c run.c's forward.
 */
class Stories260KTest {
    private static Model fromBin;
    private static Model fromHf;
    private static Tokenizer tokenizer;
    private static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        Path dir = SharedData.require("models/stories260K");
        fromBin = ModelLoader.load(dir.resolve("stories260K.bin"));
        fromHf = ModelLoader.load(dir.resolve("hf"));
        tokenizer = TokenizerLoader.load(dir.resolve("tok512.bin"));
        reference = new ObjectMapper().readTree(dir.resolve("reference_outputs.json").toFile());
    }

    private static int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = tokenizer.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    @Test
    void llama2cAndHuggingFaceFilesHoldTheSameWeights() {
        assertEquals(fromBin.config().withTokens(1, 2), fromHf.config().withTokens(1, 2));
        fromBin.weights().forEach((role, layer, values) ->
                assertArrayEquals(values, fromHf.weights().get(role, layer), role + " layer " + layer));
    }

    @Test
    void promptIdsLogitsAndGreedyContinuationsMatchTheReference() {
        for (JsonNode c : reference.path("cases")) {
            int[] ids = withBos(tokenizer.encode(c.path("prompt").asText()));
            assertArrayEquals(ints(c.path("prompt_ids")), ids, "prompt ids of " + c.path("prompt"));
            for (Model model : List.of(fromBin, fromHf)) {
                float[] logits = Transformer.forward(model, ids, 1, ids.length, Activations.forInference(model.config(), 1, ids.length), MaskSet.NONE);
                int v = model.config().vocabSize();
                for (JsonNode top : c.path("last_position_top5")) {
                    float got = logits[(ids.length - 1) * v + top.path("id").asInt()];
                    assertClose("logit of " + top.path("piece"), new float[] {(float) top.path("logit").asDouble()}, new float[] {got}, 1e-4, 1e-5);
                }
                int[] greedy = Generation.generateIds(model, ids, GenerationSettings.greedy(40), -1, t -> { });
                assertArrayEquals(ints(c.path("greedy_40_ids")), greedy, "greedy continuation of " + c.path("prompt"));
                assertEquals(c.path("greedy_40_text").asText(), Generation.continuation(tokenizer, ids, greedy));
            }
        }
    }

    @Test
    void everyLogitMatchesLlama2cRunC() throws IOException {
        Path file = SharedData.require("models/stories260K/golden-runc/stories260K_logits.txt");
        List<float[]> rows = new ArrayList<>();
        int[] tokens = null;
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("# tokens:")) tokens = Arrays.stream(line.substring(9).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] parts = line.trim().split("\\s+");
            float[] logits = new float[parts.length - 2];
            for (int i = 0; i < logits.length; i++) logits[i] = Float.parseFloat(parts[i + 2]);
            rows.add(logits);
        }
        assertEquals(tokens.length, rows.size());
        for (Model model : List.of(fromBin, fromHf)) {
            float[] logits = Transformer.forward(model, tokens, 1, tokens.length, Activations.forInference(model.config(), 1, tokens.length), MaskSet.NONE);
            int v = model.config().vocabSize();
            for (int t = 0; t < tokens.length; t++) {
                assertClose("run.c logits at position " + t, rows.get(t), Arrays.copyOfRange(logits, t * v, (t + 1) * v), 1e-4, 1e-5);
            }
        }
    }

    @Test
    void tinyStoriesNllMatchesTheReference() throws IOException {
        String text = Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 2000);
        int[] ids = withBos(tokenizer.encode(text));
        JsonNode expected = reference.path("tinystories_val_head_nll");
        // the reference scores one window of n_tokens (BOS + 511 text tokens): n_tokens − 1 predictions
        int n = expected.path("n_tokens").asInt();
        int[] input = Arrays.copyOf(ids, n);
        float[] logits = Transformer.forward(fromHf, input, 1, n, Activations.forInference(fromHf.config(), 1, n), MaskSet.NONE);
        double nll = 0;
        for (int t = 0; t < n - 1; t++) nll -= LogSoftmax.logProbability(logits, t, fromHf.config().vocabSize(), ids[t + 1]);
        assertEquals(expected.path("mean_nll_nats").asDouble(), nll / (n - 1), 1e-5);
        assertEquals(expected.path("ppl").asDouble(), Math.exp(nll / (n - 1)), 1e-4);
    }

    @Test
    void perPositionCrossEntropyMatchesRunC() throws IOException {
        List<String> lines = Files.readAllLines(SharedData.require("models/stories260K/golden-runc/stories260K_sentence.txt"));
        String text = lines.getFirst().substring("# text: ".length());
        String encoded = lines.get(1).substring(lines.get(1).indexOf(':', lines.get(1).indexOf("->")) + 1).trim();
        int[] expectedIds = Arrays.stream(encoded.split("\\s+")).mapToInt(Integer::parseInt).toArray();
        int[] ids = withBos(tokenizer.encode(text));
        assertArrayEquals(expectedIds, ids);
        int n = ids.length - 1;
        float[] logits = Transformer.forward(fromBin, Arrays.copyOf(ids, n), 1, n, Activations.forInference(fromBin.config(), 1, n), MaskSet.NONE);
        for (String line : lines) {
            if (line.startsWith("#") || line.startsWith("mean") || line.isBlank()) continue;
            String[] p = line.trim().split("\\s+");
            int pos = Integer.parseInt(p[0]);
            double ce = -LogSoftmax.logProbability(logits, pos, 512, Integer.parseInt(p[2]));
            assertEquals(Double.parseDouble(p[3]), ce, 1e-4, "cross-entropy at position " + pos);
            assertEquals(Integer.parseInt(p[4]), LogSoftmax.argmax(logits, pos, 512), "argmax at position " + pos);
        }
    }
}
