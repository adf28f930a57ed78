package dev.shears.format.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.format.hf.HfTokenizerReader;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.UnigramTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A unigram (T5) vocabulary as llama.cpp's {@code convert_hf_to_gguf.py} writes it for the {@code t5}
 * architecture ({@code T5Model.set_vocab}): {@code tokenizer.ggml.model = "t5"} (llama.cpp's UGM
 * tokenizer), every piece with its score and type, ids past the tokenizer's up to the model's
 * vocabulary as {@code [PAD<id>]} (score -10000, unused), no BOS, EOS appended, and the normalizer
 * llama.cpp runs before the Viterbi search: SentencePiece's precompiled character map, the dummy
 * prefix and the removal of extra whitespace.
 *
 * @param data                   the common tokenizer keys
 * @param precompiledCharsmap    {@code tokenizer.ggml.precompiled_charsmap}: the map's bytes as SentencePiece stores them, or empty
 * @param addSpacePrefix         {@code tokenizer.ggml.add_space_prefix}: ▁ before the text
 * @param removeExtraWhitespaces {@code tokenizer.ggml.remove_extra_whitespaces}
 */
public record GgufUnigramVocab(GgufTokenizerData data, byte[] precompiledCharsmap, boolean addSpacePrefix, boolean removeExtraWhitespaces) {
    /** The converter's score of an id the tokenizer does not have (written as an unused {@code [PAD<id>]}). */
    private static final float PAD_SCORE = -10000f;

    public GgufUnigramVocab {
        precompiledCharsmap = precompiledCharsmap.clone();
    }

    @Override
    public byte[] precompiledCharsmap() {
        return precompiledCharsmap.clone();
    }

    /**
     * The vocabulary of a Unigram {@code tokenizer.json} (T5's, as transformers' T5Converter writes it):
     * pieces and scores from {@code model.vocab}; types as Shears reads them (the unknown piece, control
     * tokens named by the template or {@code tokenizer_config.json}, other added tokens user-defined);
     * the precompiled map from the {@code Precompiled} normalizer; the prefix from the {@code Metaspace}
     * pre-tokenizer; extra whitespace removed when a {@code WhitespaceSplit} pre-tokenizer or a
     * {@code " {2,}"} replacement says so.
     *
     * @param vocabSize the model's embedding rows; ids past the tokenizer's are padded as the converter pads them
     */
    public static GgufUnigramVocab fromTokenizerJson(Path file, int vocabSize) {
        JsonNode root = readJson(file);
        return of(file, HfTokenizerReader.load(file), vocabSize, charsmap(root, file), addsPrefix(root.path("pre_tokenizer")), removesExtraWhitespace(root));
    }

    /**
     * The vocabulary of a unigram tokenizer read from {@code source} (a {@code spiece.model} with the
     * sentinels its {@code tokenizer_config.json} adds, or a tokenizer.json) with its normalizer's settings.
     *
     * @param vocabSize the model's embedding rows; ids past the tokenizer's are padded as the converter pads them
     */
    public static GgufUnigramVocab of(Path source, Tokenizer tokenizer, int vocabSize, byte[] precompiledCharsmap, boolean addSpacePrefix,
                                      boolean removeExtraWhitespaces) {
        if (!(tokenizer instanceof UnigramTokenizer unigram)) {
            throw new ShearsException(source + ": not a unigram tokenizer; llama.cpp's t5 architecture reads a unigram (SentencePiece) vocabulary");
        }
        int n = unigram.vocabSize();
        if (n > vocabSize) throw new ShearsException(source + ": " + n + " tokens, more than the model's " + vocabSize + " embeddings");
        List<String> tokens = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        int pieces = unigram.modelPieces();
        int unk = -1;
        for (int i = 0; i < vocabSize; i++) {
            boolean known = i < n;
            tokens.add(known ? unigram.piece(i) : "[PAD" + i + "]");
            scores[i] = known ? (i < pieces ? (float) unigram.score(i) : 0f) : PAD_SCORE;
            types[i] = known ? GgufTokenizers.ggufType(unigram.pieceType(i)) : GgufTokenizerData.UNUSED;
            if (known && unk < 0 && unigram.pieceType(i) == PieceType.UNKNOWN) unk = i;
        }
        // transformers' T5 tokenizers name <pad> their pad token, as the converter's SpecialVocab reads it
        GgufTokenizerData data = new GgufTokenizerData("t5", "default", tokens, scores, types, List.of(), -1, unigram.eosId(), unk,
                tokens.indexOf("<pad>"), false, unigram.addsEos(), "");
        return new GgufUnigramVocab(data, precompiledCharsmap, addSpacePrefix, removeExtraWhitespaces);
    }

    /** Puts the tokenizer keys: the common ones, then the normalizer's. */
    public void writeTo(GgufWriter w) {
        data.writeTo(w);
        w.putBool("tokenizer.ggml.add_space_prefix", addSpacePrefix);
        w.putBool("tokenizer.ggml.remove_extra_whitespaces", removeExtraWhitespaces);
        if (precompiledCharsmap.length > 0) w.putU8s("tokenizer.ggml.precompiled_charsmap", precompiledCharsmap);
    }

    private static byte[] charsmap(JsonNode root, Path file) {
        List<JsonNode> maps = root.path("normalizer").findValues("precompiled_charsmap");
        if (maps.isEmpty() || maps.getFirst().isNull()) return new byte[0];
        try {
            return Base64.getDecoder().decode(maps.getFirst().asText());
        } catch (IllegalArgumentException e) {
            throw new ShearsException(file + ": normalizer.precompiled_charsmap is not base64: " + e.getMessage());
        }
    }

    /** Metaspace's {@code add_prefix_space} (older files) or a {@code prepend_scheme} other than "never". */
    private static boolean addsPrefix(JsonNode preTokenizer) {
        for (JsonNode m : steps(preTokenizer)) {
            if (!m.path("type").asText().equals("Metaspace")) continue;
            if (m.has("add_prefix_space")) return m.path("add_prefix_space").asBoolean();
            return !m.path("prepend_scheme").asText("always").equals("never");
        }
        return false;
    }

    private static boolean removesExtraWhitespace(JsonNode root) {
        boolean split = steps(root.path("pre_tokenizer")).stream().anyMatch(s -> s.path("type").asText().equals("WhitespaceSplit"));
        boolean replace = steps(root.path("normalizer")).stream()
                .anyMatch(s -> s.path("type").asText().equals("Replace") && s.path("pattern").path("Regex").asText().equals(" {2,}"));
        return split || replace;
    }

    /** A pipeline step or the steps of a {@code Sequence}. */
    private static List<JsonNode> steps(JsonNode node) {
        String key = node.has("pretokenizers") ? "pretokenizers" : "normalizers";
        if (!node.has(key)) return node.isObject() ? List.of(node) : List.of();
        List<JsonNode> out = new ArrayList<>();
        node.path(key).forEach(out::add);
        return out;
    }

    private static JsonNode readJson(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufUnigramVocab v && data.equals(v.data) && Arrays.equals(precompiledCharsmap, v.precompiledCharsmap)
                && addSpacePrefix == v.addSpacePrefix && removeExtraWhitespaces == v.removeExtraWhitespaces;
    }

    @Override
    public int hashCode() {
        return 31 * data.hashCode() + Arrays.hashCode(precompiledCharsmap) + (addSpacePrefix ? 2 : 0) + (removeExtraWhitespaces ? 1 : 0);
    }

    @Override
    public String toString() {
        return "GgufUnigramVocab[" + data + ", charsmap " + precompiledCharsmap.length + " bytes, prefix " + addSpacePrefix + "]";
    }
}
