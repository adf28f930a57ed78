package dev.shears.tokenizer;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a small SentencePiece-style BPE vocabulary on a text, laid out as a llama2.c
 * {@code tokenizer.bin} (written by {@code format/llama2c/Llama2cTokenizerFile}): ids 0–2 are {@code <unk>}, {@code <s>}, {@code </s>}; 3–258 the byte-fallback
 * pieces {@code <0x00>}…{@code <0xFF>}; then the most frequent characters; then merged pieces with
 * scores falling in merge order, so llama2.c's "best-scoring pair first" encoding replays the merges.
 * Words are units the way SentencePiece sees them: a leading space belongs to the word after it.
 * Deterministic: ties go to the lexicographically smallest pair.
 */
public final class BpeTrainer {
    private static final int SPECIALS = 3;
    private static final int BYTES = 256;

    private BpeTrainer() {
    }

    /** The pieces (in id order) and their scores. */
    public record Vocabulary(List<String> pieces, float[] scores) {
    }

    /**
     * @param text      training text
     * @param vocabSize total ids, at least 259 + the characters needed (a space at least)
     */
    public static Vocabulary train(String text, int vocabSize) {
        if (vocabSize < SPECIALS + BYTES + 1) {
            throw new ShearsException("a BPE vocabulary needs at least " + (SPECIALS + BYTES + 1) + " entries, got " + vocabSize);
        }
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        pieces.add("<unk>");
        pieces.add("<s>");
        pieces.add("</s>");
        for (int i = 0; i < SPECIALS; i++) scores.add(0f);
        for (int b = 0; b < BYTES; b++) {
            pieces.add(String.format("<0x%02X>", b));
            scores.add(0f);
        }
        Map<String, Integer> words = countWords(text);
        // characters by frequency; the space always (llama2.c's dummy prefix), the rest while there is room for merges too
        Map<String, Long> charCounts = new HashMap<>();
        words.forEach((w, n) -> w.codePoints().forEach(cp -> charCounts.merge(Character.toString(cp), (long) n, Long::sum)));
        charCounts.putIfAbsent(" ", Long.MAX_VALUE);
        int charBudget = Math.max(1, (vocabSize - pieces.size()) / 2);
        List<String> chars = charCounts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(charBudget).map(Map.Entry::getKey).toList();
        java.util.Set<String> known = new java.util.HashSet<>(chars);
        for (String c : chars) {
            pieces.add(c);
            scores.add(0f);
        }
        // each distinct word as a list of symbols; characters outside the vocabulary become byte pieces, never merged
        List<List<String>> symbols = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        words.forEach((w, n) -> {
            List<String> s = new ArrayList<>();
            w.codePoints().forEach(cp -> s.add(known.contains(Character.toString(cp)) ? Character.toString(cp) : null));
            symbols.add(s);
            counts.add(n);
        });
        java.util.Set<String> vocab = new java.util.HashSet<>(pieces);
        int merge = 0;
        while (pieces.size() < vocabSize) {
            Map<String, long[]> pairs = new HashMap<>();
            Map<String, String[]> parts = new HashMap<>();
            for (int w = 0; w < symbols.size(); w++) {
                List<String> s = symbols.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    String a = s.get(i), b = s.get(i + 1);
                    if (a == null || b == null) continue;
                    String key = a + '\u0000' + b;
                    pairs.computeIfAbsent(key, k -> new long[1])[0] += counts.get(w);
                    parts.putIfAbsent(key, new String[] {a, b});
                }
            }
            String best = null;
            long bestCount = 1; // a pair seen once is not worth a piece
            for (Map.Entry<String, long[]> e : pairs.entrySet()) {
                String merged = e.getKey().replace("\u0000", "");
                if (vocab.contains(merged)) continue;
                long n = e.getValue()[0];
                if (n > bestCount || (n == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = n;
                }
            }
            if (best == null) break;
            String[] ab = parts.get(best);
            String merged = ab[0] + ab[1];
            pieces.add(merged);
            vocab.add(merged);
            scores.add((float) -(++merge));
            for (List<String> s : symbols) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (ab[0].equals(s.get(i)) && ab[1].equals(s.get(i + 1))) {
                        s.set(i, merged);
                        s.remove(i + 1);
                    }
                }
            }
        }
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) scoreArray[i] = scores.get(i);
        return new Vocabulary(List.copyOf(pieces), scoreArray);
    }

    /** Words with their counts, in first-seen order: runs of non-space characters with the space before them. */
    static Map<String, Integer> countWords(String text) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        int start = 0;
        int n = text.length();
        while (start < n) {
            int end = start + 1;
            while (end < n && text.charAt(end) != ' ' && text.charAt(end) != '\n' && text.charAt(start) != '\n') end++;
            counts.merge(text.substring(start, end), 1, Integer::sum);
            start = end;
        }
        return counts;
    }
}
