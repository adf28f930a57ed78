package dev.shears.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.ShearsException;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SentencePiece BPE against ids from the real SentencePiece library (fixture), decode, and malformed models. */
class SentencePieceTokenizerTest {
    static SentencePieceTokenizer llama2() {
        return SentencePieceTokenizer.read(SharedData.require("tokenizers/llama2/tokenizer.model"));
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

    // ------------------------------------------------------------------ malformed files

    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static void field(ByteArrayOutputStream out, int number, byte[] payload) {
        out.writeBytes(varint((long) number << 3 | 2));
        out.writeBytes(varint(payload.length));
        out.writeBytes(payload);
    }

    /** A model with three pieces and the given trainer model type. */
    static byte[] model(int modelType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String p : new String[] {"<unk>", "<s>", "</s>", "▁", "a"}) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            field(piece, 1, p.getBytes(StandardCharsets.UTF_8));
            field(out, 1, piece.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        trainer.writeBytes(varint(3 << 3));
        trainer.writeBytes(varint(modelType));
        field(out, 2, trainer.toByteArray());
        return out.toByteArray();
    }

    @Test
    void aTinyHandWrittenModelLoads(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, model(2));
        SentencePieceTokenizer t = SentencePieceTokenizer.read(file);
        assertEquals(5, t.vocabSize());
        assertArrayEquals(new int[] {3, 4}, t.encode("a"));
        assertFalse(t.encode("b").length == 0);
    }

    @Test
    void malformedModelsAreRefusedWithTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(SharedData.require("tokenizers/llama2/tokenizer.model"));
        Path truncated = dir.resolve("truncated.model");
        Files.write(truncated, Arrays.copyOf(good, 1000));
        assertOneLine(truncated, "malformed protobuf", () -> SentencePieceTokenizer.read(truncated));

        Path unigram = dir.resolve("unigram.model");
        Files.write(unigram, model(1));
        assertOneLine(unigram, "model type UNIGRAM is not supported", () -> SentencePieceTokenizer.read(unigram));

        Path empty = dir.resolve("empty.model");
        Files.write(empty, new byte[0]);
        assertOneLine(empty, "no pieces", () -> SentencePieceTokenizer.read(empty));

        Path text = dir.resolve("text.model");
        Files.writeString(text, "{\"this is\": \"json, not protobuf\"}");
        assertOneLine(text, "protobuf", () -> SentencePieceTokenizer.read(text));
    }

    static void assertOneLine(Path file, String problem, org.junit.jupiter.api.function.Executable load) {
        ShearsException e = assertThrows(ShearsException.class, load);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
