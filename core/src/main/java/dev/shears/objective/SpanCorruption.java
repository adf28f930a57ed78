package dev.shears.objective;

import dev.shears.ShearsException;

import java.util.SplittableRandom;

/**
 * T5's span corruption (Raffel et al. 2020, §3.1.4), transcribed from google-research/
 * text-to-text-transfer-transformer {@code t5/data/preprocessors.py}:
 * <ul>
 * <li>{@link #noiseMask}: {@code random_spans_noise_mask}. With {@code L' = max(L, 2)},
 * {@code noise = clamp(round(L'·r), 1, L' − 1)} tokens in {@code spans = max(round(noise / μ), 1)}
 * spans; the noise tokens and the {@code L' − noise} others are each cut into {@code spans} non-empty
 * runs at random ({@link #randomSegmentation}, {@code _random_segmentation}), and the runs alternate
 * non-noise, noise, non-noise, …, so the example starts with kept tokens and ends with noise; the
 * mask is cut back to L. Every mask with these counts is equally likely.</li>
 * <li>{@link #noiseSpansToSentinels}: {@code noise_span_to_unique_sentinel}, the encoder inputs: the
 * i-th noise span becomes sentinel i. {@link #nonNoiseSpansToSentinels}:
 * {@code nonnoise_span_to_unique_sentinel}, the targets: the i-th kept span becomes sentinel i, so
 * targets read {@code s0 span0 s1 span1 …}, each sentinel followed by what it hid in the inputs.</li>
 * <li>{@link #noiseTokens} and {@link #noiseSpans}: the two counts, which fix the encoded lengths
 * ({@code random_spans_helper}).</li>
 * </ul>
 *
 * <p>Deliberate differences from the published code:
 * <ul>
 * <li>Sentinel i is {@code sentinels[i]}, the id of {@code <extra_id_i>} as the tokenizer spells it
 * ({@link DenoiserTokens}); T5 computes {@code vocab_size − 1 − i}, the same ids for T5's vocabulary
 * (whose {@code <extra_id_0>} is its last id). An example needing more sentinels than the tokenizer has
 * is refused; T5 would run on into ordinary vocabulary ids.</li>
 * <li>Random numbers come from a {@link SplittableRandom} (a Fisher–Yates shuffle for
 * {@code seqio.stateless_shuffle}), so masks follow the same distribution as T5's, not the same bits.</li>
 * <li>The counts are computed as T5's TensorFlow graph does (float32 products and quotients,
 * round half to even, {@code tf.round}); the numpy ports (Hugging Face's {@code run_t5_mlm_flax.py},
 * OpenBA) use float64 and skip the {@code max(L, 2)}, which changes {@code noise} only where
 * {@code L·r} sits within float32 rounding of a half.</li>
 * <li>A mask whose spans outnumber its kept tokens (rates above about {@code μ / (μ + 1)} on short
 * examples) is refused; T5's graph fails there too, on mismatched shapes.</li>
 * </ul>
 */
public final class SpanCorruption {
    private SpanCorruption() {
    }

    /** Noise tokens in an example of {@code length} tokens: {@code clamp(round(max(L, 2)·r), 1, max(L, 2) − 1)}, in float32. */
    public static int noiseTokens(int length, double noiseDensity) {
        int padded = Math.max(length, 2);
        int noise = (int) Math.rint((float) padded * (float) noiseDensity);
        return Math.min(Math.max(noise, 1), padded - 1);
    }

    /** Noise spans for {@code noiseTokens} noise tokens: {@code max(round(noise / μ), 1)}, in float32. */
    public static int noiseSpans(int noiseTokens, double meanSpanLength) {
        return Math.max((int) Math.rint((float) noiseTokens / (float) meanSpanLength), 1);
    }

    /**
     * T5's {@code random_spans_noise_mask}.
     *
     * @return [length] true where the token is noise
     */
    public static boolean[] noiseMask(int length, double noiseDensity, double meanSpanLength, SplittableRandom random) {
        if (length < 1) throw new ShearsException("span corruption needs at least one token, got " + length);
        int padded = Math.max(length, 2);
        int noise = noiseTokens(length, noiseDensity);
        int spans = noiseSpans(noise, meanSpanLength);
        int kept = padded - noise;
        if (spans > kept) {
            throw new ShearsException("span corruption of " + length + " tokens at r=" + noiseDensity + ", μ=" + meanSpanLength + " needs " + spans
                    + " kept spans but keeps only " + kept + " tokens; use longer examples, a lower rate or longer spans");
        }
        int[] noiseLengths = randomSegmentation(noise, spans, random);
        int[] keptLengths = randomSegmentation(kept, spans, random);
        boolean[] mask = new boolean[padded];
        int at = 0;
        for (int s = 0; s < spans; s++) {
            at += keptLengths[s];
            for (int i = 0; i < noiseLengths[s]; i++) mask[at++] = true;
        }
        return length == padded ? mask : java.util.Arrays.copyOf(mask, length);
    }

    /**
     * T5's {@code _random_segmentation}: {@code items} in order, cut into {@code segments} non-empty runs
     * at {@code segments − 1} of the {@code items − 1} gaps, chosen uniformly (a shuffled 0/1 marker per gap).
     *
     * @return [segments] run lengths summing to {@code items}
     */
    static int[] randomSegmentation(int items, int segments, SplittableRandom random) {
        boolean[] firstInSegment = new boolean[items - 1];
        for (int i = 0; i < segments - 1; i++) firstInSegment[i] = true;
        for (int i = firstInSegment.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            boolean t = firstInSegment[i];
            firstInSegment[i] = firstInSegment[j];
            firstInSegment[j] = t;
        }
        int[] lengths = new int[segments];
        int segment = 0;
        lengths[0] = 1;
        for (boolean first : firstInSegment) {
            if (first) segment++;
            lengths[segment]++;
        }
        return lengths;
    }

    /** T5's {@code noise_span_to_unique_sentinel}: each run of noise tokens becomes the next sentinel; kept tokens stay. */
    public static int[] noiseSpansToSentinels(int[] tokens, boolean[] noise, int[] sentinels) {
        if (tokens.length != noise.length) throw new IllegalArgumentException(tokens.length + " tokens, " + noise.length + " mask entries");
        int[] out = new int[tokens.length];
        int n = 0, sentinel = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (!noise[i]) {
                out[n++] = tokens[i];
            } else if (i == 0 || !noise[i - 1]) {
                if (sentinel == sentinels.length) {
                    throw new ShearsException("span corruption needs more than the tokenizer's " + sentinels.length
                            + " sentinels <extra_id_0>…; use shorter examples, fewer spans (longer μ) or a tokenizer with more extra ids");
                }
                out[n++] = sentinels[sentinel++];
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** T5's {@code nonnoise_span_to_unique_sentinel}: each run of kept tokens becomes the next sentinel; noise tokens stay. */
    public static int[] nonNoiseSpansToSentinels(int[] tokens, boolean[] noise, int[] sentinels) {
        boolean[] kept = new boolean[noise.length];
        for (int i = 0; i < noise.length; i++) kept[i] = !noise[i];
        return noiseSpansToSentinels(tokens, kept, sentinels);
    }
}
