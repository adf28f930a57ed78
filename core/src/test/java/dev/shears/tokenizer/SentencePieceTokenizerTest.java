package dev.shears.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SentencePiece BPE against ids from the real SentencePiece library (fixture), decode, and vocabularies given piece by piece. */
class SentencePieceTokenizerTest {
    static SentencePieceTokenizer llama2() {
        return SentencePieceModelFile.read(SharedData.require("tokenizers/llama2/tokenizer.model"));
    }

    @Test
    void matchesSentencePieceOnWikiTextAndTrickyStrings() {
        SentencePieceTokenizer t = llama2();
        JsonNode cases = Fixtures.json("llama2_sentencepiece.json").path("cases");
        assertTrue(cases.size() > 300);
        int mismatches = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : cases) {
            String text = c.get(0).asText();
            int[] expected = Fixtures.ints(c.get(1));
            int[] actual = t.encode(text);
            if (!Arrays.equals(expected, actual)) {
                if (mismatches++ < 5) report.append("\n  ").append(text, 0, Math.min(80, text.length())).append("\n    expected ").append(Arrays.toString(expected)).append("\n    actual   ").append(Arrays.toString(actual));
            }
            String decoded = c.size() > 2 ? c.get(2).asText() : text;
            assertEquals(decoded, t.decode(expected), "decode of " + text);
        }
        assertEquals(0, mismatches, mismatches + " of " + cases.size() + " differ:" + report);
    }

    @Test
    void headerFieldsAndPieceTypes() {
        SentencePieceTokenizer t = llama2();
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bosId());
        assertEquals(2, t.eosId());
        assertTrue(t.addsBos());
        assertEquals(PieceType.UNKNOWN, t.pieceType(0));
        assertEquals(PieceType.CONTROL, t.pieceType(1));
        assertEquals(PieceType.BYTE, t.pieceType(3 + 0x41));
        assertEquals("<0x41>", t.piece(3 + 0x41));
        assertEquals(PieceType.NORMAL, t.pieceType(259));
        assertArrayEquals(new int[] {15043, 3186}, t.encode("Hello world"));
    }

    @Test
    void decodeDropsControlShowsUnknownAndJoinsBytes() {
        SentencePieceTokenizer t = llama2();
        int[] smile = t.encode("😀");
        assertEquals("😀", t.decode(smile));
        int[] withSpecials = new int[smile.length + 2];
        withSpecials[0] = 1;
        System.arraycopy(smile, 0, withSpecials, 1, smile.length);
        withSpecials[smile.length + 1] = 2;
        assertEquals("😀", t.decode(withSpecials));
        assertEquals(" \u2047 ", t.decode(new int[] {0}));
        assertEquals("\uFFFD", t.decode(new int[] {3 + 0xF0})); // a lone lead byte is malformed UTF-8
    }

    @Test
    void encodesAMegabyteQuickly() throws IOException {
        EncodeSpeed.assertEncodesEachTextQuickly("SentencePiece", llama2());
        EncodeSpeed.assertPathologicalTextsEncodeQuickly("SentencePiece", llama2());
    }

    @Test
    void roundTrips() {
        SentencePieceTokenizer t = llama2();
        for (String s : TokenizerStrings.ROUND_TRIP) assertEquals(s, t.decode(t.encode(s)), s);
    }

    @Test
    void fromPiecesAsGgufCarriesThemGivesTheSameIds() {
        SentencePieceTokenizer t = llama2();
        List<String> pieces = new ArrayList<>();
        float[] scores = new float[t.vocabSize()];
        PieceType[] types = new PieceType[t.vocabSize()];
        for (int i = 0; i < t.vocabSize(); i++) {
            pieces.add(t.piece(i));
            scores[i] = t.score(i);
            types[i] = t.pieceType(i);
        }
        SentencePieceTokenizer g = SentencePieceTokenizer.of(pieces, scores, types, 1, 2, true);
        for (JsonNode c : Fixtures.json("llama2_sentencepiece.json").path("cases")) {
            assertArrayEquals(Fixtures.ints(c.get(1)), g.encode(c.get(0).asText()), c.get(0).asText());
        }
    }

    @Test
    void userDefinedPiecesAreMatchedWholeAndUnusedPiecesResplit() {
        // a toy vocabulary: <unk> <s> </s>, bytes, then pieces; "▁ab" is unused, "<sep>" user-defined
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<PieceType> types = new ArrayList<>(List.of(PieceType.UNKNOWN, PieceType.CONTROL, PieceType.CONTROL));
        for (int b = 0; b < 256; b++) {
            pieces.add(ByteFallback.piece(b));
            types.add(PieceType.BYTE);
        }
        String[] normal = {"▁", "a", "b", "▁a", "ab", "▁ab", "<sep>", "s"};
        PieceType[] kinds = {PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL, PieceType.UNUSED, PieceType.USER_DEFINED, PieceType.NORMAL};
        for (int i = 0; i < normal.length; i++) {
            pieces.add(normal[i]);
            types.add(kinds[i]);
        }
        float[] scores = new float[pieces.size()];
        for (int i = 259; i < scores.length; i++) scores[i] = -(i - 259);
        scores[259 + 5] = 10; // "▁ab" would win, but it is unused
        SentencePieceTokenizer t = SentencePieceTokenizer.of(pieces, scores, types.toArray(PieceType[]::new), 1, 2, true);
        int base = 259;
        // "▁" "a" "b" → ▁a (score -3) vs ab (-4): ▁a first, then ▁a+b = ▁ab (unused) → re-split into ▁a, b
        assertArrayEquals(new int[] {base + 3, base + 2}, t.encode("ab"));
        // "<sep>" is one frozen symbol: nothing merges across it, although "s" is a piece of its own
        int[] ids = t.encode("a<sep>s");
        assertArrayEquals(new int[] {base + 3, base + 6, base + 7}, ids);
        assertEquals("a<sep>s", t.decode(ids));
        assertEquals("xa", t.decode(t.encode("xa"))); // x falls back to a byte
        assertEquals(PieceType.USER_DEFINED, t.pieceType(base + 6));
    }
}
