package dev.shears.format.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the SentencePiece-style {@code tokenizer.json} that transformers' LlamaConverter makes from a
 * {@code tokenizer.model} (the legacy layout: {@code Prepend("▁")} + {@code Replace(" ", "▁")}, BPE
 * with byte fallback, merges from {@code SentencePieceExtractor}): what a Hugging Face export of a
 * SentencePiece or llama2.c vocabulary carries so that {@code transformers} loads it. The tests
 * compare the merge list with transformers' own (tools/tokenizer/make_fixtures.py stores its SHA-256)
 * and the encodings with the SentencePiece tokenizer's.
 */
public final class LlamaTokenizerJson {
    private LlamaTokenizerJson() {
    }

    /** Whether a vocabulary has the Llama layout the converter assumes: {@code <unk>, <s>, </s>} at ids 0, 1, 2. */
    public static boolean fits(Tokenizer t) {
        // llama2.c's export writes the specials as "\n<s>\n" and "\n</s>\n"
        return t.vocabSize() > 3 && "<unk>".equals(t.piece(0).strip()) && "<s>".equals(t.piece(1).strip()) && "</s>".equals(t.piece(2).strip());
    }

    /** The same vocabulary as a SentencePiece tokenizer: llama2.c's {@code tokenizer.bin} holds the pieces and scores of one, respelled. */
    public static SentencePieceTokenizer asSentencePiece(Llama2cTokenizer t) {
        List<String> pieces = new ArrayList<>();
        float[] scores = new float[t.vocabSize()];
        PieceType[] types = new PieceType[t.vocabSize()];
        for (int i = 0; i < t.vocabSize(); i++) {
            // llama2.c's export also turns SentencePiece's "▁" into a space; byte pieces stay <0xNN>
            pieces.add(i < 3 ? t.piece(i).strip() : t.pieceType(i) == PieceType.BYTE ? t.piece(i) : t.piece(i).replace(' ', '▁'));
            scores[i] = t.score(i);
            types[i] = t.pieceType(i);
        }
        return SentencePieceTokenizer.of(pieces, scores, types, t.bosId(), t.eosId(), t.addsBos());
    }

    /** Writes the legacy-layout tokenizer.json and its tokenizer_config.json into {@code dir}. */
    public static Path write(SentencePieceTokenizer sp, Path dir) throws IOException {
        return write(sp, merges(sp), dir, false);
    }

    /** SentencePieceExtractor.extract(vocab_scores): every split of every piece into two pieces, by (left id, right id), then by score descending (stable). */
    public static List<String[]> merges(SentencePieceTokenizer sp) {
        Map<String, Integer> vocab = new HashMap<>();
        for (int i = 0; i < sp.vocabSize(); i++) vocab.put(sp.piece(i), i);
        record Merge(String left, String right, float score) {
        }
        List<Merge> all = new ArrayList<>();
        for (int i = 0; i < sp.vocabSize(); i++) {
            String piece = sp.piece(i);
            List<Merge> local = new ArrayList<>();
            for (int k = 1; k < piece.length(); k++) {
                String l = piece.substring(0, k);
                String r = piece.substring(k);
                if (vocab.containsKey(l) && vocab.containsKey(r)) local.add(new Merge(l, r, sp.score(i)));
            }
            local.sort(Comparator.comparingInt((Merge m) -> vocab.get(m.left)).thenComparingInt(m -> vocab.get(m.right)));
            all.addAll(local);
        }
        all.sort((a, b) -> Float.compare(b.score, a.score));
        List<String[]> out = new ArrayList<>(all.size());
        for (Merge m : all) out.add(new String[] {m.left, m.right});
        return out;
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir}; {@code metaspace} picks the newer Metaspace pre-tokenizer layout. */
    public static Path write(SentencePieceTokenizer sp, List<String[]> merges, Path dir, boolean metaspace) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < 3; id++) {
            ObjectNode a = added.addObject();
            a.put("id", id).put("content", sp.piece(id)).put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        if (metaspace) {
            root.putNull("normalizer");
            root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first").put("split", false);
            root.putObject("decoder").put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first").put("split", false);
        } else {
            ArrayNode normalizers = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
            normalizers.addObject().put("type", "Prepend").put("prepend", "▁");
            ObjectNode replace = normalizers.addObject().put("type", "Replace");
            replace.putObject("pattern").put("String", " ");
            replace.put("content", "▁");
            root.putNull("pre_tokenizer");
            ArrayNode decoders = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
            ObjectNode r = decoders.addObject().put("type", "Replace");
            r.putObject("pattern").put("String", "▁");
            r.put("content", " ");
            decoders.addObject().put("type", "ByteFallback");
            decoders.addObject().put("type", "Fuse");
            decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < sp.vocabSize(); i++) vocab.put(sp.piece(i), i);
        ArrayNode m = model.putArray("merges");
        for (String[] pair : merges) m.addArray().add(pair[0]).add(pair[1]);
        Files.createDirectories(dir);
        Path file = dir.resolve("tokenizer.json");
        json.writeValue(file.toFile(), root);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": true, \"add_eos_token\": false, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}");
        return file;
    }
}
