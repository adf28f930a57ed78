package dev.shears.l0;

import dev.shears.model.Axis;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;

/**
 * The closed-form expected size of the pruned model under independent keep probabilities
 * {@code p = P(z > 0)} (Sheared-LLaMA, METHODS.md §2), read from the tensor-role table so it counts
 * exactly what the Slicer keeps: a tensor's expected size is its sub-layer's keep probability times the
 * product over its dimensions of the expected kept extent along that dimension's axis, where
 * <ul>
 *   <li>hidden: {@code Σ_j p_hidden[j]};</li>
 *   <li>query heads: {@code headDim · Σ_h p_group[h / groupSize] · p_head[h]};</li>
 *   <li>key/value heads: {@code headDim · Σ_g p_group[g]};</li>
 *   <li>FFN: {@code Σ_i p_ffn[i]}; vocabulary: unpruned.</li>
 * </ul>
 * and a sub-layer is present with probability {@code p_layer · p_subLayer}. At 0/1 probabilities of a valid
 * plan this is the plan's parameter count. Per axis and row (a layer, or the one row of a model-wide axis),
 * the expected sparsity is {@code ŝ_r = 1 − Σ p / units}, the quantity the Lagrangian holds to its target
 * row by row (LLM-Shearing {@code Mask.calculate_expected_score_sparsity}: each mask on its own).
 */
public final class ExpectedSize {
    private ExpectedSize() {
    }

    /** Expected parameter count of the pruned model. */
    public static double parameters(L0Gates gates, double[] keep) {
        ModelConfig c = gates.parent();
        double hidden = sum(keep, gates.offset(Axis.HIDDEN, 0), c.dim());
        double total = 0;
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(c)) continue;
            if (!role.perLayer) {
                total += extentProduct(role, c, -1, gates, keep, hidden);
                continue;
            }
            for (int l = 0; l < c.numLayers(); l++) {
                if (!role.isPresent(c, l)) continue;
                double presence = keep[gates.offset(role.subLayer.axis(), 0) + l] * keep[gates.offset(Axis.LAYER, 0) + l];
                total += presence * extentProduct(role, c, l, gates, keep, hidden);
            }
        }
        return total;
    }

    /** The product over the role's dimensions of the expected kept extent: gated axes by their keep probabilities, others whole. */
    private static double extentProduct(TensorRole role, ModelConfig c, int layer, L0Gates gates, double[] keep, double hidden) {
        double product = 1;
        for (Axis axis : role.axes()) {
            int row = axis.perLayer ? layer : 0;
            product *= axis == Axis.HIDDEN ? hidden
                    : axis == Axis.HEAD ? c.headDim() * expectedHeads(gates, keep, layer)
                    : axis.gated ? axis.unitWidth(c) * sum(keep, gates.offset(axis, row), gates.units(axis, row))
                    : TensorRole.extent(c, layer, axis);
        }
        return product;
    }

    private static double expectedHeads(L0Gates gates, double[] keep, int layer) {
        int group = gates.parent().layer(layer).groupSize();
        int g0 = gates.offset(Axis.KV_HEAD, layer), h0 = gates.offset(Axis.HEAD, layer);
        double s = 0;
        for (int h = 0; h < gates.units(Axis.HEAD, layer); h++) s += keep[g0 + h / group] * keep[h0 + h];
        return s;
    }

    private static double sum(double[] x, int offset, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[offset + i];
        return s;
    }

    /** Rows of an axis that hold units in the parent: the rows the per-axis mean runs over. */
    static int countedRows(L0Gates gates, Axis axis) {
        int rows = 0;
        for (int r = 0; r < gates.rows(axis); r++) if (gates.countedUnits(axis, r) > 0) rows++;
        return rows;
    }

    /** ŝ_r of one row of an axis: {@code 1 − Σ_counted p / countedUnits} (0 for a row without units). */
    public static double rowSparsity(L0Gates gates, double[] keep, Axis axis, int row) {
        int n = gates.countedUnits(axis, row);
        if (n == 0) return 0;
        double s = 0;
        for (int i = 0; i < gates.units(axis, row); i++) if (gates.counts(axis, row, i)) s += keep[gates.offset(axis, row) + i];
        return 1 - s / n;
    }

    /** The final target sparsity of one row: {@code 1 − kept / countedUnits}. */
    public static double rowTargetSparsity(L0Gates gates, Axis axis, int row) {
        int n = gates.countedUnits(axis, row);
        return n == 0 ? 0 : 1 - (double) Math.min(gates.keptInRow(axis, row), n) / n;
    }

    /** ŝ of one axis for reports: the mean of its rows' {@link #rowSparsity}. */
    public static double sparsity(L0Gates gates, double[] keep, Axis axis) {
        int rows = countedRows(gates, axis);
        double sum = 0;
        for (int r = 0; r < gates.rows(axis); r++) if (gates.countedUnits(axis, r) > 0) sum += rowSparsity(gates, keep, axis, r);
        return rows == 0 ? 0 : sum / rows;
    }

    /** The target sparsity of one axis for reports: the mean of its rows' {@link #rowTargetSparsity}. */
    public static double targetSparsity(L0Gates gates, Axis axis) {
        int rows = countedRows(gates, axis);
        double sum = 0;
        for (int r = 0; r < gates.rows(axis); r++) if (gates.countedUnits(axis, r) > 0) sum += rowTargetSparsity(gates, axis, r);
        return rows == 0 ? 0 : sum / rows;
    }
}
