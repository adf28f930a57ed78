package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.objective.Denoiser.Kind;

import java.util.SplittableRandom;

/**
 * One denoiser applied to one example of raw tokens: the encoder inputs and decoder targets of an
 * encoder-decoder model, unpadded. Layouts, with {@code m} the mode token ids, {@code sᵢ} sentinel i and
 * {@code </s>} EOS:
 * <pre>
 * R, X   inputs  m  kept₀ s₀ kept₁ s₁ … &lt;/s&gt;        (UL2 appendix: span_corruption, then prepend_prompt,
 *        targets s₀ noise₀ s₁ noise₁ … &lt;/s&gt;             then seqio's add_eos; OpenBA t5_trans alike)
 * S      PLAIN     inputs m prefix &lt;/s&gt;          targets rest &lt;/s&gt;          (T5 prefix_lm)
 *        SENTINEL  inputs m prefix s₀ &lt;/s&gt;       targets s₀ rest &lt;/s&gt;       (OpenBA s_trans)
 * </pre>
 * S draws the number of target tokens t uniformly from {@code [1, min(round(2·r·L), L − 1)]} (round half
 * to even, as Python's {@code round}); see {@link Denoiser} for how this covers T5 and OpenBA. Only the
 * labels are produced: the decoder's input is the targets shifted right behind a start token, which is
 * the model's business (T5 starts with {@code <pad>}; OpenBA's {@code text_dec} with its BOS, also {@code <pad>}).
 */
public final class Denoising {
    private Denoising() {
    }

    /**
     * An encoder-decoder example.
     *
     * @param inputs  the encoder's tokens
     * @param targets the decoder's labels
     */
    public record Example(int[] inputs, int[] targets) {
    }

    /**
     * Applies {@code denoiser} to {@code raw}, drawing from {@code random}.
     *
     * @param modeIds the denoiser's mode token ids
     */
    public static Example apply(Denoiser denoiser, int[] modeIds, int[] raw, DenoiserTokens tokens, SequentialLayout layout, SplittableRandom random) {
        int[] sentinels = tokens.sentinels();
        if (denoiser.kind() == Kind.S) {
            if (raw.length < 2) throw new ShearsException("an S-denoiser example needs at least 2 tokens to split into a prefix and the rest, got " + raw.length);
            int t = 1 + random.nextInt(maxSequentialTargets(raw.length, denoiser.noiseDensity()));
            int split = raw.length - t;
            boolean sentinel = layout == SequentialLayout.SENTINEL;
            if (sentinel && sentinels.length == 0) throw new ShearsException("OpenBA's S layout needs the sentinel <extra_id_0>; the tokenizer has none");
            int[] prefix = java.util.Arrays.copyOfRange(raw, 0, split);
            int[] rest = java.util.Arrays.copyOfRange(raw, split, raw.length);
            int[] marker = sentinel ? new int[] {sentinels[0]} : new int[0];
            return new Example(concat(modeIds, prefix, marker, new int[] {tokens.eosId()}), concat(marker, rest, new int[] {tokens.eosId()}));
        }
        boolean[] noise = SpanCorruption.noiseMask(raw.length, denoiser.noiseDensity(), denoiser.meanSpanLength(), random);
        int[] inputs = SpanCorruption.noiseSpansToSentinels(raw, noise, sentinels);
        int[] targets = SpanCorruption.nonNoiseSpansToSentinels(raw, noise, sentinels);
        return new Example(concat(modeIds, inputs, new int[] {tokens.eosId()}), concat(targets, new int[] {tokens.eosId()}));
    }

    /** The largest number of S targets for an example of {@code length} tokens: {@code min(round(2·r·L), L − 1)}, at least 1. */
    static int maxSequentialTargets(int length, double noiseDensity) {
        return Math.max(1, Math.min((int) Math.rint(2 * noiseDensity * length), length - 1));
    }

    /**
     * The longest inputs and targets {@code denoiser} can make of {@code length} raw tokens (with
     * {@code modeLength} mode ids): span corruption always makes exactly these
     * ({@code random_spans_helper}'s {@code kept + spans + 1} and {@code noise + spans + 1}); S makes at
     * most these.
     *
     * @return {inputs, targets}
     */
    public static int[] maxLengths(Denoiser denoiser, int modeLength, int length, SequentialLayout layout) {
        if (length < 2) throw new ShearsException("denoising examples need at least 2 raw tokens, got " + length);
        if (denoiser.kind() == Kind.S) {
            int marker = layout == SequentialLayout.SENTINEL ? 1 : 0;
            return new int[] {modeLength + length - 1 + marker + 1, marker + maxSequentialTargets(length, denoiser.noiseDensity()) + 1};
        }
        int noise = SpanCorruption.noiseTokens(length, denoiser.noiseDensity());
        int spans = SpanCorruption.noiseSpans(noise, denoiser.meanSpanLength());
        return new int[] {modeLength + length - noise + spans + 1, noise + spans + 1};
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
