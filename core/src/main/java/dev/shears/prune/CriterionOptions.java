package dev.shears.prune;

import dev.shears.ShearsException;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The variants of the data-driven criteria, each reproducing its source or keeping Shears' earlier
 * form (docs/pruning.md, "Criteria and their sources"). {@link #DEFAULT} is the one home of their
 * defaults: the prune command, a pipeline's prune stage and {@link Importance} read it.
 *
 * @param taylor          how the Taylor criterion scores units
 * @param taylorReduction how the weight-level Taylor variants combine a group's tensors
 * @param angularTokens   which positions the angular distance compares
 * @param finalState      what block influence and angular distance take as the state after the last layer
 */
public record CriterionOptions(TaylorVariant taylor, GroupReduction taylorReduction, AngularTokens angularTokens, FinalState finalState) {
    /**
     * Gromov et al. (arXiv 2403.17887, §3.2) take the cosine over the hidden dimension at the final
     * token T of each sequence, summed over examples.
     */
    public enum AngularTokens {
        /** The last position of each calibration window, as Gromov et al. define it. */
        LAST,
        /** The mean over every position (Shears' angular before issue 14). */
        ALL;

        public String key() {
            return CriterionOptions.key(this);
        }
    }

    /**
     * The hidden state after the last layer. Hugging Face's {@code output_hidden_states} returns it after
     * the final RMSNorm, and ShortGPT's code (icip-cas/ShortGPT 9a2ee8d, {@code shortgpt/shortgpt.py}
     * lines 37–47 and 76–93) compares the last layer's input with that entry.
     */
    public enum FinalState {
        /** After the final RMSNorm (with its weight), as transformers returns it and ShortGPT uses it. */
        NORMED,
        /** The residual stream itself, like every other layer boundary (Shears' form before issue 14). */
        RESIDUAL;

        public String key() {
            return CriterionOptions.key(this);
        }
    }

    public CriterionOptions {
        if (taylor == null || taylorReduction == null || angularTokens == null || finalState == null) {
            throw new IllegalArgumentException("every criterion option needs a value");
        }
    }

    /** The defaults, chosen by the measurements in docs/pruning.md. */
    public static final CriterionOptions DEFAULT = new CriterionOptions(TaylorVariant.GATE_PER_SEQUENCE, GroupReduction.SUM, AngularTokens.LAST,
            FinalState.NORMED);

    /** The options, read from their written names ({@code gate-mix}, {@code sum}, ...); a wrong name is one line listing the known ones. */
    public static CriterionOptions parse(String taylor, String taylorReduction, String angularTokens, String finalState) {
        return new CriterionOptions(parse(TaylorVariant.class, taylor, "taylor"), parse(GroupReduction.class, taylorReduction, "taylorReduction"),
                parse(AngularTokens.class, angularTokens, "angularTokens"), parse(FinalState.class, finalState, "finalState"));
    }

    /** What a criterion's scores depend on among these options, for reports: empty for criteria they do not touch. */
    public String describe(Criterion criterion) {
        return switch (criterion) {
            case TAYLOR -> taylor.key() + (taylor.family == TaylorVariant.Family.WEIGHT ? ", " + taylorReduction.key() + " over the group" : "");
            case BLOCK_INFLUENCE -> "final state " + finalState.key();
            case ANGULAR -> angularTokens.key() + " token" + (angularTokens == AngularTokens.ALL ? "s" : "") + ", final state " + finalState.key();
            default -> "";
        };
    }

    /** An enum constant as users write it: {@code GATE_MIX} is {@code gate-mix}. */
    public static String key(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The written names of an enum's constants, in order. */
    public static <E extends Enum<E>> List<String> keys(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(CriterionOptions::key).toList();
    }

    /** Reads a constant from its written name (case and {@code -}/{@code _} are free). */
    public static <E extends Enum<E>> E parse(Class<E> type, String name, String option) {
        try {
            return Enum.valueOf(type, name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ShearsException("unknown " + option + " '" + name + "' (known: " + String.join(", ", keys(type)) + ")");
        }
    }
}
