package dev.shears.eval;

import dev.shears.kernel.LogSoftmax;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Encoder–decoder generation: the prompt encoded once, the output decoded with caches, as the full forward would choose it. */
class Seq2SeqGenerationTest {
    /** The encoder–decoders of the PyTorch reference fixtures: T5's, then OpenBA's. */
    static final String[] FIXTURES = {"torchref-t5/t5_gated_untied", "torchref-t5/t5_relu_tied", "torchref-t5/t5_nonuniform",
            "torchref-openba/openba_bias_asym", "torchref-openba/openba_nobias_tied", "torchref-openba/openba_nonuniform"};

    static EncoderDecoder fixture(String name) throws URISyntaxException {
        URL url = Seq2SeqGenerationTest.class.getResource("/" + name + "/config.json");
        if (url == null) fail("fixture " + name + " is missing; regenerate it with tools/torch_reference/make_t5_fixtures.py or make_openba_fixtures.py");
        Path dir = Path.of(url.toURI()).getParent();
        return EncoderDecoder.load(dir).orElseThrow(() -> new AssertionError(dir + " is not read as an encoder-decoder"));
    }

    @Test
    void greedyOutputIsTheFullForwardsArgmaxAtEveryStep() throws URISyntaxException {
        for (String name : FIXTURES) {
            EncoderDecoder model = fixture(name);
            Tokenizer tok = characters(model.vocabSize());
            GenerationResult r = Generation.generate(model, tok, "the cat sat", new GenerationSettings(10, 0f, 0.9f, 1), id -> { });
            int[] prompt = r.promptIds(), out = r.generatedIds();
            assertEquals(1, prompt[prompt.length - 1], name + ": the tokenizer ends the encoder's input with </s>");
            assertTrue(out.length > 0, name + ": something was generated");
            boolean stopped = out.length < 10; // by EOS: the full forward must choose EOS after the output too
            int[] labels = stopped ? Arrays.copyOf(out, out.length + 1) : out;
            if (stopped) labels[out.length] = 1;
            float[] logits = model.logits(prompt, labels);
            int vocab = model.vocabSize();
            for (int i = 0; i < labels.length; i++) assertEquals(labels[i], LogSoftmax.argmax(logits, i, vocab), name + ": step " + i);
        }
    }

    @Test
    void samplingIsRepeatableForASeed() throws URISyntaxException {
        EncoderDecoder model = fixture("torchref-t5/t5_gated_untied");
        Tokenizer tok = characters(model.vocabSize());
        GenerationSettings s = new GenerationSettings(12, 1.5f, 0.95f, 9);
        int[] a = Generation.generate(model, tok, "a dog", s, id -> { }).generatedIds();
        int[] b = Generation.generate(model, tok, "a dog", s, id -> { }).generatedIds();
        assertEquals(Arrays.toString(a), Arrays.toString(b));
    }

    /**
     * lm-eval's generate_until for a seq2seq model: the context with </s>, left-truncated to the whole context length (no room
     * is reserved for the answer on the encoder's side), and the greedy answer stopped at a stop string and cut there.
     */
    @Test
    void generateUntilAnswersAsLmEvalDoesForSeq2Seq() throws URISyntaxException {
        EncoderDecoder model = fixture("torchref-t5/t5_relu_tied");
        Tokenizer tok = characters(model.vocabSize());
        GenerationScorer scorer = new GenerationScorer(model, tok, 6);
        assertArrayEquals(Arrays.copyOfRange(Generation.encoderIds(tok, "the cat sat"), 6, 12), scorer.contextIds("the cat sat", 4),
                "the last 6 tokens, </s> the last of them");
        int[] free = Generation.generateIds(model, scorer.contextIds("the cat sat", 8), GenerationSettings.greedy(8), tok.eosId(), Generation.Stop.NEVER);
        // the first token whose text the answer has not shown before: the stop string
        int k = 1;
        while (k < free.length && tok.decode(Arrays.copyOf(free, k)).contains(tok.decode(new int[] {free[k]}))) k++;
        assertTrue(k < free.length, "the fixture's answer has a token new to it: " + Arrays.toString(free));
        String stop = tok.decode(new int[] {free[k]});
        GenerationScorer.Response r = scorer.generate("the cat sat", new GenerateUntil(List.of(stop), 8, List.of(), ExactMatch.of(List.of(), false, false)));
        assertArrayEquals(Arrays.copyOf(free, k + 1), r.generated(), "stopped once the stop string appeared");
        assertEquals(tok.decode(Arrays.copyOf(free, k)), r.text(), "cut at the stop string");
    }

    /** T5-like: one token per character (ids 2 .. vocab-1), no BOS, EOS 1 appended for the model. */
    static Tokenizer characters(int vocab) {
        return new Tokenizer() {
            public int vocabSize() {
                return vocab;
            }

            public int[] encode(String text) {
                return text.chars().map(c -> 2 + c % (vocab - 2)).toArray();
            }

            public String decode(int[] ids) {
                StringBuilder b = new StringBuilder();
                for (int id : ids) if (id > 1) b.append((char) ('a' + (id - 2) % 26));
                return b.toString();
            }

            public String piece(int id) {
                return decode(new int[] {id});
            }

            public int bosId() {
                return -1;
            }

            public int eosId() {
                return 1;
            }

            public PieceType pieceType(int id) {
                return id < 2 ? PieceType.CONTROL : PieceType.NORMAL;
            }

            public boolean addsBos() {
                return false;
            }

            public boolean addsEos() {
                return true;
            }
        };
    }
}
