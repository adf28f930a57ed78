package dev.shears.model;

import dev.shears.kernel.Attention;

import java.util.Arrays;

/**
 * Several token sequences laid back to back as the rows of one forward pass ({@link Transformer#forwardPacked}),
 * so that scoring many short sequences multiplies each weight matrix once by many rows instead of many times by
 * a few. Each segment's positions restart at 0 and attention stays inside it (a block-diagonal causal mask),
 * except that a segment may continue the leading rows of an earlier one, a shared prefix computed once: its
 * rows attend to those rows first, then to their own, at positions after the prefix, exactly as if the prefix
 * were in a KV cache. One item's choices after its context, several items at a time:
 * <pre>
 * rows:      [ctx A ........][A choice 1 ...][A choice 2 ..][ctx B ....][B choice 1 ......]
 * positions:  0 1 2 ... 13    14 15 ...        14 15 ...     0 1 ... 9   10 11 ...
 * attends:    causal in ctx A ctx A + itself   ctx A + itself causal      ctx B + itself
 * </pre>
 */
public final class PackedSequences {
    private final int[] tokens;
    private final int[] positions;
    private final Attention.Segments segments;

    private PackedSequences(int[] tokens, int[] positions, Attention.Segments segments) {
        this.tokens = tokens;
        this.positions = positions;
        this.segments = segments;
    }

    /** Total rows of the pass. */
    public int rows() {
        return tokens.length;
    }

    /** [rows] */
    public int[] tokens() {
        return tokens;
    }

    /** [rows], the RoPE position of each row. */
    public int[] positions() {
        return positions;
    }

    /** The first row of segment {@code s}. */
    public int start(int s) {
        return segments.start()[s];
    }

    /** Who attends to whom, for {@link Attention#forwardPacked}. */
    public Attention.Segments attention() {
        return segments;
    }

    /** Adds segments one after another. */
    public static final class Builder {
        private int[] tokens = new int[64];
        private int[] positions = new int[64];
        private int rows;
        private int[] start = new int[8], length = new int[8], prefixStart = new int[8], prefixLength = new int[8];
        private int count;

        /** Adds a sequence starting at position 0; returns its segment number. */
        public int add(int[] sequence) {
            return add(sequence, -1, 0);
        }

        /**
         * Adds a sequence that continues the first {@code shared} rows of segment {@code prefixOf}, which
         * must itself start at position 0 (have no prefix); returns its segment number.
         */
        public int add(int[] sequence, int prefixOf, int shared) {
            if (sequence.length == 0) throw new IllegalArgumentException("empty sequence");
            if (shared > 0) {
                if (prefixOf < 0 || prefixOf >= count) throw new IllegalArgumentException("no segment " + prefixOf + " to continue");
                if (prefixLength[prefixOf] != 0) throw new IllegalArgumentException("segment " + prefixOf + " continues another one itself");
                if (shared > length[prefixOf]) {
                    throw new IllegalArgumentException("prefix of " + shared + " rows of a segment of " + length[prefixOf]);
                }
            } else if (shared < 0) {
                throw new IllegalArgumentException("prefix length " + shared);
            }
            if (count == start.length) {
                start = Arrays.copyOf(start, 2 * count);
                length = Arrays.copyOf(length, 2 * count);
                prefixStart = Arrays.copyOf(prefixStart, 2 * count);
                prefixLength = Arrays.copyOf(prefixLength, 2 * count);
            }
            int need = Math.addExact(rows, sequence.length);
            if (need > tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.max(need, 2 * tokens.length));
                positions = Arrays.copyOf(positions, tokens.length);
            }
            start[count] = rows;
            length[count] = sequence.length;
            prefixStart[count] = shared > 0 ? start[prefixOf] : rows;
            prefixLength[count] = shared;
            for (int i = 0; i < sequence.length; i++) {
                tokens[rows + i] = sequence[i];
                positions[rows + i] = shared + i;
            }
            rows = need;
            return count++;
        }

        /** Rows so far. */
        public int rows() {
            return rows;
        }

        public PackedSequences build() {
            if (count == 0) throw new IllegalStateException("no sequences to pack");
            return new PackedSequences(Arrays.copyOf(tokens, rows), Arrays.copyOf(positions, rows), new Attention.Segments(
                    Arrays.copyOf(start, count), Arrays.copyOf(length, count), Arrays.copyOf(prefixStart, count), Arrays.copyOf(prefixLength, count)));
        }
    }
}
