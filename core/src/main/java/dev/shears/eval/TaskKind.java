package dev.shears.eval;

/** How a task is scored and which metrics it reports. */
public enum TaskKind {
    /** Log-likelihood of each choice: {@code acc} and {@code acc_norm} (by characters), with standard errors. */
    MULTIPLE_CHOICE,
    /** One true continuation (LAMBADA's last word): {@code acc} = greedy decoding reproduces it exactly, and {@code perplexity}. */
    LAST_WORD,
    /** Rolling log-likelihood of whole documents: word and byte perplexity, bits per byte, token perplexity. */
    ROLLING_PERPLEXITY,
    /** Greedy generation until a stop string (lm-eval's {@code generate_until}), filtered and compared with the answers: {@code exact_match}. */
    GENERATE_UNTIL
}
