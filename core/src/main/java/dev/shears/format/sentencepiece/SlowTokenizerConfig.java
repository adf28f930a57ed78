package dev.shears.format.sentencepiece;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.PieceType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What transformers' slow tokenizer adds on top of a {@code spiece.model}, from the
 * {@code tokenizer_config.json} beside it: its named special tokens matched whole in text, T5's
 * {@code extra_ids} sentinels past the pieces, and whether EOS is appended.
 *
 * @param added      the added tokens, in the order they are matched (longest wins anyway)
 * @param addedTypes [added] what each is: the piece's own type for a named special token, user-defined for a sentinel (decoded as its text)
 * @param addEos     sequences for the model end with EOS
 */
record SlowTokenizerConfig(List<HfTokenizer.Added> added, PieceType[] addedTypes, boolean addEos) {
    private static final List<String> NAMED = List.of("pad_token", "eos_token", "unk_token", "bos_token");
    /** transformers' T5Tokenizer appends {@code </s>} in {@code build_inputs_with_special_tokens}. */
    private static final String T5_CLASS = "T5Tokenizer";

    /** The config beside {@code model}, or nothing added when there is none. */
    static SlowTokenizerConfig beside(Path model, List<String> pieces, PieceType[] pieceTypes) {
        Path file = model.toAbsolutePath().resolveSibling("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return new SlowTokenizerConfig(List.of(), new PieceType[0], false);
        JsonNode config;
        try {
            config = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ShearsException(file + ": bad JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (!config.isObject()) throw new ShearsException(file + ": not a tokenizer_config.json (top level is not an object)");
        List<HfTokenizer.Added> added = new ArrayList<>();
        List<PieceType> types = new ArrayList<>();
        for (String key : NAMED) {
            JsonNode node = config.path(key);
            String content = node.isTextual() ? node.asText() : node.path("content").isTextual() ? node.path("content").asText() : null;
            int id = content == null ? -1 : pieces.indexOf(content);
            if (id < 0 || added.stream().anyMatch(a -> a.content().equals(content))) continue;
            added.add(new HfTokenizer.Added(content, id, true, false, false, false));
            types.add(pieceTypes[id]);
        }
        JsonNode extra = config.path("extra_ids");
        if (!extra.isMissingNode() && !(extra.isIntegralNumber() && extra.asInt() >= 0 && extra.asInt() <= 10_000)) {
            throw new ShearsException(file + ": extra_ids is not a count from 0 to 10000: " + extra);
        }
        int extraIds = extra.asInt(0);
        for (int i = 0; i < extraIds; i++) {
            added.add(new HfTokenizer.Added("<extra_id_" + i + ">", pieces.size() + extraIds - 1 - i, true, true, true, false));
            types.add(PieceType.USER_DEFINED);
        }
        JsonNode addEos = config.get("add_eos_token");
        boolean eos = addEos != null && addEos.isBoolean() ? addEos.asBoolean() : config.path("tokenizer_class").asText("").startsWith(T5_CLASS);
        return new SlowTokenizerConfig(added, types.toArray(PieceType[]::new), eos);
    }
}
