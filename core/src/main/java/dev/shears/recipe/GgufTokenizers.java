package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.io.GgufTokenizerData;
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
final class GgufTokenizers {
    private GgufTokenizers() {
    }

    static Tokenizer of(GgufTokenizerData data, Path file) {
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
    static GgufTokenizerData toData(Tokenizer tokenizer, Path file) {
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
                yield GgufTokenizerData.of("gpt2", tokens, new float[0], types, byteLevelMerges(file), t.bosId(), t.eosId());
            }
            default -> throw new ShearsException(file + ": this tokenizer cannot be written into GGUF metadata (supported: llama2.c tokenizer.bin, "
                    + "SentencePiece tokenizer.model, byte-level tokenizer.json); export --format hf instead");
        };
    }

    /** {@code model.merges} of a tokenizer.json, as "a b" strings (the file may hold pairs or strings). */
    private static List<String> byteLevelMerges(Path file) {
        try {
            com.fasterxml.jackson.databind.JsonNode merges = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile()).path("model").path("merges");
            List<String> out = new ArrayList<>(merges.size());
            for (com.fasterxml.jackson.databind.JsonNode m : merges) out.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
            return out;
        } catch (java.io.IOException e) {
            throw new ShearsException(file + ": cannot read the merges: " + e.getMessage(), e);
        }
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
