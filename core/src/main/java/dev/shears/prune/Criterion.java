package dev.shears.prune;

/**
 * How units are ranked before pruning (METHODS.md §1 and §4). Higher scores are kept. The variants of
 * the data-driven criteria, each reproducing its source, are {@link CriterionOptions}.
 */
public enum Criterion {
    /** L2 norm of every weight belonging to the unit (baseline). */
    MAGNITUDE,
    /** Seeded uniform scores: the OpenBA-V2 choice, and a baseline. */
    RANDOM,
    /** Minitron: mean |activation| over the sequence, L2 over the calibration batch. */
    ACTIVATION,
    /** LLM-Pruner's Taylor expansion of the loss, in the unit's gate or in its weights: {@link TaylorVariant}. */
    TAYLOR,
    /** ShortGPT Block Influence, layers only: 1 − cos(h_in, h_out), averaged over tokens ({@link CriterionOptions.FinalState}). */
    BLOCK_INFLUENCE,
    /** Gromov et al., layers only: angular distance arccos(cos(h_l, h_{l+n}))/π over n consecutive layers ({@link CriterionOptions.AngularTokens}). */
    ANGULAR,
    /** Jha et al., layers only: deterministic, data-free choice of every k-th layer or explicit indices. */
    EVERY_K
}
