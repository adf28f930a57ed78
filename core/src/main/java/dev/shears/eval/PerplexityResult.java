package dev.shears.eval;

/**
 * Rolling log-likelihood of a text, as lm-evaluation-harness reports it for WikiText.
 *
 * @param tokens        tokens predicted (every text token exactly once)
 * @param nll           mean negative log-likelihood per token, in nats
 * @param ppl           token perplexity {@code exp(nll)}
 * @param words         words in the original text, counted as lm-eval does ({@code len(re.split(r"\s+", text))})
 * @param wordPpl       {@code exp(total NLL / words)}
 * @param bytes         UTF-8 bytes of the original text
 * @param bytePpl       {@code exp(total NLL / bytes)}
 * @param bitsPerByte   {@code total NLL / bytes / ln 2}
 * @param contextLength the window length used
 * @param windows       number of windows scored
 */
public record PerplexityResult(long tokens, double nll, double ppl, long words, double wordPpl, long bytes,
                               double bytePpl, double bitsPerByte, int contextLength, int windows) {
}
