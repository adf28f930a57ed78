package dev.shears.eval;

/** How a scored sequence begins. */
public enum ContextStart {
    /** With the BOS token, as the model was trained (lm-eval with {@code add_bos_token=True}; llama.cpp). */
    BOS,
    /** With the context's first token (lm-eval's default for Hugging Face causal models: {@code add_special_tokens=False}). */
    NONE
}
