package dev.shears.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.hf.HfTokenizerReader;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * T5's tokenizer, from its {@code spiece.model} (SentencePiece unigram, nmt_nfkc character map) and from
 * its {@code tokenizer.json} (Hugging Face Unigram, Precompiled normalizer, Metaspace, "$A </s>"), against
 * the ids Debian's sentencepiece gives on hand-picked texts and 300 WikiText-2 lines (fixture {@code t5_tokenizer.json}, made by
 * {@code tools/fixtures/t5_tokenizer_fixture.py}; Hugging Face tokenizers is not available there, so the
 * tokenizer.json is held to the same ids plus {@code </s>}).
 */
class T5TokenizerTest {
    private static final String T5 = "tokenizers/t5/";

    static UnigramTokenizer fromSpiece() {
        return assertInstanceOf(UnigramTokenizer.class, SentencePieceModelFile.load(SharedData.require(T5 + "spiece.model")));
    }

    static UnigramTokenizer fromJson() {
        return assertInstanceOf(UnigramTokenizer.class, HfTokenizerReader.load(SharedData.require(T5 + "tokenizer.json")));
    }

    private static void assertMatchesFixture(String what, UnigramTokenizer t, boolean withEos) {
        JsonNode cases = Fixtures.json("t5_tokenizer.json").path("cases");
        assertTrue(cases.size() > 300, "fixture cases: " + cases.size());
        int mismatches = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : cases) {
            String text = c.path("text").asText();
            int[] expected = Fixtures.ints(c.path("spm"));
            int[] actual = t.encode(text);
            if (!Arrays.equals(expected, actual)) {
                mismatches++;
                report.append("\n  ").append(text.replace("\n", "\\n")).append("\n    expected ").append(Arrays.toString(expected))
                        .append("\n    actual   ").append(Arrays.toString(actual));
            }
            if (withEos) {
                int[] forModel = t.encodeForModel(text);
                assertEquals(expected.length + 1, forModel.length, text);
                assertEquals(1, forModel[forModel.length - 1], "ends with </s>: " + text);
            }
        }
        assertEquals(0, mismatches, what + ": " + mismatches + " of " + cases.size() + " differ:" + report);
    }

    @Test
    void spieceModelMatchesSentencePiece() {
        assertMatchesFixture("spiece.model", fromSpiece(), true);
    }

    @Test
    void tokenizerJsonMatchesSentencePieceIdsFollowedByEos() {
        assertMatchesFixture("tokenizer.json", fromJson(), true);
    }

    @Test
    void spieceDecodeIsSentencePieces() {
        UnigramTokenizer t = fromSpiece();
        for (JsonNode c : Fixtures.json("t5_tokenizer.json").path("cases")) {
            if (!c.has("decoded")) continue;
            assertEquals(c.path("decoded").asText(), t.decode(Fixtures.ints(c.path("spm"))), "decode of " + c.path("text").asText());
        }
    }

    @Test
    void tokenizerJsonDecodeAgreesWithSentencePieceWhereNoUnknownPieceIsInvolved() {
        UnigramTokenizer t = fromJson();
        int checked = 0;
        for (JsonNode c : Fixtures.json("t5_tokenizer.json").path("cases")) {
            int[] ids = Fixtures.ints(c.path("spm"));
            if (!c.has("decoded") || Arrays.stream(ids).anyMatch(id -> id == 2)) continue;
            assertEquals(c.path("decoded").asText(), t.decode(ids), "decode of " + c.path("text").asText());
            checked++;
        }
        assertTrue(checked > 40, "checked " + checked);
        assertEquals("<unk>", t.decode(new int[] {2})); // Hugging Face shows the token; sentencepiece shows " ⁇ "
        assertEquals(" \u2047 ", fromSpiece().decode(new int[] {2}));
    }

    @Test
    void specialIdsAndSentinels() {
        for (UnigramTokenizer t : new UnigramTokenizer[] {fromSpiece(), fromJson()}) {
            assertEquals(32100, t.vocabSize());
            assertEquals(-1, t.bosId());
            assertFalse(t.addsBos());
            assertEquals(1, t.eosId());
            assertTrue(t.addsEos());
            assertEquals("<pad>", t.piece(0));
            assertEquals(PieceType.CONTROL, t.pieceType(0));
            assertEquals(PieceType.CONTROL, t.pieceType(1));
            assertEquals(PieceType.UNKNOWN, t.pieceType(2));
            assertEquals("<extra_id_0>", t.piece(32099));
            assertEquals("<extra_id_99>", t.piece(32000));
            assertEquals(PieceType.USER_DEFINED, t.pieceType(32099));
            assertArrayEquals(new int[] {8774, 296}, t.encode("Hello world"));
            assertArrayEquals(new int[] {8774, 296, 1}, t.encodeForModel("Hello world"));
            assertArrayEquals(new int[] {1}, t.encodeForModel(""));
            assertArrayEquals(new int[0], t.encode(""));
            int[] ids = t.encode("The <extra_id_0> walks in <extra_id_1> park");
            assertEquals(32099, ids[1]);
            // sentinels take the spaces beside them (lstrip/rstrip) and decode as themselves; pad and </s> vanish
            assertEquals("The<extra_id_0> walks in<extra_id_1> park", t.decode(ids));
            int[] withSpecials = new int[ids.length + 2];
            System.arraycopy(ids, 0, withSpecials, 1, ids.length);
            withSpecials[ids.length + 1] = 1;
            assertEquals("The<extra_id_0> walks in<extra_id_1> park", t.decode(withSpecials));
        }
    }

    @Test
    void decodeOfEncodeGivesTheNormalizedText() {
        for (UnigramTokenizer t : new UnigramTokenizer[] {fromSpiece(), fromJson()}) {
            assertEquals("Hello world", t.decode(t.encode("  Hello   world  ")));
            assertEquals("the final flight", t.decode(t.encode("the ﬁnal ﬂight")));
            assertEquals("FULL-WIDTH 123", t.decode(t.encode("ＦＵＬＬ－ＷＩＤＴＨ １２３")));
            assertEquals("1 2 3", t.decode(t.encode("① ② ③")));
            assertEquals("tab here two", t.decode(t.encode("tab\there\t\ttwo")));
            assertEquals("café résumé", t.decode(t.encode("cafe\u0301 re\u0301sume\u0301"))); // combining accents composed
            assertEquals("<extra_id_0> dog", t.decode(t.encode("<extra_id_0> dog")));
        }
        assertEquals("emoji  \u2047  here", fromSpiece().decode(fromSpiece().encode("emoji 😀 here")));
        assertEquals("emoji <unk> here", fromJson().decode(fromJson().encode("emoji 😀 here")));
    }

    @Test
    void consecutiveUnknownCharactersAreOneUnknownPiece() {
        for (UnigramTokenizer t : new UnigramTokenizer[] {fromSpiece(), fromJson()}) {
            assertArrayEquals(new int[] {3, 2}, t.encode("中文分词测试"));
            assertArrayEquals(new int[] {3, 2, 3, 2}, t.encode("中文 😀😃"));
        }
    }

    @Test
    void spieceModelMatchesSentencePieceOnAWholeFileInOneLattice() throws Exception {
        // one 1.3 MB text: sentencepiece's float path scores reach millions, and their rounding decides a few pieces
        JsonNode whole = Fixtures.json("t5_tokenizer.json").path("wikitext_whole");
        int[] ids = fromSpiece().encode(Files.readString(SharedData.require("eval/wikitext-2/wiki.test.raw")));
        assertEquals(whole.path("ids").asInt(), ids.length);
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < ids.length; i++) joined.append(i == 0 ? "" : ",").append(ids[i]);
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(joined.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(whole.path("sha256").asText(), java.util.HexFormat.of().formatHex(digest));
    }

    @Test
    void encodesAMegabyteAndPathologicalTextsQuickly() throws IOException {
        String wiki = Files.readString(SharedData.require("eval/wikitext-2/wiki.test.raw"));
        String word = new java.util.Random(13).ints(2_000_000, 'a', 'k').collect(StringBuilder::new, (sb, c) -> sb.append((char) c), StringBuilder::append)
                .toString();
        for (UnigramTokenizer t : new UnigramTokenizer[] {fromSpiece(), fromJson()}) {
            t.encode(wiki.substring(0, 20_000)); // warm up
            for (String text : java.util.List.of(wiki, word, "\n".repeat(10_000), " ".repeat(10_000) + "x")) {
                long start = System.nanoTime();
                int[] ids = t.encode(text);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("T5 encode of %d chars -> %d ids in %.2f s%n", text.length(), ids.length, seconds);
                assertTrue(seconds < EncodeSpeed.MAX_SECONDS, text.length() + " chars took " + seconds + " s");
                if (text != wiki) assertEquals(text.strip(), t.decode(ids));
            }
        }
    }

    @Test
    void loaderFindsSpieceModelInAFolderAndReadsBothFiles() {
        Tokenizer folder = TokenizerLoader.load(SharedData.require("tokenizers/t5"));
        assertInstanceOf(UnigramTokenizer.class, folder);
        assertArrayEquals(new int[] {8774, 296}, folder.encode("Hello world"));
        assertInstanceOf(UnigramTokenizer.class, TokenizerLoader.load(SharedData.require(T5 + "tokenizer.json")));
    }

    @Test
    void tinyRandomT5TokenizerJson() {
        Tokenizer t = TokenizerLoader.load(SharedData.require("models/t5-tiny-random"));
        assertInstanceOf(UnigramTokenizer.class, t);
        assertEquals(1302, t.vocabSize());
        assertEquals(1, t.eosId());
        assertTrue(t.addsEos());
        assertEquals("<extra_id_0>", t.piece(102));
        int[] ids = t.encode("Hello <extra_id_0> world");
        assertTrue(Arrays.stream(ids).anyMatch(id -> id == 102), Arrays.toString(ids));
        for (String s : new String[] {"Hello world", "the quick brown fox", "a b c"}) assertEquals(s, t.decode(t.encode(s)), s);
    }

    @Test
    void spieceWithoutConfigIsPlainSentencePiece(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("spiece.model");
        Files.copy(SharedData.require(T5 + "spiece.model"), model);
        UnigramTokenizer t = assertInstanceOf(UnigramTokenizer.class, TokenizerLoader.load(dir));
        assertEquals(32000, t.vocabSize());
        assertFalse(t.addsEos());
        assertArrayEquals(new int[] {8774, 296}, t.encode("Hello world"));
        assertTrue(t.encode("<extra_id_0>").length > 1, "no sentinels without tokenizer_config.json");
    }

    @Test
    void bpeReaderRefusesUnigramInOneLine() {
        ShearsException e = assertThrows(ShearsException.class, () -> SentencePieceModelFile.read(SharedData.require(T5 + "spiece.model")));
        assertTrue(e.getMessage().contains("spiece.model") && e.getMessage().contains("UNIGRAM") && !e.getMessage().contains("\n"), e.getMessage());
        ShearsException j = assertThrows(ShearsException.class, () -> HfTokenizerReader.read(SharedData.require(T5 + "tokenizer.json")));
        assertTrue(j.getMessage().contains("Unigram") && !j.getMessage().contains("\n"), j.getMessage());
    }

    @Test
    void malformedCharsMapIsOneLineNamingTheSource() {
        ShearsException e = assertThrows(ShearsException.class, () -> PrecompiledCharsMap.parse(new byte[] {(byte) 0xff, 0, 0, 0, 1, 2}, "x.model"));
        assertTrue(e.getMessage().startsWith("x.model: precompiled_charsmap"), e.getMessage());
        assertThrows(ShearsException.class, () -> PrecompiledCharsMap.parse(new byte[] {1}, "x.model"));
    }

    @Test
    void malformedUnigramTokenizerJsonIsOneLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0], [\"a\"]]}}");
        ShearsException e = assertThrows(ShearsException.class, () -> TokenizerLoader.load(file));
        assertTrue(e.getMessage().contains("tokenizer.json: model.vocab[1] is not [piece, score]"), e.getMessage());
        Files.writeString(file, "{\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"!!\"}, \"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0]]}}");
        e = assertThrows(ShearsException.class, () -> TokenizerLoader.load(file));
        assertTrue(e.getMessage().contains("not base64") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void corruptedSpieceModelsLoadOrFailInOneLineNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(SharedData.require(T5 + "spiece.model"));
        // the normalizer spec (with its character map) sits at the end: aim half the changes there
        java.util.Random random = new java.util.Random(16);
        Path file = dir.resolve("spiece.model");
        for (int round = 0; round < 200; round++) {
            byte[] bad = good.clone();
            for (int k = 0; k < 4; k++) {
                int at = round % 2 == 0 ? random.nextInt(bad.length) : bad.length - 1 - random.nextInt(320_000);
                bad[at] = (byte) random.nextInt(256);
            }
            Files.write(file, bad);
            try {
                Tokenizer t = TokenizerLoader.load(file);
                t.decode(t.encode("The ﬁnal ＦＵＬＬ café 😀 <extra_id_0> test\t\n  x"));
            } catch (ShearsException e) {
                assertTrue(e.getMessage().contains(file.toString()) && !e.getMessage().contains("\n"), "round " + round + ": " + e.getMessage());
            }
        }
    }

    @Test
    void viterbiPrefersTheHigherScoringSegmentationAndKeepsTheEarlierOnTies() {
        // pieces: <unk>, ▁, a, b, ab, ▁a; scores make "▁a" + "b" (−1 −1 = −2) beat "▁" + "ab" (−1.5 −1 = −2.5)
        java.util.List<String> pieces = java.util.List.of("<unk>", "\u2581", "a", "b", "ab", "\u2581a");
        double[] scores = {0, -1.5, -3, -1, -1, -1};
        PieceType[] types = {PieceType.UNKNOWN, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL};
        for (UnigramTokenizer.Rules rules : UnigramTokenizer.Rules.values()) {
            UnigramTokenizer t = new UnigramTokenizer("toy", new UnigramTokenizer.Model(pieces, scores, types, 0, rules),
                    new UnigramTokenizer.Specials(java.util.List.of(), new PieceType[0], -1, -1, false, false, "?"),
                    (segment, first) -> java.util.List.of("\u2581" + segment.replace(' ', '\u2581')), texts -> texts);
            assertArrayEquals(new int[] {5, 3}, t.encode("ab"), rules.name());
            assertArrayEquals(new int[] {5, 0}, t.encode("axy"), rules.name()); // x and y: one unknown piece
        }
        // a tie: "▁" + "ab" (−1 −1 = −2) against "▁a" + "b" (−2): the candidate found first (from the earlier start) stays
        double[] tie = {0, -1, -3, -1, -1, -1};
        UnigramTokenizer t = new UnigramTokenizer("toy", new UnigramTokenizer.Model(pieces, tie, types, 0, UnigramTokenizer.Rules.SENTENCEPIECE),
                new UnigramTokenizer.Specials(java.util.List.of(), new PieceType[0], -1, -1, false, false, "?"),
                (segment, first) -> java.util.List.of("\u2581" + segment), texts -> texts);
        assertArrayEquals(new int[] {1, 4}, t.encode("ab"));
    }
}
