package dev.shears.tokenizer;

/**
 * Text to token ids and back. {@code decode(encode(text))} equals {@code text} exactly for every
 * string the tokenizer can represent (all strings, for byte-fallback and byte-level vocabularies).
 */
public interface Tokenizer {
    /** Number of ids, including special and added tokens. */
    int vocabSize();

    /** The ids of {@code text}, without BOS or EOS. */
    int[] encode(String text);

    /** The text of {@code ids}; special tokens such as BOS/EOS decode to nothing. */
    String decode(int[] ids);

    /** The raw vocabulary entry of one id, for display and for vocabulary pruning. */
    String piece(int id);

    /** Beginning-of-sequence id, or -1. */
    int bosId();

    /** End-of-sequence id, or -1. */
    int eosId();

    /** What kind of entry {@code id} is (normal, control, byte, …); vocabulary pruning keeps every non-normal entry. */
    PieceType pieceType(int id);

    /** Whether sequences fed to the model start with BOS (llama2.c and SentencePiece: yes; tokenizer_config.json decides for HF). */
    boolean addsBos();

    /** Whether sequences fed to the model end with EOS (T5: its tokenizer appends {@code </s>}; Llama-style tokenizers: no). */
    default boolean addsEos() {
        return false;
    }
}
