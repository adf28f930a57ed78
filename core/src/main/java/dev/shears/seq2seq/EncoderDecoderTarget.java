package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.prune.Criterion;
import dev.shears.prune.PlanBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The shape to prune a T5 or an OpenBA to in one shot: fractions of each axis to remove (of every layer's own width, so
 * a non-uniform parent stays proportionally so; every kept layer keeps at least one unit of each kind) and
 * the number of layers each stack keeps. Which layers go is the {@link EncoderDecoderLayerScores}' choice: under Jha et al.'s
 * data-free rule ({@link Criterion#EVERY_K}), of n layers, dropping k removes layers round((i+1)·n/(k+1)) for i &lt; k,
 * evenly spaced, layer 0 always kept; under Gromov et al.'s ({@link Criterion#ANGULAR}) the k consecutive layers from the
 * lowest-scoring start ({@link PlanBuilder#contiguousRun}); under any other criterion the k lowest-scoring layers.
 *
 * @param heads         fraction of self- and cross-attention heads to remove, in [0, 1)
 * @param ffn           fraction of FFN neurons to remove, in [0, 1)
 * @param hidden        fraction of hidden channels (d_model) to remove, in [0, 1)
 * @param encoderLayers encoder layers to keep (all when empty)
 * @param decoderLayers decoder layers to keep (all when empty)
 */
public record EncoderDecoderTarget(double heads, double ffn, double hidden, OptionalInt encoderLayers, OptionalInt decoderLayers) {
    public EncoderDecoderTarget {
        fraction("--heads", heads);
        fraction("--ffn", ffn);
        fraction("--hidden", hidden);
    }

    /** Whether the target removes nothing. */
    public boolean isEmpty() {
        return heads == 0 && ffn == 0 && hidden == 0 && encoderLayers.isEmpty() && decoderLayers.isEmpty();
    }

    /** {@link #plan(T5Config, EncoderDecoderScores, EncoderDecoderLayerScores)} with evenly spaced layers removed. */
    public EncoderDecoderPlan plan(T5Config parent, EncoderDecoderScores scores) {
        return plan(parent, scores, EncoderDecoderLayerScores.everyK(parent));
    }

    /** The plan that keeps the top-scoring units of every axis; the vocabulary is whole. A target {@code parent} cannot take is a one-line error. */
    public EncoderDecoderPlan plan(T5Config parent, EncoderDecoderScores scores, EncoderDecoderLayerScores layerScores) {
        EncoderDecoderPlan plan = plan(EncoderDecoderPlan.keepAll(parent), parent.encoder(), parent.decoder(), scores, layerScores);
        plan.validate(parent);
        return plan;
    }

    /** The same for an OpenBA, whose axes are T5's. */
    public EncoderDecoderPlan plan(OpenBaConfig parent, EncoderDecoderScores scores, EncoderDecoderLayerScores layerScores) {
        EncoderDecoderPlan plan = plan(EncoderDecoderPlan.keepAll(parent), parent.encoder(), parent.decoder(), scores, layerScores);
        plan.validate(parent);
        return plan;
    }

    private EncoderDecoderPlan plan(EncoderDecoderPlan all, List<? extends EncoderDecoderConfig.Layer> encoder, List<? extends EncoderDecoderConfig.Layer> decoder, EncoderDecoderScores scores, EncoderDecoderLayerScores layerScores) {
        boolean[] encoderDropped = dropped(layerScores.encoder(), layerScores.criterion(), encoderLayers, "--enc-layers", "encoder");
        boolean[] decoderDropped = dropped(layerScores.decoder(), layerScores.criterion(), decoderLayers, "--dec-layers", "decoder");
        int[] keptHidden = PlanBuilder.topK(scores.hidden(), kept(all.hidden().length, hidden));
        return new EncoderDecoderPlan(keptHidden, layers(encoder, scores.encoder(), encoderDropped), layers(decoder, scores.decoder(), decoderDropped), all.vocab());
    }

    private List<EncoderDecoderPlan.Layer> layers(List<? extends EncoderDecoderConfig.Layer> blocks, List<EncoderDecoderScores.Layer> scores, boolean[] dropped) {
        List<EncoderDecoderPlan.Layer> out = new ArrayList<>();
        for (int l = 0; l < blocks.size(); l++) {
            EncoderDecoderConfig.Layer b = blocks.get(l);
            EncoderDecoderScores.Layer s = scores.get(l);
            out.add(dropped[l] ? EncoderDecoderPlan.Layer.removed() : EncoderDecoderPlan.Layer.of(PlanBuilder.topK(s.heads(), kept(b.numHeads(), heads)),
                    PlanBuilder.topK(s.crossHeads(), kept(b.crossHeads(), heads)), PlanBuilder.topK(s.ffn(), kept(b.ffnDim(), ffn))));
        }
        return out;
    }

    /** Units kept of {@code units} when {@code removed} of them go: rounded, at least one of a non-empty axis. */
    public static int kept(int units, double removed) {
        return units == 0 ? 0 : Math.max(1, (int) Math.round(units * (1 - removed)));
    }

    private static boolean[] dropped(double[] scores, Criterion criterion, OptionalInt keep, String option, String stack) {
        int n = scores.length;
        boolean[] dropped = new boolean[n];
        int k = keep.orElse(n);
        if (k < 1 || k > n) throw new ShearsException(option + " " + k + " must keep 1.." + n + " " + stack + " layers");
        int drop = n - k;
        if (criterion == Criterion.EVERY_K) {
            for (int i = 0; i < drop; i++) dropped[(int) Math.round((i + 1) * (double) n / (drop + 1))] = true;
        } else if (criterion == Criterion.ANGULAR) {
            return PlanBuilder.contiguousRun(scores, drop);
        } else {
            for (int l : PlanBuilder.bottomK(scores, drop)) dropped[l] = true;
        }
        return dropped;
    }

    private static void fraction(String option, double f) {
        if (!(f >= 0 && f < 1)) throw new ShearsException(option + " must be a fraction to remove in [0, 1), got " + f);
    }
}
