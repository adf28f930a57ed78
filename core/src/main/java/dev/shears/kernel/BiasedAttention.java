package dev.shears.kernel;

import dev.shears.tensor.Parallel;

/**
 * Multi-head attention with an additive bias and no {@code 1/√headDim} scaling, as Hugging Face
 * {@code T5Attention}: {@code ctx = softmax(q·kᵀ + bias [+ masks]) · v} per sequence and head (T5
 * folds the scaling into the initialisation of q; Raffel et al. 2020, Mesh TensorFlow). Masked keys get
 * probability 0, as the {@code -inf} (causal) or the dtype's lowest value (padding) Hugging Face adds to
 * their scores. Queries and keys may come from different sequences (cross-attention: keys of length kLen
 * from the encoder).
 *
 * <p>Plain loops, one (head, sequence) at a time, each sum in index order; work is split over heads only,
 * so the results are the same bits for any thread count.
 */
public final class BiasedAttention {
    /** Which keys a query may see, besides padding: all, or those at or before its own position (qLen = kLen). */
    public enum Mask { NONE, CAUSAL }

    private BiasedAttention() {
    }

    /**
     * @param ctx   [batch·qLen, heads·headDim], overwritten
     * @param probs [batch, heads, qLen, kLen], overwritten: the softmax, kept for the backward pass
     * @param q     [batch·qLen, heads·headDim]
     * @param k     [batch·kLen, heads·headDim]
     * @param v     [batch·kLen, heads·headDim]
     * @param bias       [heads, qLen, kLen], the same for every sequence of the batch
     * @param keyVisible [batch, kLen]: false where a key is padding; every query must see at least one key
     */
    public static void forward(float[] ctx, float[] probs, float[] q, float[] k, float[] v, float[] bias, Mask mask,
                               boolean[] keyVisible, int batch, int qLen, int kLen, int heads, int headDim) {
        int width = heads * headDim;
        Parallel.forEach(heads, h -> {
            double[] row = new double[kLen];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < qLen; i++) {
                    int qo = (b * qLen + i) * width + h * headDim;
                    int limit = mask == Mask.CAUSAL ? Math.min(i + 1, kLen) : kLen;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < limit; j++) {
                        if (!keyVisible[b * kLen + j]) continue;
                        int ko = (b * kLen + j) * width + h * headDim;
                        double s = bias[(h * qLen + i) * kLen + j];
                        for (int c = 0; c < headDim; c++) s += (double) q[qo + c] * k[ko + c];
                        row[j] = s;
                        max = Math.max(max, s);
                    }
                    if (max == Double.NEGATIVE_INFINITY) throw new IllegalArgumentException("query " + i + " of sequence " + b + " sees no key");
                    double sum = 0;
                    for (int j = 0; j < limit; j++) {
                        row[j] = keyVisible[b * kLen + j] ? Math.exp(row[j] - max) : 0;
                        sum += row[j];
                    }
                    int po = ((b * heads + h) * qLen + i) * kLen;
                    for (int j = 0; j < kLen; j++) probs[po + j] = j < limit ? (float) (row[j] / sum) : 0f;
                    for (int c = 0; c < headDim; c++) {
                        double acc = 0;
                        for (int j = 0; j < limit; j++) acc += (double) probs[po + j] * v[(b * kLen + j) * width + h * headDim + c];
                        ctx[qo + c] = (float) acc;
                    }
                }
            }
        });
    }

    /**
     * Backward of {@link #forward} (masked keys have p = 0, so they take no gradient). With {@code p} the saved softmax: {@code dv_j += Σ_i p_ij·dctx_i},
     * {@code ds_ij = p_ij·(dctx_i·v_j − Σ_j' p_ij'·dctx_i·v_j')}, {@code dq_i += Σ_j ds_ij·k_j},
     * {@code dk_j += Σ_i ds_ij·q_i} and {@code dBias[h,i,j] += Σ_batch ds_ij}. Accumulates.
     *
     * @param dQ    [batch·qLen, heads·headDim], accumulated into
     * @param dK    [batch·kLen, heads·headDim], accumulated into
     * @param dV    [batch·kLen, heads·headDim], accumulated into
     * @param dBias [heads, qLen, kLen], accumulated into
     * @param dCtx  [batch·qLen, heads·headDim]
     * @param probs [batch, heads, qLen, kLen], from the forward pass
     */
    public static void backward(float[] dQ, float[] dK, float[] dV, float[] dBias, float[] dCtx, float[] probs,
                                float[] q, float[] k, float[] v, int batch, int qLen, int kLen, int heads, int headDim) {
        int width = heads * headDim;
        Parallel.forEach(heads, h -> {
            double[] dScore = new double[kLen];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < qLen; i++) {
                    int qo = (b * qLen + i) * width + h * headDim;
                    int po = ((b * heads + h) * qLen + i) * kLen;
                    double dot = 0;
                    for (int j = 0; j < kLen; j++) {
                        int vo = (b * kLen + j) * width + h * headDim;
                        double dp = 0;
                        for (int c = 0; c < headDim; c++) {
                            dp += (double) dCtx[qo + c] * v[vo + c];
                            dV[vo + c] += probs[po + j] * dCtx[qo + c];
                        }
                        dScore[j] = dp;
                        dot += probs[po + j] * dp;
                    }
                    for (int j = 0; j < kLen; j++) {
                        float ds = (float) (probs[po + j] * (dScore[j] - dot));
                        int ko = (b * kLen + j) * width + h * headDim;
                        dBias[(h * qLen + i) * kLen + j] += ds;
                        for (int c = 0; c < headDim; c++) {
                            dQ[qo + c] += ds * k[ko + c];
                            dK[ko + c] += ds * q[qo + c];
                        }
                    }
                }
            }
        });
    }
}
