package dev.shears.seq2seq;

import java.util.ArrayList;
import java.util.List;

/**
 * What the data-driven pruning criteria ({@link EncoderDecoderScores#activation}, {@link EncoderDecoderLayerScores}) read of one
 * calibration window's teacher-forced forward, alike for a T5 ({@link T5Pass}) and an OpenBA ({@link OpenBaPass}):
 * the two passes keep the same activations under the same names, and this view is all the criteria see of either.
 *
 * @param srcLen     encoder positions
 * @param tgtLen     decoder positions
 * @param encoder    per encoder layer (its cross-attention arrays empty)
 * @param decoder    per decoder layer
 * @param encoderOut  [srcLen, dim]: the encoder's final norm of its last layer's output
 * @param decoderOut  [tgtLen, dim]: the decoder's
 * @param encoderLast [srcLen, dim]: the encoder's last layer's output, the residual stream its final norm reads
 * @param decoderLast [tgtLen, dim]: the decoder's
 */
record WindowActivations(int srcLen, int tgtLen, List<Layer> encoder, List<Layer> decoder, float[] encoderOut, float[] decoderOut,
                         float[] encoderLast, float[] decoderLast) {
    /**
     * One layer's activations; rows are the stack's positions, {@code inner = heads·headDim} of the sub-layer.
     *
     * @param in          [rows, dim]: the residual stream entering the layer
     * @param selfNormed  [rows, dim]: the self-attention's normed input
     * @param selfCtx     [rows, inner]: what the self-attention's o reads
     * @param crossNormed [rows, dim]: the cross-attention's normed input (empty in the encoder)
     * @param crossCtx    [rows, inner]: what the cross-attention's o reads (empty in the encoder)
     * @param ffnNormed   [rows, dim]: the feed-forward's normed input
     * @param act         [rows, ffnDim]: what the feed-forward's down projection reads
     */
    record Layer(float[] in, float[] selfNormed, float[] selfCtx, float[] crossNormed, float[] crossCtx, float[] ffnNormed, float[] act) {
    }

    /** The activations of {@code window}'s teacher-forced forward ({@link T5#forwardWindow}, {@link OpenBa#forwardWindow}). */
    static WindowActivations forward(EncoderDecoder model, int[] window) {
        return switch (model) {
            case T5Model t5 -> of(T5.forwardWindow(t5, window));
            case OpenBaModel openBa -> of(OpenBa.forwardWindow(openBa, window));
        };
    }

    static WindowActivations of(T5Pass p) {
        List<Layer> encoder = new ArrayList<>();
        for (int l = 0; l < p.encoderSelf.size(); l++) {
            T5Pass.Attention self = p.encoderSelf.get(l);
            T5Pass.FeedForward ffn = p.encoderFfn.get(l);
            encoder.add(new Layer(self.in, self.normed, self.ctx, new float[0], new float[0], ffn.normed, ffn.act));
        }
        List<Layer> decoder = new ArrayList<>();
        for (int l = 0; l < p.decoderSelf.size(); l++) {
            T5Pass.Attention self = p.decoderSelf.get(l);
            T5Pass.Attention cross = p.decoderCross.get(l);
            T5Pass.FeedForward ffn = p.decoderFfn.get(l);
            decoder.add(new Layer(self.in, self.normed, self.ctx, cross.normed, cross.ctx, ffn.normed, ffn.act));
        }
        return new WindowActivations(p.srcLen, p.tgtLen, encoder, decoder, p.encoderOut, p.decoderOut, p.encoderLast, p.decoderLast);
    }

    static WindowActivations of(OpenBaPass p) {
        List<Layer> encoder = new ArrayList<>();
        for (int l = 0; l < p.encoderSelf.size(); l++) {
            OpenBaPass.Attention self = p.encoderSelf.get(l);
            OpenBaPass.FeedForward ffn = p.encoderFfn.get(l);
            encoder.add(new Layer(self.in, self.normed, self.ctx, new float[0], new float[0], ffn.normed, ffn.act));
        }
        List<Layer> decoder = new ArrayList<>();
        for (int l = 0; l < p.decoderSelf.size(); l++) {
            OpenBaPass.Attention self = p.decoderSelf.get(l);
            OpenBaPass.Attention cross = p.decoderCross.get(l);
            OpenBaPass.FeedForward ffn = p.decoderFfn.get(l);
            decoder.add(new Layer(self.in, self.normed, self.ctx, cross.normed, cross.ctx, ffn.normed, ffn.act));
        }
        return new WindowActivations(p.srcLen, p.tgtLen, encoder, decoder, p.encoderOut, p.decoderOut, p.encoderLast, p.decoderLast);
    }
}
