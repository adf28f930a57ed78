package dev.shears.prune;

/** What vocabulary pruning does with single-character pieces. */
public enum CharacterPolicy {
    /**
     * Every single-character piece that occurs in the counted corpus stays, whatever its count. A
     * dropped character falls back to byte tokens, which a model has rarely seen in training (on
     * stories260K such a byte token costs ~20 nats and confuses the tokens after it); cheap for large
     * vocabularies.
     */
    SEEN,
    /**
     * Single-character pieces compete by count like any other piece (the default: on a 512-id
     * vocabulary, keeping every seen character crowds out frequent longer pieces and costs more
     * than the byte fallback it avoids; see docs/pruning.md).
     */
    BY_FREQUENCY
}
