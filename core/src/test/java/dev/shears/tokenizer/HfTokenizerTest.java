package dev.shears.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.hf.HfTokenizerReader;
import dev.shears.format.hf.LlamaTokenizerJson;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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

/** tokenizer.json: the Llama 2 conversion against SentencePiece's ids, and byte-level BPE against the Python reference. */
class HfTokenizerTest {
    private static final List<String> VARIANTS = List.of("gpt2", "llama3", "qwen2");
    private static JsonNode expected;

    @BeforeAll
    static void load() {
        expected = Fixtures.json("bytelevel/expected.json").path("variants");
    }

    private static HfTokenizer variant(String name) {
        return HfTokenizerReader.read(Fixtures.path("bytelevel/" + name + "/tokenizer.json"));
    }

    private static int[] withBos(Tokenizer t, int[] ids) {
        if (!t.addsBos()) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = t.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    private static String report(String text, int[] expected, int[] actual) {
        return "'" + text + "'\n  expected " + Arrays.toString(expected) + "\n  actual   " + Arrays.toString(actual);
    }

    @Test
    void byteLevelVariantsMatchTheReferenceEncoder() {
        for (String name : VARIANTS) {
            HfTokenizer t = variant(name);
            for (JsonNode c : expected.path(name)) {
                String text = c.get(0).asText();
                int[] want = Fixtures.ints(c.get(1));
                int[] got = withBos(t, t.encode(text));
                assertArrayEquals(want, got, () -> name + ": " + report(text, want, got));
            }
        }
    }

    @Test
    void byteLevelBosEosAndPieceTypes() {
        HfTokenizer gpt2 = variant("gpt2");
        HfTokenizer llama3 = variant("llama3");
        HfTokenizer qwen2 = variant("qwen2");
        assertFalse(gpt2.addsBos()); // tokenizer_config.json says add_bos_token: false
        assertEquals(gpt2.eosId(), gpt2.bosId());
        assertTrue(llama3.addsBos()); // from the post-processor template
        assertEquals("<|begin_of_text|>", llama3.piece(llama3.bosId()));
        assertFalse(qwen2.addsBos());
        assertEquals(-1, qwen2.bosId());
        int eot = llama3.eosId();
        assertEquals("<|endoftext|>", llama3.piece(eot));
        assertEquals(PieceType.CONTROL, llama3.pieceType(eot));
        assertEquals(PieceType.NORMAL, llama3.pieceType(0));
        assertEquals(661, llama3.vocabSize());
    }

    @Test
    void byteLevelRoundTripsAndSpecialTokensDecodeToNothing() {
        for (String name : List.of("gpt2", "llama3")) {
            HfTokenizer t = variant(name);
            for (String s : TokenizerStrings.ROUND_TRIP) assertEquals(s, t.decode(t.encode(s)), name + ": " + s);
            assertEquals("HelloWorld", t.decode(t.encode("Hello<|endoftext|>World")));
        }
        HfTokenizer qwen2 = variant("qwen2"); // NFC: decomposed accents come back composed
        assertEquals("é", qwen2.decode(qwen2.encode("e\u0301")));
    }

    @Test
    void ggufStyleByteLevelFactoryMatchesTheJsonFile() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.path("bytelevel/gpt2/tokenizer.json").toFile());
        String[] byId = new String[661];
        root.path("model").path("vocab").properties().forEach(e -> byId[e.getValue().asInt()] = e.getKey());
        List<Integer> special = new ArrayList<>();
        for (JsonNode a : root.path("added_tokens")) {
            byId[a.path("id").asInt()] = a.path("content").asText();
            special.add(a.path("id").asInt());
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : root.path("model").path("merges")) merges.add(m.asText());
        HfTokenizer t = HfTokenizerReader.byteLevel(Arrays.asList(byId), merges, special, -1, special.get(0), false, HfTokenizer.SplitPattern.GPT2);
        for (JsonNode c : expected.path("gpt2")) assertArrayEquals(Fixtures.ints(c.get(1)), t.encode(c.get(0).asText()), c.get(0).asText());
        HfTokenizer qwenPattern = HfTokenizerReader.byteLevel(Arrays.asList(byId), merges, special, -1, special.get(0), false, HfTokenizer.SplitPattern.QWEN2);
        assertEquals(7, qwenPattern.encode("1234567").length); // one digit per piece
    }

    @Test
    void llama2ConvertedToTokenizerJsonGivesSentencePiecesIds(@TempDir Path dir) throws IOException {
        SentencePieceTokenizer sp = SentencePieceModelFile.read(SharedData.require("tokenizers/llama2/tokenizer.model"));
        JsonNode fixture = Fixtures.json("llama2_sentencepiece.json");
        List<String[]> merges = LlamaTokenizerJson.merges(sp);
        assertEquals(fixture.path("hf_merges_count").asInt(), merges.size());
        assertEquals(fixture.path("hf_merges_sha256").asText(), mergesSha256(merges), "the Java merge list differs from transformers' (as the generator made it)");
        HfTokenizer t = HfTokenizerReader.read(LlamaTokenizerJson.write(sp, merges, dir, false));
        assertEquals(32000, t.vocabSize());
        assertTrue(t.addsBos());
        assertEquals(1, t.bosId());
        assertEquals(2, t.eosId());
        assertEquals(PieceType.BYTE, t.pieceType(3));
        assertEquals(PieceType.UNKNOWN, t.pieceType(0));
        int compared = 0;
        for (JsonNode c : fixture.path("cases")) {
            String text = c.get(0).asText();
            if (text.contains("<s>") || text.contains("</s>") || text.contains("<unk>")) continue; // added tokens: HF matches them literally
            int[] want = Fixtures.ints(c.get(1));
            int[] got = t.encode(text);
            assertArrayEquals(want, got, () -> report(text, want, got));
            String decoded = c.size() > 2 ? c.get(2).asText() : text;
            assertEquals(decoded, t.decode(want), text);
            compared++;
        }
        assertTrue(compared > 300);
        assertArrayEquals(new int[] {1}, t.encode("<s>"));
    }

    @Test
    void metaspaceLayoutDoesNotDoubleALeadingSpace(@TempDir Path dir) throws IOException {
        SentencePieceTokenizer sp = SentencePieceModelFile.read(SharedData.require("tokenizers/llama2/tokenizer.model"));
        HfTokenizer t = HfTokenizerReader.read(LlamaTokenizerJson.write(sp, LlamaTokenizerJson.merges(sp), dir, true));
        assertArrayEquals(sp.encode("Hello world"), t.encode("Hello world"));
        assertArrayEquals(sp.encode("Hello world"), t.encode(" Hello world")); // prepend only when not already there
        // prepend_scheme "first": only the text's first segment gets the "▁"
        assertArrayEquals(new int[] {1, 10994}, t.encode("<s>Hello")); // "Hello" without "▁"
        assertEquals("Hello world", t.decode(t.encode("Hello world")));
    }

    @Test
    void addedTokenOptions(@TempDir Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(Fixtures.path("bytelevel/gpt2/tokenizer.json").toFile());
        ObjectNode eot = (ObjectNode) root.path("added_tokens").get(0);
        eot.put("lstrip", true).put("rstrip", true);
        json.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        HfTokenizer t = HfTokenizerReader.read(dir.resolve("tokenizer.json"));
        HfTokenizer plain = variant("gpt2");
        assertArrayEquals(plain.encode("a<|endoftext|>b"), t.encode("a  <|endoftext|>\n b"));
        assertFalse(Files.exists(dir.resolve("tokenizer_config.json")));
    }

    @Test
    void pathologicalTextsEncodeInLinearTime() {
        for (String name : List.of("gpt2", "llama3", "qwen2")) EncodeSpeed.assertPathologicalTextsEncodeQuickly(name, variant(name));
    }

    @Test
    void negativeOrHugeTokenIdsAreOneLineErrorsNotACrash(@TempDir Path dir) throws IOException {
        // issue 13: ArrayIndexOutOfBoundsException (exit 1) in the constructor, or a table of two billion entries
        ObjectMapper json = new ObjectMapper();
        for (String bad : List.of("vocab-negative", "vocab-huge", "added-huge", "vocab-fraction")) {
            ObjectNode root = (ObjectNode) json.readTree(Fixtures.path("bytelevel/gpt2/tokenizer.json").toFile());
            ObjectNode vocab = (ObjectNode) root.path("model").path("vocab");
            switch (bad) {
                case "vocab-negative" -> vocab.put("Ġthe", -3);
                case "vocab-huge" -> vocab.put("Ġthe", 2_000_000_000);
                case "added-huge" -> ((ObjectNode) root.path("added_tokens").get(0)).put("id", 1_500_000_000);
                default -> vocab.put("Ġthe", 2.5);
            }
            Path file = dir.resolve(bad + ".json");
            json.writeValue(file.toFile(), root);
            ShearsException e = assertThrows(ShearsException.class, () -> HfTokenizerReader.read(file), bad);
            assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains("is not a token id"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    /** SHA-256 of the merge list as "a b" lines, as tools/tokenizer/make_fixtures.py stores transformers' own. */
    static String mergesSha256(List<String[]> merges) {
        StringBuilder text = new StringBuilder();
        for (String[] m : merges) {
            if (!text.isEmpty()) text.append('\n');
            text.append(m[0]).append(' ').append(m[1]);
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
