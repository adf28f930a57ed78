package dev.shears.format.hf;

import dev.shears.ShearsException;
import dev.shears.io.Printable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A zip archive in a mapped file whose entries are read in place: the central directory lists them
 * (zip64 where sizes or offsets pass 4 GiB, as torch.save writes large files), each entry's local
 * header says where its bytes begin. Only stored (uncompressed, unencrypted) entries can be read;
 * torch.save stores every one. Layout from PKWARE's APPNOTE.TXT 6.3: 4.3.7 local file header, 4.3.12
 * central directory header, 4.3.14-16 zip64 end of central directory, 4.5.3 zip64 extra field.
 */
final class StoredZip {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END = 0x06054b50;
    private static final int ZIP64_END = 0x06064b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int END_SIZE = 22;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_END_SIZE = 56;
    private static final int MAX_COMMENT = 0xffff;
    /** A 16- or 32-bit field that holds this says the value is in the zip64 record or extra field. */
    private static final long ZIP64_16 = 0xffff;
    private static final long ZIP64_32 = 0xffff_ffffL;
    private static final int ZIP64_EXTRA = 0x0001;
    private static final int METHOD_STORED = 0;
    private static final int FLAG_ENCRYPTED = 1;

    /** An entry as the central directory describes it. */
    record Entry(String name, int method, int flags, long compressedSize, long size, long localHeader) {
    }

    private final Path path;
    private final MemorySegment file;
    private final Map<String, Entry> entries;

    private StoredZip(Path path, MemorySegment file, Map<String, Entry> entries) {
        this.path = path;
        this.file = file;
        this.entries = entries;
    }

    /** The central directory of a mapped zip file. */
    static StoredZip read(Path path, MemorySegment file) {
        long size = file.byteSize();
        long end = findEnd(path, file);
        long count = u16(file, end + 10);
        long directorySize = u32(file, end + 12);
        long directory = u32(file, end + 16);
        if (count == ZIP64_16 || directorySize == ZIP64_32 || directory == ZIP64_32) {
            long locator = end - ZIP64_LOCATOR_SIZE;
            if (locator < 0 || file.get(U32, locator) != ZIP64_LOCATOR) throw corrupt(path, "no zip64 end-of-directory locator before the end record at byte " + end);
            long record = file.get(U64, locator + 8);
            if (record < 0 || record > size - ZIP64_END_SIZE || file.get(U32, record) != ZIP64_END) {
                throw corrupt(path, "the zip64 end-of-directory record is not at byte " + record);
            }
            count = file.get(U64, record + 32);
            directorySize = file.get(U64, record + 40);
            directory = file.get(U64, record + 48);
        }
        if (directory < 0 || directorySize < 0 || directory > size || directorySize > size - directory || count < 0 || count > directorySize / CENTRAL_SIZE) {
            throw corrupt(path, "a central directory of " + count + " entries, " + directorySize + " bytes at byte " + directory + " does not fit the file's " + size + " bytes");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long at = directory;
        long stop = directory + directorySize;
        for (long i = 0; i < count; i++) {
            if (at > stop - CENTRAL_SIZE || file.get(U32, at) != CENTRAL_HEADER) throw corrupt(path, "central directory entry " + i + " is not at byte " + at);
            int flags = u16(file, at + 8);
            int method = u16(file, at + 10);
            long compressed = u32(file, at + 20);
            long uncompressed = u32(file, at + 24);
            int nameLength = u16(file, at + 28);
            int extraLength = u16(file, at + 30);
            int commentLength = u16(file, at + 32);
            long local = u32(file, at + 42);
            long next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
            if (next > stop) throw corrupt(path, "central directory entry " + i + " runs past the directory's end");
            String name = new String(file.asSlice(at + CENTRAL_SIZE, nameLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // zip64 extra field: the 64-bit values of the 32-bit fields that hold 0xffffffff, in this order
            long extra = at + CENTRAL_SIZE + nameLength;
            long extraEnd = extra + extraLength;
            while (extra + 4 <= extraEnd) {
                int id = u16(file, extra);
                int length = u16(file, extra + 2);
                if (extra + 4 + length > extraEnd) throw corrupt(path, "entry " + name + " has an extra field that runs past its end");
                if (id == ZIP64_EXTRA) {
                    long field = extra + 4;
                    long fieldEnd = field + length;
                    if (uncompressed == ZIP64_32) {
                        uncompressed = zip64(path, file, name, field, fieldEnd);
                        field += 8;
                    }
                    if (compressed == ZIP64_32) {
                        compressed = zip64(path, file, name, field, fieldEnd);
                        field += 8;
                    }
                    if (local == ZIP64_32) local = zip64(path, file, name, field, fieldEnd);
                    break;
                }
                extra += 4 + length;
            }
            if (local < 0 || local > size - LOCAL_SIZE || compressed < 0 || uncompressed < 0) {
                throw corrupt(path, "entry " + name + " has its local header at byte " + local + ", outside the file's " + size + " bytes");
            }
            if (entries.put(name, new Entry(name, method, flags, compressed, uncompressed, local)) != null) {
                throw corrupt(path, "two entries are named " + name);
            }
            at = next;
        }
        return new StoredZip(path, file, entries);
    }

    private static long zip64(Path path, MemorySegment file, String name, long at, long end) {
        if (at + 8 > end) throw corrupt(path, "entry " + name + " has a zip64 extra field too short for its 64-bit sizes");
        return file.get(U64, at);
    }

    /** The end-of-central-directory record: the last one in the file's final 64 KiB + 22 bytes. */
    private static long findEnd(Path path, MemorySegment file) {
        long size = file.byteSize();
        if (size < END_SIZE) throw corrupt(path, size + " bytes is too short for a zip archive");
        for (long at = size - END_SIZE; at >= Math.max(0, size - END_SIZE - MAX_COMMENT); at--) {
            if (file.get(U32, at) == END && at + END_SIZE + u16(file, at + 20) <= size) return at;
        }
        throw corrupt(path, "no end-of-central-directory record (truncated file?)");
    }

    Map<String, Entry> entries() {
        return entries;
    }

    boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The bytes of a stored entry, in place; a compressed or encrypted entry is refused. */
    MemorySegment stored(String name) {
        Entry e = entries.get(name);
        if (e == null) throw Printable.error(path + ": no zip entry " + name);
        if ((e.flags() & FLAG_ENCRYPTED) != 0) throw Printable.error(path + ": zip entry " + name + " is encrypted");
        if (e.method() != METHOD_STORED) {
            throw Printable.error(path + ": zip entry " + name + " is compressed (method " + e.method() + "); only stored entries can be read in place, "
                    + "as torch.save writes them: re-save the file with torch.save");
        }
        if (e.compressedSize() != e.size()) throw corrupt(path, "stored entry " + name + " has " + e.compressedSize() + " bytes stored for " + e.size());
        long local = e.localHeader();
        if (file.get(U32, local) != LOCAL_HEADER) throw corrupt(path, "entry " + name + " has no local header at byte " + local);
        long begin = local + LOCAL_SIZE + u16(file, local + 26) + u16(file, local + 28);
        if (begin > file.byteSize() || e.size() > file.byteSize() - begin) {
            throw corrupt(path, "entry " + name + " holds " + e.size() + " bytes from byte " + begin + ", past the file's end (truncated file?)");
        }
        return file.asSlice(begin, e.size());
    }

    private static int u16(MemorySegment file, long at) {
        return Short.toUnsignedInt(file.get(U16, at));
    }

    private static long u32(MemorySegment file, long at) {
        return Integer.toUnsignedLong(file.get(U32, at));
    }

    private static ShearsException corrupt(Path path, String problem) {
        return Printable.error(path + ": corrupt zip archive: " + problem);
    }
}
