package dev.shears.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PerplexityWindowsTest {
    @Test
    void windowsFollowLmEvalRollingWindows() {
        // lm_eval.utils.get_rolling_token_windows(list(range(10)), prefix_token=-1, max_seq_len=4, context_len=1)
        // yields ([-1,0,1,2],[0,1,2,3]), ([3,4,5,6],[4,5,6,7]), ([5,6,7,8],[8,9])
        int[] tokens = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        List<Perplexity.Window> w = Perplexity.windows(tokens, -1, 4);
        assertEquals(3, w.size());
        assertArrayEquals(new int[] {-1, 0, 1, 2}, w.get(0).input());
        assertArrayEquals(new int[] {0, 1, 2, 3}, w.get(0).targets());
        assertArrayEquals(new int[] {3, 4, 5, 6}, w.get(1).input());
        assertArrayEquals(new int[] {4, 5, 6, 7}, w.get(1).targets());
        assertArrayEquals(new int[] {5, 6, 7, 8}, w.get(2).input());
        assertArrayEquals(new int[] {8, 9}, w.get(2).targets());
    }

    @Test
    void shortTextIsOneWindow() {
        List<Perplexity.Window> w = Perplexity.windows(new int[] {7, 8}, 1, 512);
        assertEquals(1, w.size());
        assertArrayEquals(new int[] {1, 7}, w.get(0).input());
        assertArrayEquals(new int[] {7, 8}, w.get(0).targets());
    }

    @Test
    void everyTokenPredictedOnce() {
        int[] tokens = new int[1000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i;
        int total = 0;
        int expectedNext = 0;
        for (Perplexity.Window w : Perplexity.windows(tokens, -1, 64)) {
            for (int t : w.targets()) assertEquals(expectedNext++, t);
            total += w.targets().length;
            // the input predicts the targets: its last token is the one before the last target
            assertEquals(w.targets()[w.targets().length - 1] - 1, w.input()[w.input().length - 1]);
        }
        assertEquals(tokens.length, total);
    }

    @Test
    void wordsAreCountedAsPythonReSplit() {
        assertEquals(1, Perplexity.countWords(""));          // re.split(r"\s+", "") == ['']
        assertEquals(2, Perplexity.countWords("a b"));
        assertEquals(3, Perplexity.countWords(" a b"));       // ['', 'a', 'b']
        assertEquals(4, Perplexity.countWords(" a \n\n b "));  // ['', 'a', 'b', '']
    }
}
