package dev.shears.tokenizer;

import java.util.Arrays;

/** A growable {@code int[]}. */
final class IntList {
    private int[] a;
    private int size;

    IntList(int capacity) {
        a = new int[Math.max(8, capacity)];
    }

    void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, size * 2);
        a[size++] = v;
    }

    void addAll(int[] values) {
        for (int v : values) add(v);
    }

    int size() {
        return size;
    }

    int last() {
        return a[size - 1];
    }

    int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
