package dev.shears.eval;

import dev.shears.ShearsException;

/**
 * How tasks are run; written into every report so a number can be reproduced.
 *
 * @param limit         items per task, 0 for all
 * @param sampling      which items when {@code limit} is below a task's size
 * @param seed          seed of the {@link Sampling#SEEDED} sample
 * @param batchSize     items scored together (multiple choice: one packed forward pass; perplexity: one per kernel thread at a time)
 * @param contextLength tokens of context, 0 for the model's maximum
 * @param start         whether sequences begin with BOS
 * @param numFewshot    few-shot examples before each document (lm-eval's {@code --num_fewshot}; 0: none)
 */
public record EvalSettings(int limit, Sampling sampling, long seed, int batchSize, int contextLength, ContextStart start, int numFewshot) {
    /** Which items a limited run scores. */
    public enum Sampling {
        /** The first N, in file order (lm-eval's {@code --limit}). */
        FIRST,
        /** N items drawn with a seeded shuffle, then put back in file order (the same N for every model). */
        SEEDED
    }

    public static final EvalSettings DEFAULTS = new EvalSettings(0, Sampling.SEEDED, 1234, 16, 0, ContextStart.BOS, 0);

    /** Zero-shot settings. */
    public EvalSettings(int limit, Sampling sampling, long seed, int batchSize, int contextLength, ContextStart start) {
        this(limit, sampling, seed, batchSize, contextLength, start, 0);
    }

    public EvalSettings {
        if (limit < 0) throw new ShearsException("limit must be at least 0, got " + limit);
        if (batchSize < 1) throw new ShearsException("batch size must be at least 1, got " + batchSize);
        if (contextLength < 0) throw new ShearsException("context length must be at least 0, got " + contextLength);
        if (numFewshot < 0) throw new ShearsException("number of few-shot examples must be at least 0, got " + numFewshot);
    }

    public EvalSettings withLimit(int n) {
        return new EvalSettings(n, sampling, seed, batchSize, contextLength, start, numFewshot);
    }

    public EvalSettings withNumFewshot(int n) {
        return new EvalSettings(limit, sampling, seed, batchSize, contextLength, start, n);
    }
}
