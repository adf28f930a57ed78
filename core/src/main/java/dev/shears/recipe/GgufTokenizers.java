package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.io.GgufTokenizerData;
import dev.shears.tokenizer.HfTokenizer;
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
