package dev.shears.prune;

import dev.shears.model.Axis;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.tensor.Tensor;

import java.util.EnumMap;
import java.util.Map;

/**
 * LLM-Pruner's weight-level Taylor scores (horseee/LLM-Pruner 128a07d,
 * {@code LLMPruner/pruner/hf_llama_pruner.py} {@code TaylorImportance.__call__}, lines 240–344), fed one
 * tensor at a time so a streamed pass never holds more than one layer's gradients:
 * <ol>
 * <li>each weight's salience s(w, ḡ, F) ({@link TaylorVariant#salience}, lines 256–271);</li>
 * <li>per channel of the tensor — a row for an axis on its first dimension (a Linear's out-channel),
 * a column for its second (an in-channel), an element of a norm — the channel's local score:
 * {@code |Σ s|} for {@link TaylorVariant#VECTORIZE}, {@code Σ |s|} for the {@code param} variants,
 * {@code |s|} for a norm's element whatever the variant (lines 274–307);</li>
 * <li>over the tensors of a unit's group, channel by channel, the {@link GroupReduction}
 * (lines 332–341);</li>
 * <li>a head's channels summed into the head (torch-pruning's {@code consecutive_groups}:
 * {@code LLMPruner/torch_pruning/pruner/algorithms/metapruner.py} lines 263–264).</li>
 * </ol>
 * A group is every tensor indexed by the unit's axis (the tensor-role table): for an FFN neuron its
 * gate and up rows and its down column; for a hidden channel every matrix row or column, norm element,
 * embedding and LM-head column of it; for a query head its query rows and output columns, and the key
 * and value rows of its KV head (LLM-Pruner's MHA group is q, k, v, o; with GQA the KV head's rows are
 * in the group of each of its query heads). Biases are not scored (LLM-Pruner reads
 * {@code layer.weight} only); a vocabulary axis is not scored.
 */
final class WeightSalience {
    private final ModelConfig config;
    private final TaylorVariant variant;
    private final GroupReduction reduction;
    /** Per scored axis, [row][channel]: the reduction so far. */
    private final Map<Axis, double[][]> channels = new EnumMap<>(Axis.class);
    /** Per scored axis and row: how many tensors have been folded in. */
    private final Map<Axis, int[]> counts = new EnumMap<>(Axis.class);

    WeightSalience(ModelConfig config, TaylorVariant variant, GroupReduction reduction) {
        if (variant.family != TaylorVariant.Family.WEIGHT) throw new IllegalArgumentException(variant + " is not a weight-level variant");
        this.config = config;
        this.variant = variant;
        this.reduction = reduction;
        for (Axis a : new Axis[] {Axis.HIDDEN, Axis.HEAD, Axis.FFN}) {
            double[][] rows = new double[a.rows(config)][];
            for (int r = 0; r < rows.length; r++) rows[r] = new double[TensorRole.extent(config, r, a)];
            channels.put(a, rows);
            counts.put(a, new int[rows.length]);
        }
    }

    /**
     * Folds one tensor into its groups.
     *
     * @param weight the tensor's weights, read row by row
     * @param grad   ḡ, the batch gradient, [rows, cols] row-major
     * @param fisher F, the mean squared per-sequence gradient, same shape (ignored by first-order variants)
     */
    void add(TensorRole role, int layer, Tensor weight, float[] grad, float[] fisher) {
        if (role == TensorRole.QUERY_BIAS || role == TensorRole.KEY_BIAS || role == TensorRole.VALUE_BIAS) return;
        Axis[] axes = role.axes();
        int rows = weight.rows(), cols = weight.cols();
        double[] rowSum = new double[rows];   // Σ s over each row (vectorize) or Σ |s|
        double[] colSum = new double[cols];
        float[] w = new float[cols];
        boolean vector = variant == TaylorVariant.VECTORIZE;
        for (int r = 0; r < rows; r++) {
            weight.read(r, 0, cols, w, 0);
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                double s = variant.salience(w[c], grad[i], variant.needsFisher() ? fisher[i] : 0);
                rowSum[r] += vector ? s : Math.abs(s);
                colSum[c] += vector ? s : Math.abs(s);
            }
        }
        if (axes.length == 1) {
            // a norm's weight: |s| per element for every variant (hf_llama_pruner.py 295–297); colSum holds s or |s|
            fold(axes[0], layer, abs(colSum));
            return;
        }
        fold(axes[0], layer, vector ? abs(rowSum) : rowSum);
        fold(axes[1], layer, vector ? abs(colSum) : colSum);
    }

    /** Adds every unit's score to {@code into}: the reduced channel scores summed over each unit's channels. */
    void addTo(ImportanceScores into) {
        for (Map.Entry<Axis, double[][]> e : channels.entrySet()) {
            Axis a = e.getKey();
            int width = a.unitWidth(config);
            double[][] rows = e.getValue();
            for (int r = 0; r < rows.length; r++) {
                double[] units = into.of(a, r);
                for (int ch = 0; ch < rows[r].length; ch++) units[ch / width] += reduction.finish(rows[r][ch], counts.get(a)[r]);
            }
        }
    }

    /** One tensor's channel scores along one of its axes, folded into the units' groups. */
    private void fold(Axis axis, int layer, double[] local) {
        switch (axis) {
            case HIDDEN -> fold(Axis.HIDDEN, 0, local, 1);
            case HEAD, FFN -> fold(axis, layer, local, 1);
            // a KV head's rows join the group of each query head that reads them
            case KV_HEAD -> fold(Axis.HEAD, layer, local, config.layer(layer).groupSize());
            default -> { }
        }
    }

    private void fold(Axis axis, int row, double[] local, int repeat) {
        double[] acc = channels.get(axis)[row];
        int count = counts.get(axis)[row];
        int hd = config.headDim();
        for (int ch = 0; ch < acc.length; ch++) {
            // query head h reads KV head h / repeat: its channel h·hd + d is the KV channel (h / repeat)·hd + d
            int source = repeat == 1 ? ch : (ch / hd / repeat) * hd + ch % hd;
            acc[ch] = reduction.combine(acc[ch], local[source], count);
        }
        counts.get(axis)[row]++;
    }

    private static double[] abs(double[] x) {
        for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
        return x;
    }
}
