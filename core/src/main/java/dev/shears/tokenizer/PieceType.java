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
    UNUSED;

    /** SentencePiece's wire value ({@code NORMAL = 1 … BYTE = 6}) to the enum; {@code null} for unknown values. */
    static PieceType fromProto(int value) {
        return switch (value) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> null;
        };
    }
}
