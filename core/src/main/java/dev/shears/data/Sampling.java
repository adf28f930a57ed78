package dev.shears.data;

/** How {@link BatchSampler} reads the sequences of a domain once the domain is drawn. */
public enum Sampling {
    /**
     * Without reuse (the default): the domain's training split is cut into sequences of
     * {@code seqLen + 1} tokens starting every {@code seqLen} tokens, read in a seeded shuffled order,
     * a new order each epoch; the position in the order is checkpointed. As LLM-Shearing's streaming
     * loader, which reads every pre-cut sample of a domain once.
     */
    EPOCHS,
    /**
     * Shears before issue 14: every sequence starts at a uniformly random token of the domain's training
     * split (with replacement, across document boundaries), so a small domain repeats sequences
     * long before a large one is read once. Batches depend only on (seed, step, weights); kept to
     * reproduce earlier runs and to resume runs checkpointed before data positions were recorded.
     */
    RANDOM_OFFSETS
}
