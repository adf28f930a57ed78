package dev.shears.tokenizer;

import java.nio.charset.StandardCharsets;

/** Byte-fallback pieces {@code <0xNN>} (two upper-case hex digits, as SentencePiece and llama2.c write them). */
public final class ByteFallback {
    private ByteFallback() {
    }

    /** The piece for byte {@code b} (0..255). */
    static String piece(int b) {
        return String.format("<0x%02X>", b);
    }

    /** The byte a {@code <0xNN>} piece stands for, or -1 when {@code piece} is not one. */
    public static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        if (hi < 0 || lo < 0 || Character.isLowerCase(piece.charAt(3)) || Character.isLowerCase(piece.charAt(4))) return -1;
        return hi * 16 + lo;
    }

    /** Collects decoded text and raw bytes; pending bytes become UTF-8 text (malformed bytes become U+FFFD) at the next text or at the end. */
    static final class Decoder {
        private final StringBuilder text = new StringBuilder();
        private byte[] bytes = new byte[16];
        private int pending;

        void appendByte(int b) {
            if (pending == bytes.length) bytes = java.util.Arrays.copyOf(bytes, pending * 2);
            bytes[pending++] = (byte) b;
        }

        void append(String s) {
            flush();
            text.append(s);
        }

        /** Whether nothing, text or bytes, has been appended yet. */
        boolean isEmpty() {
            return text.isEmpty() && pending == 0;
        }

        private void flush() {
            if (pending == 0) return;
            text.append(new String(bytes, 0, pending, StandardCharsets.UTF_8));
            pending = 0;
        }

        @Override
        public String toString() {
            flush();
            return text.toString();
        }
    }
}
