package dev.shears.model;

/**
 * Floating-point operations of the model, counted as in the PaLM paper's appendix B (and nanoGPT's
 * MFU estimate): a multiply-add is 2 FLOPs; the forward pass costs {@code 2 × matmul parameters}
 * per token plus causal attention {@code 4 × numHeads × headDim × (average attended positions)} per
 * layer; training (forward + backward) costs 3 × forward. Norms, RoPE, SwiGLU and softmax are ignored.
 */
public final class Flops {
    private Flops() {
    }

    /** Forward FLOPs per token for sequences of {@code seqLen} tokens. */
    public static double forwardPerToken(ModelConfig c, int seqLen) {
        double matmul = 0;
        for (TensorRole role : TensorRole.values()) {
            if (role.rank() != 2 || role == TensorRole.EMBEDDING) continue;
            matmul += role.totalSize(c);
        }
        if (c.tiedEmbeddings()) matmul += (double) c.vocabSize() * c.dim();
        double attended = (seqLen + 1) / 2.0;
        double attention = 0;
        for (LayerShape s : c.layers()) attention += 4.0 * s.numHeads() * c.headDim() * attended;
        return 2 * matmul + attention;
    }

    /** Forward + backward FLOPs per token. */
    public static double trainingPerToken(ModelConfig c, int seqLen) {
        return 3 * forwardPerToken(c, seqLen);
    }
}
