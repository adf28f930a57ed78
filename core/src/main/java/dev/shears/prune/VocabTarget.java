package dev.shears.prune;

import dev.shears.ShearsException;

/**
 * How big the pruned vocabulary should be.
 *
 * @param kind  what {@code value} means
 * @param value a token count or a fraction in (0, 1]
 */
public record VocabTarget(Kind kind, double value) {
    public enum Kind {
        /** The total number of ids after pruning, special and byte tokens included. */
        SIZE,
        /** A fraction of the whole vocabulary (special and byte tokens included). */
        FRACTION,
        /** A fraction of the normal (prunable) pieces; every non-normal entry stays on top of it. */
        NORMAL_FRACTION
    }

    public VocabTarget {
        if (kind == null) throw new ShearsException("vocabulary target: no kind");
        if (kind == Kind.SIZE && (value < 1 || value != Math.rint(value))) throw new ShearsException("vocabulary target size must be a positive whole number, got " + value);
        if (kind != Kind.SIZE && !(value > 0 && value <= 1)) throw new ShearsException("vocabulary target fraction must be in (0, 1], got " + value);
    }

    public static VocabTarget size(int tokens) {
        return new VocabTarget(Kind.SIZE, tokens);
    }

    public static VocabTarget fraction(double ofVocabulary) {
        return new VocabTarget(Kind.FRACTION, ofVocabulary);
    }

    public static VocabTarget normalFraction(double ofNormalPieces) {
        return new VocabTarget(Kind.NORMAL_FRACTION, ofNormalPieces);
    }

    /** The number of ids to keep, for a vocabulary of {@code vocabSize} ids of which {@code normal} are normal pieces. */
    public int resolve(int vocabSize, int normal) {
        return switch (kind) {
            case SIZE -> (int) value;
            case FRACTION -> (int) Math.round(value * vocabSize);
            case NORMAL_FRACTION -> vocabSize - normal + (int) Math.round(value * normal);
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case SIZE -> (int) value + " tokens";
            case FRACTION -> value * 100 + "% of the vocabulary";
            case NORMAL_FRACTION -> value * 100 + "% of the normal pieces";
        };
    }
}
