package dev.shears.format.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.tokenizer.ByteFallback;
import dev.shears.tokenizer.ByteLevel;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.HfTokenizer.Added;
import dev.shears.tokenizer.HfTokenizer.PreStep;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.PrecompiledCharsMap;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.UnigramTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a Hugging Face {@code tokenizer.json} (and {@code tokenizer_config.json} beside it) into the
 * parts {@link HfTokenizer} encodes with: the vocabulary and merges, added tokens, and the normalizer,
 * pre-tokenizer and decoder steps as functions. Components that change ids and are not implemented
 * are refused here, at load, in one line naming the file.
 *
 * <pre>{@code
 * HfTokenizer t = HfTokenizerReader.read(Path.of("tokenizer.json"));
 * }</pre>
 */
public final class HfTokenizerReader {
    static final char METASPACE = '\u2581';

    private HfTokenizerReader() {
    }

    /**
     * A byte-level BPE tokenizer from a vocabulary and merges as a GGUF file carries them
     * ({@code tokenizer.ggml.model = "gpt2"}: {@code tokens}, {@code merges} as {@code "a b"}), split
     * by {@code pattern} (GGUF {@code tokenizer.ggml.pre}). {@code specialIds} (control and
     * user-defined token types) are matched literally in text, before the model.
     */
    public static HfTokenizer byteLevel(List<String> vocab, List<String> merges, Collection<Integer> specialIds, int bosId, int eosId, boolean addBos,
                                        HfTokenizer.SplitPattern pattern) {
        Builder b = new Builder("byte-level vocabulary");
        for (int i = 0; i < vocab.size(); i++) b.vocab.putIfAbsent(vocab.get(i), i);
        for (String m : merges) b.merges.add(splitMerge(b.source, m));
        for (int id : specialIds) {
            if (id < 0 || id >= vocab.size()) throw new ShearsException(b.source + ": special token id " + id + " is outside the " + vocab.size() + " tokens");
            b.added.add(new Added(vocab.get(id), id, true, false, false, false));
        }
        Pattern split = compile(b.source, pattern.regex());
        b.preSteps.add(splitStep(split, "Isolated", b.source));
        b.byteLevelInput = true;
        b.decoders.add(tokens -> List.of(ByteLevel.decode(String.join("", tokens))));
        b.bosId = bosId;
        b.eosId = eosId;
        b.addBos = addBos;
        return b.build();
    }

    /** Reads a BPE {@code tokenizer.json}, and {@code tokenizer_config.json} beside it when there is one; {@link #load} reads Unigram ones too. */
    public static HfTokenizer read(Path file) {
        JsonNode root = readJson(file);
        String type = modelType(file, root);
        if (!type.equals("BPE")) throw new ShearsException(file + ": model type '" + type + "' is not supported here (only BPE); TokenizerLoader reads Unigram too");
        return readBpe(file, root);
    }

    /**
     * Reads a {@code tokenizer.json} with a BPE model (as {@link #read}) or a Unigram model (T5, ALBERT,
     * XLM-R conversions) as a {@link UnigramTokenizer}.
     */
    public static Tokenizer load(Path file) {
        JsonNode root = readJson(file);
        String type = modelType(file, root);
        return switch (type) {
            case "BPE" -> readBpe(file, root);
            case "Unigram" -> readUnigram(file, root);
            default -> throw new ShearsException(file + ": model type '" + type + "' is not supported (only BPE and Unigram)");
        };
    }

    private static String modelType(Path file, JsonNode root) {
        if (!root.isObject()) throw new ShearsException(file + ": not a tokenizer.json (top level is not an object)");
        JsonNode model = root.path("model");
        if (!model.isObject()) throw new ShearsException(file + ": no \"model\" object");
        return model.path("type").asText(model.has("merges") ? "BPE" : "");
    }

    /**
     * What runs around either model: the added tokens (ids checked against {@code entries}, the vocabulary and the added
     * tokens together), then the normalizer, the pre-tokenizer and the decoder.
     */
    private static void readAround(Path file, JsonNode root, Builder b, int entries) {
        for (JsonNode a : root.path("added_tokens")) {
            b.added.add(new Added(a.path("content").asText(), tokenId(file, "added_tokens[" + b.added.size() + "].id", a.path("id"), entries),
                    a.path("special").asBoolean(false),
                    a.path("lstrip").asBoolean(false), a.path("rstrip").asBoolean(false), a.path("single_word").asBoolean(false)));
        }
        normalizer(b, root.path("normalizer"));
        preTokenizer(b, root.path("pre_tokenizer"));
        decoder(b, root.path("decoder"));
    }

    private static HfTokenizer readBpe(Path file, JsonNode root) {
        Builder b = new Builder(file.toString());
        JsonNode model = root.path("model");
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) throw new ShearsException(file + ": model.vocab is missing or empty");
        int entries = vocab.size() + root.path("added_tokens").size();
        vocab.properties().forEach(e -> b.vocab.put(e.getKey(), tokenId(file, "model.vocab[\"" + e.getKey() + "\"]", e.getValue(), entries)));
        for (JsonNode m : model.path("merges")) {
            if (m.isTextual()) {
                b.merges.add(splitMerge(b.source, m.asText()));
            } else if (m.isArray() && m.size() == 2) {
                b.merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                throw new ShearsException(file + ": merge " + b.merges.size() + " is neither \"a b\" nor [a, b]: " + m);
            }
        }
        for (String unsupported : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(unsupported).asText("").isEmpty()) throw new ShearsException(file + ": model." + unsupported + " is not supported");
        }
        b.byteFallback = model.path("byte_fallback").asBoolean(false);
        b.fuseUnk = model.path("fuse_unk").asBoolean(false);
        b.ignoreMerges = model.path("ignore_merges").asBoolean(false);
        b.unkToken = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        readAround(file, root, b, entries);

        // BOS: tokenizer_config.json's add_bos_token, else the post-processor's template
        JsonNode template = findTemplate(root.path("post_processor"));
        String templateBos = null;
        if (template != null) {
            JsonNode first = template.path("single").path(0);
            if (first.has("SpecialToken")) templateBos = first.path("SpecialToken").path("id").asText();
        }
        Path configFile = file.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile) : null;
        String bosToken = config == null ? null : tokenName(config.path("bos_token"));
        String eosToken = config == null ? null : tokenName(config.path("eos_token"));
        if (bosToken == null) bosToken = templateBos;
        b.bosId = idOf(b, bosToken);
        b.eosId = idOf(b, eosToken);
        JsonNode addBos = config == null ? null : config.get("add_bos_token");
        b.addBos = addBos != null && addBos.isBoolean() ? addBos.asBoolean() : templateBos != null;
        return b.build();
    }

    /**
     * A {@code "Unigram"} model (tokenizers {@code models/unigram}): {@code vocab} as {@code [piece, score]}
     * pairs in id order, {@code unk_id}; the normalizers, pre-tokenizer and decoder as for BPE. Added
     * tokens named in {@code tokenizer_config.json} ({@code pad_token}, {@code eos_token}…) or in the
     * post-processor's template are control tokens (decoded to nothing); the others (T5's sentinels)
     * decode to their text. EOS is appended for the model when the template ends with a special token
     * ({@code "$A </s>"}).
     */
    private static UnigramTokenizer readUnigram(Path file, JsonNode root) {
        Builder b = new Builder(file.toString());
        JsonNode model = root.path("model");
        JsonNode vocab = model.path("vocab");
        if (!vocab.isArray() || vocab.isEmpty()) throw new ShearsException(file + ": model.vocab of a Unigram model is missing or empty (expected [[piece, score], ...])");
        if (model.path("byte_fallback").asBoolean(false)) throw new ShearsException(file + ": Unigram model with byte_fallback is not supported");
        List<String> pieces = new ArrayList<>(vocab.size());
        double[] scores = new double[vocab.size()];
        for (JsonNode entry : vocab) {
            if (!entry.isArray() || entry.size() != 2 || !entry.get(0).isTextual() || !entry.get(1).isNumber()) {
                throw new ShearsException(file + ": model.vocab[" + pieces.size() + "] is not [piece, score]: " + entry);
            }
            scores[pieces.size()] = entry.get(1).asDouble();
            pieces.add(entry.get(0).asText());
        }
        for (int i = 0; i < pieces.size(); i++) b.vocab.putIfAbsent(pieces.get(i), i);
        JsonNode unk = model.path("unk_id");
        int unkId = unk.isNull() || unk.isMissingNode() ? -1 : tokenId(file, "model.unk_id", unk, pieces.size());
        if (unkId >= pieces.size()) throw new ShearsException(file + ": model.unk_id " + unkId + " is outside the " + pieces.size() + " pieces");
        int entries = pieces.size() + root.path("added_tokens").size();
        readAround(file, root, b, entries);
        if (b.byteLevelInput) throw new ShearsException(file + ": a ByteLevel pre-tokenizer before a Unigram model is not supported");

        JsonNode template = findTemplate(root.path("post_processor"));
        List<String> templateSpecials = new ArrayList<>();
        String templateBos = null;
        String templateEos = null;
        if (template != null) {
            JsonNode single = template.path("single");
            for (JsonNode item : single) if (item.has("SpecialToken")) templateSpecials.add(item.path("SpecialToken").path("id").asText());
            if (single.path(0).has("SpecialToken")) templateBos = single.path(0).path("SpecialToken").path("id").asText();
            if (single.size() > 1 && single.path(single.size() - 1).has("SpecialToken")) templateEos = single.path(single.size() - 1).path("SpecialToken").path("id").asText();
        }
        Path configFile = file.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile) : null;
        List<String> named = new ArrayList<>(templateSpecials);
        if (config != null) {
            for (String key : List.of("bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token")) {
                String name = tokenName(config.path(key));
                if (name != null) named.add(name);
            }
        }
        String bosToken = config == null ? null : tokenName(config.path("bos_token"));
        String eosToken = config == null ? null : tokenName(config.path("eos_token"));
        int bosId = idOf(b, bosToken != null ? bosToken : templateBos);
        int eosId = idOf(b, templateEos != null ? templateEos : eosToken);
        JsonNode addBos = config == null ? null : config.get("add_bos_token");
        boolean bos = addBos != null && addBos.isBoolean() ? addBos.asBoolean() : templateBos != null;

        PieceType[] types = new PieceType[pieces.size()];
        java.util.Arrays.fill(types, PieceType.NORMAL);
        if (unkId >= 0) types[unkId] = PieceType.UNKNOWN;
        PieceType[] addedTypes = new PieceType[b.added.size()];
        for (int k = 0; k < addedTypes.length; k++) {
            Added a = b.added.get(k);
            addedTypes[k] = a.id() == unkId ? PieceType.UNKNOWN : a.special() && named.contains(a.content()) ? PieceType.CONTROL : PieceType.USER_DEFINED;
        }
        String unkSurface = unkId >= 0 ? pieces.get(unkId) : "";
        HfTokenizer.Pipeline pipeline = new HfTokenizer.Pipeline(b.normalizers, b.preSteps, false, b.decoders);
        return new UnigramTokenizer(file.toString(), new UnigramTokenizer.Model(pieces, scores, types, unkId, UnigramTokenizer.Rules.TOKENIZERS),
                new UnigramTokenizer.Specials(b.added, addedTypes, bosId, eosId, bos, templateEos != null, unkSurface), pipeline::words, pipeline::decode);
    }

    /** A token id: a whole number from 0 to below twice the entries plus 1024 (ids are dense in real vocabularies; a huge one asks for a huge table). */
    private static int tokenId(Path file, String where, JsonNode id, int entries) {
        long limit = 2L * entries + 1024;
        if (!id.isIntegralNumber() || id.asLong() < 0 || id.asLong() >= limit) {
            throw new ShearsException(file + ": " + where + " is not a token id of a " + entries + "-entry vocabulary: " + id);
        }
        return id.asInt();
    }

    private static JsonNode readJson(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            String message = e.getOriginalMessage().lines().findFirst().orElse("");
            var where = e.getLocation();
            throw new ShearsException(file + ": bad JSON" + (where != null ? " at line " + where.getLineNr() + ", column " + where.getColumnNr() : "") + ": " + message, e);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String tokenName(JsonNode node) {
        if (node.isTextual()) return node.asText();
        if (node.isObject() && node.path("content").isTextual()) return node.path("content").asText();
        return null;
    }

    private static int idOf(Builder b, String token) {
        if (token == null) return -1;
        for (Added a : b.added) if (a.content().equals(token)) return a.id();
        return b.vocab.getOrDefault(token, -1);
    }

    private static JsonNode findTemplate(JsonNode post) {
        if (post == null || post.isNull() || post.isMissingNode()) return null;
        if ("TemplateProcessing".equals(post.path("type").asText())) return post;
        for (JsonNode p : post.path("processors")) {
            JsonNode t = findTemplate(p);
            if (t != null) return t;
        }
        return null;
    }

    private static String[] splitMerge(String source, String merge) {
        int space = merge.indexOf(' ', 1);
        if (space < 0) throw new ShearsException(source + ": merge '" + merge + "' has no space between its two tokens");
        return new String[] {merge.substring(0, space), merge.substring(space + 1)};
    }

    /** Compiles a tokenizers (Oniguruma/Rust) regex as Java: \s means Unicode White_Space; script names get Java's "Is". */
    private static Pattern compile(String source, String regex) {
        int flags = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE;
        try {
            return Pattern.compile(regex, flags);
        } catch (PatternSyntaxException first) {
            String translated = regex.replaceAll("\\\\p\\{([A-Z][a-z]+)}", "\\\\p{Is$1}");
            try {
                return Pattern.compile(translated, flags);
            } catch (PatternSyntaxException e) {
                throw new ShearsException(source + ": the split regex cannot be compiled as a Java regex: " + e.getDescription() + " in " + regex, e);
            }
        }
    }

    // ------------------------------------------------------------------ components

    private static void normalizer(Builder b, JsonNode n) {
        if (n.isNull() || n.isMissingNode()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode inner : n.path("normalizers")) normalizer(b, inner);
            }
            case "Prepend" -> {
                String prepend = n.path("prepend").asText();
                b.normalizers.add(s -> s.isEmpty() ? s : prepend + s);
            }
            case "Replace" -> {
                String content = n.path("content").asText();
                JsonNode pattern = n.path("pattern");
                if (pattern.has("String")) {
                    String target = pattern.path("String").asText();
                    b.normalizers.add(s -> s.replace(target, content));
                } else {
                    Pattern p = compile(b.source, pattern.path("Regex").asText());
                    String replacement = Matcher.quoteReplacement(content);
                    b.normalizers.add(s -> p.matcher(s).replaceAll(replacement));
                }
            }
            case "Precompiled" -> {
                JsonNode map = n.path("precompiled_charsmap");
                byte[] blob;
                try {
                    blob = map.isNull() || map.isMissingNode() ? new byte[0] : java.util.Base64.getDecoder().decode(map.asText());
                } catch (IllegalArgumentException e) {
                    throw new ShearsException(b.source + ": Precompiled normalizer's precompiled_charsmap is not base64: " + e.getMessage(), e);
                }
                PrecompiledCharsMap charsMap = PrecompiledCharsMap.parse(blob, b.source + " Precompiled normalizer");
                b.normalizers.add(charsMap::normalizeGraphemes);
            }
            case "NFC" -> b.normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFC));
            case "NFD" -> b.normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFD));
            case "NFKC" -> b.normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKC));
            case "NFKD" -> b.normalizers.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKD));
            case "Lowercase" -> b.normalizers.add(s -> s.toLowerCase(Locale.ROOT));
            case "Strip" -> {
                boolean left = n.path("strip_left").asBoolean(false);
                boolean right = n.path("strip_right").asBoolean(false);
                b.normalizers.add(s -> left && right ? s.strip() : left ? s.stripLeading() : right ? s.stripTrailing() : s);
            }
            default -> throw new ShearsException(b.source + ": normalizer type '" + type + "' is not supported");
        }
    }

    private static void preTokenizer(Builder b, JsonNode n) {
        if (n.isNull() || n.isMissingNode()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode inner : n.path("pretokenizers")) preTokenizer(b, inner);
            }
            case "ByteLevel" -> {
                if (n.path("add_prefix_space").asBoolean(false)) {
                    b.preSteps.add((piece, first, out) -> out.add(piece.startsWith(" ") ? piece : " " + piece));
                }
                if (n.path("use_regex").asBoolean(true)) b.preSteps.add(splitStep(compile(b.source, HfTokenizer.SplitPattern.GPT2.regex()), "Isolated", b.source));
                b.byteLevelInput = true;
            }
            case "Split" -> {
                if (n.path("invert").asBoolean(false)) throw new ShearsException(b.source + ": Split pre-tokenizer with invert=true is not supported");
                JsonNode pattern = n.path("pattern");
                Pattern p = pattern.has("String") ? Pattern.compile(Pattern.quote(pattern.path("String").asText())) : compile(b.source, pattern.path("Regex").asText());
                b.preSteps.add(splitStep(p, n.path("behavior").asText(), b.source));
            }
            case "WhitespaceSplit" -> b.preSteps.add(splitStep(Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS), "Removed", b.source));
            case "Digits" -> b.preSteps.add(splitStep(Pattern.compile(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+"), "Isolated", b.source));
            case "Metaspace" -> {
                String replacement = n.path("replacement").asText("\u2581");
                String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText() : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                boolean split = n.path("split").asBoolean(true);
                b.preSteps.add((piece, first, out) -> {
                    String s = piece.replace(" ", replacement);
                    boolean prepend = scheme.equals("always") || (scheme.equals("first") && first);
                    if (prepend && !s.startsWith(replacement)) s = replacement + s;
                    if (!split) {
                        out.add(s);
                        return;
                    }
                    int start = 0; // split before each replacement character (MergedWithNext)
                    for (int i = s.indexOf(replacement, 1); i >= 0; i = s.indexOf(replacement, i + 1)) {
                        if (i > start) out.add(s.substring(start, i));
                        start = i;
                    }
                    if (start < s.length()) out.add(s.substring(start));
                });
            }
            default -> throw new ShearsException(b.source + ": pre_tokenizer type '" + type + "' is not supported");
        }
    }

    /** tokenizers' {@code split} with a delimiter behavior. */
    private static PreStep splitStep(Pattern pattern, String behavior, String source) {
        if (!List.of("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous").contains(behavior)) {
            throw new ShearsException(source + ": Split behavior '" + behavior + "' is not supported");
        }
        return (piece, first, out) -> {
            Matcher m = pattern.matcher(piece);
            int at = 0;
            List<String> parts = new ArrayList<>();
            List<Boolean> isMatch = new ArrayList<>();
            while (m.find()) {
                if (m.end() == m.start()) continue;
                if (m.start() > at) {
                    parts.add(piece.substring(at, m.start()));
                    isMatch.add(false);
                }
                parts.add(m.group());
                isMatch.add(true);
                at = m.end();
            }
            if (at < piece.length()) {
                parts.add(piece.substring(at));
                isMatch.add(false);
            }
            switch (behavior) {
                case "Isolated" -> out.addAll(parts);
                case "Removed" -> {
                    for (int i = 0; i < parts.size(); i++) if (!isMatch.get(i)) out.add(parts.get(i));
                }
                case "MergedWithPrevious" -> {
                    StringBuilder current = new StringBuilder();
                    for (int i = 0; i < parts.size(); i++) {
                        current.append(parts.get(i));
                        if (isMatch.get(i)) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                    }
                    if (!current.isEmpty()) out.add(current.toString());
                }
                case "MergedWithNext" -> {
                    StringBuilder current = new StringBuilder();
                    for (int i = 0; i < parts.size(); i++) {
                        if (isMatch.get(i) && !current.isEmpty()) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                        current.append(parts.get(i));
                    }
                    if (!current.isEmpty()) out.add(current.toString());
                }
                default -> { // Contiguous: adjacent matches form one piece
                    StringBuilder current = new StringBuilder();
                    boolean inMatch = false;
                    for (int i = 0; i < parts.size(); i++) {
                        if (!current.isEmpty() && isMatch.get(i) != inMatch) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                        current.append(parts.get(i));
                        inMatch = isMatch.get(i);
                    }
                    if (!current.isEmpty()) out.add(current.toString());
                }
            }
        };
    }

    private static void decoder(Builder b, JsonNode n) {
        if (n.isNull() || n.isMissingNode()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode inner : n.path("decoders")) decoder(b, inner);
            }
            case "ByteLevel" -> b.decoders.add(tokens -> List.of(ByteLevel.decode(String.join("", tokens))));
            case "Replace" -> {
                String content = n.path("content").asText();
                JsonNode pattern = n.path("pattern");
                if (pattern.has("String")) {
                    String target = pattern.path("String").asText();
                    b.decoders.add(tokens -> tokens.stream().map(t -> t.replace(target, content)).toList());
                } else {
                    Pattern p = compile(b.source, pattern.path("Regex").asText());
                    String replacement = Matcher.quoteReplacement(content);
                    b.decoders.add(tokens -> tokens.stream().map(t -> p.matcher(t).replaceAll(replacement)).toList());
                }
            }
            case "ByteFallback" -> b.decoders.add(HfTokenizerReader::byteFallbackDecode);
            case "Fuse" -> b.decoders.add(tokens -> List.of(String.join("", tokens)));
            case "Strip" -> {
                String content = n.path("content").asText(" ");
                int start = n.path("start").asInt(0);
                int stop = n.path("stop").asInt(0);
                b.decoders.add(tokens -> tokens.stream().map(t -> strip(t, content, start, stop)).toList());
            }
            case "Metaspace" -> {
                String replacement = n.path("replacement").asText("\u2581");
                String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText() : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                b.decoders.add(tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i).replace(replacement, " ");
                        if (i == 0 && !scheme.equals("never") && t.startsWith(" ")) t = t.substring(1);
                        out.add(t);
                    }
                    return out;
                });
            }
            default -> throw new ShearsException(b.source + ": decoder type '" + type + "' is not supported");
        }
    }

    /** Runs of {@code <0xNN>} tokens become their UTF-8 text, or one U+FFFD per byte when that is malformed (as tokenizers does). */
    private static List<String> byteFallbackDecode(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i <= tokens.size(); i++) {
            int b = i < tokens.size() ? ByteFallback.byteOf(tokens.get(i)) : -1;
            if (b >= 0) {
                bytes.write(b);
                continue;
            }
            if (bytes.size() > 0) {
                byte[] raw = bytes.toByteArray();
                var decoder = StandardCharsets.UTF_8.newDecoder();
                try {
                    out.add(decoder.decode(java.nio.ByteBuffer.wrap(raw)).toString());
                } catch (java.nio.charset.CharacterCodingException e) {
                    out.add("\uFFFD".repeat(raw.length));
                }
                bytes.reset();
            }
            if (i < tokens.size()) out.add(tokens.get(i));
        }
        return out;
    }

    private static String strip(String t, String content, int start, int stop) {
        int from = 0;
        int to = t.length();
        for (int k = 0; k < start && t.startsWith(content, from); k++) from += content.length();
        for (int k = 0; k < stop && to - content.length() >= from && t.startsWith(content, to - content.length()); k++) to -= content.length();
        return t.substring(from, to);
    }

    /** The parts of a tokenizer.json as they are read. */
    static final class Builder {
        final String source;
        final Map<String, Integer> vocab = new HashMap<>();
        final List<String[]> merges = new ArrayList<>();
        final List<Added> added = new ArrayList<>();
        final List<UnaryOperator<String>> normalizers = new ArrayList<>();
        final List<PreStep> preSteps = new ArrayList<>();
        final List<UnaryOperator<List<String>>> decoders = new ArrayList<>();
        boolean byteLevelInput;
        boolean byteFallback;
        boolean fuseUnk;
        boolean ignoreMerges;
        String unkToken;
        int bosId = -1;
        int eosId = -1;
        boolean addBos;

        Builder(String source) {
            this.source = source;
        }

        HfTokenizer build() {
            return new HfTokenizer(source, new HfTokenizer.Bpe(vocab, merges, unkToken, byteFallback, fuseUnk, ignoreMerges),
                    new HfTokenizer.Pipeline(normalizers, preSteps, byteLevelInput, decoders), new HfTokenizer.Specials(added, bosId, eosId, addBos));
        }
    }
}
