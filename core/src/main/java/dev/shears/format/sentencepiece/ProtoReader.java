package dev.shears.format.sentencepiece;

import dev.shears.ShearsException;

import java.nio.charset.StandardCharsets;

/**
 * A minimal protocol-buffers wire-format reader (varint, 32/64-bit fixed, length-delimited), enough
 * for SentencePiece's {@code ModelProto}. Every overrun is a {@link ShearsException} naming the file,
 * the byte offset and what was being read.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final String file;
    private final byte[] buf;
    private int pos;
    private final int end;

    ProtoReader(String file, byte[] buf) {
        this(file, buf, 0, buf.length);
    }

    private ProtoReader(String file, byte[] buf, int from, int to) {
        this.file = file;
        this.buf = buf;
        this.pos = from;
        this.end = to;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** A copy of the raw bytes {@code [from, to)}, for writing a field back unchanged. */
    byte[] bytes(int from, int to) {
        return java.util.Arrays.copyOfRange(buf, from, to);
    }

    /** The next tag: field number {@code << 3 | wire type}. */
    int tag() {
        long tag = varint();
        if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE) throw malformed("invalid field tag " + tag);
        return (int) tag;
    }

    long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw malformed("truncated varint");
            int b = buf[pos++] & 0xff;
            result |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw malformed("varint longer than 10 bytes");
    }

    float fixed32Float() {
        need(4, "float");
        int bits = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** A length-delimited field as a reader over its bytes. */
    ProtoReader message() {
        int length = length();
        ProtoReader inner = new ProtoReader(file, buf, pos, pos + length);
        pos += length;
        return inner;
    }

    String string() {
        int length = length();
        String s = new String(buf, pos, length, StandardCharsets.UTF_8);
        pos += length;
        return s;
    }

    /** A length-delimited field's bytes, copied. */
    byte[] lengthDelimited() {
        int length = length();
        byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + length);
        pos += length;
        return out;
    }

    private int length() {
        long length = varint();
        if (length < 0 || length > end - pos) throw malformed("length " + length + " runs past the end (" + (end - pos) + " bytes left)");
        return (int) length;
    }

    void skip(int wireType) {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> {
                need(8, "fixed64");
                pos += 8;
            }
            case LENGTH_DELIMITED -> {
                int length = length(); // not "pos += length()": that would add to pos as it was before the length's varint
                pos += length;
            }
            case FIXED32 -> {
                need(4, "fixed32");
                pos += 4;
            }
            default -> throw malformed("unsupported wire type " + wireType);
        }
    }

    private void need(int n, String what) {
        if (end - pos < n) throw malformed("truncated " + what);
    }

    ShearsException malformed(String problem) {
        return new ShearsException(file + ": malformed protobuf at byte " + pos + ": " + problem);
    }
}
