package dev.shears.model;

import dev.shears.kernel.RopeTable;

/**
 * Every buffer the forward pass writes, allocated once per (batch size, sequence length). In
 * {@link Mode#TRAINING} each layer keeps its own buffers (the backward pass reads them); in
 * {@link Mode#INFERENCE} all layers share one set and attention keeps no probabilities, which is
 * what scoring and generation need. Buffers are sized for the widest layer.
 */
public final class Activations {
    /** Whether per-layer activations are kept for a backward pass. */
    public enum Mode { INFERENCE, TRAINING }

    public final Mode mode;
    public final int batchSize;
    public final int seqLen;
    /** Residual stream [B*T, dim]; after the forward pass, the input of the final norm. */
    public final float[] residual;
    /** Final RMSNorm output [B*T, dim] ([logitRows, dim] for {@link #forPacked}). */
    public final float[] finalNorm;
    /** [B*T] ([logitRows] for {@link #forPacked}) */
    public final float[] finalRstd;
    /** [B*T, vocabSize] ([logitRows, vocabSize] for {@link #forPacked}) */
    public final float[] logits;
    /** Rotary tables for this model's head width and scaling. */
    public final RopeTable rope;
    private final Layer[] layers;
    private final Gradients gradients;

    /** Gradient buffers of the backward pass (training mode only), shared by all layers. */
    public static final class Gradients {
        /** [B*T, vocabSize] */
        public final float[] logits;
        /** Gradient of the residual stream [B*T, dim]. */
        public final float[] residual;
        /** [B*T, dim] */
        public final float[] norm;
        /** [B*T, dim] */
        public final float[] block;
        /** [B*T, numHeads*headDim] */
        public final float[] query;
        /** [B*T, numKvHeads*headDim] */
        public final float[] key;
        /** [B*T, numKvHeads*headDim] */
        public final float[] value;
        /** [B*T, numHeads*headDim] */
        public final float[] context;
        /** [B*T, ffnDim] */
        public final float[] gate;
        /** [B*T, ffnDim] */
        public final float[] up;
        /** [B*T, ffnDim] */
        public final float[] hidden;
        /** [dim]: where norm weight gradients go when only gate gradients are wanted. */
        final float[] discarded;

        Gradients(ModelConfig c, int rows) {
            int q = c.maxHeads() * c.headDim();
            int kv = c.maxKvHeads() * c.headDim();
            int ffn = c.maxFfnDim();
            logits = new float[Math.multiplyExact(rows, c.vocabSize())];
            residual = new float[rows * c.dim()];
            norm = new float[rows * c.dim()];
            block = new float[rows * c.dim()];
            query = new float[rows * q];
            key = new float[rows * kv];
            value = new float[rows * kv];
            context = new float[rows * q];
            gate = new float[rows * ffn];
            up = new float[rows * ffn];
            hidden = new float[rows * ffn];
            discarded = new float[c.dim()];
        }
    }

    /** The buffers of one decoder layer; shapes use the widest layer's widths. */
    public static final class Layer {
        /** Residual stream entering the layer [B*T, dim]. */
        public final float[] input;
        /** [B*T, dim] */
        public final float[] attentionNorm;
        /** [B*T] */
        public final float[] attentionRstd;
        /** [B*T, numHeads*headDim], after RoPE */
        public final float[] query;
        /** [B*T, numKvHeads*headDim], after RoPE */
        public final float[] key;
        /** [B*T, numKvHeads*headDim] */
        public final float[] value;
        /** TRAINING: [B, numHeads, T, T]; INFERENCE: per-head scratch [numHeads, T]. */
        public final float[] probs;
        /** Attention context before the output projection and the head gates [B*T, numHeads*headDim]. */
        public final float[] context;
        /** The context after the head gates (the same array as {@link #context} in inference mode). */
        public final float[] gatedContext;
        /** Output projection, before the block gates [B*T, dim]. */
        public final float[] attentionOut;
        /** Residual stream after the attention block [B*T, dim]. */
        public final float[] middle;
        /** [B*T, dim] */
        public final float[] ffnNorm;
        /** [B*T] */
        public final float[] ffnRstd;
        /** [B*T, ffnDim] */
        public final float[] gate;
        /** [B*T, ffnDim] */
        public final float[] up;
        /** silu(gate)·up, before the neuron gates [B*T, ffnDim] */
        public final float[] hidden;
        /** The FFN activation after the neuron gates (the same array as {@link #hidden} in inference mode). */
        public final float[] gatedHidden;
        /** Down projection, before the block gates [B*T, dim]. */
        public final float[] ffnOut;

        Layer(ModelConfig c, int rows, int batchSize, int seqLen, Mode mode) {
            int dim = c.dim();
            int q = c.maxHeads() * c.headDim();
            int kv = c.maxKvHeads() * c.headDim();
            int ffn = c.maxFfnDim();
            input = new float[rows * dim];
            attentionNorm = new float[rows * dim];
            attentionRstd = new float[rows];
            query = new float[rows * q];
            key = new float[rows * kv];
            value = new float[rows * kv];
            probs = mode == Mode.TRAINING
                    ? new float[Math.multiplyExact(Math.multiplyExact(batchSize * c.maxHeads(), seqLen), seqLen)]
                    : new float[0]; // inference attention keeps no probabilities
            context = new float[rows * q];
            gatedContext = mode == Mode.TRAINING ? new float[rows * q] : context;
            attentionOut = new float[rows * dim];
            middle = new float[rows * dim];
            ffnNorm = new float[rows * dim];
            ffnRstd = new float[rows];
            gate = new float[rows * ffn];
            up = new float[rows * ffn];
            hidden = new float[rows * ffn];
            gatedHidden = mode == Mode.TRAINING ? new float[rows * ffn] : hidden;
            ffnOut = new float[rows * dim];
        }
    }

    private Activations(ModelConfig config, int batchSize, int seqLen, Mode mode) {
        this(config, batchSize, seqLen, mode, mode == Mode.TRAINING ? config.numLayers() : 1, Math.multiplyExact(batchSize, seqLen));
    }

    /** @param logitRows rows of the final norm and logits buffers */
    private Activations(ModelConfig config, int batchSize, int seqLen, Mode mode, int layerSets, int logitRows) {
        if (batchSize < 1 || seqLen < 1) throw new IllegalArgumentException("batch " + batchSize + " × seqLen " + seqLen);
        if (logitRows < 1) throw new IllegalArgumentException("logit rows " + logitRows);
        this.mode = mode;
        this.batchSize = batchSize;
        this.seqLen = seqLen;
        int rows = Math.multiplyExact(batchSize, seqLen);
        residual = new float[rows * config.dim()];
        finalNorm = new float[logitRows * config.dim()];
        finalRstd = new float[logitRows];
        logits = new float[Math.multiplyExact(logitRows, config.vocabSize())];
        rope = new RopeTable(config.ropeScaling().inverseFrequencies(config.headDim(), config.ropeTheta()));
        layers = new Layer[layerSets];
        for (int l = 0; l < layers.length; l++) layers[l] = new Layer(config, rows, batchSize, seqLen, mode);
        gradients = mode == Mode.TRAINING ? new Gradients(config, rows) : null;
    }

    public static Activations forInference(ModelConfig config, int batchSize, int seqLen) {
        return new Activations(config, batchSize, seqLen, Mode.INFERENCE);
    }

    public static Activations forTraining(ModelConfig config, int batchSize, int seqLen) {
        return new Activations(config, batchSize, seqLen, Mode.TRAINING);
    }

    /**
     * Training buffers for one layer at a time ({@link Transformer#layerForward} then
     * {@link Transformer#layerBackward} of the same layer): memory for one layer, whatever the depth.
     */
    public static Activations forLayerwise(ModelConfig config, int batchSize, int seqLen) {
        return new Activations(config, batchSize, seqLen, Mode.TRAINING, 1, Math.multiplyExact(batchSize, seqLen));
    }

    /**
     * Inference buffers for {@link Transformer#forwardPacked}: {@code rows} packed rows (batch 1 × rows), and
     * final norm and logits for only {@code logitRows} of them at a time ({@link Transformer#packedLogits}),
     * since a pass packs many more rows than it scores at once.
     */
    public static Activations forPacked(ModelConfig config, int rows, int logitRows) {
        return new Activations(config, 1, rows, Mode.INFERENCE, 1, logitRows);
    }

    /** Rows of the final norm and logits buffers ({@link #rows()} except for {@link #forPacked}). */
    public int logitRows() {
        return finalRstd.length;
    }

    /** The buffers of layer {@code l} (one set shared by all layers in inference and layerwise modes). */
    public Layer layer(int l) {
        return layers[layers.length == 1 ? 0 : l];
    }

    /** The backward buffers; training mode only. */
    public Gradients gradients() {
        if (gradients == null) throw new IllegalStateException("inference activations have no gradient buffers");
        return gradients;
    }

    public int rows() {
        return batchSize * seqLen;
    }
}
