package dev.shears.format.sentencepiece;

import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.PrecompiledCharsMap;
import dev.shears.tokenizer.SentencePieceNormalizer;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.UnigramTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece {@code tokenizer.model} ({@code sentencepiece.ModelProto}, protocol buffers).
 * {@link #read} takes the pieces and the trainer and normalizer fields that change ids into a
 * {@link SentencePieceTokenizer}. {@link #writePruned} rewrites the file for a pruned vocabulary:
 * the {@code pieces} field keeps only the kept entries, byte for byte, in new id order; the
 * trainer spec gets the new {@code vocab_size} and the remapped {@code unk/bos/eos/pad} ids; every
 * other field (normalizer spec, denormalizer, self-test data, unknown fields) is copied unchanged.
 */
public final class SentencePieceModelFile {
    private static final int UNIGRAM = 1;
    private static final int BPE = 2;
    private static final String[] MODEL_TYPES = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
    private static final int PIECES = 1;
    private static final int TRAINER_SPEC = 2;
    private static final int VOCAB_SIZE = 4;
    private static final int[] ID_FIELDS = {40, 41, 42, 43}; // unk_id, bos_id, eos_id, pad_id
    private static final int[] ID_DEFAULTS = {0, 1, 2, -1};

    private SentencePieceModelFile() {
    }

    /** The fields of {@code ModelProto} that change ids, as read. */
    private record Parsed(List<String> pieces, float[] scores, PieceType[] types, int modelType, boolean byteFallback, int unkId, int bosId, int eosId,
                          String unkSurface, String normalizerName, byte[] charsMap, boolean addDummyPrefix, boolean removeExtraWhitespaces,
                          boolean escapeWhitespaces) {
    }

    /**
     * Reads a BPE {@code tokenizer.model} (a serialized {@code sentencepiece.ModelProto}); a unigram
     * model (T5's {@code spiece.model}) is refused here: {@link #load} reads both.
     */
    public static SentencePieceTokenizer read(Path file) {
        Parsed p = parse(file);
        if (p.modelType() != BPE) {
            throw new ShearsException(file + ": SentencePiece model type " + modelTypeName(p.modelType()) + " is not supported here (only BPE); TokenizerLoader reads unigram models too");
        }
        return bpe(file, p);
    }

    /**
     * Reads a SentencePiece model of either type: BPE ({@code tokenizer.model} of Llama) as a
     * {@link SentencePieceTokenizer}, unigram ({@code spiece.model} of T5) as a {@link UnigramTokenizer}.
     *
     * <p>For a unigram model, a {@code tokenizer_config.json} beside it (transformers' slow tokenizer,
     * as T5's folders have one) adds what that tokenizer adds on top of sentencepiece: its special
     * tokens ({@code pad_token}, {@code eos_token}, {@code unk_token}, {@code bos_token}) are matched
     * whole in the text, {@code extra_ids} sentinels {@code <extra_id_0>}… take the ids past the pieces
     * from the last down ({@code <extra_id_0>} = pieces + extra_ids - 1; they also take the whitespace
     * beside them, as transformers' T5Tokenizer declares them with lstrip and rstrip) and EOS is appended
     * for the model ({@code add_eos_token}, true for T5Tokenizer). Without one the ids are
     * sentencepiece's alone.
     */
    public static Tokenizer load(Path file) {
        Parsed p = parse(file);
        if (p.modelType() == BPE) return bpe(file, p);
        if (p.modelType() != UNIGRAM) {
            throw new ShearsException(file + ": SentencePiece model type " + modelTypeName(p.modelType()) + " is not supported (only BPE and UNIGRAM)");
        }
        return unigram(file, p);
    }

    /**
     * What a model's {@code normalizer_spec} stores, for writers that carry it elsewhere (llama.cpp's T5 GGUF).
     *
     * @param precompiledCharsmap    {@code precompiled_charsmap}, the bytes as stored (empty for identity)
     * @param addDummyPrefix         {@code add_dummy_prefix}
     * @param removeExtraWhitespaces {@code remove_extra_whitespaces}
     */
    public record NormalizerSpec(byte[] precompiledCharsmap, boolean addDummyPrefix, boolean removeExtraWhitespaces) {
        public NormalizerSpec {
            precompiledCharsmap = precompiledCharsmap.clone();
        }

        @Override
        public byte[] precompiledCharsmap() {
            return precompiledCharsmap.clone();
        }
    }

    /** The normalizer of a SentencePiece model file. */
    public static NormalizerSpec normalizerSpec(Path file) {
        Parsed p = parse(file);
        return new NormalizerSpec(p.charsMap(), p.addDummyPrefix(), p.removeExtraWhitespaces());
    }

    private static String modelTypeName(int modelType) {
        return modelType > 0 && modelType < MODEL_TYPES.length ? MODEL_TYPES[modelType] : "#" + modelType;
    }

    private static Parsed parse(Path file) {
        byte[] bytes = readAll(file);
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<PieceType> types = new ArrayList<>();
        int modelType = UNIGRAM; // proto default
        boolean byteFallback = false;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        String unkSurface = " \u2047 ";
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        String normalizerName = "";
        byte[] charsMap = new byte[0];
        ProtoReader model = new ProtoReader(file.toString(), bytes);
        while (model.hasMore()) {
            int tag = model.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader p = model.message();
                String piece = "";
                float score = 0f;
                int type = 1;
                while (p.hasMore()) {
                    int t = p.tag();
                    switch (t) {
                        case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> piece = p.string();
                        case (2 << 3) | ProtoReader.FIXED32 -> score = p.fixed32Float();
                        case (3 << 3) | ProtoReader.VARINT -> type = (int) p.varint();
                        default -> p.skip(t & 7);
                    }
                }
                PieceType pieceType = pieceType(type);
                if (pieceType == null) throw p.malformed("piece " + pieces.size() + " '" + piece + "' has unknown type " + type);
                pieces.add(piece);
                scores.add(score);
                types.add(pieceType);
            } else if (field == 2 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader t = model.message();
                while (t.hasMore()) {
                    int tg = t.tag();
                    switch (tg) {
                        case (3 << 3) | ProtoReader.VARINT -> modelType = (int) t.varint();
                        case (35 << 3) | ProtoReader.VARINT -> byteFallback = t.varint() != 0;
                        case (40 << 3) | ProtoReader.VARINT -> unkId = (int) t.varint();
                        case (41 << 3) | ProtoReader.VARINT -> bosId = (int) t.varint();
                        case (42 << 3) | ProtoReader.VARINT -> eosId = (int) t.varint();
                        case (44 << 3) | ProtoReader.LENGTH_DELIMITED -> unkSurface = t.string();
                        default -> t.skip(tg & 7);
                    }
                }
            } else if (field == 3 && wire == ProtoReader.LENGTH_DELIMITED) {
                ProtoReader n = model.message();
                while (n.hasMore()) {
                    int tg = n.tag();
                    switch (tg) {
                        case (1 << 3) | ProtoReader.LENGTH_DELIMITED -> normalizerName = n.string();
                        case (2 << 3) | ProtoReader.LENGTH_DELIMITED -> charsMap = n.lengthDelimited();
                        case (3 << 3) | ProtoReader.VARINT -> addDummyPrefix = n.varint() != 0;
                        case (4 << 3) | ProtoReader.VARINT -> removeExtraWhitespaces = n.varint() != 0;
                        case (5 << 3) | ProtoReader.VARINT -> escapeWhitespaces = n.varint() != 0;
                        default -> n.skip(tg & 7);
                    }
                }
            } else {
                model.skip(wire);
            }
        }
        if (pieces.isEmpty()) throw new ShearsException(file + ": not a SentencePiece model (no pieces)");
        int n = pieces.size();
        if (unkId < 0 || unkId >= n) throw new ShearsException(file + ": unk id " + unkId + " is outside the " + n + " pieces");
        if (bosId >= n || eosId >= n) throw new ShearsException(file + ": BOS/EOS ids " + bosId + "/" + eosId + " are outside the " + n + " pieces");
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = scores.get(i);
        return new Parsed(pieces, s, types.toArray(PieceType[]::new), modelType, byteFallback, unkId, bosId, eosId, unkSurface, normalizerName, charsMap,
                addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces);
    }

    private static SentencePieceTokenizer bpe(Path file, Parsed p) {
        if (p.charsMap().length > 0) throw new ShearsException(file + ": the normalizer '" + p.normalizerName() + "' uses a precompiled character map, which is not supported for BPE models (only identity)");
        return SentencePieceTokenizer.of(p.pieces(), p.scores(), p.types(), p.bosId(), p.eosId(), true,
                new SentencePieceTokenizer.Settings(p.unkId(), p.byteFallback(), p.unkSurface(), p.addDummyPrefix(), p.removeExtraWhitespaces(), p.escapeWhitespaces()));
    }

    private static UnigramTokenizer unigram(Path file, Parsed p) {
        if (p.byteFallback()) throw new ShearsException(file + ": unigram model with byte_fallback is not supported");
        int n = p.pieces().size();
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) scores[i] = p.scores()[i];
        List<String> userDefined = new ArrayList<>();
        for (int i = 0; i < n; i++) if (p.types()[i] == PieceType.USER_DEFINED) userDefined.add(p.pieces().get(i));
        SentencePieceNormalizer normalizer = new SentencePieceNormalizer(PrecompiledCharsMap.parse(p.charsMap(), file + " normalizer_spec"), userDefined,
                p.addDummyPrefix(), p.removeExtraWhitespaces(), p.escapeWhitespaces());
        UnigramTokenizer.Model model = new UnigramTokenizer.Model(p.pieces(), scores, p.types(), p.unkId(), UnigramTokenizer.Rules.SENTENCEPIECE);
        SlowTokenizerConfig config = SlowTokenizerConfig.beside(file, p.pieces(), p.types());
        UnigramTokenizer.Specials specials = new UnigramTokenizer.Specials(config.added(), config.addedTypes(), p.bosId(), p.eosId(), false,
                config.addEos(), p.unkSurface());
        return new UnigramTokenizer(file.toString(), model, specials, (segment, first) -> {
            String s = normalizer.normalize(segment);
            return s.isEmpty() ? List.of() : List.of(s);
        }, normalizer::decode);
    }

    /**
     * Writes {@code sp} as a {@code tokenizer.model} that the sentencepiece library (and so Hugging
     * Face's {@code LlamaTokenizer} and llama.cpp's converter) loads: every piece with its score and
     * type; a BPE trainer spec with the vocabulary size, byte fallback and the unk/bos/eos ids (no pad);
     * an identity normalizer with the tokenizer's whitespace settings. Used where the source vocabulary
     * came in another format (llama2.c's {@code tokenizer.bin}, a GGUF); a source {@code tokenizer.model}
     * is copied instead.
     */
    public static void write(SentencePieceTokenizer sp, Path target) {
        ProtoWriter out = new ProtoWriter();
        for (int i = 0; i < sp.vocabSize(); i++) {
            out.bytesField(PIECES, new ProtoWriter().stringField(1, sp.piece(i)).floatField(2, sp.score(i))
                    .varintField(3, wireType(sp.pieceType(i))).toByteArray());
        }
        SentencePieceTokenizer.Settings s = sp.settings();
        ProtoWriter trainer = new ProtoWriter().varintField(3, BPE).varintField(VOCAB_SIZE, sp.vocabSize()).varintField(35, s.byteFallback() ? 1 : 0)
                .varintField(ID_FIELDS[0], s.unkId()).varintField(ID_FIELDS[1], sp.bosId()).varintField(ID_FIELDS[2], sp.eosId())
                .varintField(ID_FIELDS[3], -1).stringField(44, s.unkSurface());
        out.bytesField(TRAINER_SPEC, trainer.toByteArray());
        out.bytesField(3, new ProtoWriter().stringField(1, "identity").varintField(3, s.addDummyPrefix() ? 1 : 0)
                .varintField(4, s.removeExtraWhitespaces() ? 1 : 0).varintField(5, s.escapeWhitespaces() ? 1 : 0).toByteArray());
        byte[] result = out.toByteArray();
        AtomicFiles.write(target, o -> o.write(result));
    }

    /** The enum to SentencePiece's wire value, the inverse of {@link #pieceType}. */
    private static int wireType(PieceType type) {
        return switch (type) {
            case NORMAL -> 1;
            case UNKNOWN -> 2;
            case CONTROL -> 3;
            case USER_DEFINED -> 4;
            case UNUSED -> 5;
            case BYTE -> 6;
        };
    }

    /** SentencePiece's wire value ({@code NORMAL = 1 … BYTE = 6}) to the enum; {@code null} for unknown values. */
    private static PieceType pieceType(int value) {
        return switch (value) {
            case 1 -> PieceType.NORMAL;
            case 2 -> PieceType.UNKNOWN;
            case 3 -> PieceType.CONTROL;
            case 4 -> PieceType.USER_DEFINED;
            case 5 -> PieceType.UNUSED;
            case 6 -> PieceType.BYTE;
            default -> null;
        };
    }


    /** Writes {@code source} with only the pieces {@code kept} (old ids, strictly increasing; new id {@code i} is old id {@code kept[i]}) to {@code target}. */
    public static void writePruned(Path source, int[] kept, Path target) {
        byte[] bytes = readAll(source);
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

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static int slotOf(int field) {
        for (int s = 0; s < ID_FIELDS.length; s++) if (ID_FIELDS[s] == field) return s;
        return -1;
    }
}
