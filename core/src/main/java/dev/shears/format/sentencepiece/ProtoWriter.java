package dev.shears.format.sentencepiece;

import java.io.ByteArrayOutputStream;

/** A minimal protocol-buffers wire-format writer: the few field kinds {@link SentencePieceModelFile} rewrites. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Bytes copied as they are (a whole field, tag included, taken from {@link ProtoReader#bytes}). */
    ProtoWriter raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** A varint field; negative values take ten bytes (int32 sign extension, as protobuf writes them). */
    ProtoWriter varintField(int field, long value) {
        varint(((long) field << 3) | ProtoReader.VARINT);
        varint(value);
        return this;
    }

    /** A length-delimited field. */
    ProtoWriter bytesField(int field, byte[] bytes) {
        varint(((long) field << 3) | ProtoReader.LENGTH_DELIMITED);
        varint(bytes.length);
        out.writeBytes(bytes);
        return this;
    }

    /** A 32-bit float field. */
    ProtoWriter floatField(int field, float value) {
        varint(((long) field << 3) | ProtoReader.FIXED32);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i) & 0xff);
        return this;
    }

    /** A string field (UTF-8). */
    ProtoWriter stringField(int field, String value) {
        return bytesField(field, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void varint(long value) {
        long v = value;
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
