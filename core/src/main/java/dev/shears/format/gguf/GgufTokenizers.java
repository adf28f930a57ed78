package dev.shears.format.gguf;

import dev.shears.ShearsException;
import dev.shears.format.hf.HfTokenizerReader;
import dev.shears.tokenizer.HfTokenizer;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.PieceType;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
                yield HfTokenizerReader.byteLevel(data.tokens(), data.merges(), special, data.bos(), data.eos(), data.addBos(), pattern);
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

    static int ggufType(PieceType type) {
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
