package dev.shears.format.gguf;

/**
 * Conversions between rotary layouts of query/key rows. Shears (like Hugging Face) rotates element
 * {@code i} of a head with element {@code i + headDim/2}; llama2.c and GGUF store the pairs
 * interleaved as {@code (2i, 2i+1)}. HF's conversion script permutes with
 * {@code w.view(heads, headDim/2, 2, in).transpose(1, 2)}; these undo and redo it.
 */
public final class RopeLayout {
    private RopeLayout() {
    }

    /** In place: row {@code h·hd + 2i + p} moves to {@code h·hd + p·hd/2 + i}. */
    public static void interleavedToHalves(float[] w, int heads, int headDim, int cols) {
        permute(w, heads, headDim, cols, true);
    }

    /** In place: the inverse of {@link #interleavedToHalves}. */
    public static void halvesToInterleaved(float[] w, int heads, int headDim, int cols) {
        permute(w, heads, headDim, cols, false);
    }

    /**
     * The stored row of each logical row when interleaved rows are read as halves: logical row
     * {@code h·hd + p·hd/2 + i} is stored row {@code h·hd + 2i + p} (the same move as {@link #interleavedToHalves}).
     */
    public static int[] interleavedRows(int heads, int headDim) {
        int half = headDim / 2;
        int[] order = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int p = 0; p < 2; p++) order[h * headDim + p * half + i] = h * headDim + 2 * i + p;
            }
        }
        return order;
    }

    /** The inverse of {@link #interleavedRows}: the halves row stored at each interleaved row (for writing). */
    public static int[] halvesRows(int heads, int headDim) {
        int[] toInterleaved = interleavedRows(heads, headDim);
        int[] order = new int[toInterleaved.length];
        for (int r = 0; r < order.length; r++) order[toInterleaved[r]] = r;
        return order;
    }

    private static void permute(float[] w, int heads, int headDim, int cols, boolean toHalves) {
        int half = headDim / 2;
        float[] head = new float[headDim * cols];
        for (int h = 0; h < heads; h++) {
            int base = h * headDim * cols;
            System.arraycopy(w, base, head, 0, head.length);
            for (int i = 0; i < half; i++) {
                for (int p = 0; p < 2; p++) {
                    int interleaved = 2 * i + p;
                    int halves = p * half + i;
                    int from = toHalves ? interleaved : halves;
                    int to = toHalves ? halves : interleaved;
                    System.arraycopy(head, from * cols, w, base + to * cols, cols);
                }
            }
        }
    }
}
