package dev.shears.kernel;

/** Token embedding lookup, as {@code torch.nn.Embedding}. */
public final class Embedding {
    private Embedding() {
    }

    /**
     * @param out    [tokens.length, dim], overwritten
     * @param tokens ids in [0, vocabSize)
     * @param table  [vocabSize, dim]
     */
    public static void forward(float[] out, int[] tokens, float[] table, int dim) {
        int vocab = table.length / dim;
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " at position " + t + " is outside the vocabulary [0, " + vocab + ")");
            System.arraycopy(table, id * dim, out, t * dim, dim);
        }
    }
}
