package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.eval.Generation;
import dev.shears.eval.LoglikelihoodScorer;
import dev.shears.model.Activations;
import dev.shears.model.KvCache;
import dev.shears.model.Model;
import dev.shears.model.Transformer;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * {@code shears score}: the summed log-likelihood of a target given a source, the smallest thing to compare
 * with another implementation. For a decoder-only model the source is the prefix: the model reads
 * source + target and the target's tokens are scored, each given everything before it. For an
 * encoder–decoder (T5) the source goes through the encoder and the target is the decoder's labels,
 * scored under teacher forcing (the decoder reads {@code decoder_start_token_id} and the target shifted right).
 *
 * <p>Text is encoded as the model's tokenizer does by default, each side on its own: BOS before a decoder-only
 * model's source when the tokenizer adds one, EOS after the target and after an encoder's source when it adds
 * one (T5's appends {@code </s>} to both). An empty decoder-only source with no BOS becomes the EOS token, as
 * lm-evaluation-harness starts an empty context. Ids given directly are used as they are.
 */
public final class ScoreRun {
    private ScoreRun() {
    }

    /** One side of the pair: text for the tokenizer, or token ids used as given. */
    public sealed interface Side {
        record Text(String text) implements Side {
        }

        record Ids(int[] ids) implements Side {
        }
    }

    /**
     * @param model     a Hugging Face folder, a {@code .gguf} or a llama2.c {@code .bin}
     * @param tokenizer an explicit tokenizer; otherwise the model's
     */
    public record Request(Path model, Optional<Path> tokenizer, Side source, Side target) {
    }

    /**
     * @param logLikelihood the target's summed natural-log probability
     * @param tokens        how many target tokens were scored
     * @param greedy        whether every target token was the model's most likely one
     * @param sourceIds     the ids the model was conditioned on
     * @param targetIds     the ids scored
     */
    public record Result(double logLikelihood, int tokens, boolean greedy, int[] sourceIds, int[] targetIds) {
        static Result of(LoglikelihoodScorer.Score score, int[] sourceIds, int[] targetIds) {
            return new Result(score.logLikelihood(), score.tokens(), score.greedy(), sourceIds, targetIds);
        }
    }

    public static Result run(Request request) {
        Optional<EncoderDecoder> encoderDecoder = EncoderDecoder.load(request.model());
        if (encoderDecoder.isPresent()) {
            EncoderDecoder model = encoderDecoder.get();
            Tokenizer tok = ModelSource.seq2seqTokenizer(request.model(), request.tokenizer(), model.vocabSize());
            return scoreSeq2Seq(model, encoderIds(tok, request.source()), targetIds(tok, request.target()));
        }
        try (LoadedModel loaded = ModelSource.open(request.model(), request.tokenizer())) {
            Tokenizer tok = loaded.tokenizer();
            int[] source = sourceIds(tok, request.source());
            int[] target = targetIds(tok, request.target());
            return score(loaded.model(), source, target);
        }
    }

    /** The source as the model reads it: BOS first when the tokenizer adds one; never empty. */
    static int[] sourceIds(Tokenizer tok, Side side) {
        if (side instanceof Side.Ids(int[] ids)) return ids;
        int[] text = tok.encode(((Side.Text) side).text());
        boolean bos = tok.addsBos() && tok.bosId() >= 0;
        if (!bos && text.length > 0) return text;
        int first = bos ? tok.bosId() : tok.eosId();
        if (first < 0) throw new ShearsException("the source is empty and the tokenizer has neither a BOS nor an EOS token to start it with");
        int[] ids = new int[text.length + 1];
        ids[0] = first;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    /** An encoder's source: EOS last when the tokenizer adds one, as for the target. */
    static int[] encoderIds(Tokenizer tok, Side side) {
        return side instanceof Side.Ids(int[] ids) ? ids : Generation.encoderIds(tok, ((Side.Text) side).text());
    }

    /** The target as scored: EOS last when the tokenizer adds one. */
    static int[] targetIds(Tokenizer tok, Side side) {
        if (side instanceof Side.Ids(int[] ids)) return ids;
        int[] text = tok.encode(((Side.Text) side).text());
        if (!tok.addsEos() || tok.eosId() < 0) return text;
        int[] ids = Arrays.copyOf(text, text.length + 1);
        ids[text.length] = tok.eosId();
        return ids;
    }

    /** Scores {@code target} after {@code source} in one pass over source + target (all but the last token). */
    static Result score(Model model, int[] source, int[] target) {
        int vocab = model.config().vocabSize();
        if (source.length == 0) throw new ShearsException("the source has no tokens: a decoder-only model needs at least one to condition on");
        if (target.length == 0) throw new ShearsException("the target has no tokens: nothing to score");
        checkIds("source", source, vocab);
        checkIds("target", target, vocab);
        int length = source.length + target.length - 1;
        if (length > model.config().maxSeqLen()) {
            throw new ShearsException("source and target take " + (length + 1) + " tokens; the model's context is " + model.config().maxSeqLen());
        }
        MemoryPlan.inference("scoring", model.config(), length, length, model.weights().bytes()).check();
        int[] input = Arrays.copyOf(source, length);
        System.arraycopy(target, 0, input, source.length, target.length - 1);
        float[] logits = Transformer.forwardCached(model, input, new KvCache(model.config(), length),
                Activations.forInference(model.config(), 1, length), source.length - 1);
        return Result.of(LoglikelihoodScorer.Score.of(logits, vocab, target), source, target);
    }

    /** Scores {@code target} as the decoder's labels after the encoder read {@code source}, in one teacher-forced pass. */
    static Result scoreSeq2Seq(EncoderDecoder model, int[] source, int[] target) {
        int vocab = model.vocabSize();
        if (target.length == 0) throw new ShearsException("the target has no tokens: nothing to score");
        checkIds("source", source, vocab);
        checkIds("target", target, vocab);
        return Result.of(LoglikelihoodScorer.Score.of(model.logits(source, target), vocab, target), source, target);
    }

    private static void checkIds(String side, int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new ShearsException(side + " id " + ids[i] + " at position " + i + " is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
    }
}
