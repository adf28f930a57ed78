package dev.shears.tokenizer;

import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites a {@code tokenizer.model} ({@code sentencepiece.ModelProto}) for a pruned vocabulary:
 * the {@code pieces} field keeps only the kept entries, byte for byte, in new id order; the
 * trainer spec gets the new {@code vocab_size} and the remapped {@code unk/bos/eos/pad} ids; every
 * other field (normalizer spec, denormalizer, self-test data, unknown fields) is copied unchanged.
 */
final class SentencePieceModelFile {
    private static final int PIECES = 1;
    private static final int TRAINER_SPEC = 2;
    private static final int VOCAB_SIZE = 4;
    private static final int[] ID_FIELDS = {40, 41, 42, 43}; // unk_id, bos_id, eos_id, pad_id
    private static final int[] ID_DEFAULTS = {0, 1, 2, -1};

    private SentencePieceModelFile() {
    }

    static void writePruned(Path source, int[] kept, Path target) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(source);
        } catch (IOException e) {
            throw new ShearsException(source + ": cannot read: " + e.getMessage(), e);
        }
        List<byte[]> pieces = new ArrayList<>();
        List<byte[]> others = new ArrayList<>(); // fields after the pieces, in file order, trainer spec rewritten
        ProtoReader model = new ProtoReader(source.toString(), bytes);
        while (model.hasMore()) {
            int start = model.position();
            int tag = model.tag();
            if (tag == ((PIECES << 3) | ProtoReader.LENGTH_DELIMITED)) {
                model.skip(ProtoReader.LENGTH_DELIMITED);
                pieces.add(model.bytes(start, model.position()));
            } else if (tag == ((TRAINER_SPEC << 3) | ProtoReader.LENGTH_DELIMITED)) {
                others.add(null); // placeholder: rewritten once the piece count is known
                others.add(trainerSpec(model.message(), kept));
            } else {
                model.skip(tag & 7);
                others.add(model.bytes(start, model.position()));
            }
        }
        for (int id : kept) {
            if (id >= pieces.size()) throw new ShearsException(source + ": kept id " + id + " is outside the " + pieces.size() + " pieces");
        }
        ProtoWriter out = new ProtoWriter();
        for (int id : kept) out.raw(pieces.get(id));
        for (int i = 0; i < others.size(); i++) {
            if (others.get(i) == null) {
                out.bytesField(TRAINER_SPEC, others.get(++i));
            } else {
                out.raw(others.get(i));
            }
        }
        byte[] result = out.toByteArray();
        AtomicFiles.write(target, o -> o.write(result));
    }

    /** The trainer spec's fields, with vocab_size and the special ids replaced by their values in the pruned vocabulary. */
    private static byte[] trainerSpec(ProtoReader spec, int[] kept) {
        ProtoWriter out = new ProtoWriter();
        int[] ids = ID_DEFAULTS.clone();
        boolean[] present = new boolean[ids.length];
        while (spec.hasMore()) {
            int start = spec.position();
            int tag = spec.tag();
            int field = tag >>> 3;
            int slot = slotOf(field);
            if ((tag & 7) == ProtoReader.VARINT && (field == VOCAB_SIZE || slot >= 0)) {
                long value = spec.varint();
                if (slot >= 0) {
                    ids[slot] = (int) value;
                    present[slot] = true;
                }
                continue;
            }
            spec.skip(tag & 7);
            out.raw(spec.bytes(start, spec.position()));
        }
        out.varintField(VOCAB_SIZE, kept.length);
        for (int s = 0; s < ids.length; s++) {
            int remapped = ids[s] < 0 ? -1 : java.util.Arrays.binarySearch(kept, ids[s]);
            if (ids[s] >= 0 && remapped < 0) {
                throw new ShearsException("the pruned vocabulary drops special id " + ids[s] + " (trainer_spec field " + ID_FIELDS[s] + "); it must be kept");
            }
            if (present[s] || remapped != ID_DEFAULTS[s]) out.varintField(ID_FIELDS[s], remapped);
        }
        return out.toByteArray();
    }

    private static int slotOf(int field) {
        for (int s = 0; s < ID_FIELDS.length; s++) if (ID_FIELDS[s] == field) return s;
        return -1;
    }
}
