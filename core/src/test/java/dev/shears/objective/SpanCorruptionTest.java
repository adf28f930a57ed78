package dev.shears.objective;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * T5's span corruption against {@code tools/fixtures/t5_span_corruption_fixture.py} (the TF graph of
 * {@code random_spans_noise_mask} and {@code noise_span_to_unique_sentinel} transcribed into numpy), a
 * hand-worked example, and the distribution of seeded masks.
 */
class SpanCorruptionTest {
    /** T5's sentinels: {@code <extra_id_i>} = 32099 − i in its 32,100-id vocabulary. */
    static final int[] T5_SENTINELS = java.util.stream.IntStream.range(0, 100).map(i -> 32099 - i).toArray();

    static JsonNode fixture() throws IOException {
        try (InputStream in = SpanCorruptionTest.class.getResourceAsStream("/objective/t5_span_corruption.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void countsAreT5GraphsIncludingFloat32Rounding() throws IOException {
        JsonNode cases = fixture().path("counts");
        assertEquals(1710, cases.size());
        for (JsonNode c : cases) {
            int length = c.path("length").asInt();
            double r = c.path("noiseDensity").asDouble(), mu = c.path("meanSpanLength").asDouble();
            int noise = SpanCorruption.noiseTokens(length, r);
            String what = "L=" + length + " r=" + r + " μ=" + mu;
            assertEquals(c.path("noiseTokens").asInt(), noise, what);
            assertEquals(c.path("noiseSpans").asInt(), SpanCorruption.noiseSpans(noise, mu), what);
        }
        // where float32 and float64 disagree, T5's graph (float32) wins: 190·0.15 is 28.5 in float64, 28.500002 in float32
        assertEquals(29, SpanCorruption.noiseTokens(190, 0.15));
        assertEquals(28, (int) Math.rint(190 * 0.15));
    }

    @Test
    void sentinelLayoutIsT5s() throws IOException {
        JsonNode fixture = fixture();
        assertEquals(32100, fixture.path("vocabSize").asInt());
        for (JsonNode c : fixture.path("layouts")) {
            int[] tokens = ints(c.path("tokens"));
            boolean[] noise = new boolean[tokens.length];
            for (int i = 0; i < noise.length; i++) noise[i] = c.path("noise").get(i).asBoolean();
            assertArrayEquals(ints(c.path("inputs")), SpanCorruption.noiseSpansToSentinels(tokens, noise, T5_SENTINELS), c.toString());
            assertArrayEquals(ints(c.path("targets")), SpanCorruption.nonNoiseSpansToSentinels(tokens, noise, T5_SENTINELS), c.toString());
            // the fixture's masks obey the counts this class computes
            int n = SpanCorruption.noiseTokens(tokens.length, c.path("noiseDensity").asDouble());
            if (tokens.length >= 2) assertEquals(n, count(noise), c.toString());
            assertFalse(noise[0], "T5 masks start with kept tokens");
        }
    }

    @Test
    void workedExampleFromTheAlgorithm() {
        // "Thank you for inviting me to your party last week ." with "for inviting" and "last" as noise (the T5 paper's Figure 2)
        int[] tokens = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        boolean[] noise = {false, false, true, true, false, false, false, false, true, false, false};
        int[] sentinels = {900, 901, 902};
        assertArrayEquals(new int[] {10, 11, 900, 14, 15, 16, 17, 901, 19, 20}, SpanCorruption.noiseSpansToSentinels(tokens, noise, sentinels));
        assertArrayEquals(new int[] {900, 12, 13, 901, 18, 902}, SpanCorruption.nonNoiseSpansToSentinels(tokens, noise, sentinels));
        // L = 11, r = 0.15: round(1.65) = 2 noise tokens; μ = 3: round(0.67) = 1 span
        assertEquals(2, SpanCorruption.noiseTokens(11, 0.15));
        assertEquals(1, SpanCorruption.noiseSpans(2, 3));
        // round half to even, as tf.round: L = 10, r = 0.25 is 2.5 → 2; L = 14 is 3.5 → 4
        assertEquals(2, SpanCorruption.noiseTokens(10, 0.25));
        assertEquals(4, SpanCorruption.noiseTokens(14, 0.25));
    }

    /**
     * Over 4,000 seeded masks per setting of UL2's span denoisers: every mask has exactly T5's noise count
     * in exactly T5's span count, starts with kept tokens and ends with noise; the empirical density and mean
     * span length are r and μ up to the rounding of those counts; the histogram of span lengths matches the exact law of a uniform composition of N tokens into
     * S spans, {@code P(k) = C(N−k−1, S−2) / C(N−1, S−1)}, in every bin expected to hold ≥ 20 spans within
     * 5 standard deviations ({@code 5·sqrt(expected)}). (The noise is not spread evenly over positions: the
     * last run is always noise, so with μ = 64, r = 0.15 the one span is always the last 77 tokens.)
     */
    @Test
    void seededMasksFollowT5sDistribution() {
        int length = 512, draws = 4000;
        double[][] settings = {{3, 0.15}, {8, 0.15}, {3, 0.5}, {8, 0.5}, {64, 0.15}, {64, 0.5}};
        SplittableRandom random = new SplittableRandom(16);
        for (double[] s : settings) {
            double mu = s[0], r = s[1];
            int noiseTokens = SpanCorruption.noiseTokens(length, r), spans = SpanCorruption.noiseSpans(noiseTokens, mu);
            String what = "μ=" + mu + " r=" + r;
            assertEquals(Math.rint(length * r), noiseTokens, what);
            long[] noiseHistogram = new long[length + 1], keptHistogram = new long[length + 1];
            for (int d = 0; d < draws; d++) {
                boolean[] mask = SpanCorruption.noiseMask(length, r, mu, random);
                assertEquals(noiseTokens, count(mask), what);
                assertFalse(mask[0], what);
                assertTrue(mask[length - 1], what);
                int runs = 0;
                for (int i = 0; i < length; ) {
                    int j = i;
                    while (j < length && mask[j] == mask[i]) j++;
                    (mask[i] ? noiseHistogram : keptHistogram)[j - i]++;
                    if (mask[i]) runs++;
                    i = j;
                }
                assertEquals(spans, runs, what);
            }
            // the empirical density and mean span length over all draws, against the configured r and μ: only the
            // two roundings of T5's counts separate them, |N/L − r| ≤ 1/(2L) and |N/S − μ| ≤ μ/(2S)
            long noiseTotal = 0, spanTotal = 0;
            for (int k = 1; k <= length; k++) {
                noiseTotal += (long) k * noiseHistogram[k];
                spanTotal += noiseHistogram[k];
            }
            assertEquals(r, (double) noiseTotal / ((long) draws * length), 0.5 / length + 1e-12, what + " density");
            assertEquals(mu, (double) noiseTotal / spanTotal, mu / (2.0 * spans) + 1e-12, what + " mean span length");
            assertCompositionLaw(noiseHistogram, noiseTokens, spans, draws, what + " noise spans");
            assertCompositionLaw(keptHistogram, length - noiseTokens, spans, draws, what + " kept spans");
        }
    }

    @Test
    void randomSegmentationIsUniformOverCompositions() {
        // 6 items in 3 non-empty runs: C(5, 2) = 10 compositions, each 1/10
        SplittableRandom random = new SplittableRandom(7);
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        int draws = 50_000;
        for (int d = 0; d < draws; d++) {
            int[] runs = SpanCorruption.randomSegmentation(6, 3, random);
            assertEquals(6, java.util.Arrays.stream(runs).sum());
            assertTrue(java.util.Arrays.stream(runs).allMatch(x -> x >= 1));
            seen.merge(java.util.Arrays.toString(runs), 1, Integer::sum);
        }
        assertEquals(10, seen.size());
        double expected = draws / 10.0;
        for (var e : seen.entrySet()) assertEquals(expected, e.getValue(), 5 * Math.sqrt(expected), e.getKey());
    }

    @Test
    void impossibleMasksAndTooFewSentinelsAreOneLineErrors() {
        // 3 tokens at r = 0.5, μ = 1: 2 noise spans but 1 kept token
        ShearsException e = assertThrows(ShearsException.class, () -> SpanCorruption.noiseMask(3, 0.5, 1, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("needs 2 kept spans but keeps only 1") && !e.getMessage().contains("\n"), e.getMessage());
        boolean[] twoSpans = {false, true, false, true};
        e = assertThrows(ShearsException.class, () -> SpanCorruption.noiseSpansToSentinels(new int[] {5, 6, 7, 8}, twoSpans, new int[] {900}));
        assertTrue(e.getMessage().contains("more than the tokenizer's 1 sentinels") && !e.getMessage().contains("\n"), e.getMessage());
    }

    /** Checks a histogram of run lengths against the law of one part of a uniform composition of n into s parts. */
    static void assertCompositionLaw(long[] histogram, int n, int s, int draws, String what) {
        long total = java.util.Arrays.stream(histogram).sum();
        assertEquals((long) s * draws, total, what);
        double mean = 0;
        for (int k = 1; k < histogram.length; k++) mean += (double) k * histogram[k] / total;
        assertEquals((double) n / s, mean, 1e-9, what + ": the mean run length is n / s in every mask");
        for (int k = 1; k <= n - s + 1; k++) {
            double p = s == 1 ? (k == n ? 1 : 0) : Math.exp(logChoose(n - k - 1, s - 2) - logChoose(n - 1, s - 1));
            double expected = p * total;
            if (expected >= 20) assertEquals(expected, histogram[k], 5 * Math.sqrt(expected), what + " length " + k);
        }
    }

    private static double logChoose(int n, int k) {
        double sum = 0;
        for (int i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i);
        return sum;
    }

    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean m : mask) if (m) n++;
        return n;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
