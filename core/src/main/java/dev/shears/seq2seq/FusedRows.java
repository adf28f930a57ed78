package dev.shears.seq2seq;

/**
 * The rows of a fused projection's output, split into their parts and merged back: a fused row is
 * {@code [groups, parts, width]} (OpenBA's {@code qkv}: heads × [q | k | v] of headDim; {@code kv}: heads ×
 * [k | v]; {@code fc_in}: one group of [gate | up] halves of ffnDim), each part a row of {@code [groups, width]}.
 */
final class FusedRows {
    private FusedRows() {
    }

    /**
     * @param fused [rows, groups·parts·width]
     * @param parts each [rows, groups·width], overwritten
     */
    static void split(float[] fused, float[][] parts, int rows, int groups, int width) {
        int n = parts.length;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                for (int p = 0; p < n; p++) {
                    System.arraycopy(fused, ((r * groups + g) * n + p) * width, parts[p], (r * groups + g) * width, width);
                }
            }
        }
    }

    /**
     * The inverse of {@link #split}: the gradient of the parts laid out as the fused output.
     *
     * @param fused [rows, groups·parts·width], overwritten
     * @param parts each [rows, groups·width]
     */
    static void merge(float[] fused, float[][] parts, int rows, int groups, int width) {
        int n = parts.length;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                for (int p = 0; p < n; p++) {
                    System.arraycopy(parts[p], (r * groups + g) * width, fused, ((r * groups + g) * n + p) * width, width);
                }
            }
        }
    }
}
