package dev.shears.prune;

/**
 * How the weight-level Taylor variants combine the per-channel scores of the tensors in a unit's
 * group: LLM-Pruner's {@code _reduce} over the stacked per-dependency scores
 * (horseee/LLM-Pruner 128a07d, {@code LLMPruner/pruner/hf_llama_pruner.py} lines 221–238; its
 * {@code --grouping_strategy}, default {@code sum}, hf_prune.py line 297). Its {@code first} and
 * {@code second} take the group's first or second dependency in torch-pruning's graph order, which
 * has no counterpart here.
 */
public enum GroupReduction {
    SUM, MEAN, MAX, PROD;

    /** Folds {@code value} (the {@code count}-th dependency's, 0-based) into {@code acc}. */
    double combine(double acc, double value, int count) {
        if (count == 0) return value;
        return switch (this) {
            case SUM, MEAN -> acc + value;
            case MAX -> Math.max(acc, value);
            case PROD -> acc * value;
        };
    }

    /** The reduced value after {@code count} dependencies. */
    double finish(double acc, int count) {
        return this == MEAN && count > 0 ? acc / count : acc;
    }

    /** As written in options and files: {@code sum}. */
    public String key() {
        return CriterionOptions.key(this);
    }
}
