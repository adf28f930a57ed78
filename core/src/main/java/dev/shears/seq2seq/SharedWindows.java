package dev.shears.seq2seq;

import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Calibration windows of an encoder–decoder's criteria shared over the ranks of a {@link Collective}: rank r scores its
 * contiguous share {@code [n·r/N, n·(r+1)/N)} of the n windows, each window into a vector of its own, and the windows'
 * vectors are added in window order along the ranks ({@link OrderedSum#sumDoubles}): {@code ((v₀ + v₁) + v₂) + …}, the
 * same bits for any number of ranks, and those one process gets adding each window's vector as it comes from zero (a
 * running sum that starts at +0 never becomes −0).
 */
final class SharedWindows {
    private SharedWindows() {
    }

    /** This rank's share of {@code windows}. */
    static List<int[]> share(Collective collective, List<int[]> windows) {
        int n = windows.size(), rank = collective.rank(), size = collective.size();
        return windows.subList(OrderedSum.first(n, rank, size), OrderedSum.first(n, rank + 1, size));
    }

    /**
     * The sum over every window of {@code perWindow}'s vector, in window order, on every rank.
     *
     * @param length    the vectors' length
     * @param perWindow one window's vector [length], computed on the rank that holds the window
     */
    static double[] sum(Collective collective, List<int[]> windows, int length, Function<int[], double[]> perWindow) {
        List<double[]> mine = new ArrayList<>();
        for (int[] w : share(collective, windows)) {
            double[] v = perWindow.apply(w);
            if (v.length != length) throw new IllegalStateException("a window's vector of " + v.length + " values, the sum has " + length);
            mine.add(v);
        }
        double[] out = new double[length];
        OrderedSum.sumDoubles(collective, windows.size(), mine, out);
        return out;
    }
}
