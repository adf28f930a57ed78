package dev.shears.prune;

/** Small operations on sorted index sets (kept units). */
public final class IndexSets {
    private IndexSets() {
    }

    /** {@code [0, n)}. */
    public static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /** Each kept unit expanded to its {@code width} consecutive elements: unit u → {@code [u·width, (u+1)·width)}. */
    public static int[] expand(int[] units, int width) {
        int[] r = new int[units.length * width];
        for (int i = 0; i < units.length; i++) {
            for (int d = 0; d < width; d++) r[i * width + d] = units[i] * width + d;
        }
        return r;
    }

    /** Checks that indices are strictly increasing and inside {@code [0, bound)}; returns a problem or null. */
    public static String problem(int[] indices, int bound) {
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= bound) return "index " + indices[i] + " is outside [0, " + bound + ")";
            if (i > 0 && indices[i] <= indices[i - 1]) return "indices must be strictly increasing (" + indices[i - 1] + ", " + indices[i] + ")";
        }
        return null;
    }
}
