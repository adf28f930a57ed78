package dev.shears.tokenizer;

import java.util.Arrays;
import java.util.function.ToIntFunction;

/**
 * The BPE merge loop shared by every tokenizer here: repeatedly merge the adjacent pair with the
 * highest priority, the leftmost one on ties, until no rule applies. This is the order of
 * llama2.c's {@code encode()}, SentencePiece's {@code bpe_model.cc} and Hugging Face's
 * {@code Word::merge_all}. Near-linear: a doubly linked list of symbols and a min-heap of candidate
 * pairs keyed by (priority descending, position ascending); an entry is checked when it is popped
 * (lazy invalidation) by looking the pair at that position up again, so stale entries cost one pop.
 * {@link #mergeSlow} is the obvious quadratic loop, kept as the test oracle.
 */
final class BpeMerger {
    private BpeMerger() {
    }

    /** Float priority → int whose signed order is the float order (NaN is excluded by the callers). */
    private static int sortable(float priority) {
        int bits = Float.floatToIntBits(priority == 0f ? 0f : priority);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** Heap key: smaller is better; higher priority first, then smaller position. */
    private static long heapKey(float priority, int position) {
        return ((long) ~sortable(priority) << 32) | position;
    }

    private static boolean usable(float priority) {
        return !Float.isNaN(priority) && priority != Float.NEGATIVE_INFINITY;
    }

    /**
     * Merges {@code ids[from, to)} and returns the merged ids. Ids without rules (negative ones, for
     * example, which callers use for characters outside the vocabulary) are carried through unchanged. When {@code revLeft} is not null, every
     * rule pushed whose merged id has {@code revLeft[merged] != -2} records its pair there (for
     * SentencePiece's re-split of unused pieces); pass null otherwise.
     */
    static int[] merge(int[] ids, int from, int to, PairTable rules, int[] revLeft, int[] revRight) {
        int n = to - from;
        if (n <= 1) return Arrays.copyOfRange(ids, from, to);
        int[] id = Arrays.copyOfRange(ids, from, to);
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) push(heap, rules, id, i, i + 1, revLeft, revRight);
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int at = (int) top;
            int right = next[at];
            if (right < 0) continue; // merged away (a dead symbol has no next), or now the last symbol
            int slot = rules.find(id[at], id[right]);
            if (slot < 0 || heapKey(rules.priorityAt(slot), at) != top) continue; // stale entry
            id[at] = rules.mergedAt(slot);
            int after = next[right];
            next[right] = -1; // dead
            next[at] = after;
            if (after >= 0) prev[after] = at;
            alive--;
            if (prev[at] >= 0) push(heap, rules, id, prev[at], at, revLeft, revRight);
            if (after >= 0) push(heap, rules, id, at, after, revLeft, revRight);
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) out[k++] = id[i];
        return out;
    }

    private static void push(LongHeap heap, PairTable rules, int[] id, int left, int right, int[] revLeft, int[] revRight) {
        int slot = rules.find(id[left], id[right]);
        if (slot < 0) return;
        float priority = rules.priorityAt(slot);
        if (!usable(priority)) return;
        heap.push(heapKey(priority, left));
        if (revLeft != null) {
            int m = rules.mergedAt(slot);
            if (revLeft[m] != -2) {
                revLeft[m] = id[left];
                revRight[m] = id[right];
            }
        }
    }

    /**
     * The pieces BPE passes through when it builds {@code piece} (id {@code id}) from its own characters:
     * the initial single-character symbols and every intermediate merge, without {@code id} itself, or
     * null when the merges never produce {@code id} from them. {@code symbol} gives a character's symbol
     * id (negative when it has none: byte-fallback or unknown characters never merge); symbols at or
     * above {@code pieceCount} are internal to the encoder and left out. Shared by the three BPE
     * tokenizers for vocabulary pruning (see {@link VocabularyConstraints#mergeAncestry}).
     */
    static int[] ancestry(String piece, int id, ToIntFunction<String> symbol, PairTable rules, int pieceCount) {
        IntList initial = new IntList(piece.length());
        for (int i = 0; i < piece.length(); ) {
            int width = Character.charCount(piece.codePointAt(i));
            int s = symbol.applyAsInt(piece.substring(i, i + width));
            if (s < 0) return null;
            initial.add(s);
            i += width;
        }
        IntList trace = new IntList(initial.size());
        int[] merged = mergeSlow(initial.toArray(), rules, trace);
        if (merged.length != 1 || merged[0] != id) return null;
        IntList out = new IntList(initial.size() * 2);
        for (int s : initial.toArray()) if (s < pieceCount) out.add(s);
        for (int s : trace.toArray()) if (s < pieceCount) out.add(s);
        return out.toArray();
    }

    /** The quadratic reference: scan every adjacent pair, merge the best (strictly greater wins, so the leftmost on ties). */
    static int[] mergeSlow(int[] ids, PairTable rules) {
        return mergeSlow(ids, rules, null);
    }

    /** As {@link #mergeSlow(int[], PairTable)}, appending each merged id, in merge order, to {@code trace} when it is not null. */
    static int[] mergeSlow(int[] ids, PairTable rules, IntList trace) {
        int[] tokens = ids.clone();
        int n = tokens.length;
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestSlot = -1;
            int bestAt = -1;
            for (int i = 0; i < n - 1; i++) {
                int slot = rules.find(tokens[i], tokens[i + 1]);
                if (slot >= 0 && usable(rules.priorityAt(slot)) && rules.priorityAt(slot) > best) {
                    best = rules.priorityAt(slot);
                    bestSlot = slot;
                    bestAt = i;
                }
            }
            if (bestAt < 0) return Arrays.copyOf(tokens, n);
            tokens[bestAt] = rules.mergedAt(bestSlot);
            if (trace != null) trace.add(tokens[bestAt]);
            System.arraycopy(tokens, bestAt + 2, tokens, bestAt + 1, n - bestAt - 2);
            n--;
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(16, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) break;
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && a[child + 1] < a[child]) child++;
                if (a[child] >= last) break;
                a[i] = a[child];
                i = child;
            }
            a[i] = last;
            return top;
        }
    }
}
