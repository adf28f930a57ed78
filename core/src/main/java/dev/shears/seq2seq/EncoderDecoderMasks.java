package dev.shears.seq2seq;

import java.util.Arrays;
import java.util.List;

/**
 * The gates of an encoder–decoder (T5, OpenBA) at every site where learned L0 masks act (Sheared-LLaMA,
 * METHODS.md §2, carried over to both stacks), or the gradients of the loss at those sites (same shapes):
 * <ul>
 *   <li>{@code hidden} [dim]: on the shared embedding's output in both stacks and on every sub-layer's output
 *       (one mask for both stacks and the embedding); the norms take their statistics over the channels whose
 *       gate is non-zero;</li>
 *   <li>per layer of each stack: {@code layer} [1] on the whole layer's residual contribution (every sub-layer's
 *       output), {@code heads} [numHeads] on each self-attention head's context before the output projection,
 *       {@code crossHeads} [crossHeads] the same for cross-attention (empty in the encoder), {@code ffn} [ffnDim]
 *       on the FFN's activation before the down projection.</li>
 * </ul>
 * With every gate 1 a forward is the unmasked one, bit for bit; with 0/1 gates it is the forward of the model
 * sliced to the units whose gate is 1.
 *
 * @param hidden  [dim]
 * @param encoder one entry per encoder layer
 * @param decoder one entry per decoder layer
 */
public record EncoderDecoderMasks(float[] hidden, List<Layer> encoder, List<Layer> decoder) {
    /**
     * One layer's gates.
     *
     * @param layer      [1]: the whole layer's gate
     * @param heads      [numHeads]
     * @param crossHeads [crossHeads]
     * @param ffn        [ffnDim]
     */
    public record Layer(float[] layer, float[] heads, float[] crossHeads, float[] ffn) {
        static Layer filled(EncoderDecoderConfig.Layer b, float value) {
            Layer l = new Layer(new float[1], new float[b.numHeads()], new float[b.crossHeads()], new float[b.ffnDim()]);
            l.fill(value);
            return l;
        }

        /** The layer gate's value. */
        public float gate() {
            return layer[0];
        }

        void fill(float value) {
            layer[0] = value;
            Arrays.fill(heads, value);
            Arrays.fill(crossHeads, value);
            Arrays.fill(ffn, value);
        }

        void multiply(Layer by) {
            times(layer, by.layer);
            times(heads, by.heads);
            times(crossHeads, by.crossHeads);
            times(ffn, by.ffn);
        }

        Layer copy() {
            return new Layer(layer.clone(), heads.clone(), crossHeads.clone(), ffn.clone());
        }
    }

    public EncoderDecoderMasks {
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
    }

    /** Multiplies every gate by {@code by}'s at the same site, in place (masks of one shape). */
    public void multiply(EncoderDecoderMasks by) {
        times(hidden, by.hidden);
        for (int l = 0; l < encoder.size(); l++) encoder.get(l).multiply(by.encoder.get(l));
        for (int l = 0; l < decoder.size(); l++) decoder.get(l).multiply(by.decoder.get(l));
    }

    private static void times(float[] into, float[] by) {
        for (int i = 0; i < into.length; i++) into[i] *= by[i];
    }

    /** Every gate 1: the unmasked model. */
    public static EncoderDecoderMasks ones(EncoderDecoderConfig c) {
        return filled(c, 1f);
    }

    /** Every site holding {@code value} (0 for a gradient buffer). */
    public static EncoderDecoderMasks filled(EncoderDecoderConfig c, float value) {
        float[] hidden = new float[c.dim()];
        Arrays.fill(hidden, value);
        return new EncoderDecoderMasks(hidden, c.encoder().stream().map(b -> Layer.filled(b, value)).toList(),
                c.decoder().stream().map(b -> Layer.filled(b, value)).toList());
    }

    /**
     * The 0/1 gates of a plan: 1 on every unit {@code plan} keeps, 0 elsewhere (a removed layer's gate 0, its units' gates
     * 1 as they no longer matter). Under these gates the forward is the forward of the model sliced to {@code plan}.
     */
    public static EncoderDecoderMasks of(EncoderDecoderPlan plan, EncoderDecoderConfig c) {
        EncoderDecoderMasks m = filled(c, 0f);
        for (int j : plan.hidden()) m.hidden[j] = 1f;
        mark(plan.encoder(), m.encoder);
        mark(plan.decoder(), m.decoder);
        return m;
    }

    private static void mark(List<EncoderDecoderPlan.Layer> plans, List<Layer> layers) {
        for (int l = 0; l < plans.size(); l++) {
            EncoderDecoderPlan.Layer p = plans.get(l);
            Layer m = layers.get(l);
            if (!p.kept()) {
                m.fill(1f);
                m.layer[0] = 0f;
                continue;
            }
            m.layer[0] = 1f;
            for (int h : p.heads()) m.heads[h] = 1f;
            for (int h : p.crossHeads()) m.crossHeads[h] = 1f;
            for (int i : p.ffn()) m.ffn[i] = 1f;
        }
    }

    /** Sets every site to {@code value}. */
    public void fill(float value) {
        Arrays.fill(hidden, value);
        for (Layer l : encoder) l.fill(value);
        for (Layer l : decoder) l.fill(value);
    }

    /** A deep copy. */
    public EncoderDecoderMasks copy() {
        return new EncoderDecoderMasks(hidden.clone(), encoder.stream().map(Layer::copy).toList(), decoder.stream().map(Layer::copy).toList());
    }

    /** The non-zero hidden gates: the channel count the masked norms divide by (at least 1). */
    public int keptChannels() {
        int kept = 0;
        for (float g : hidden) if (g != 0f) kept++;
        return Math.max(kept, 1);
    }
}
