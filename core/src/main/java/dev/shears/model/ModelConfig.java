package dev.shears.model;

import java.util.Collections;
import java.util.List;

/**
 * The complete shape and hyper-parameters of a LLaMA-family decoder. Every width is explicit:
 * {@code headDim} is a field (never {@code dim / numHeads}) and heads, KV heads and FFN width are per layer.
 *
 * @param architecture   which file conventions the model came with
 * @param dim            hidden size (residual stream width)
 * @param headDim        width of one attention head
 * @param vocabSize      rows of the embedding and the LM head
 * @param layers         one shape per decoder layer
 * @param normEps        RMSNorm epsilon
 * @param ropeTheta      RoPE base
 * @param ropeScaling    RoPE frequency scaling
 * @param maxSeqLen      the context length the model was trained for
 * @param tiedEmbeddings the LM head is the token embedding
 * @param attentionBias  query, key and value projections carry biases (Qwen2)
 * @param bosId          beginning-of-sequence token, or -1
 * @param eosId          end-of-sequence token, or -1
 */
public record ModelConfig(
        Architecture architecture,
        int dim,
        int headDim,
        int vocabSize,
        List<LayerShape> layers,
        float normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxSeqLen,
        boolean tiedEmbeddings,
        boolean attentionBias,
        int bosId,
        int eosId) {

    public ModelConfig {
        layers = List.copyOf(layers);
        if (dim <= 0) throw new IllegalArgumentException("dim must be positive, got " + dim);
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        if (layers.isEmpty()) throw new IllegalArgumentException("a model needs at least one layer");
        if (maxSeqLen <= 0) throw new IllegalArgumentException("maxSeqLen must be positive, got " + maxSeqLen);
        if (!(normEps > 0)) throw new IllegalArgumentException("normEps must be positive, got " + normEps);
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("ropeTheta must be positive, got " + ropeTheta);
    }

    /** A model with the same shape in every layer. */
    public static ModelConfig uniform(Architecture architecture, int dim, int numLayers, int numHeads, int numKvHeads, int headDim,
                                      int ffnDim, int vocabSize, int maxSeqLen, float normEps, double ropeTheta,
                                      boolean tiedEmbeddings, boolean attentionBias) {
        return new ModelConfig(architecture, dim, headDim, vocabSize,
                Collections.nCopies(numLayers, new LayerShape(numHeads, numKvHeads, ffnDim)),
                normEps, ropeTheta, RopeScaling.NONE, maxSeqLen, tiedEmbeddings, attentionBias, 1, 2);
    }

    public int numLayers() {
        return layers.size();
    }

    public LayerShape layer(int index) {
        return layers.get(index);
    }

    /** True when every layer has the same shape, so a stock Hugging Face config can describe the model. */
    public boolean isUniform() {
        return layers.stream().distinct().count() == 1;
    }

    /** The largest query-head count over layers (sizes shared buffers). */
    public int maxHeads() {
        return layers.stream().mapToInt(LayerShape::numHeads).max().orElse(0);
    }

    public int maxKvHeads() {
        return layers.stream().mapToInt(LayerShape::numKvHeads).max().orElse(0);
    }

    public int maxFfnDim() {
        return layers.stream().mapToInt(LayerShape::ffnDim).max().orElse(0);
    }

    /** Total parameter count, read from the tensor-role table (a tied LM head is counted once). */
    public long parameterCount() {
        long total = 0;
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(this)) continue;
            total += role.totalSize(this);
        }
        return total;
    }

    public ModelConfig withLayers(List<LayerShape> newLayers) {
        return new ModelConfig(architecture, dim, headDim, vocabSize, newLayers, normEps, ropeTheta, ropeScaling, maxSeqLen,
                tiedEmbeddings, attentionBias, bosId, eosId);
    }

    public ModelConfig withDim(int newDim) {
        return new ModelConfig(architecture, newDim, headDim, vocabSize, layers, normEps, ropeTheta, ropeScaling, maxSeqLen,
                tiedEmbeddings, attentionBias, bosId, eosId);
    }

    public ModelConfig withVocabSize(int newVocabSize) {
        return new ModelConfig(architecture, dim, headDim, newVocabSize, layers, normEps, ropeTheta, ropeScaling, maxSeqLen,
                tiedEmbeddings, attentionBias, bosId, eosId);
    }

    public ModelConfig withTokens(int newBosId, int newEosId) {
        return new ModelConfig(architecture, dim, headDim, vocabSize, layers, normEps, ropeTheta, ropeScaling, maxSeqLen,
                tiedEmbeddings, attentionBias, newBosId, newEosId);
    }

    /** A one-line summary: "dim 64, 5 layers, heads 8, kv heads 4, head dim 8, ffn 172, vocab 512". */
    public String describe() {
        String heads = isUniform() ? layers.getFirst().numHeads() + ", kv heads " + layers.getFirst().numKvHeads()
                + ", ffn " + layers.getFirst().ffnDim() : "per layer " + layers;
        return "dim " + dim + ", " + numLayers() + " layers, heads " + heads + ", head dim " + headDim + ", vocab " + vocabSize;
    }

    /** Whether two configs have the same tensors (names and shapes); hyper-parameters such as RoPE may differ. */
    public boolean sameTensorShapes(ModelConfig other) {
        return dim == other.dim && headDim == other.headDim && vocabSize == other.vocabSize && layers.equals(other.layers)
                && tiedEmbeddings == other.tiedEmbeddings && attentionBias == other.attentionBias;
    }

}
