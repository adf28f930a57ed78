package dev.shears.seq2seq;

/**
 * What a forward pass of either encoder–decoder keeps around its stacks ({@link T5Pass}, {@link OpenBaPass}):
 * the batch shape, the token ids of both stacks, the residual streams entering the final norms, and the head's
 * input and output. Rows are {@code src = batch·srcLen} encoder positions or {@code tgt = batch·tgtLen} decoder
 * positions. The sub-layers' activations, which differ per architecture, are the subclasses'.
 */
public abstract sealed class EncoderDecoderPass permits T5Pass, OpenBaPass {
    final int batch;
    final int srcLen;
    final int tgtLen;
    final int[] inputIds;        // [src]
    final int[] decoderIds;      // [tgt]: labels shifted right behind decoder_start_token_id, -100 → pad
    float[] encoderLast;         // [src, dim], the input of the encoder's final norm
    final float[] encoderOut;    // [src, dim], what cross-attention reads
    float[] decoderLast;         // [tgt, dim], the input of the decoder's final norm
    final float[] decoderOut;    // [tgt, dim], normed
    final float[] headIn;        // [tgt, dim], decoderOut · headScale
    final float[] logits;        // [tgt, vocabSize]

    EncoderDecoderPass(int dim, int vocabSize, int batch, int srcLen, int tgtLen, int[] inputIds, int[] decoderIds) {
        this.batch = batch;
        this.srcLen = srcLen;
        this.tgtLen = tgtLen;
        this.inputIds = inputIds;
        this.decoderIds = decoderIds;
        encoderOut = new float[batch * srcLen * dim];
        decoderOut = new float[batch * tgtLen * dim];
        headIn = new float[batch * tgtLen * dim];
        logits = new float[batch * tgtLen * vocabSize];
    }

    /** [batch·tgtLen, vocabSize]: the LM head's output for every decoder position. */
    public float[] logits() {
        return logits;
    }

    /** [batch·tgtLen]: the decoder's inputs (labels shifted right). */
    public int[] decoderIds() {
        return decoderIds.clone();
    }

    /** [batch·srcLen]: where the attention mask is 1; each sequence needs one token. */
    static boolean[] visible(int[] attentionMask, int batch, int srcLen) {
        if (attentionMask.length != batch * srcLen) throw new IllegalArgumentException(attentionMask.length + " mask entries for batch " + batch + " × srcLen " + srcLen);
        boolean[] visible = new boolean[attentionMask.length];
        for (int b = 0; b < batch; b++) {
            boolean any = false;
            for (int i = b * srcLen; i < (b + 1) * srcLen; i++) {
                if (attentionMask[i] != 0 && attentionMask[i] != 1) throw new IllegalArgumentException("attention mask value " + attentionMask[i] + " at " + i + " is neither 0 nor 1");
                visible[i] = attentionMask[i] == 1;
                any |= visible[i];
            }
            if (!any) throw new IllegalArgumentException("sequence " + b + " of the batch is all padding");
        }
        return visible;
    }
}
