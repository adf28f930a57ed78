package dev.shears.model;

/**
 * The prunable widths of one decoder layer. Pruned models may have a different shape in every layer.
 *
 * @param numHeads   query heads; a multiple of {@code numKvHeads}. 0 means the attention sub-layer was removed.
 * @param numKvHeads key/value heads (grouped-query attention); 0 exactly when {@code numHeads} is 0
 * @param ffnDim     SwiGLU hidden width; 0 means the FFN sub-layer was removed
 */
public record LayerShape(int numHeads, int numKvHeads, int ffnDim) {
    public LayerShape {
        if (numHeads < 0 || numKvHeads < 0 || ffnDim < 0) {
            throw new IllegalArgumentException("negative layer shape " + numHeads + "/" + numKvHeads + "/" + ffnDim);
        }
        if ((numHeads == 0) != (numKvHeads == 0)) {
            throw new IllegalArgumentException("numHeads " + numHeads + " and numKvHeads " + numKvHeads + " must both be zero or both positive");
        }
        if (numKvHeads > 0 && numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("numHeads " + numHeads + " is not a multiple of numKvHeads " + numKvHeads);
        }
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return numKvHeads == 0 ? 0 : numHeads / numKvHeads;
    }

    public boolean hasAttention() {
        return numHeads > 0;
    }

    public boolean hasFfn() {
        return ffnDim > 0;
    }
}
