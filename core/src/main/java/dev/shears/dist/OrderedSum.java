package dev.shears.dist;

import java.util.List;

/**
 * Sums of per-item vectors (a micro-batch's gradient, say) whose items are shared over the ranks, in
 * one fixed order whatever the number of ranks: rank r holds the contiguous run of items
 * {@code [first(items, r, size), first(items, r + 1, size))} (shares differ by at most one item; a
 * rank may hold none), the ranks gather every item's vector ({@link Collective#allGather}) and each
 * rank adds them in item order, {@code out = ((v₀ + v₁) + v₂) + …} element by element in float.
 * That is exactly what one process does when it adds its items one after the other, so the result
 * has the same bits for 1, 2, 3 … ranks. The price is communication: every rank receives every
 * item's vector (items × length values), gathered in parts of about {@value #GATHER_ELEMENTS}
 * values to bound the memory.
 */
public final class OrderedSum {
    /** Values received per gather call (64 MiB of floats): bounds the buffers of one part. */
    static final int GATHER_ELEMENTS = 1 << 24;

    private OrderedSum() {
    }

    /** The first item of rank {@code rank}'s share of {@code items} ({@code first(items, size, size) == items}). */
    public static int first(int items, int rank, int size) {
        return Math.toIntExact((long) items * rank / size);
    }

    /**
     * {@code out = ((v₀ + v₁) + v₂) + …} over all {@code items}, on every rank.
     *
     * @param mine this rank's vectors, in item order: {@code mine.get(i)} is item {@code first(items, rank, size) + i};
     *             each [out.length]; the first may be {@code out} itself
     * @param out  [length], overwritten with the sum (zero when there are no items)
     */
    public static void sum(Collective c, int items, List<float[]> mine, float[] out) {
        int size = c.size(), rank = c.rank();
        int own = first(items, rank + 1, size) - first(items, rank, size);
        if (mine.size() != own) throw new IllegalArgumentException("rank " + rank + " holds " + mine.size() + " items, its share is " + own);
        for (float[] v : mine) {
            if (v.length != out.length) throw new IllegalArgumentException("a vector of " + v.length + " values, the sum has " + out.length);
        }
        if (items == 0) {
            java.util.Arrays.fill(out, 0f);
            return;
        }
        int length = out.length;
        int part = Math.max(1, Math.min(length, GATHER_ELEMENTS / items));
        float[] send = new float[own * Math.min(part, length)];
        float[] all = new float[items * Math.min(part, length)];
        int[] counts = new int[size];
        for (int from = 0; from < length; from += part) {
            int n = Math.min(part, length - from);
            for (int i = 0; i < own; i++) System.arraycopy(mine.get(i), from, send, i * n, n);
            for (int r = 0; r < size; r++) counts[r] = (first(items, r + 1, size) - first(items, r, size)) * n;
            c.allGather(send, 0, all, counts);
            // written only after this part was packed: out may be mine.get(0)
            System.arraycopy(all, 0, out, from, n);
            for (int m = 1; m < items; m++) {
                int base = m * n;
                for (int j = 0; j < n; j++) out[from + j] += all[base + j];
            }
        }
    }

    /** Every item's value in item order, on every rank: {@code mine[i]} is item {@code first(items, rank, size) + i}. */
    public static double[] gather(Collective c, int items, double[] mine) {
        int size = c.size();
        int[] counts = new int[size];
        for (int r = 0; r < size; r++) counts[r] = first(items, r + 1, size) - first(items, r, size);
        if (mine.length != counts[c.rank()]) throw new IllegalArgumentException("rank " + c.rank() + " gives " + mine.length + " values, its share is " + counts[c.rank()]);
        double[] all = new double[items];
        c.allGather(mine, 0, all, counts);
        return all;
    }
}
