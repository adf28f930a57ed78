package dev.shears.prune;

/**
 * How the Taylor criterion turns loss gradients into unit scores. Two families:
 * <ul>
 * <li><b>gate</b>: the expansion in each unit's gate z (z = 1 is the model, z = 0 removes the unit),
 * so a unit has one derivative g = ∂L/∂z = Σ over its weights of w·∂L/∂w at the gate's site
 * (docs/design.md, "a gate is a structure"). Shears' own form of METHODS.md §4.</li>
 * <li><b>weight</b>: LLM-Pruner (Ma et al. 2023; horseee/LLM-Pruner at 128a07d,
 * {@code LLMPruner/pruner/hf_llama_pruner.py} lines 215–344, {@code hf_prune.py} lines 127–148) line for
 * line: a salience per weight, reduced per channel of every tensor the unit's group touches, reduced
 * over the group by a {@link GroupReduction}, summed over a head's channels.</li>
 * </ul>
 * With N calibration sequences, g_j is the gradient of sequence j's mean next-token loss,
 * ḡ = (1/N)·Σ_j g_j is the gradient of the whole calibration batch's mean loss (what LLM-Pruner's one
 * {@code loss.backward()} on the batch leaves, hf_prune.py 146–148), and F = (1/N)·Σ_j g_j² is the
 * Fisher (squared-gradient) approximation of the Hessian's diagonal that LLM-Pruner accumulates one
 * example at a time in {@code acc_grad} (hf_prune.py 130–144).
 */
public enum TaylorVariant {
    /** |ḡ_z|: the gate's gradient accumulated over the batch, then scored (LLM-Pruner's order, at Shears' gate). */
    GATE(Family.GATE, Order.FIRST, false),
    /** Σ_j |g_{z,j}|: each sequence scored alone and the scores summed (Shears' taylor before issue 14). */
    GATE_PER_SEQUENCE(Family.GATE, Order.FIRST, true),
    /** |ḡ_z − ½·F_z|: LLM-Pruner's {@code param_mix} formula applied to the gate (w = 1), accumulated over the batch. */
    GATE_MIX(Family.GATE, Order.MIX, false),
    /** Σ_j |g_{z,j} − ½·g_{z,j}²|: the mix per sequence (Shears' taylor-second-order before issue 14). */
    GATE_MIX_PER_SEQUENCE(Family.GATE, Order.MIX, true),
    /** LLM-Pruner {@code vectorize}: per channel of each tensor |Σ w·ḡ| over the channel's weights (hf_llama_pruner.py 275–276, 285–286, 296, 301–302). */
    VECTORIZE(Family.WEIGHT, Order.FIRST, false),
    /** LLM-Pruner {@code param_first} (hf_prune.py's default): per channel Σ |w·ḡ| (hf_llama_pruner.py 266, 277–278, 287–288). */
    PARAM_FIRST(Family.WEIGHT, Order.FIRST, false),
    /** LLM-Pruner {@code param_second}: per channel Σ |w·F·w|, the second-order term alone (hf_llama_pruner.py 268–269). */
    PARAM_SECOND(Family.WEIGHT, Order.SECOND, false),
    /** LLM-Pruner {@code param_mix} (its README's default): per channel Σ |w·ḡ − ½·w·F·w| (hf_llama_pruner.py 270–271). */
    PARAM_MIX(Family.WEIGHT, Order.MIX, false);

    /** What the expansion is taken in. */
    public enum Family { GATE, WEIGHT }

    /** Which terms of the expansion: the gradient, the Fisher term alone, or both. */
    public enum Order { FIRST, SECOND, MIX }

    public final Family family;
    public final Order order;
    /** Scored per calibration sequence and summed, instead of accumulated over the batch first. */
    public final boolean perSequence;

    TaylorVariant(Family family, Order order, boolean perSequence) {
        this.family = family;
        this.order = order;
        this.perSequence = perSequence;
    }

    /** Whether the Fisher F (per-sequence squared gradients) is needed. */
    public boolean needsFisher() {
        return order != Order.FIRST;
    }

    /**
     * The salience of one parameter w with batch gradient g and Fisher f: LLM-Pruner's
     * {@code salience} (hf_llama_pruner.py 266–271), whose absolute value is the estimated loss change of
     * setting w to 0 (ΔL ≈ −g·w + ½·w·H·w, H ≈ F).
     */
    public double salience(double w, double g, double f) {
        return switch (order) {
            case FIRST -> w * g;
            case SECOND -> w * f * w;
            case MIX -> w * g - 0.5 * w * f * w;
        };
    }

    /** As written in options and files: {@code gate-mix-per-sequence}. */
    public String key() {
        return CriterionOptions.key(this);
    }
}
