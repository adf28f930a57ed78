package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model (huggingface/tokenizers), in its two common
 * layouts:
 * <ul>
 * <li>byte-level BPE (GPT-2, Llama 3, Qwen2): a regex pre-tokenizer splits the text, each piece's
 * UTF-8 bytes become visible characters ({@link ByteLevel}), merges apply by rank within a piece;</li>
 * <li>SentencePiece-style BPE (Llama 2, Mistral conversions): a {@code Prepend("▁")}+{@code Replace(" ", "▁")}
 * normalizer or a {@code Metaspace} pre-tokenizer, merges over the whole text, byte fallback.</li>
 * </ul>
 * Added tokens are matched literally first (leftmost, longest) and never split. The parts come from
 * a reader ({@code format/hf/HfTokenizerReader}: {@code tokenizer.json}, or a vocabulary and merges as
 * GGUF carries them), which turns the normalizer, pre-tokenizer and decoder sections into
 * functions, takes BOS from {@code tokenizer_config.json} or the post-processor's template, and
 * refuses components that change ids and are not implemented, never ignoring them.
 */
public final class HfTokenizer extends PieceTable {
    /** The split regexes of the common byte-level tokenizers, in Java syntax (GGUF files name them in {@code tokenizer.ggml.pre}). */
    public enum SplitPattern {
        /** GPT-2 (and ByteLevel's {@code use_regex}). */
        GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
        /** Llama 3: case-insensitive contractions, numbers in groups of up to three digits. */
        LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
        /** Qwen2: as Llama 3, but every digit on its own. */
        QWEN2("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

        private final String regex;

        SplitPattern(String regex) {
            this.regex = regex;
        }

        public String regex() {
            return regex;
        }
    }

    /** One literal token matched before the model ({@code added_tokens} in tokenizer.json). */
    public record Added(String content, int id, boolean special, boolean lstrip, boolean rstrip, boolean singleWord) {
    }

    /** A pre-tokenizer step: one piece in, pieces out; {@code first} is whether the piece starts the text. */
    public interface PreStep {
        void apply(String piece, boolean first, List<String> out);
    }

    /**
     * The BPE model ({@code model} in tokenizer.json): piece → id, the merges as (left, right) in
     * rank order, the unknown token (null for none), and its {@code byte_fallback},
     * {@code fuse_unk} and {@code ignore_merges} flags.
     */
    public record Bpe(Map<String, Integer> vocab, List<String[]> merges, String unkToken, boolean byteFallback, boolean fuseUnk,
                      boolean ignoreMerges) {
    }

    /**
     * What runs around the model, in order: normalizers on each segment between added tokens,
     * pre-tokenizer steps, whether each word becomes byte characters ({@link ByteLevel}) before the
     * model, and decoders from pieces back to text.
     */
    public record Pipeline(List<UnaryOperator<String>> normalizers, List<PreStep> preSteps, boolean byteLevelInput,
                           List<UnaryOperator<List<String>>> decoders) {
        /** The words the model sees in one stretch of text between added tokens: normalized, then pre-tokenized ({@code first} when it starts the text). */
        public List<String> words(String segment, boolean first) {
            String s = segment;
            for (UnaryOperator<String> n : normalizers) s = n.apply(s);
            if (s.isEmpty()) return List.of();
            List<String> words = List.of(s);
            for (PreStep step : preSteps) {
                List<String> next = new ArrayList<>();
                boolean firstWord = first;
                for (String w : words) {
                    step.apply(w, firstWord, next);
                    firstWord = false;
                }
                words = next;
            }
            return words;
        }

        /** The decoders applied in order to the pieces' texts. */
        public List<String> decode(List<String> tokens) {
            List<String> out = tokens;
            for (UnaryOperator<List<String>> d : decoders) out = d.apply(out);
            return out;
        }
    }

    /** The added tokens, the BOS and EOS ids (-1 for none), and whether BOS is prepended (only when there is one). */
    public record Specials(List<Added> added, int bosId, int eosId, boolean addBos) {
    }

    private static final int CACHE_LIMIT = 200_000;

    private final String source;
    private final Map<String, Integer> vocab;
    private final PairTable rules;
    private final List<Added> added;
    private final AddedTokens addedTokens;
    private final Pipeline pipeline;
    /** Pieces are mapped to byte characters before the model (a ByteLevel pre-tokenizer). */
    private final boolean byteLevelInput;
    private final List<UnaryOperator<List<String>>> decoders;
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final int unkId;
    private final int[] byteIds = new int[256];
    private final Map<String, int[]> cache = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A tokenizer from the parts a reader found; the collections are kept, not copied.
     *
     * @param source names the origin (a file) in error messages
     */
    public HfTokenizer(String source, Bpe model, Pipeline pipeline, Specials specials) {
        super(new String[tableSize(model, specials)], new PieceType[tableSize(model, specials)], specials.bosId(), specials.eosId(),
                specials.addBos() && specials.bosId() >= 0);
        this.source = source;
        this.vocab = model.vocab();
        this.added = specials.added();
        this.addedTokens = new AddedTokens(added);
        int size = pieces.length;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) pieces[e.getValue()] = e.getKey();
        java.util.Arrays.fill(byteIds, -1);
        this.byteFallback = model.byteFallback();
        for (int i = 0; i < size; i++) {
            if (pieces[i] == null) pieces[i] = "";
            types[i] = PieceType.NORMAL;
            int by = byteFallback ? ByteFallback.byteOf(pieces[i]) : -1;
            if (by >= 0) {
                types[i] = PieceType.BYTE;
                if (byteIds[by] < 0) byteIds[by] = i;
            }
        }
        for (Added a : added) {
            pieces[a.id()] = a.content();
            types[a.id()] = a.special() ? PieceType.CONTROL : PieceType.USER_DEFINED;
        }
        this.unkId = model.unkToken() == null ? -1 : vocab.getOrDefault(model.unkToken(), -1);
        if (unkId >= 0) types[unkId] = PieceType.UNKNOWN;
        rules = new PairTable(model.merges().size());
        for (int rank = 0; rank < model.merges().size(); rank++) {
            String[] m = model.merges().get(rank);
            Integer left = vocab.get(m[0]);
            Integer right = vocab.get(m[1]);
            Integer merged = vocab.get(m[0] + m[1]);
            if (left == null || right == null || merged == null) {
                throw new ShearsException(source + ": merge " + rank + " '" + m[0] + " " + m[1] + "' uses a token that is not in the vocabulary");
            }
            rules.putIfAbsent(left, right, merged, -rank);
        }
        this.pipeline = pipeline;
        this.byteLevelInput = pipeline.byteLevelInput();
        this.decoders = pipeline.decoders();
        this.fuseUnk = model.fuseUnk();
        this.ignoreMerges = model.ignoreMerges();
    }

    /** Entries of the piece table: one past the largest id of the vocabulary and the added tokens. */
    private static int tableSize(Bpe model, Specials specials) {
        int size = 0;
        for (int id : model.vocab().values()) size = Math.max(size, id + 1);
        for (Added a : specials.added()) size = Math.max(size, a.id() + 1);
        return size;
    }

    // ------------------------------------------------------------------ encode / decode

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 4);
        addedTokens.split(text, new AddedTokens.Sink() {
            @Override
            public void text(String segment, boolean first) {
                encodeSegment(segment, first, out);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    private void encodeSegment(String segment, boolean first, IntList out) {
        for (String w : pipeline.words(segment, first)) {
            if (w.isEmpty()) continue;
            String word = byteLevelInput ? ByteLevel.encode(w) : w;
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = encodeWord(word);
                if (cache.size() < CACHE_LIMIT) cache.put(word, ids);
            }
            out.addAll(ids);
        }
    }

    /** BPE on one pre-tokenized word (tokenizers' {@code BPE::merge_word} and {@code Word::merge_all}). */
    private int[] encodeWord(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[] {whole};
        }
        IntList symbols = new IntList(word.length());
        boolean previousUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int width = Character.charCount(cp);
            Integer id = vocab.get(word.substring(i, i + width));
            i += width;
            if (id != null) {
                symbols.add(id);
                previousUnk = false;
                continue;
            }
            if (byteFallback) {
                byte[] bytes = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte by : bytes) all &= byteIds[by & 0xff] >= 0;
                if (all) {
                    for (byte by : bytes) symbols.add(byteIds[by & 0xff]);
                    previousUnk = false;
                    continue;
                }
            }
            if (unkId < 0) throw new ShearsException(source + ": '" + Character.toString(cp) + "' is not in the vocabulary and there is no unk_token");
            if (!(fuseUnk && previousUnk)) symbols.add(unkId);
            previousUnk = true;
        }
        int[] ids = symbols.toArray();
        return BpeMerger.merge(ids, 0, ids.length, rules, null, null);
    }

    /**
     * The pieces the BPE model passes through when it builds piece {@code id} from the piece's own
     * characters (initial single-character pieces and every intermediate merge, without {@code id}
     * itself), or null when merges never produce {@code id} (added tokens, pieces reachable only as a
     * whole word with {@code ignore_merges}). See {@link Llama2cTokenizer#mergeAncestry}.
     */
    int[] mergeAncestry(int id) {
        String piece = pieces[id];
        if (piece.isEmpty() || types[id] != PieceType.NORMAL || !Integer.valueOf(id).equals(vocab.get(piece))) return null;
        return BpeMerger.ancestry(piece, id, c -> vocab.getOrDefault(c, -1), rules, Integer.MAX_VALUE);
    }

    /** Whether characters outside the vocabulary become {@code <0xNN>} pieces. */
    boolean byteFallback() {
        return byteFallback;
    }

    /** The id of a vocabulary entry (model vocab or added token), or -1. */
    int idOf(String piece) {
        Integer id = vocab.get(piece);
        if (id != null) return id;
        for (Added a : added) if (a.content().equals(piece)) return a.id();
        return -1;
    }

    @Override
    public String decode(int[] ids) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (types[id] == PieceType.CONTROL) continue;
            tokens.add(pieces[id]);
        }
        for (UnaryOperator<List<String>> d : decoders) tokens = d.apply(tokens);
        return String.join("", tokens);
    }

    /** Whether this is a byte-level BPE (GPT-2 / Llama 3 / Qwen2 style) rather than a SentencePiece-style one. */
    public boolean isByteLevel() {
        return byteLevelInput;
    }
}
