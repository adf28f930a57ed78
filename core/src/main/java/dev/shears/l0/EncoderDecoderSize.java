package dev.shears.l0;

import dev.shears.l0.EncoderDecoderGates.Axis;
import dev.shears.l0.EncoderDecoderGates.Row;
import dev.shears.l0.EncoderDecoderGates.Stack;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.T5Config;

/**
 * The closed-form expected size of a sheared encoder–decoder under independent keep probabilities {@code p = P(z > 0)}
 * (Sheared-LLaMA's expected size, METHODS.md §2, for both stacks). The parameter count of an encoder–decoder is, with
 * D the kept hidden channels and, per layer, U_a the kept units of axis a (heads, cross heads, neurons),
 * <pre>
 *   constant + D·perHidden + Σ_stack Σ_kept layers ( D·layerHidden + Σ_a U_a·(perUnitHidden_a·D + perUnit_a) )
 * </pre>
 * ({@link Costs}, read from each architecture's tensors: {@link T5Config#parameterCount}, {@link OpenBaConfig#parameterCount}).
 * Every term is a product of sums over distinct gates, so its expectation is the product of the expected sums:
 * {@code E[D] = Σ_j p_hidden[j]}, {@code E[U_a] = Σ_i p_a[i]}, a layer kept with its layer gate's probability. At 0/1
 * probabilities this is the parameter count of the child the plan of those gates cuts.
 */
public final class EncoderDecoderSize {
    private EncoderDecoderSize() {
    }

    /**
     * What each unit costs in parameters.
     *
     * @param constant    parameters no gate touches (T5's relative bias tables, an LM-head bias)
     * @param perHidden   parameters per hidden channel outside the layers (embedding, an untied head, final norms)
     * @param encoder     per encoder layer
     * @param decoder     per decoder layer
     */
    public record Costs(double constant, double perHidden, LayerCosts encoder, LayerCosts decoder) {
    }

    /**
     * One layer's costs: {@code D·hidden + heads·(headHidden·D + head) + cross·(crossHidden·D + cross) + ffn·(ffnHidden·D + ffn)}.
     */
    public record LayerCosts(double hidden, double headHidden, double head, double crossHidden, double cross, double ffnHidden, double ffn) {
    }

    /** The costs of an architecture's tensors. */
    public static Costs costs(EncoderDecoderConfig config) {
        return switch (config) {
            case T5Config c -> {
                double attention = 4.0 * c.headDim(), ffn = c.feedForward().gated() ? 3 : 2;
                // every sub-layer has one norm weight [dim]; q, k, v [heads·headDim, dim] and o [dim, heads·headDim]
                yield new Costs(2.0 * c.numBuckets() * c.biasHeads(), c.vocabSize() * (c.tiedEmbeddings() ? 1.0 : 2.0) + 2,
                        new LayerCosts(2, attention, 0, 0, 0, ffn, 0), new LayerCosts(3, attention, 0, attention, 0, ffn, 0));
            }
            case OpenBaConfig c -> {
                double hd = c.headDim(), bias = c.qkvBias() ? 1 : 0;
                // LayerNorms carry weight and bias [dim]; qkv [3·inner, dim] (+ bias), o [dim, inner] (+ bias [dim]);
                // cross: q [inner, dim], kv [2·inner, dim] (+ biases); fc_in [2·ffn, dim], fc_out [dim, ffn]
                yield new Costs(c.lmHeadBias() ? c.vocabSize() : 0, c.vocabSize() * (c.tiedEmbeddings() ? 1.0 : 2.0) + 4,
                        new LayerCosts(4 + bias, 4 * hd, 3 * hd * bias, 0, 0, 3, 0),
                        new LayerCosts(6 + 2 * bias, 4 * hd, 3 * hd * bias, 4 * hd, 3 * hd * bias, 3, 0));
            }
        };
    }

    /** Expected parameter count of the sheared model under keep probabilities {@code keep} (flat, as the gates). */
    public static double parameters(EncoderDecoderGates gates, double[] keep) {
        EncoderDecoderConfig c = gates.parent();
        Costs costs = costs(c);
        double d = sum(keep, gates.row(Axis.HIDDEN));
        double total = costs.constant() + d * costs.perHidden();
        Row encoderLayers = gates.row(Axis.ENCODER_LAYER), decoderLayers = gates.row(Axis.DECODER_LAYER);
        for (int l = 0; l < c.encoder().size(); l++) {
            double heads = sum(keep, gates.row(Axis.HEAD, Stack.ENCODER, l)), ffn = sum(keep, gates.row(Axis.FFN, Stack.ENCODER, l));
            total += keep[encoderLayers.offset() + l] * layer(costs.encoder(), d, heads, 0, ffn);
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            double heads = sum(keep, gates.row(Axis.HEAD, Stack.DECODER, l)), cross = sum(keep, gates.row(Axis.CROSS_HEAD, Stack.DECODER, l));
            double ffn = sum(keep, gates.row(Axis.FFN, Stack.DECODER, l));
            total += keep[decoderLayers.offset() + l] * layer(costs.decoder(), d, heads, cross, ffn);
        }
        return total;
    }

    private static double layer(LayerCosts k, double d, double heads, double cross, double ffn) {
        return d * k.hidden() + heads * (k.headHidden() * d + k.head()) + cross * (k.crossHidden() * d + k.cross()) + ffn * (k.ffnHidden() * d + k.ffn());
    }

    /** ŝ_r of one row: {@code 1 − Σ p / units}. */
    public static double rowSparsity(double[] keep, Row r) {
        return 1 - sum(keep, r) / r.units();
    }

    /** ŝ of an axis for reports: the mean of its rows' {@link #rowSparsity}. */
    public static double sparsity(EncoderDecoderGates gates, double[] keep, Axis axis) {
        return gates.rows(axis).stream().mapToDouble(r -> rowSparsity(keep, r)).average().orElse(0);
    }

    /** The final target sparsity of an axis for reports: the mean of its rows' targets. */
    public static double targetSparsity(EncoderDecoderGates gates, Axis axis) {
        return gates.rows(axis).stream().mapToDouble(Row::targetSparsity).average().orElse(0);
    }

    private static double sum(double[] x, Row r) {
        double s = 0;
        for (int i = r.offset(); i < r.offset() + r.units(); i++) s += x[i];
        return s;
    }
}
