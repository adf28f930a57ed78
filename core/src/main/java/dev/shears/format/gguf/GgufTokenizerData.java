package dev.shears.format.gguf;


import dev.shears.io.Printable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The tokenizer a GGUF file carries in its {@code tokenizer.ggml.*} metadata, as plain data (the
 * tokenizer package builds a tokenizer from it). Absent optional keys read as empty arrays, empty
 * strings and id -1; {@code addBos}/{@code addEos} default as llama.cpp's vocabulary loader does.
 *
 * @param model        {@code tokenizer.ggml.model}: "llama" (SentencePiece BPE), "gpt2" (byte-level BPE), ...
 * @param pre          {@code tokenizer.ggml.pre}, the pre-tokenizer name, or ""
 * @param tokens       {@code tokenizer.ggml.tokens}, indexed by id
 * @param scores       {@code tokenizer.ggml.scores} [tokens] or empty
 * @param tokenTypes   {@code tokenizer.ggml.token_type} [tokens] ({@link #NORMAL} ... {@link #BYTE}) or empty
 * @param merges       {@code tokenizer.ggml.merges} ("a b" pairs, byte-level BPE) or empty
 * @param bos          {@code tokenizer.ggml.bos_token_id} or -1
 * @param eos          {@code tokenizer.ggml.eos_token_id} or -1
 * @param unk          {@code tokenizer.ggml.unknown_token_id} or -1
 * @param pad          {@code tokenizer.ggml.padding_token_id} or -1
 * @param addBos       {@code tokenizer.ggml.add_bos_token}
 * @param addEos       {@code tokenizer.ggml.add_eos_token}
 * @param chatTemplate {@code tokenizer.chat_template} or ""
 */
public record GgufTokenizerData(String model, String pre, List<String> tokens, float[] scores, int[] tokenTypes, List<String> merges,
                                int bos, int eos, int unk, int pad, boolean addBos, boolean addEos, String chatTemplate) {
    /** llama.cpp's {@code llama_token_type} values. */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    private static final String PREFIX = "tokenizer.ggml.";

    public GgufTokenizerData {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(pre, "pre");
        Objects.requireNonNull(chatTemplate, "chatTemplate");
        tokens = List.copyOf(tokens);
        merges = List.copyOf(merges);
        scores = scores.clone();
        tokenTypes = tokenTypes.clone();
        if (scores.length != 0 && scores.length != tokens.size()) {
            throw new IllegalArgumentException("scores has " + scores.length + " entries for " + tokens.size() + " tokens");
        }
        if (tokenTypes.length != 0 && tokenTypes.length != tokens.size()) {
            throw new IllegalArgumentException("token_type has " + tokenTypes.length + " entries for " + tokens.size() + " tokens");
        }
        for (int id : new int[] {bos, eos, unk, pad}) {
            if (id < -1 || id >= tokens.size()) throw new IllegalArgumentException("special token id " + id + " is outside the " + tokens.size() + " tokens");
        }
    }

    /** A tokenizer's data with llama.cpp's defaults for {@code addBos}/{@code addEos} and nothing optional. */
    public static GgufTokenizerData of(String model, List<String> tokens, float[] scores, int[] tokenTypes, List<String> merges, int bos, int eos) {
        return new GgufTokenizerData(model, "", tokens, scores, tokenTypes, merges, bos, eos, -1, -1, defaultAddBos(model), defaultAddEos(model), "");
    }

    private static boolean defaultAddBos(String model) {
        return model.equals("llama") || model.equals("bert");
    }

    private static boolean defaultAddEos(String model) {
        return model.equals("t5");
    }

    /** The tokenizer stored in a file, or empty where it has no {@code tokenizer.ggml.model}. */
    public static Optional<GgufTokenizerData> read(GgufFile gguf) {
        Map<String, Object> m = gguf.metadata();
        if (!m.containsKey(PREFIX + "model")) return Optional.empty();
        String model = string(gguf, PREFIX + "model");
        List<String> tokens = strings(gguf, PREFIX + "tokens", true);
        List<String> merges = strings(gguf, PREFIX + "merges", false);
        List<?> scoreList = list(gguf, PREFIX + "scores");
        float[] scores = new float[scoreList.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = (float) number(gguf, PREFIX + "scores", scoreList.get(i)).doubleValue();
        List<?> typeList = list(gguf, PREFIX + "token_type");
        int[] types = new int[typeList.size()];
        for (int i = 0; i < types.length; i++) types[i] = number(gguf, PREFIX + "token_type", typeList.get(i)).intValue();
        try {
            return Optional.of(new GgufTokenizerData(model, m.containsKey(PREFIX + "pre") ? string(gguf, PREFIX + "pre") : "", tokens, scores, types, merges,
                    id(gguf, "bos_token_id"), id(gguf, "eos_token_id"), id(gguf, "unknown_token_id"), id(gguf, "padding_token_id"),
                    flag(gguf, "add_bos_token", defaultAddBos(model)), flag(gguf, "add_eos_token", defaultAddEos(model)),
                    m.containsKey("tokenizer.chat_template") ? string(gguf, "tokenizer.chat_template") : ""));
        } catch (IllegalArgumentException e) {
            throw Printable.error(gguf.path() + ": tokenizer metadata: " + e.getMessage());
        }
    }

    /** Puts this tokenizer's keys. */
    void writeTo(GgufWriter w) {
        w.putString(PREFIX + "model", model);
        if (!pre.isEmpty()) w.putString(PREFIX + "pre", pre);
        w.putStrings(PREFIX + "tokens", tokens);
        if (scores.length > 0) w.putF32s(PREFIX + "scores", scores);
        if (tokenTypes.length > 0) w.putI32s(PREFIX + "token_type", tokenTypes);
        // llama.cpp refuses a byte-level BPE ("gpt2") without the merges key, even when there are none
        if (!merges.isEmpty() || model.equals("gpt2")) w.putStrings(PREFIX + "merges", merges);
        if (bos >= 0) w.putU32(PREFIX + "bos_token_id", bos);
        if (eos >= 0) w.putU32(PREFIX + "eos_token_id", eos);
        if (unk >= 0) w.putU32(PREFIX + "unknown_token_id", unk);
        if (pad >= 0) w.putU32(PREFIX + "padding_token_id", pad);
        w.putBool(PREFIX + "add_bos_token", addBos);
        w.putBool(PREFIX + "add_eos_token", addEos);
        if (!chatTemplate.isEmpty()) w.putString("tokenizer.chat_template", chatTemplate);
    }

    private static String string(GgufFile gguf, String key) {
        if (gguf.metadata().get(key) instanceof String s) return s;
        throw Printable.error(gguf.path() + ": metadata " + key + " is not a string");
    }

    private static List<?> list(GgufFile gguf, String key) {
        Object v = gguf.metadata().get(key);
        if (v == null) return List.of();
        if (v instanceof List<?> l) return l;
        throw Printable.error(gguf.path() + ": metadata " + key + " is not an array");
    }

    private static List<String> strings(GgufFile gguf, String key, boolean required) {
        if (required && !gguf.metadata().containsKey(key)) throw Printable.error(gguf.path() + ": tokenizer metadata has no " + key);
        List<?> l = list(gguf, key);
        List<String> out = new ArrayList<>(l.size());
        for (Object o : l) {
            if (!(o instanceof String s)) throw Printable.error(gguf.path() + ": metadata " + key + " is not an array of strings");
            out.add(s);
        }
        return out;
    }

    private static Number number(GgufFile gguf, String key, Object o) {
        if (o instanceof Number n) return n;
        throw Printable.error(gguf.path() + ": metadata " + key + " is not an array of numbers");
    }

    /** The uint32 id llama.cpp stores for a special token the vocabulary does not have (LLAMA_TOKEN_NULL as u32). */
    static final long NO_TOKEN = 0xFFFFFFFFL;

    private static int id(GgufFile gguf, String key) {
        Object v = gguf.metadata().get(PREFIX + key);
        if (v == null) return -1;
        if (v instanceof Long n && n == NO_TOKEN) return -1; // how llama.cpp writes an absent special token
        if (v instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) return n.intValue();
        throw Printable.error(gguf.path() + ": metadata " + PREFIX + key + " is not a token id: " + v);
    }

    private static boolean flag(GgufFile gguf, String key, boolean fallback) {
        Object v = gguf.metadata().get(PREFIX + key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw Printable.error(gguf.path() + ": metadata " + PREFIX + key + " is not a bool");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTokenizerData t && model.equals(t.model) && pre.equals(t.pre) && tokens.equals(t.tokens)
                && Arrays.equals(scores, t.scores) && Arrays.equals(tokenTypes, t.tokenTypes) && merges.equals(t.merges)
                && bos == t.bos && eos == t.eos && unk == t.unk && pad == t.pad && addBos == t.addBos && addEos == t.addEos
                && chatTemplate.equals(t.chatTemplate);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, pre, tokens, Arrays.hashCode(scores), Arrays.hashCode(tokenTypes), merges, bos, eos, unk, pad, addBos, addEos, chatTemplate);
    }

    @Override
    public String toString() {
        return "GgufTokenizerData[" + model + (pre.isEmpty() ? "" : "/" + pre) + ", " + tokens.size() + " tokens, " + merges.size() + " merges, bos "
                + bos + ", eos " + eos + "]";
    }
}
