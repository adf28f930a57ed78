package dev.shears.tokenizer;

/**
 * What a vocabulary entry is, in SentencePiece's terms ({@code ModelProto.SentencePiece.Type}).
 * Vocabulary pruning keeps every non-{@link #NORMAL} entry; only normal pieces are candidates.
 */
public enum PieceType {
    /** An ordinary piece produced by merges. */
    NORMAL,
    /** The unknown-token id ({@code <unk>}). */
    UNKNOWN,
    /** A control symbol such as {@code <s>}, {@code </s>} or {@code <|endoftext|>}: never produced from text by the model, decodes to nothing. */
    CONTROL,
    /** A user-defined or added token matched literally in the text, decoded as its text. */
    USER_DEFINED,
    /** A byte-fallback piece {@code <0xNN>}. */
    BYTE,
    /** A piece that exists but is never emitted (SentencePiece re-splits it into the pieces it was made from). */
    UNUSED
}
