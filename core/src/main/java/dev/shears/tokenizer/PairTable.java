package dev.shears.tokenizer;

import java.util.Arrays;

/**
 * The merge rules of a BPE vocabulary: (left id, right id) → (merged id, priority). Higher priority
 * merges first: SentencePiece and llama2.c use the merged piece's score, Hugging Face BPE uses
 * {@code -rank}. Open addressing on a packed {@code long} key, so the hot loop allocates nothing.
 */
final class PairTable {
    private static final long EMPTY = -1L;

    private long[] keys;
    private int[] merged;
    private float[] priority;
    private int size;

    PairTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        merged = new int[capacity];
        priority = new float[capacity];
        Arrays.fill(keys, EMPTY);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    /** Adds a rule unless one for this pair exists already (the first rule wins). */
    void putIfAbsent(int left, int right, int mergedId, float score) {
        if (left < 0 || right < 0) return;
        if ((size + 1) * 2 > keys.length) grow();
        long k = key(left, right);
        int mask = keys.length - 1;
        for (int i = hash(k) & mask; ; i = (i + 1) & mask) {
            if (keys[i] == k) return;
            if (keys[i] == EMPTY) {
                keys[i] = k;
                merged[i] = mergedId;
                priority[i] = score;
                size++;
                return;
            }
        }
    }

    /** The slot of the rule for (left, right), or -1. */
    int find(int left, int right) {
        if (left < 0 || right < 0) return -1;
        long k = key(left, right);
        int mask = keys.length - 1;
        for (int i = hash(k) & mask; ; i = (i + 1) & mask) {
            if (keys[i] == k) return i;
            if (keys[i] == EMPTY) return -1;
        }
    }

    int mergedAt(int slot) {
        return merged[slot];
    }

    float priorityAt(int slot) {
        return priority[slot];
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldMerged = merged;
        float[] oldPriority = priority;
        keys = new long[oldKeys.length * 2];
        merged = new int[keys.length];
        priority = new float[keys.length];
        Arrays.fill(keys, EMPTY);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) putIfAbsent((int) (oldKeys[i] >>> 32), (int) oldKeys[i], oldMerged[i], oldPriority[i]);
        }
    }
}
