package dev.shears.format.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 13: config.json values that used to be accepted silently are refused with one line naming the key. */
class HfConfigValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FILE = Path.of("m/config.json");

    static ObjectNode llama() {
        return JSON.createObjectNode().put("model_type", "llama").put("hidden_size", 64).put("num_hidden_layers", 2).put("vocab_size", 100)
                .put("num_attention_heads", 4).put("num_key_value_heads", 2).put("intermediate_size", 128).put("hidden_act", "silu")
                .put("max_position_embeddings", 256).put("bos_token_id", 1).put("eos_token_id", 2);
    }

    static String refused(Consumer<ObjectNode> edit) {
        ObjectNode n = llama();
        edit.accept(n);
        String m = assertThrows(ShearsException.class, () -> HfConfig.parse(FILE, n)).getMessage();
        assertTrue(m.startsWith(FILE.toString()), "names the file: " + m);
        assertEquals(1, m.lines().count(), m);
        return m;
    }

    @Test
    void aValidConfigStillReads() {
        assertEquals(256, HfConfig.parse(FILE, llama()).maxSeqLen());
        assertEquals(64, HfConfig.parse(FILE, llama().put("hidden_size", 64.0)).dim(), "a whole number written as a float");
    }

    @Test
    void hiddenActGeluOrBogusIsRefusedInsteadOfRunningAsSilu() {
        assertTrue(refused(n -> n.put("hidden_act", "gelu")).contains("hidden_act 'gelu' is not supported"));
        assertTrue(refused(n -> n.put("hidden_act", "bogus")).contains("hidden_act 'bogus'"));
    }

    @Test
    void fractionalAndTextualSizesAreRefused() {
        assertTrue(refused(n -> n.put("hidden_size", 64.5)).contains("\"hidden_size\""));
        assertTrue(refused(n -> n.put("max_position_embeddings", "sixty")).contains("\"max_position_embeddings\" must be a whole number"));
        assertTrue(refused(n -> n.put("num_key_value_heads", -2)).contains("\"num_key_value_heads\""));
    }

    @Test
    void bosOrEosOutsideTheVocabularyIsRefused() {
        assertTrue(refused(n -> n.put("eos_token_id", 100)).contains("eos token id 100 is outside the vocabulary of 100"));
        assertTrue(refused(n -> n.put("bos_token_id", 5000)).contains("5000"));
    }
}
