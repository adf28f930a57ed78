package dev.shears.tokenizer;

import dev.shears.SharedData;
import dev.shears.format.llama2c.Llama2cTokenizerFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The near-linear llama2.c encode against llama2.c's own quadratic loop, its speed, and piece types. */
class Llama2cTokenizerTest {
    private static Llama2cTokenizer load(String relative) {
        return Llama2cTokenizerFile.read(SharedData.require(relative));
    }

    @Test
    void fastEncodeGivesTheQuadraticLoopsIdsOnRandomAndRealText() throws IOException {
        String story = Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 6000);
        String wiki = Files.readString(SharedData.require("eval/wikitext-2/wiki.test.raw")).substring(0, 6000);
        Random random = new Random(7);
        String alphabet = "aaaabbbcc  \n\t.,é中😀eeeettthhh";
        for (String file : new String[] {"models/stories260K/tok512.bin", "tokenizers/llama2/tokenizer.bin"}) {
            Llama2cTokenizer t = load(file);
            for (int trial = 0; trial < 300; trial++) {
                StringBuilder s = new StringBuilder();
                int length = random.nextInt(60);
                for (int i = 0; i < length; i++) s.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
                assertArrayEquals(t.encodeSlow(s.toString()), t.encode(s.toString()), file + ": " + s);
            }
            for (int start = 0; start < 5000; start += 997) {
                String chunk = story.substring(start, start + 900);
                assertArrayEquals(t.encodeSlow(chunk), t.encode(chunk), file + " story at " + start);
                chunk = wiki.substring(start, start + 900);
                assertArrayEquals(t.encodeSlow(chunk), t.encode(chunk), file + " wiki at " + start);
            }
        }
    }

    @Test
    void encodesAMegabyteInAboutASecond() throws IOException {
        EncodeSpeed.assertEncodesEachTextQuickly("llama2.c", load("tokenizers/llama2/tokenizer.bin"));
        EncodeSpeed.assertPathologicalTextsEncodeQuickly("llama2.c", load("tokenizers/llama2/tokenizer.bin"));
    }

    @Test
    void roundTripsAndTypesPieces() {
        Llama2cTokenizer t = load("tokenizers/llama2/tokenizer.bin");
        for (String s : TokenizerStrings.ROUND_TRIP) assertEquals(s, t.decode(t.encode(s)), s);
        assertEquals(PieceType.UNKNOWN, t.pieceType(0));
        assertEquals(PieceType.CONTROL, t.pieceType(1));
        assertEquals(PieceType.CONTROL, t.pieceType(2));
        assertEquals(PieceType.BYTE, t.pieceType(3));
        assertEquals(PieceType.BYTE, t.pieceType(258));
        assertEquals(PieceType.NORMAL, t.pieceType(259));
    }
}
