package dev.shears.data;

/** How token ids are stored in a shard: two bytes when the vocabulary fits, else four (little-endian). */
public enum TokenWidth {
    UINT16(2), UINT32(4);

    public final int bytes;

    TokenWidth(int bytes) {
        this.bytes = bytes;
    }

    public static TokenWidth forVocabulary(int vocabSize) {
        return vocabSize <= 65536 ? UINT16 : UINT32;
    }
}
