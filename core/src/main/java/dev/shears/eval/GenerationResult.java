package dev.shears.eval;

/**
 * A finished generation.
 *
 * @param promptIds       the prompt as fed to the model (with BOS when the tokenizer adds it)
 * @param generatedIds    the new tokens
 * @param text            the decoded new tokens
 * @param tokensPerSecond new tokens per second of decoding (prompt processing excluded)
 */
public record GenerationResult(int[] promptIds, int[] generatedIds, String text, double tokensPerSecond) {
}
