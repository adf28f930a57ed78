package dev.shears.eval;

import dev.shears.kernel.LogSoftmax;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.List;

import static dev.shears.eval.Seq2SeqGenerationTest.characters;
import static dev.shears.eval.Seq2SeqGenerationTest.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** lm-eval's seq2seq requests on T5 and OpenBA: what the encoder reads, what is scored, and the rolling windows of a document. */
class Seq2SeqScorerTest {
    /** One token per character: ids 2 + c mod (vocab − 2), EOS 1 appended to what the encoder reads. */
    private static int[] ids(String text, int vocab) {
        return text.chars().map(c -> 2 + c % (vocab - 2)).toArray();
    }

    private static int[] withEos(int[] ids) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = 1;
        return out;
    }

    /** The labels' log-likelihood and greediness by a full teacher-forced pass, written out here. */
    private static LoglikelihoodScorer.Score direct(EncoderDecoder model, int[] context, int[] labels) {
        int vocab = model.vocabSize();
        float[] logits = model.logits(context, labels);
        double ll = 0;
        boolean greedy = true;
        for (int i = 0; i < labels.length; i++) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[i * vocab + v]);
            for (int v = 0; v < vocab; v++) z += Math.exp(logits[i * vocab + v] - max);
            ll += logits[i * vocab + labels[i]] - max - Math.log(z);
            greedy &= LogSoftmax.argmax(logits, i, vocab) == labels[i];
        }
        return new LoglikelihoodScorer.Score(ll, greedy, labels.length);
    }

    @Test
    void requestsAreEncodedAsLmEvalEncodesSeq2Seq() throws URISyntaxException {
        EncoderDecoder model = fixture("torchref-t5/t5_relu_tied");
        int vocab = model.vocabSize();
        Seq2SeqScorer scorer = new Seq2SeqScorer(model, characters(vocab), 64);
        // the context's trailing space moves to the continuation; </s> ends the encoder's input, not the labels
        int[][] pair = scorer.encode("Question: why? ", "because");
        assertArrayEquals(withEos(ids("Question: why?", vocab)), pair[0]);
        assertArrayEquals(ids(" because", vocab), pair[1]);
        // an empty context is the prefix token alone: no BOS, so EOS
        int[][] empty = scorer.encode("", "x");
        assertArrayEquals(new int[] {1}, empty[0]);
        assertArrayEquals(ids("x", vocab), empty[1]);
    }

    @Test
    void choicesScoreTheirContinuationAsDecoderLabels() throws URISyntaxException {
        for (String name : Seq2SeqGenerationTest.FIXTURES) {
            EncoderDecoder model = fixture(name);
            int vocab = model.vocabSize();
            Seq2SeqScorer scorer = new Seq2SeqScorer(model, characters(vocab), 64);
            List<Choice> choices = List.of(new Choice("The cat", " sat", 4), new Choice("The cat", " ran away", 9));
            List<LoglikelihoodScorer.Score> got = scorer.choices(List.of(choices), n -> { }).getFirst();
            for (int c = 0; c < choices.size(); c++) {
                LoglikelihoodScorer.Score want = direct(model, withEos(ids("The cat", vocab)), ids(choices.get(c).continuation(), vocab));
                assertEquals(want.logLikelihood(), got.get(c).logLikelihood(), 1e-4 * Math.abs(want.logLikelihood()), name + " choice " + c);
                assertEquals(want.greedy(), got.get(c).greedy(), name);
                assertEquals(want.tokens(), got.get(c).tokens(), name);
            }
        }
    }

    /**
     * A document longer than the context: lm-eval's disjoint rolling windows over its tokens (with </s>), each window's
     * preceding tokens (the EOS prefix first) read by the encoder and its own tokens scored; every token is scored once.
     */
    @Test
    void documentsRollInDisjointWindows() throws URISyntaxException {
        EncoderDecoder model = fixture("torchref-t5/t5_gated_untied");
        int vocab = model.vocabSize();
        int maxLength = 8;
        Tokenizer tok = characters(vocab);
        String text = "a long story about a cat";
        LoglikelihoodScorer.Score got = new Seq2SeqScorer(model, tok, maxLength).documents(List.of(text), n -> { }).getFirst();
        int[] tokens = withEos(ids(text, vocab));
        // get_rolling_token_windows(context_len=1) then make_disjoint_window, written out: windows of maxLength predictions,
        // the first after the prefix token, each later one after the maxLength + 1 − span tokens before it
        double want = 0;
        int scored = 0;
        for (int end = Math.min(maxLength, tokens.length), start = 0; start < tokens.length; start = end, end = Math.min(tokens.length, end + maxLength)) {
            int[] context = start == 0 ? new int[] {1} : Arrays.copyOfRange(tokens, Math.max(0, end - maxLength - 1), start);
            want += direct(model, context, Arrays.copyOfRange(tokens, start, end)).logLikelihood();
            scored += end - start;
        }
        assertEquals(tokens.length, scored);
        assertEquals(tokens.length, got.tokens());
        assertEquals(want, got.logLikelihood(), 1e-4 * Math.abs(want));
    }
}
