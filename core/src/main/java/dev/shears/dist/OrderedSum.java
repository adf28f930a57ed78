package dev.shears.dist;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sums and gathers of per-item values (a micro-batch's gradient, a calibration window's scores, an evaluated
 * item's log-likelihoods) whose items are shared over the ranks. Sums run in
 * one fixed order whatever the number of ranks: rank r holds the contiguous run of items
 * {@code [first(items, r, size), first(items, r + 1, size))} (shares differ by at most one item; a
 * rank may hold none) and the result is {@code out = ((v₀ + v₁) + v₂) + …}, element by element in
 * float ({@link #sumDoubles}: double), in item order. That is exactly what one process does when it adds its items one after the
 * other, so the result has the same bits for 1, 2, 3 … ranks ({@code MPI_Allreduce} may change its
 * order with the number of ranks).
 *
 * <p>How: an ordered chain. The first rank holding items adds its own and sends the running sum to
 * the next rank holding items, which adds its own onto it, in order, and passes it on; the last
 * broadcasts the total. The vectors travel in parts of {@value #PART} values, so the chain is a
 * pipeline (rank r adds part j + 1 while rank r + 1 adds part j) and each rank sends and receives
 * about twice the vector's length, as a ring all-reduce does, whatever the number of items.
 */
public final class OrderedSum {
    /** Values per message of the chain (4 MiB of floats): long enough to stream, short enough to pipeline. */
    static final int PART = 1 << 20;

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
        int own = checkShare(c, items, mine, out.length);
        if (items == 0) {
            Arrays.fill(out, 0f);
            return;
        }
        boolean first = own > 0 && first(items, c.rank(), c.size()) == 0;
        chain(c, items, own, first ? mine.getFirst() : null, first ? mine.subList(1, own) : mine, out);
    }

    /**
     * {@link #sum(Collective, int, List, float[])} where the rank holding item 0 added its own items itself, one after the
     * other as they came, and kept none of them: so one process, and the first rank, need one vector however many items
     * they hold. On that rank {@code out} holds the sum of its items on entry (it may have started from any vector: the
     * total continues from there) and {@code mine} is empty; every later rank gives its items as for {@code sum}, kept
     * until the running sum reaches it.
     *
     * @param mine this rank's vectors, in item order; none on the rank holding item 0
     * @param out  [length]: on the rank holding item 0, the running sum of its items; on every rank on return, the total
     */
    public static void sumContinuing(Collective c, int items, List<float[]> mine, float[] out) {
        int rank = c.rank(), size = c.size();
        boolean first = share(items, rank, size) > 0 && first(items, rank, size) == 0;
        if (first) {
            if (!mine.isEmpty()) throw new IllegalArgumentException("rank " + rank + " holds item 0 and added its items into the sum: it gives none");
        } else {
            checkShare(c, items, mine, out.length);
        }
        if (items == 0) {
            Arrays.fill(out, 0f);
            return;
        }
        chain(c, items, share(items, rank, size), first ? out : null, mine, out);
    }

    /** This rank's share of {@code items}, after checking that {@code mine} holds that many vectors of {@code length} values. */
    private static int checkShare(Collective c, int items, List<float[]> mine, int length) {
        int own = share(items, c.rank(), c.size());
        if (mine.size() != own) throw new IllegalArgumentException("rank " + c.rank() + " holds " + mine.size() + " items, its share is " + own);
        for (float[] v : mine) {
            if (v.length != length) throw new IllegalArgumentException("a vector of " + v.length + " values, the sum has " + length);
        }
        return own;
    }

    /**
     * The chain of a float sum: the rank holding item 0 starts the running sum from {@code start}, every later rank
     * receives it; each adds {@code rest} in order and passes it on, in parts; the last broadcasts the total into {@code out}.
     *
     * @param start on the rank holding item 0, the running sum's first value (may be {@code out}); null elsewhere
     * @param rest  the vectors this rank adds to the running sum, in item order (the first may be {@code out})
     */
    private static void chain(Collective c, int items, int own, float[] start, List<float[]> rest, float[] out) {
        int size = c.size(), rank = c.rank();
        Chain chain = Chain.of(items, rank, size);
        int previous = chain.previous(), next = chain.next(), last = chain.last();
        if (own > 0) {
            int length = out.length;
            float[] running = new float[Math.min(PART, length)];
            for (int from = 0; from < length; from += PART) {
                int n = Math.min(PART, length - from);
                if (previous >= 0) c.receive(running, 0, n, previous);
                else System.arraycopy(start, from, running, 0, n);
                for (float[] v : rest) add(running, v, from, n);
                // written only after this part of every vector was read: out may be one of them
                System.arraycopy(running, 0, out, from, n);
                if (next < size) c.send(out, from, n, next);
            }
        }
        if (size > 1) c.broadcast(out, last);
    }

    /**
     * {@link #sum(Collective, int, List, float[])} in double: {@code out = ((v₀ + v₁) + v₂) + …} over all
     * {@code items}, on every rank; the first of {@code mine} may be {@code out} itself.
     */
    public static void sumDoubles(Collective c, int items, List<double[]> mine, double[] out) {
        int size = c.size(), rank = c.rank();
        int own = share(items, rank, size);
        if (mine.size() != own) throw new IllegalArgumentException("rank " + rank + " holds " + mine.size() + " items, its share is " + own);
        for (double[] v : mine) {
            if (v.length != out.length) throw new IllegalArgumentException("a vector of " + v.length + " values, the sum has " + out.length);
        }
        if (items == 0) {
            Arrays.fill(out, 0);
            return;
        }
        Chain chain = Chain.of(items, rank, size);
        int previous = chain.previous(), next = chain.next(), last = chain.last();
        if (own > 0) {
            int length = out.length, part = PART / 2;
            double[] running = new double[Math.min(part, length)];
            for (int from = 0; from < length; from += part) {
                int n = Math.min(part, length - from);
                if (previous >= 0) {
                    c.receive(running, 0, n, previous);
                    for (int j = 0; j < n; j++) running[j] += mine.getFirst()[from + j];
                } else {
                    System.arraycopy(mine.getFirst(), from, running, 0, n);
                }
                for (int i = 1; i < own; i++) {
                    double[] v = mine.get(i);
                    for (int j = 0; j < n; j++) running[j] += v[from + j];
                }
                System.arraycopy(running, 0, out, from, n);
                if (next < size) c.send(out, from, n, next);
            }
        }
        if (size > 1) c.broadcast(out, last);
    }

    /** {@code running[j] += v[from + j]} for j &lt; n. */
    private static void add(float[] running, float[] v, int from, int n) {
        for (int j = 0; j < n; j++) running[j] += v[from + j];
    }

    /**
     * The chain through the ranks that hold items, in rank order: the one before this rank ({@code -1} when none),
     * the one after it ({@code size} when none), and the last, which broadcasts the total.
     */
    private record Chain(int previous, int next, int last) {
        static Chain of(int items, int rank, int size) {
            int previous = rank - 1, next = rank + 1, last = size - 1;
            while (previous >= 0 && share(items, previous, size) == 0) previous--;
            while (next < size && share(items, next, size) == 0) next++;
            while (share(items, last, size) == 0) last--;
            return new Chain(previous, next, last);
        }
    }

    /** How many of {@code items} rank {@code rank} holds: {@code first(items, rank + 1, size) - first(items, rank, size)}. */
    public static int share(int items, int rank, int size) {
        return first(items, rank + 1, size) - first(items, rank, size);
    }

    /** Every item's value in item order, on every rank: {@code mine[i]} is item {@code first(items, rank, size) + i}. */
    public static double[] gather(Collective c, int items, double[] mine) {
        int size = c.size();
        int[] counts = new int[size];
        for (int r = 0; r < size; r++) counts[r] = share(items, r, size);
        if (mine.length != counts[c.rank()]) throw new IllegalArgumentException("rank " + c.rank() + " gives " + mine.length + " values, its share is " + counts[c.rank()]);
        double[] all = new double[items];
        c.allGather(mine, 0, all, counts);
        return all;
    }

    /**
     * Every item's vector in item order, on every rank: {@code mine.get(i)} is item {@code first(items, rank, size) + i};
     * the vectors' lengths may differ (a scored item's choices, a generation's tokens). Two gathers: the lengths, then the values.
     */
    public static List<double[]> gather(Collective c, int items, List<double[]> mine) {
        double[] lengths = gather(c, items, mine.stream().mapToDouble(v -> v.length).toArray());
        int size = c.size();
        int[] counts = new int[size];
        for (int r = 0; r < size; r++) {
            long values = 0;
            for (int i = first(items, r, size); i < first(items, r + 1, size); i++) values += (long) lengths[i];
            counts[r] = Math.toIntExact(values);
        }
        double[] flat = new double[counts[c.rank()]];
        int at = 0;
        for (double[] v : mine) {
            System.arraycopy(v, 0, flat, at, v.length);
            at += v.length;
        }
        double[] all = new double[Math.toIntExact(Arrays.stream(counts).asLongStream().sum())];
        c.allGather(flat, 0, all, counts);
        List<double[]> out = new ArrayList<>(items);
        at = 0;
        for (int i = 0; i < items; i++) {
            int n = (int) lengths[i];
            out.add(Arrays.copyOfRange(all, at, at + n));
            at += n;
        }
        return out;
    }
}
