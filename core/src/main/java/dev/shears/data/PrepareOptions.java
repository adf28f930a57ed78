package dev.shears.data;

/**
 * Settings of {@code shears data prepare}.
 *
 * @param jsonField        the field holding the text in JSONL inputs
 * @param textSplit        how plain-text files are cut into documents
 * @param heldOutFraction  share of the token stream kept out of training for evaluation (0 for none)
 * @param heldOutChunk     the stream is cut into chunks of this many tokens; held-out chunks are evenly
 *                         spaced, so every part of the corpus is represented; at least one chunk is held
 *                         out when the corpus has two or more
 * @param shardTokens      tokens per shard file
 * @param bos              start every document with the tokenizer's BOS token (when it has one), as LLaMA-family
 *                         models are pretrained (llama2.c's {@code pretokenize}: {@code encode(text, bos=True, eos=False)};
 *                         Hugging Face's LLaMA tokenizers add BOS) and as evaluation scores them (lm-eval prefixes
 *                         BOS); without it a model trained here never sees BOS and evaluation starts it on an
 *                         untrained embedding
 */
public record PrepareOptions(String jsonField, DocumentSplit textSplit, double heldOutFraction, int heldOutChunk, long shardTokens, boolean bos) {
    public static final PrepareOptions DEFAULT = new PrepareOptions("text", DocumentSplit.PARAGRAPH, 0.05, 2048, 1L << 26, true);

    public PrepareOptions {
        if (jsonField == null || jsonField.isBlank()) throw new IllegalArgumentException("the JSON text field must be named");
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + heldOutFraction);
        if (heldOutChunk < 2) throw new IllegalArgumentException("held-out chunk must be at least 2 tokens, got " + heldOutChunk);
        if (shardTokens < 1) throw new IllegalArgumentException("shard size must be positive, got " + shardTokens);
    }
}
