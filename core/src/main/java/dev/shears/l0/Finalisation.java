package dev.shears.l0;

import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.SubLayer;
import dev.shears.model.TensorRole;
import dev.shears.prune.IndexSets;
import dev.shears.prune.LayerPlan;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.Slicer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Turns learned gates into a smaller model of exactly the target shape (Sheared-LLaMA, METHODS.md §2):
 * <ol>
 *   <li>deterministic scores {@code σ(logAlpha/β·0.8)}, then top-k per row so every layer lands on the
 *       target: layers by their layer gate, and among kept layers the sub-layers a target also removes by
 *       their sub-layer gates ({@link LayerGates#LAYER}); or, with {@link LayerGates#SUB_LAYERS}, attention
 *       and FFN sub-layers each by their own gates (a layer keeping neither is removed), so no sub-layer
 *       whose gate is off is kept while one that is on is dropped; hidden channels; per kept layer the
 *       best key/value groups, then the best query heads inside each kept group (so GQA stays valid);
 *       FFN neurons;</li>
 *   <li>the deterministic gates: the score on kept units, 0 on dropped ones ({@link #masks});</li>
 *   <li>the gate values folded into adjacent weights ({@link #fold}), so no gate is needed any more;</li>
 *   <li>the dropped units sliced away by the {@link Slicer}.</li>
 * </ol>
 * The finalised model gives the logits of the parent under the deterministic gates.
 */
public final class Finalisation {
    private Finalisation() {
    }

    /** The kept units: top-k of the deterministic scores in every row, at the target counts. */
    public static PruningPlan plan(L0Gates gates) {
        ModelConfig c = gates.parent();
        PruneTarget t = gates.target();
        double[] s = gates.scores();
        int n = c.numLayers();
        double[] attn = existing(row(s, gates, Axis.ATTENTION_LAYER, 0), gates, Axis.ATTENTION_LAYER);
        double[] ffnLayer = existing(row(s, gates, Axis.FFN_LAYER, 0), gates, Axis.FFN_LAYER);
        boolean[] keptLayer, noAttention, noFfn;
        if (gates.layerGates() == LayerGates.LAYER) {
            keptLayer = mark(n, topK(row(s, gates, Axis.LAYER, 0), t.kept(Axis.LAYER)));
            noAttention = dropAmong(attn, keptLayer, t.dropped(SubLayer.ATTENTION));
            noFfn = dropAmong(ffnLayer, keptLayer, t.dropped(SubLayer.FFN));
        } else {
            boolean[] keepAttention = mark(n, topK(attn, Math.min(t.kept(Axis.ATTENTION_LAYER), gates.countedUnits(Axis.ATTENTION_LAYER, 0))));
            boolean[] keepFfn = mark(n, topK(ffnLayer, Math.min(t.kept(Axis.FFN_LAYER), gates.countedUnits(Axis.FFN_LAYER, 0))));
            keptLayer = new boolean[n];
            noAttention = new boolean[n];
            noFfn = new boolean[n];
            for (int l = 0; l < n; l++) {
                keptLayer[l] = keepAttention[l] || keepFfn[l];
                noAttention[l] = !keepAttention[l];
                noFfn[l] = !keepFfn[l];
            }
        }
        int[] hidden = topK(row(s, gates, Axis.HIDDEN, 0), t.kept(Axis.HIDDEN));
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            if (!keptLayer[l]) {
                layers.add(LayerPlan.removed());
                continue;
            }
            LayerShape shape = c.layer(l);
            int[] kv = new int[0], heads = new int[0], ffn = new int[0];
            if (shape.hasAttention() && !noAttention[l]) {
                kv = topK(row(s, gates, Axis.KV_HEAD, l), t.kept(Axis.KV_HEAD));
                double[] headScores = row(s, gates, Axis.HEAD, l);
                int group = shape.groupSize(), per = t.headsPerGroup();
                heads = new int[kv.length * per];
                for (int g = 0; g < kv.length; g++) {
                    int[] best = topK(Arrays.copyOfRange(headScores, kv[g] * group, (kv[g] + 1) * group), per);
                    for (int i = 0; i < per; i++) heads[g * per + i] = kv[g] * group + best[i];
                }
            }
            if (shape.hasFfn() && !noFfn[l]) ffn = topK(row(s, gates, Axis.FFN, l), t.kept(Axis.FFN));
            layers.add(LayerPlan.of(Map.of(Axis.HEAD, heads, Axis.KV_HEAD, kv, Axis.FFN, ffn)));
        }
        PruningPlan plan = new PruningPlan(hidden, layers, IndexSets.range(c.vocabSize()));
        plan.validate(c);
        return plan;
    }

    /** The deterministic gates of a plan: each kept unit's score (a head: group score × head score), 0 elsewhere. */
    public static MaskSet masks(L0Gates gates, PruningPlan plan) {
        double[] s = gates.scores();
        double[] values = new double[s.length];
        keep(values, s, gates.offset(Axis.HIDDEN, 0), plan.hidden());
        int n = gates.parent().numLayers();
        for (int l = 0; l < n; l++) {
            LayerPlan p = plan.layers().get(l);
            if (!p.kept()) continue;
            keep(values, s, gates.offset(Axis.KV_HEAD, l), p.kept(Axis.KV_HEAD));
            keep(values, s, gates.offset(Axis.HEAD, l), p.kept(Axis.HEAD));
            keep(values, s, gates.offset(Axis.FFN, l), p.kept(Axis.FFN));
            keep(values, s, gates.offset(Axis.LAYER, 0), new int[] {l});
            if (p.count(Axis.HEAD) > 0) keep(values, s, gates.offset(Axis.ATTENTION_LAYER, 0), new int[] {l});
            if (p.count(Axis.FFN) > 0) keep(values, s, gates.offset(Axis.FFN_LAYER, 0), new int[] {l});
        }
        return gates.write(values).copy(); // the gates' buffer is reused by the next sample
    }

    /**
     * Folds gate values into a copy of the weights so the ungated copy computes what the gated parent does:
     * <ul>
     *   <li>hidden gate g_j: column j of the embedding, row j of every output and down projection (the
     *       residual stream then carries exactly the gated values, so every RMSNorm sees the same input);
     *       with a tied LM head the embedding is also the LM head, so the final norm weight is divided by g_j;</li>
     *   <li>head gate m_h and attention sub-layer gate (its layer gate included): the output projection's columns of head h and all its rows;</li>
     *   <li>neuron gate and FFN sub-layer gate (its layer gate included): the down projection's column of the neuron and all its rows.</li>
     * </ul>
     * Units whose gate is 0 become 0 and are meant to be sliced away.
     */
    public static Model fold(Model parent, MaskSet masks) {
        ModelConfig c = parent.config();
        ModelWeights w = parent.weights().copy();
        int dim = c.dim();
        float[] hidden = masks.get(Axis.HIDDEN);
        float[] embedding = w.get(TensorRole.EMBEDDING);
        for (int v = 0; v < c.vocabSize(); v++) {
            for (int j = 0; j < dim; j++) embedding[v * dim + j] *= hidden[j];
        }
        if (c.tiedEmbeddings()) {
            float[] norm = w.get(TensorRole.FINAL_NORM);
            for (int j = 0; j < dim; j++) if (hidden[j] != 0f) norm[j] /= hidden[j];
        }
        for (int l = 0; l < c.numLayers(); l++) {
            LayerShape s = c.layer(l);
            if (s.hasAttention()) {
                int cols = s.numHeads() * c.headDim();
                float[] out = w.get(TensorRole.OUTPUT, l);
                float layerGate = masks.get(Axis.ATTENTION_LAYER)[l];
                for (int j = 0; j < dim; j++) {
                    for (int k = 0; k < cols; k++) out[j * cols + k] *= layerGate * hidden[j] * masks.get(Axis.HEAD, l)[k / c.headDim()];
                }
            }
            if (s.hasFfn()) {
                int cols = s.ffnDim();
                float[] down = w.get(TensorRole.DOWN, l);
                float layerGate = masks.get(Axis.FFN_LAYER)[l];
                for (int j = 0; j < dim; j++) {
                    for (int k = 0; k < cols; k++) down[j * cols + k] *= layerGate * hidden[j] * masks.get(Axis.FFN, l)[k];
                }
            }
        }
        return new Model(c, w);
    }

    /** The finalised model: plan, deterministic gates, folding, slicing. */
    public static Model finalise(Model parent, L0Gates gates, PruningPlan plan) {
        return Slicer.slice(fold(parent, masks(gates, plan)), plan).dense();
    }

    private static void keep(double[] values, double[] scores, int offset, int[] kept) {
        for (int i : kept) values[offset + i] = scores[offset + i];
    }

    private static double[] row(double[] flat, L0Gates gates, Axis axis, int row) {
        int o = gates.offset(axis, row);
        return Arrays.copyOfRange(flat, o, o + gates.units(axis, row));
    }

    /** Sub-layer scores with −∞ where the parent has no such sub-layer, so top-k never picks one. */
    private static double[] existing(double[] scores, L0Gates gates, Axis axis) {
        for (int l = 0; l < scores.length; l++) if (!gates.counts(axis, 0, l)) scores[l] = Double.NEGATIVE_INFINITY;
        return scores;
    }

    private static boolean[] mark(int n, int[] indices) {
        boolean[] b = new boolean[n];
        for (int i : indices) b[i] = true;
        return b;
    }

    /** Among kept layers that have the sub-layer, the {@code count} with the lowest sub-layer score. */
    private static boolean[] dropAmong(double[] scores, boolean[] kept, int count) {
        double[] candidates = scores.clone();
        for (int l = 0; l < kept.length; l++) if (!kept[l] || candidates[l] == Double.NEGATIVE_INFINITY) candidates[l] = Double.POSITIVE_INFINITY;
        return mark(kept.length, IntStream.range(0, candidates.length).boxed()
                .sorted((a, b) -> candidates[a] != candidates[b] ? Double.compare(candidates[a], candidates[b]) : Integer.compare(b, a))
                .limit(count).mapToInt(Integer::intValue).toArray());
    }

    /** Indices of the k largest values, ascending (ties: the lower index wins). */
    static int[] topK(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed()
                .sorted((a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }
}
