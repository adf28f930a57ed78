package dev.shears.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws training sequences from several domains (prepared folders) by sampling weights. Each sequence
 * of a batch first draws its domain from the weights, with a generator seeded by (seed, step,
 * micro-batch), so the domain draws of a step do not depend on earlier steps; then it takes the
 * domain's next sequence as {@link Sampling} says:
 * <ul>
 * <li>{@link Sampling#EPOCHS}: domain d's training split of {@code T} tokens holds
 * {@code n = ⌊(T − 1) / seqLen⌋} sequences, sequence i being tokens {@code [i·seqLen, i·seqLen + seqLen + 1)};
 * consecutive sequences share one token, so every token but the first (and a tail shorter than
 * {@code seqLen}) is a target exactly once per epoch. The k-th sequence drawn from d is
 * {@code π_{d,e}(k mod n)} of epoch {@code e = ⌊k / n⌋}, where {@code π_{d,e}} is a {@link Permutation}
 * seeded by (seed, d, e): every sequence once per epoch, a fresh order each epoch, O(1) memory.
 * The count of sequences drawn per domain is the data cursor: {@link #state()} goes into every
 * checkpoint and {@link #restore} puts it back, so a resumed run reads the same sequences.</li>
 * <li>{@link Sampling#RANDOM_OFFSETS}: a uniformly random start in the training split from the same
 * generator (the sampler of earlier versions, bit for bit).</li>
 * </ul>
 * A batch depends on the seed, the step, the weights and the cursor, never on the thread count.
 */
public final class BatchSampler {
    /** Separates the per-epoch orders from the domain draws of the same seed. */
    static final long ORDER_SALT = 0x5EC0_0D3E_70C5L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<TokenDataset> domains;
    private final long seed;
    private final int seqLen;
    private final Sampling sampling;
    private final long[] sequences;
    private final long[] drawn;
    private final Permutation[] orders;
    private final long[] orderEpochs;

    /** @param seqLen tokens of input per sequence; each sequence reads {@code seqLen + 1} tokens */
    public BatchSampler(List<TokenDataset> domains, long seed, int seqLen, Sampling sampling) {
        if (domains.isEmpty()) throw new ShearsException("no training data given");
        for (TokenDataset d : domains) {
            if (d.tokens(Split.TRAIN) < seqLen + 1L) {
                throw new ShearsException(d.dir() + ": " + d.tokens(Split.TRAIN) + " training tokens, fewer than one sequence of " + (seqLen + 1));
            }
        }
        this.domains = List.copyOf(domains);
        this.seed = seed;
        this.seqLen = seqLen;
        this.sampling = sampling;
        this.sequences = domains.stream().mapToLong(d -> (d.tokens(Split.TRAIN) - 1) / seqLen).toArray();
        this.drawn = new long[domains.size()];
        this.orders = new Permutation[domains.size()];
        this.orderEpochs = new long[domains.size()];
        Arrays.fill(orderEpochs, -1);
    }

    public List<TokenDataset> domains() {
        return domains;
    }

    public Sampling sampling() {
        return sampling;
    }

    /** Sequences of {@code seqLen + 1} tokens in an epoch of each domain: {@code ⌊(training tokens − 1) / seqLen⌋}. */
    public long[] sequencesPerEpoch() {
        return sequences.clone();
    }

    /** Sequences drawn from each domain since the run began. */
    public long[] drawn() {
        return drawn.clone();
    }

    /** Epochs each domain has seen: sequences drawn / sequences per epoch (with random offsets, the same ratio). */
    public double[] epochs() {
        double[] e = new double[drawn.length];
        for (int d = 0; d < e.length; d++) e[d] = (double) drawn[d] / sequences[d];
        return e;
    }

    /**
     * Fills a batch: {@code targets} are the inputs shifted by one. Call it once per micro-batch, in
     * order: with {@link Sampling#EPOCHS} it advances the cursor of each domain it reads.
     *
     * @param weights sampling weight of each domain (need not sum to 1)
     * @param tokens  [batchSize * seqLen]
     * @param targets [batchSize * seqLen]
     * @return the domain index of each sequence [batchSize]
     */
    public int[] sample(long step, int micro, double[] weights, int batchSize, int[] tokens, int[] targets) {
        if (weights.length != domains.size()) throw new IllegalArgumentException(weights.length + " weights for " + domains.size() + " domains");
        SplittableRandom random = new SplittableRandom(mix(seed, step, micro));
        double total = 0;
        for (double w : weights) total += w;
        int[] chosen = new int[batchSize];
        int[] window = new int[seqLen + 1];
        for (int b = 0; b < batchSize; b++) {
            double u = random.nextDouble() * total;
            int d = 0;
            while (d < weights.length - 1 && (u -= weights[d]) >= 0) d++;
            chosen[b] = d;
            TokenDataset data = domains.get(d);
            long start = switch (sampling) {
                case EPOCHS -> next(d) * seqLen;
                case RANDOM_OFFSETS -> {
                    drawn[d]++;
                    yield random.nextLong(data.tokens(Split.TRAIN) - seqLen);
                }
            };
            data.read(Split.TRAIN, start, window, 0, seqLen + 1);
            System.arraycopy(window, 0, tokens, b * seqLen, seqLen);
            System.arraycopy(window, 1, targets, b * seqLen, seqLen);
        }
        return chosen;
    }

    /** The index of domain d's next sequence, advancing its cursor (a new epoch, in a new order, when it has read them all). */
    private long next(int d) {
        long epoch = drawn[d] / sequences[d];
        if (orderEpochs[d] != epoch) {
            orders[d] = order(d, epoch);
            orderEpochs[d] = epoch;
        }
        return orders[d].at(drawn[d]++ % sequences[d]);
    }

    /** The order of domain d's sequences in {@code epoch}. */
    Permutation order(int d, long epoch) {
        long key = Permutation.mix(Permutation.mix(seed ^ ORDER_SALT) + d * 0x9E3779B97F4A7C15L) + epoch * 0xD1B54A32D192ED03L;
        return new Permutation(sequences[d], Permutation.mix(key));
    }

    /**
     * The data cursor for a checkpoint: per domain its name, sequences per epoch, epoch and position in
     * the epoch's order ({@code epoch · sequences + cursor} sequences drawn so far).
     */
    public ObjectNode state() {
        ObjectNode n = JSON.createObjectNode().put("sampling", sampling.name()).put("seqLen", seqLen);
        ArrayNode list = n.putArray("domains");
        for (int d = 0; d < domains.size(); d++) {
            list.addObject().put("name", domains.get(d).name()).put("sequences", sequences[d]).put("epoch", drawn[d] / sequences[d])
                    .put("cursor", drawn[d] % sequences[d]);
        }
        return n;
    }

    /** Puts back a {@link #state()} read from {@code where}, refusing one of other data or another sampling. */
    public void restore(JsonNode state, String where) {
        JsonNode list = state.path("domains");
        if (!sampling.name().equals(state.path("sampling").asText()) || state.path("seqLen").asInt() != seqLen || list.size() != domains.size()) {
            throw new ShearsException(where + ": the checkpoint's data cursor is for " + state.path("sampling").asText() + " sampling of " + list.size()
                    + " domains at seqLen " + state.path("seqLen").asInt() + ", not this run's " + sampling + " of " + domains.size() + " at " + seqLen);
        }
        long[] restored = new long[domains.size()];
        for (int d = 0; d < domains.size(); d++) {
            JsonNode n = list.get(d);
            String name = domains.get(d).name();
            if (!name.equals(n.path("name").asText()) || n.path("sequences").asLong() != sequences[d]) {
                throw new ShearsException(where + ": domain " + (d + 1) + " was '" + n.path("name").asText() + "' of " + n.path("sequences").asLong()
                        + " sequences when the checkpoint was written; now it is '" + name + "' of " + sequences[d]
                        + " (the prepared data changed); resume with the data the run began with");
            }
            long epoch = n.path("epoch").asLong(-1), cursor = n.path("cursor").asLong(-1);
            if (epoch < 0 || cursor < 0 || cursor >= sequences[d]) throw new ShearsException(where + ": domain '" + name + "' has no valid epoch and cursor");
            restored[d] = epoch * sequences[d] + cursor;
        }
        System.arraycopy(restored, 0, drawn, 0, drawn.length);
    }

    private static long mix(long seed, long step, int micro) {
        return Permutation.mix(seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL);
    }
}
