package dev.shears.kernel;

/**
 * T5's relative position bias (Raffel et al. 2020, §2.1): each (query, key) pair gets a learned scalar
 * per head, looked up by a bucket of the distance {@code key − query}. As Hugging Face
 * {@code T5Attention._relative_position_bucket} and {@code compute_bias}: distances below
 * {@code maxExact = buckets / 2} (of the buckets left for one direction) get a bucket each, longer ones
 * share logarithmically wider buckets up to {@code maxDistance}, beyond which all fall in the last.
 * The table is [numBuckets, tableHeads] ({@code relative_attention_bias.weight}); a layer's head h reads
 * column {@code columns[h]} (h itself in an unpruned model; a pruned layer keeps its heads' own columns).
 */
public final class RelativePositionBias {
    /** Which distances are told apart: both signs (the encoder) or only keys before the query (the decoder). */
    public enum Direction { BIDIRECTIONAL, CAUSAL }

    private RelativePositionBias() {
    }

    /**
     * The bucket of one relative position. The logarithmic part is computed in fp32, as the original
     * does ({@code torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
     * * (num_buckets - max_exact)}, truncated), so that distances on a bucket edge land where PyTorch puts them.
     *
     * @param relativePosition key position − query position
     */
    public static int bucket(int relativePosition, Direction direction, int numBuckets, int maxDistance) {
        int buckets = numBuckets;
        int bucket = 0;
        int distance;
        if (direction == Direction.BIDIRECTIONAL) {
            buckets /= 2;
            if (relativePosition > 0) bucket += buckets;
            distance = Math.abs(relativePosition);
        } else {
            distance = Math.max(-relativePosition, 0);
        }
        int maxExact = buckets / 2;
        if (distance < maxExact) return bucket + distance;
        float log = (float) Math.log((float) distance / maxExact);
        float scaled = log / (float) Math.log((double) maxDistance / maxExact) * (buckets - maxExact);
        return bucket + Math.min(maxExact + (int) scaled, buckets - 1);
    }

    /** @return [qLen, kLen]: the bucket of (key position − query position) for every pair */
    public static int[] buckets(int qLen, int kLen, Direction direction, int numBuckets, int maxDistance) {
        int[] out = new int[qLen * kLen];
        for (int i = 0; i < qLen; i++) {
            for (int j = 0; j < kLen; j++) out[i * kLen + j] = bucket(j - i, direction, numBuckets, maxDistance);
        }
        return out;
    }

    /**
     * {@code bias[h, i, j] = table[buckets[i, j], columns[h]]}.
     *
     * @param bias    [heads, qLen, kLen], overwritten
     * @param table   [numBuckets, tableHeads]
     * @param buckets [qLen, kLen], from {@link #buckets}
     * @param columns [heads]: the table column of each head, in [0, tableHeads)
     */
    public static void forward(float[] bias, float[] table, int[] buckets, int[] columns, int tableHeads, int qLen, int kLen) {
        int pairs = qLen * kLen;
        for (int h = 0; h < columns.length; h++) {
            int column = columns[h];
            if (column < 0 || column >= tableHeads) throw new IllegalArgumentException("head " + h + " reads column " + column + " of a bias table with " + tableHeads);
            for (int p = 0; p < pairs; p++) bias[h * pairs + p] = table[buckets[p] * tableHeads + column];
        }
    }

    /**
     * Backward of {@link #forward}: each pair's gradient is added to its bucket's row, pairs in order. Accumulates.
     *
     * @param dTable  [numBuckets, tableHeads], accumulated into
     * @param dBias   [heads, qLen, kLen]
     * @param columns [heads], as in the forward pass
     */
    public static void backward(float[] dTable, float[] dBias, int[] buckets, int[] columns, int tableHeads, int qLen, int kLen) {
        int pairs = qLen * kLen;
        for (int h = 0; h < columns.length; h++) {
            for (int p = 0; p < pairs; p++) dTable[buckets[p] * tableHeads + columns[h]] += dBias[h * pairs + p];
        }
    }
}
