package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.TokenizerLoader;
import dev.shears.io.DType;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaWeights;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Model;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears init --config} of a T5 and an OpenBA config.json: a folder that {@link EncoderDecoder#load} reads, with matrices of
 * standard deviation 0.02, norm weights 1 and biases 0, the T5 tokenizer beside it, the same bits for the same seed, and finite
 * teacher-forced logits of tokenized text.
 */
class InitEncoderDecoderTest {
    static final String T5_CONFIG = """
            {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 24,
             "num_layers": 2, "num_decoder_layers": 3, "vocab_size": 32128, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false,
             "relative_attention_num_buckets": 8, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
            """;
    static final String OPENBA_CONFIG = """
            {"architectures": ["OpenBAForConditionalGeneration"], "model_type": "openba", "hidden_size": 16, "kv_channels": 4, "num_heads": 4,
             "ffn_hidden_size": 384, "num_layers": 2, "num_decoder_layers": 4, "vocab_size": 32128, "add_qkv_bias": true,
             "add_lm_head_bias": true, "tie_word_embeddings": true, "max_seq_length": 64, "decoder_max_seq_length": 64,
             "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
            """;

    @TempDir
    Path dir;

    /** Writes a config and runs init on it with the T5 tokenizer folder. */
    static Path init(Path dir, String name, String configJson, long seed, DType dtype) throws Exception {
        Files.createDirectories(dir);
        Path config = dir.resolve(name + "-config.json");
        Files.writeString(config, configJson);
        Path out = dir.resolve(name + "-" + seed);
        new InitRun(Optional.empty(), Optional.of(config), dtype, Optional.of(SharedData.require("tokenizers/t5")), out, seed, 1L << 30).run();
        return out;
    }

    @Test
    void t5ConfigGivesALoadableRandomT5WithItsTokenizer() throws Exception {
        Path out = init(dir, "t5", T5_CONFIG, 7, DType.F32);
        T5Model model = (T5Model) EncoderDecoder.load(out).orElseThrow();
        T5Config c = model.config();
        assertEquals(16, c.dim());
        assertEquals(2, c.encoder().size());
        assertEquals(3, c.decoder().size());
        assertEquals(T5Config.FeedForward.GATED_GELU, c.feedForward());
        assertStd(model.weights().shared());
        assertStd(model.weights().lmHead());
        assertStd(model.weights().encoder().getFirst().ffn().gate());
        for (float v : model.weights().encoderNorm()) assertEquals(1f, v);
        for (float v : model.weights().decoder().getLast().cross().norm()) assertEquals(1f, v);
        scores(model, out);

        assertArrayEquals(Files.readAllBytes(out.resolve("model.safetensors")),
                Files.readAllBytes(init(dir.resolve("again"), "t5", T5_CONFIG, 7, DType.F32).resolve("model.safetensors")), "a seed gives the same bits");
    }

    @Test
    void openBaConfigGivesALoadableRandomOpenBaWithLayerNormsOneAndBiasesZero() throws Exception {
        Path out = init(dir, "openba", OPENBA_CONFIG, 3, DType.BF16);
        OpenBaModel model = (OpenBaModel) EncoderDecoder.load(out).orElseThrow();
        OpenBaConfig c = model.config();
        assertEquals(new OpenBaConfig.Block(4, 4, 256), c.decoder().getFirst(), "ffn_hidden_size 384 is the stock SwiGLU width 256");
        assertTrue(c.qkvBias() && c.lmHeadBias() && c.tiedEmbeddings());
        assertTrue(!Files.readString(out.resolve("config.json")).contains(OpenBaConfig.LAYER_SHAPES), "a uniform model stays a stock config");
        OpenBaWeights w = model.weights();
        assertStd(w.shared());
        assertStd(w.encoder().getFirst().self().qkv());
        assertStd(w.decoder().getLast().cross().keyValue());
        assertStd(w.decoder().getLast().ffn().fcIn());
        for (OpenBaWeights.Norm n : new OpenBaWeights.Norm[]{w.encoderNorm(), w.decoderNorm(), w.decoder().get(1).cross().norm()}) {
            for (float v : n.weight()) assertEquals(1f, v);
            for (float v : n.bias()) assertEquals(0f, v);
        }
        for (float v : w.encoder().getFirst().self().qkvBias()) assertEquals(0f, v);
        for (float v : w.lmHeadBias()) assertEquals(0f, v);
        scores(model, out);
    }

    @Test
    void aTokenizerLargerThanTheVocabularyIsRefusedInOneLine() throws Exception {
        ShearsException e = assertThrows(ShearsException.class, () -> init(dir, "small", T5_CONFIG.replace("32128", "1000"), 1, DType.F32));
        assertTrue(e.getMessage().contains("more than the model's 1000 embeddings"), e.getMessage());
    }

    @Test
    void aShapeNoHeapOrArrayHoldsIsRefusedInOneLine() throws Exception {
        for (String huge : List.of("\"d_model\": 16000000", "\"d_ff\": 2000000000")) {
            ShearsException e = assertThrows(ShearsException.class, () -> init(dir, "huge", T5_CONFIG.replace(huge.startsWith("\"d_model") ? "\"d_model\": 16" : "\"d_ff\": 24", huge), 1, DType.F32));
            assertTrue(e.getMessage().contains("more than one Java array holds"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /** The folder's own tokenizer (T5's, with its 100 sentinels) encodes text the model scores to finite logits. */
    private static void scores(EncoderDecoder model, Path out) {
        assertTrue(Files.isRegularFile(out.resolve("spiece.model")) && Files.isRegularFile(out.resolve("tokenizer_config.json")), "T5's tokenizer files under their own names");
        Tokenizer tok = TokenizerLoader.load(out);
        assertEquals(32100, tok.vocabSize());
        int[] input = tok.encode("Once upon a time there was a little girl.");
        int[] labels = tok.encode("She liked to play.");
        float[] logits = model.logits(input, labels);
        assertEquals(labels.length * model.vocabSize(), logits.length);
        for (float v : logits) assertTrue(Float.isFinite(v));
    }

    /** Uniform values of standard deviation 0.02, within a few percent on thousands of draws. */
    private static void assertStd(float[] values) {
        double sum = 0, squares = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
        }
        double mean = sum / values.length;
        assertEquals(0, mean, 0.004);
        assertEquals(InitRun.STD, Math.sqrt(squares / values.length - mean * mean), 0.002);
    }
}
