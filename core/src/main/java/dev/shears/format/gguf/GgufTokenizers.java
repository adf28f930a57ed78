package dev.shears.format.gguf;

import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The tokenizer a GGUF file carries in its metadata, as llama.cpp builds it. */
public final class GgufTokenizers {
    private GgufTokenizers() {
    }

    public static Tokenizer of(GgufTokenizerData data, Path file) {
        int n = data.tokens().size();
        return switch (data.model()) {
            case "llama" -> {
                PieceType[] types = new PieceType[n];
                for (int i = 0; i < n; i++) types[i] = pieceType(data.tokenTypes().length == n ? data.tokenTypes()[i] : GgufTokenizerData.NORMAL);
                float[] scores = data.scores().length == n ? data.scores() : new float[n];
                yield SentencePieceTokenizer.of(data.tokens(), scores, types, data.bos(), data.eos(), data.addBos());
            }
            case "gpt2" -> {
                List<Integer> special = new ArrayList<>();
                for (int i = 0; i < data.tokenTypes().length; i++) {
                    int t = data.tokenTypes()[i];
                    if (t == GgufTokenizerData.CONTROL || t == GgufTokenizerData.USER_DEFINED) special.add(i);
                }
                String pre = data.pre() == null ? "" : data.pre().toLowerCase(Locale.ROOT);
                HfTokenizer.SplitPattern pattern = pre.startsWith("llama") ? HfTokenizer.SplitPattern.LLAMA3
                        : pre.startsWith("qwen") ? HfTokenizer.SplitPattern.QWEN2 : HfTokenizer.SplitPattern.GPT2;
                yield HfTokenizer.byteLevel(data.tokens(), data.merges(), special, data.bos(), data.eos(), data.addBos(), pattern);
            }
            default -> throw new ShearsException(file + ": tokenizer.ggml.model '" + data.model()
                    + "' is not supported (supported: llama, gpt2); pass --tokenizer FILE");
        };
    }

    /**
     * The GGUF metadata of a tokenizer, as llama.cpp's converters write it: SentencePiece-style
     * vocabularies (llama2.c {@code tokenizer.bin}, {@code tokenizer.model}) as {@code llama} with
     * scores and token types (spaces as ▁), byte-level {@code tokenizer.json} as {@code gpt2} with the
     * merges read from the file.
     *
     * @param file the tokenizer's file (for byte-level merges)
     */
    public static GgufTokenizerData toData(Tokenizer tokenizer, Path file) {
        int n = tokenizer.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        int[] types = new int[n];
        for (int i = 0; i < n; i++) types[i] = ggufType(tokenizer.pieceType(i));
        return switch (tokenizer) {
            case Llama2cTokenizer t -> {
                float[] scores = new float[n];
                for (int i = 0; i < n; i++) {
                    tokens.add(t.pieceType(i) == PieceType.NORMAL ? t.piece(i).replace(' ', '\u2581') : t.piece(i));
                    scores[i] = t.score(i);
                }
                yield GgufTokenizerData.of("llama", tokens, scores, types, List.of(), t.bosId(), t.eosId());
            }
            case SentencePieceTokenizer t -> {
                float[] scores = new float[n];
                for (int i = 0; i < n; i++) {
                    tokens.add(t.piece(i));
                    scores[i] = t.score(i);
                }
                yield GgufTokenizerData.of("llama", tokens, scores, types, List.of(), t.bosId(), t.eosId());
            }
            case HfTokenizer t when t.isByteLevel() -> {
                for (int i = 0; i < n; i++) tokens.add(t.piece(i));
                com.fasterxml.jackson.databind.JsonNode root = readJson(file);
                yield new GgufTokenizerData("gpt2", preName(root, file), tokens, new float[0], types, byteLevelMerges(root), t.bosId(), t.eosId(), -1, -1,
                        t.addsBos(), false, "");
            }
            default -> throw new ShearsException(file + ": this tokenizer cannot be written into GGUF metadata (supported: llama2.c tokenizer.bin, "
                    + "SentencePiece tokenizer.model, byte-level tokenizer.json); export --format hf instead");
        };
    }

    /**
     * Writes the tokenizer a GGUF file carries as a file a Hugging Face folder can hold: a {@code llama}
     * vocabulary in llama.2c's {@code tokenizer.bin} layout (the same SentencePiece-style BPE; it needs
     * the Llama layout: unknown, BOS, EOS, then the 256 byte pieces), a {@code gpt2} vocabulary as a
     * byte-level {@code tokenizer.json} (+ {@code tokenizer_config.json}).
     *
     * @return the file written, or empty when the vocabulary has no such layout
     */
    public static Optional<Path> writeFiles(GgufTokenizerData data, Path dir) {
        int n = data.tokens().size();
        if (data.model().equals("llama")) {
            boolean llamaLayout = n >= 259 && data.bos() == 1 && data.eos() == 2 && data.scores().length == n;
            for (int b = 0; llamaLayout && b < 256; b++) llamaLayout = data.tokens().get(3 + b).equals(String.format("<0x%02X>", b));
            if (!llamaLayout) return Optional.empty();
            List<String> pieces = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                boolean normal = data.tokenTypes().length != n || data.tokenTypes()[i] == GgufTokenizerData.NORMAL;
                pieces.add(normal ? data.tokens().get(i).replace('\u2581', ' ') : data.tokens().get(i));
            }
            Path file = dir.resolve("tokenizer.bin");
            dev.shears.tokenizer.BpeTrainer.writeLlama2c(new dev.shears.tokenizer.BpeTrainer.Vocabulary(pieces, data.scores()), file);
            return Optional.of(file);
        }
        if (!data.model().equals("gpt2")) return Optional.empty();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode root = json.createObjectNode().put("version", "1.0");
        com.fasterxml.jackson.databind.node.ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < data.tokenTypes().length; i++) {
            int t = data.tokenTypes()[i];
            if (t == GgufTokenizerData.CONTROL || t == GgufTokenizerData.USER_DEFINED) {
                added.addObject().put("id", i).put("content", data.tokens().get(i)).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", false).put("special", true);
            }
        }
        root.putNull("normalizer");
        String pre = data.pre() == null ? "" : data.pre().toLowerCase(Locale.ROOT);
        HfTokenizer.SplitPattern pattern = pre.startsWith("llama") ? HfTokenizer.SplitPattern.LLAMA3
                : pre.startsWith("qwen") ? HfTokenizer.SplitPattern.QWEN2 : HfTokenizer.SplitPattern.GPT2;
        com.fasterxml.jackson.databind.node.ObjectNode preTok = root.putObject("pre_tokenizer");
        if (pattern == HfTokenizer.SplitPattern.GPT2) {
            preTok.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        } else {
            preTok.put("type", "Sequence");
            com.fasterxml.jackson.databind.node.ArrayNode steps = preTok.putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", pattern.regex());
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        }
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        com.fasterxml.jackson.databind.node.ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout").putNull("unk_token")
                .putNull("continuing_subword_prefix").putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", false);
        com.fasterxml.jackson.databind.node.ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < n; i++) vocab.put(data.tokens().get(i), i);
        com.fasterxml.jackson.databind.node.ArrayNode merges = model.putArray("merges");
        for (String m : data.merges()) merges.add(m);
        com.fasterxml.jackson.databind.node.ObjectNode config = json.createObjectNode().put("add_bos_token", data.addBos())
                .put("bos_token", data.bos() >= 0 ? data.tokens().get(data.bos()) : null).put("eos_token", data.eos() >= 0 ? data.tokens().get(data.eos()) : null);
        Path file = dir.resolve("tokenizer.json");
        try {
            AtomicFiles.writeString(file, json.writeValueAsString(root));
            AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(config));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return Optional.of(file);
    }

    private static com.fasterxml.jackson.databind.JsonNode readJson(Path file) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
        } catch (java.io.IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code model.merges} of a tokenizer.json, as "a b" strings (the file may hold pairs or strings). */
    private static List<String> byteLevelMerges(com.fasterxml.jackson.databind.JsonNode root) {
        com.fasterxml.jackson.databind.JsonNode merges = root.path("model").path("merges");
        List<String> out = new ArrayList<>(merges.size());
        for (com.fasterxml.jackson.databind.JsonNode m : merges) out.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        return out;
    }

    /**
     * llama.cpp's {@code tokenizer.ggml.pre} for the split regex of a byte-level tokenizer.json: none
     * (ByteLevel's own GPT-2 pattern) is {@code gpt-2}; Llama 3's is {@code llama-bpe}; Qwen2's {@code qwen2}.
     */
    private static String preName(com.fasterxml.jackson.databind.JsonNode root, Path file) {
        List<String> regexes = new ArrayList<>();
        root.path("pre_tokenizer").findValues("Regex").forEach(r -> regexes.add(r.asText()));
        if (regexes.isEmpty()) return "gpt-2";
        if (regexes.size() == 1 && regexes.getFirst().equals(HfTokenizer.SplitPattern.LLAMA3.regex())) return "llama-bpe";
        if (regexes.size() == 1 && regexes.getFirst().equals(HfTokenizer.SplitPattern.QWEN2.regex())) return "qwen2";
        if (regexes.size() == 1 && regexes.getFirst().equals(HfTokenizer.SplitPattern.GPT2.regex())) return "gpt-2";
        throw new ShearsException(file + ": its split pattern is none llama.cpp names (GPT-2, Llama 3, Qwen2); GGUF cannot carry this tokenizer");
    }

    private static int ggufType(PieceType type) {
        return switch (type) {
            case NORMAL -> GgufTokenizerData.NORMAL;
            case UNKNOWN -> GgufTokenizerData.UNKNOWN;
            case CONTROL -> GgufTokenizerData.CONTROL;
            case USER_DEFINED -> GgufTokenizerData.USER_DEFINED;
            case UNUSED -> GgufTokenizerData.UNUSED;
            case BYTE -> GgufTokenizerData.BYTE;
        };
    }

    private static PieceType pieceType(int ggufType) {
        return switch (ggufType) {
            case GgufTokenizerData.UNKNOWN -> PieceType.UNKNOWN;
            case GgufTokenizerData.CONTROL -> PieceType.CONTROL;
            case GgufTokenizerData.USER_DEFINED -> PieceType.USER_DEFINED;
            case GgufTokenizerData.UNUSED -> PieceType.UNUSED;
            case GgufTokenizerData.BYTE -> PieceType.BYTE;
            default -> PieceType.NORMAL;
        };
    }
}
