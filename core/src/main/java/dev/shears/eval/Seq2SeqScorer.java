package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Log-likelihoods from an encoder–decoder, as lm-evaluation-harness scores a seq2seq model ({@code HFLM} with
 * {@code backend="seq2seq"}, {@code lm_eval/api/model.py _encode_pair} and {@code lm_eval/models/huggingface.py
 * _loglikelihood_tokens}): the context's trailing whitespace moves to the continuation; the context is encoded
 * with the tokenizer's special tokens (T5 appends {@code </s>}) and read by the encoder, its last
 * {@code maxLength} tokens; the continuation is encoded without them and scored as the decoder's labels (the
 * decoder reads {@code decoder_start_token_id}, then the labels shifted right). An empty context is the prefix
 * token alone (BOS, else EOS). Whole documents (rolling perplexity) are cut into lm-eval's disjoint windows
 * over the document's tokens encoded with the special tokens: each window's preceding tokens (the prefix token
 * first) go through the encoder, its own tokens are the labels.
 *
 * <p>Each request is one teacher-forced pass ({@link EncoderDecoder#logits}); the choices of an item do not share their
 * encoder pass, which is correct and slower than it could be.
 */
final class Seq2SeqScorer implements Evaluator.Requests {
    private final EncoderDecoder model;
    private final Tokenizer tokenizer;
    private final int maxLength;

    /** @param maxLength the most tokens the encoder reads and the decoder scores per request */
    Seq2SeqScorer(EncoderDecoder model, Tokenizer tokenizer, int maxLength) {
        if (maxLength < 2) throw new ShearsException("context length " + maxLength + " must be at least 2");
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    @Override
    public List<List<LoglikelihoodScorer.Score>> choices(List<List<Choice>> items, IntConsumer afterItem) {
        List<List<LoglikelihoodScorer.Score>> out = new ArrayList<>(items.size());
        for (List<Choice> choices : items) {
            List<LoglikelihoodScorer.Score> scores = new ArrayList<>(choices.size());
            for (Choice c : choices) {
                int[][] pair = encode(c.context(), c.continuation());
                scores.add(score(pair[0], pair[1]));
            }
            out.add(scores);
            afterItem.accept(1);
        }
        return out;
    }

    @Override
    public List<LoglikelihoodScorer.Score> documents(List<String> texts, IntConsumer afterItem) {
        List<LoglikelihoodScorer.Score> out = new ArrayList<>(texts.size());
        for (String text : texts) {
            int[] tokens = Generation.encoderIds(tokenizer, text);
            double ll = 0;
            for (Perplexity.Window w : Perplexity.windows(tokens, prefixToken(), maxLength)) {
                // lm-eval's make_disjoint_window: what comes before the scored tokens is the context
                int[] context = Arrays.copyOf(w.input(), w.input().length - w.targets().length + 1);
                ll += score(context, w.targets()).logLikelihood();
            }
            out.add(new LoglikelihoodScorer.Score(ll, false, tokens.length));
            afterItem.accept(1);
        }
        return out;
    }

    /** The encoder's and the decoder's ids of one request, as lm-eval's {@code _encode_pair} makes them for seq2seq. */
    int[][] encode(String context, String continuation) {
        if (context.isEmpty()) return new int[][] {{prefixToken()}, tokenizer.encode(continuation)};
        int keep = context.length();
        while (keep > 0 && Character.isWhitespace(context.charAt(keep - 1))) keep--;
        String cont = context.substring(keep) + continuation;
        return new int[][] {Generation.encoderIds(tokenizer, context.substring(0, keep)), tokenizer.encode(cont)};
    }

    private int prefixToken() {
        int prefix = tokenizer.bosId() >= 0 ? tokenizer.bosId() : tokenizer.eosId();
        if (prefix < 0) throw new ShearsException("the tokenizer has neither a BOS nor an EOS token to start an empty context");
        return prefix;
    }

    /** The labels' summed log-probability after the encoder read {@code context} (each side's last {@code maxLength} tokens). */
    private LoglikelihoodScorer.Score score(int[] context, int[] labels) {
        if (labels.length == 0) return new LoglikelihoodScorer.Score(0, true, 0);
        int[] src = context.length > maxLength ? Arrays.copyOfRange(context, context.length - maxLength, context.length) : context;
        int[] tgt = labels.length > maxLength ? Arrays.copyOfRange(labels, labels.length - maxLength, labels.length) : labels;
        return LoglikelihoodScorer.Score.of(model.logits(src, tgt), model.vocabSize(), tgt);
    }
}
