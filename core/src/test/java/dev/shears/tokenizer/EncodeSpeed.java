package dev.shears.tokenizer;

import dev.shears.SharedData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The speed check for a tokenizer of real size: a megabyte of real text encodes in seconds and decodes back exactly. */
final class EncodeSpeed {
    /** TinyStories (0.8 MB) and WikiText-2 test (1.3 MB) from the shared data. */
    static final List<String> TEXTS = List.of("eval/tinystories/tinystories_val_head.txt", "eval/wikitext-2/wiki.test.raw");
    /** About 1 s on a quiet core; the bound leaves room for a loaded CI machine, and is still far below a quadratic encode's hours. */
    static final double MAX_SECONDS = 15;

    private EncodeSpeed() {
    }

    /**
     * Issue 13's pathological inputs: a 2 MB line without spaces (one enormous word) and 10 KB of
     * newlines (once 62 s) encode within the same bound and decode back.
     */
    static void assertPathologicalTextsEncodeQuickly(String name, Tokenizer t) {
        String word = new java.util.Random(13).ints(2_000_000, 'a', 'k').collect(StringBuilder::new, (sb, c) -> sb.append((char) c), StringBuilder::append)
                .toString();
        for (String text : List.of(word, "\n".repeat(10_000))) {
            long start = System.nanoTime();
            int[] ids = t.encode(text);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < MAX_SECONDS, name + ": " + text.length() + " chars took " + seconds + " s");
            assertEquals(text, t.decode(ids), name + ": decodes back to itself");
        }
    }

    /** Encodes each of {@link #TEXTS} once warmed up, prints the time, and checks it against {@link #MAX_SECONDS} and the round trip. */
    static void assertEncodesEachTextQuickly(String name, Tokenizer t) throws IOException {
        for (String file : TEXTS) {
            String text = Files.readString(SharedData.require(file));
            t.encode(text.substring(0, 20000)); // warm up
            long start = System.nanoTime();
            int[] ids = t.encode(text);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%s encode of %s: %d chars -> %d ids in %.2f s%n", name, Path.of(file).getFileName(), text.length(), ids.length, seconds);
            assertTrue(seconds < MAX_SECONDS, name + ": " + file + " took " + seconds + " s");
            assertEquals(text, t.decode(ids), name + ": " + file + " decodes back to itself");
        }
    }
}
