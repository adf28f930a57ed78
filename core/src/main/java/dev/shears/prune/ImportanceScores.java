package dev.shears.prune;

/**
 * A score per prunable unit (higher = more important), on every axis. One calibration serves
 * several prunings: scores are saved as JSON and reloaded.
 *
 * @param criterion       how they were computed
 * @param hidden          [dim]
 * @param heads           [layer][numHeads]
 * @param ffn             [layer][ffnDim]
 * @param layers          [layer]: importance of each whole layer
 * @param attentionLayers [layer]: of each attention sub-layer
 * @param ffnLayers       [layer]: of each FFN sub-layer
 * @param samples         calibration sequences used (0 for data-free criteria)
 */
public record ImportanceScores(Criterion criterion, double[] hidden, double[][] heads, double[][] ffn, double[] layers,
                               double[] attentionLayers, double[] ffnLayers, int samples) {
    /** The same scores recorded as computed by another criterion (block influence from an activation pass). */
    public ImportanceScores as(Criterion other) {
        return new ImportanceScores(other, hidden, heads, ffn, layers, attentionLayers, ffnLayers, samples);
    }

    /** Score of each KV group of a layer: the sum of its query heads' scores. */
    public double[] kvGroups(int layer, int groupSize) {
        double[] h = heads[layer];
        double[] g = new double[h.length / Math.max(groupSize, 1)];
        for (int i = 0; i < h.length; i++) g[i / groupSize] += h[i];
        return g;
    }
}
