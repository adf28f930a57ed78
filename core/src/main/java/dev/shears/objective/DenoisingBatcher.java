package dev.shears.objective;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.data.Permutation;
import dev.shears.kernel.CrossEntropy;
import dev.shears.objective.Denoiser.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fixed-shape encoder-decoder batches from a mixture of denoisers (UL2's MoD; with {@link DynamicUl2}
 * moving the weights, OpenBA-V2's Dynamic-UL2).
 *
 * <p>Example {@code e} (counted from the start of the run) reads chunk {@code e} of the
 * {@link ChunkSource}, draws its denoiser with probability proportional to the current weights and then
 * its corruption, all from one {@link SplittableRandom} seeded by {@code mix(seed, e)}. An example is
 * therefore a function of (seed, e, weights): the state is the seed, the count of examples drawn and the
 * weights — {@link #state()} for a checkpoint, {@link #restore} to resume, after which the batches are
 * bit-identical to those of the uninterrupted run. Drawing each example's denoiser follows OpenBA's
 * {@code ul2_type="sample"}; UL2's appendix code instead shards the data per denoiser and interleaves
 * the shards with {@code sample_from_datasets}, which gives each example a denoiser with the same
 * probabilities.
 *
 * <p>Every denoiser reads chunks of the same length, as OpenBA does (its {@code expanded_input_length},
 * 568); UL2's appendix code instead cuts a different raw length per denoiser so that each fills the
 * inputs exactly ({@code random_spans_helper}). The constructor checks that every denoiser's longest
 * output fits {@code inputLength} and {@code targetLength} (the appendix's "Expected max targets length
 * for span corruption … is greater than configured targets length" check) and that the tokenizer has
 * the sentinels the spans need, so a run cannot fail on an unlucky draw hours in.
 *
 * <pre>{@code
 * DenoiserMixture mixture = DenoiserMixture.ul2();
 * DenoisingBatcher batcher = new DenoisingBatcher(mixture, DenoiserTokens.of(tokenizer, mixture),
 *         ChunkSource.shuffled(data, Split.TRAIN, 512, seed), 640, 512, seed);
 * DenoisingBatcher.Batch batch = batcher.next(8);      // inputs [8·640], targets [8·512]
 * }</pre>
 * A decoder-only model takes the same draws concatenated, {@link #nextPrefixLm}.
 */
public final class DenoisingBatcher {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DenoiserMixture mixture;
    private final DenoiserTokens tokens;
    private final ChunkSource source;
    private final int inputLength;
    private final int targetLength;
    private final long seed;
    private double[] weights;
    private long examples;

    /** One drawn example and the index of its denoiser in the mixture. */
    public record Drawn(int denoiser, Denoising.Example example) {
    }

    /**
     * A padded batch of B examples.
     *
     * @param inputs        [B, inputLength] encoder tokens, padded with the padding id
     * @param targets       [B, targetLength] decoder labels, padded with {@link CrossEntropy#IGNORE}
     *                      (-1, Shears' and OpenBA's ignore label; Hugging Face's is -100)
     * @param inputLengths  [B] tokens of each example's inputs before padding
     * @param targetLengths [B] labels of each example before padding
     * @param denoisers     [B] the denoiser of each example (index into the mixture)
     * @param firstExample  the run's count of examples before this batch
     */
    public record Batch(int[] inputs, int[] targets, int[] inputLengths, int[] targetLengths, int[] denoisers, long firstExample) {
    }

    /**
     * A padded decoder-only batch of B examples, each its inputs then its targets ({@link PrefixLmExample}).
     *
     * @param tokens        [B, seqLen] inputs then targets, padded with the padding id
     * @param labels        [B, seqLen] next-token labels on target tokens, {@link CrossEntropy#IGNORE} elsewhere
     * @param prefixLengths [B] positions of each row attended bidirectionally (its inputs)
     * @param denoisers     [B] the denoiser of each example (index into the mixture)
     * @param firstExample  the run's count of examples before this batch
     */
    public record PrefixLmBatch(int[] tokens, int[] labels, int[] prefixLengths, int[] denoisers, long firstExample) {
    }

    /**
     * @param tokens       ids for {@code mixture} ({@link DenoiserTokens#of})
     * @param inputLength  encoder tokens per example, padded
     * @param targetLength decoder labels per example, padded
     * @param seed         any long; with the weights and the example count it fixes every batch
     */
    public DenoisingBatcher(DenoiserMixture mixture, DenoiserTokens tokens, ChunkSource source, int inputLength, int targetLength, long seed) {
        if (tokens.modeIds().length != mixture.denoisers().size()) {
            throw new ShearsException(tokens.modeIds().length + " mode tokens for a mixture of " + mixture.denoisers().size() + " denoisers");
        }
        int length = source.length();
        for (int d = 0; d < mixture.denoisers().size(); d++) {
            Denoiser denoiser = mixture.denoisers().get(d);
            int[] longest = Denoising.maxLengths(denoiser, tokens.modeIds(d).length, length, mixture.sequentialLayout());
            if (longest[0] > inputLength || longest[1] > targetLength) {
                throw new ShearsException("denoiser " + denoiser.label() + " makes up to " + longest[0] + " input and " + longest[1] + " target tokens of "
                        + length + "-token examples; inputLength " + inputLength + " and targetLength " + targetLength + " are too short");
            }
            if (denoiser.kind() != Kind.S) {
                int noise = SpanCorruption.noiseTokens(length, denoiser.noiseDensity());
                int spans = SpanCorruption.noiseSpans(noise, denoiser.meanSpanLength());
                if (spans > tokens.sentinels().length || spans > length - noise) {
                    throw new ShearsException("denoiser " + denoiser.label() + " cuts " + length + "-token examples into " + spans + " spans, but the tokenizer has "
                            + tokens.sentinels().length + " sentinels and " + (length - noise) + " tokens stay; use shorter examples or longer spans");
                }
            }
        }
        this.mixture = mixture;
        this.tokens = tokens;
        this.source = source;
        this.inputLength = inputLength;
        this.targetLength = targetLength;
        this.seed = seed;
        this.weights = mixture.weights();
    }

    /**
     * A batcher whose {@code inputLength} and {@code targetLength} are the longest any denoiser of {@code mixture}
     * makes of {@code source}'s chunks ({@link Denoising#maxLengths}): the shortest fixed shapes that hold every draw.
     */
    public static DenoisingBatcher padToLongest(DenoiserMixture mixture, DenoiserTokens tokens, ChunkSource source, long seed) {
        int inputLength = 0, targetLength = 0;
        for (int d = 0; d < mixture.denoisers().size(); d++) {
            int[] longest = Denoising.maxLengths(mixture.denoisers().get(d), tokens.modeIds(d).length, source.length(), mixture.sequentialLayout());
            inputLength = Math.max(inputLength, longest[0]);
            targetLength = Math.max(targetLength, longest[1]);
        }
        return new DenoisingBatcher(mixture, tokens, source, inputLength, targetLength, seed);
    }

    public DenoiserMixture mixture() {
        return mixture;
    }

    /** The current sampling weight of each denoiser (need not sum to 1). */
    public double[] weights() {
        return weights.clone();
    }

    /** Sets the sampling weights, e.g. to {@link DynamicUl2#update}'s; later examples draw from them. */
    public void weights(double[] next) {
        this.weights = new DenoiserMixture(mixture.denoisers(), next, mixture.sequentialLayout()).weights();
    }

    /** Examples drawn since the run began: the data cursor. */
    public long examples() {
        return examples;
    }

    /** The next {@code count} examples, unpadded, advancing the cursor. */
    public List<Drawn> draw(int count) {
        double total = 0;
        for (double w : weights) total += w;
        int[] raw = new int[source.length()];
        List<Drawn> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++, examples++) {
            // seed and example count apart by two odd constants (BatchSampler's), then SplitMix64's finaliser
            SplittableRandom random = new SplittableRandom(Permutation.mix(seed * 0x9E3779B97F4A7C15L + examples * 0xBF58476D1CE4E5B9L));
            double u = random.nextDouble() * total;
            int d = 0;
            while (d < weights.length - 1 && (u -= weights[d]) >= 0) d++;
            while (weights[d] == 0) d--; // u past the sum by rounding lands on the last weighted denoiser
            source.read(examples, raw);
            Denoiser denoiser = mixture.denoisers().get(d);
            out.add(new Drawn(d, Denoising.apply(denoiser, tokens.modeIds(d), raw, tokens, mixture.sequentialLayout(), random)));
        }
        return out;
    }

    /** The next batch of {@code batchSize} examples, padded to {@code inputLength} and {@code targetLength}. */
    public Batch next(int batchSize) {
        long first = examples;
        int[] inputs = new int[batchSize * inputLength];
        int[] targets = new int[batchSize * targetLength];
        java.util.Arrays.fill(inputs, tokens.padId());
        java.util.Arrays.fill(targets, CrossEntropy.IGNORE);
        int[] inputLengths = new int[batchSize], targetLengths = new int[batchSize], denoisers = new int[batchSize];
        List<Drawn> drawn = draw(batchSize);
        for (int b = 0; b < batchSize; b++) {
            Denoising.Example e = drawn.get(b).example();
            System.arraycopy(e.inputs(), 0, inputs, b * inputLength, e.inputs().length);
            System.arraycopy(e.targets(), 0, targets, b * targetLength, e.targets().length);
            inputLengths[b] = e.inputs().length;
            targetLengths[b] = e.targets().length;
            denoisers[b] = drawn.get(b).denoiser();
        }
        return new Batch(inputs, targets, inputLengths, targetLengths, denoisers, first);
    }

    /**
     * The next {@code batchSize} examples for a decoder-only model: the same draws as {@link #next}, each laid
     * out by {@link PrefixLmExample#of} in {@code seqLen} positions, which must hold {@code inputLength + targetLength}.
     */
    public PrefixLmBatch nextPrefixLm(int batchSize, int seqLen) {
        if (seqLen < inputLength + targetLength) {
            throw new ShearsException("seqLen " + seqLen + " cannot hold inputs of up to " + inputLength + " and targets of up to " + targetLength + " tokens");
        }
        long first = examples;
        int[] tokens = new int[batchSize * seqLen], labels = new int[batchSize * seqLen], prefixLengths = new int[batchSize], denoisers = new int[batchSize];
        List<Drawn> drawn = draw(batchSize);
        for (int b = 0; b < batchSize; b++) {
            Denoising.Example e = drawn.get(b).example();
            PrefixLmExample row = PrefixLmExample.of(e.inputs(), e.targets(), seqLen, this.tokens.padId());
            System.arraycopy(row.tokens(), 0, tokens, b * seqLen, seqLen);
            System.arraycopy(row.labels(), 0, labels, b * seqLen, seqLen);
            prefixLengths[b] = row.prefixLength();
            denoisers[b] = drawn.get(b).denoiser();
        }
        return new PrefixLmBatch(tokens, labels, prefixLengths, denoisers, first);
    }

    /** The state for a checkpoint: seed, examples drawn, the weights, and what they were drawn for. */
    public ObjectNode state() {
        ObjectNode n = JSON.createObjectNode().put("seed", seed).put("examples", examples).put("rawLength", source.length())
                .put("inputLength", inputLength).put("targetLength", targetLength).put("sequentialLayout", mixture.sequentialLayout().name());
        ArrayNode list = n.putArray("denoisers");
        for (int d = 0; d < weights.length; d++) {
            Denoiser denoiser = mixture.denoisers().get(d);
            list.addObject().put("denoiser", denoiser.label()).put("modeToken", denoiser.modeToken()).put("weight", weights[d]);
        }
        return n;
    }

    /** Puts back a {@link #state()} read from {@code where}, refusing one of another seed, shape or mixture. */
    public void restore(JsonNode state, String where) {
        JsonNode list = state.path("denoisers");
        String mine = JSON.createObjectNode().put("seed", seed).put("rawLength", source.length()).put("inputLength", inputLength)
                .put("targetLength", targetLength).put("sequentialLayout", mixture.sequentialLayout().name()).toString();
        String theirs = JSON.createObjectNode().put("seed", state.path("seed").asLong()).put("rawLength", state.path("rawLength").asInt())
                .put("inputLength", state.path("inputLength").asInt()).put("targetLength", state.path("targetLength").asInt())
                .put("sequentialLayout", state.path("sequentialLayout").asText()).toString();
        if (!mine.equals(theirs)) throw new ShearsException(where + ": the denoising state is for " + theirs + ", not this run's " + mine);
        if (list.size() != weights.length) {
            throw new ShearsException(where + ": the denoising state has " + list.size() + " denoisers, this run's mixture " + weights.length);
        }
        double[] restored = new double[weights.length];
        for (int d = 0; d < restored.length; d++) {
            Denoiser denoiser = mixture.denoisers().get(d);
            JsonNode n = list.get(d);
            if (!denoiser.label().equals(n.path("denoiser").asText()) || !denoiser.modeToken().equals(n.path("modeToken").asText())) {
                throw new ShearsException(where + ": denoiser " + (d + 1) + " was " + n.path("denoiser").asText() + " " + n.path("modeToken").asText()
                        + " when the state was written; now it is " + denoiser.label() + " " + denoiser.modeToken());
            }
            restored[d] = n.path("weight").asDouble(Double.NaN);
        }
        long count = state.path("examples").asLong(-1);
        if (count < 0) throw new ShearsException(where + ": the denoising state has no valid example count");
        weights(restored);
        examples = count;
    }
}
