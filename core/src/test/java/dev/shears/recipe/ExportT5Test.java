package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufFile;
import dev.shears.format.gguf.GgufTokenizerData;
import dev.shears.format.gguf.GgufType;
import dev.shears.format.gguf.GgufUnigramVocab;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears export} of a T5 folder, on the real tiny T5 ({@code t5-tiny-random}: a pytorch_model.bin
 * and a Unigram tokenizer.json of 1302 pieces): the HF folder reads back to the same logits with its
 * tokenizer files; the GGUF carries llama.cpp's t5 keys and the unigram vocabulary as the converter
 * writes it.
 */
class ExportT5Test {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void hfExportKeepsLogitsConfigAndTokenizerFiles() throws IOException {
        Path model = SharedData.require("models/t5-tiny-random");
        Path out = dir.resolve("t5-hf");
        Export.Written written = new Export(model, Optional.empty(), "hf", "", out, 1L << 30).run();
        assertEquals("f32", written.dtype());
        assertTrue(written.readBy().contains("transformers"), written.readBy());
        for (String file : List.of("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "generation_config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file + " is written");
        }
        assertFalse(Files.exists(out.resolve("pytorch_model.bin")));
        assertArrayEquals(Files.readAllBytes(model.resolve("tokenizer.json")), Files.readAllBytes(out.resolve("tokenizer.json")));
        T5Model source = T5Model.load(model);
        T5Model back = T5Model.load(out);
        assertEquals(source.config(), back.config());
        int[] src = {100, 200, 300, 1};
        int[] tgt = {400, 500, 1};
        assertArrayEquals(T5.forward(source, src, tgt, 1, src.length, tgt.length).logits(), T5.forward(back, src, tgt, 1, src.length, tgt.length).logits(),
                "the export's logits are the pytorch_model.bin's");
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(1, config.path("eos_token_id").asInt(), "keys Shears does not model are kept");
        assertEquals(37, config.path("d_ff").asInt());
        assertEquals("float32", config.path("torch_dtype").asText());
    }

    /** OpenBA goes out as its own Hugging Face folder (a uniform fixture: stock keys; a per-layer one: Shears only); llama.cpp has no OpenBA. */
    @Test
    void openBaExportsAsItsHfFolderAndIsRefusedAsGguf() throws Exception {
        for (String name : List.of("openba_bias_asym", "openba_nonuniform")) {
            Path model = Path.of(ExportT5Test.class.getResource("/torchref-openba/" + name + "/config.json").toURI()).getParent();
            Path out = dir.resolve(name);
            Export.Written written = new Export(model, Optional.empty(), "hf", "", out, 1L << 30).run();
            assertEquals(name.endsWith("nonuniform"), written.readBy().startsWith("Shears only"), written.readBy());
            dev.shears.seq2seq.OpenBaModel source = dev.shears.seq2seq.OpenBaModel.load(model), back = dev.shears.seq2seq.OpenBaModel.load(out);
            assertEquals(source.config(), back.config(), name);
            int[] src = {3, 4, 5, 1}, tgt = {6, 7, 1};
            assertArrayEquals(source.logits(src, tgt), back.logits(src, tgt), name + ": the export's logits are the source's");
            assertEquals("float32", JSON.readTree(out.resolve("config.json").toFile()).path("torch_dtype").asText());
        }
        Path model = Path.of(ExportT5Test.class.getResource("/torchref-openba/openba_bias_asym/config.json").toURI()).getParent();
        dev.shears.ShearsException e = assertThrows(dev.shears.ShearsException.class,
                () -> new Export(model, Optional.empty(), "gguf", "", dir.resolve("openba.gguf"), 1L << 30).run());
        assertTrue(e.getMessage().endsWith("llama.cpp has no OpenBA architecture; export OpenBA with --format hf"), e.getMessage());
    }

    @Test
    void ggufExportCarriesTheT5KeysAndTheUnigramVocabulary() throws IOException {
        Path model = SharedData.require("models/t5-tiny-random");
        Path out = dir.resolve("t5.gguf");
        Export.Written written = new Export(model, Optional.empty(), "gguf", "f16", out, 1L << 30).run();
        assertEquals("llama.cpp (architecture t5)", written.readBy());
        JsonNode tokenizerJson = JSON.readTree(model.resolve("tokenizer.json").toFile());
        try (GgufFile gguf = GgufFile.open(out)) {
            Map<String, Object> md = gguf.metadata();
            assertEquals("t5", md.get("general.architecture"));
            assertEquals(5L, md.get("t5.block_count"));
            assertEquals(37L, md.get("t5.feed_forward_length"));
            assertEquals(512L, md.get("t5.context_length"), "no n_positions: the converter's 512");
            assertEquals(8L, md.get("t5.attention.relative_buckets_count"));
            assertEquals("t5", md.get("tokenizer.ggml.model"));
            assertEquals(true, md.get("tokenizer.ggml.add_space_prefix"));
            assertEquals(true, md.get("tokenizer.ggml.remove_extra_whitespaces"), "the WhitespaceSplit pre-tokenizer");
            byte[] charsmap = Base64.getDecoder().decode(tokenizerJson.path("normalizer").path("precompiled_charsmap").asText());
            List<?> stored = (List<?>) md.get("tokenizer.ggml.precompiled_charsmap");
            assertEquals(charsmap.length, stored.size());
            for (int i = 0; i < charsmap.length; i++) assertEquals((long) (charsmap[i] & 0xff), stored.get(i), "charsmap byte " + i);
            GgufTokenizerData t = GgufTokenizerData.read(gguf).orElseThrow();
            assertEquals(1302, t.tokens().size());
            assertEquals(List.of("<pad>", "</s>", "<unk>"), t.tokens().subList(0, 3));
            assertEquals(tokenizerJson.path("model").path("vocab").path(1301).path(0).asText(), t.tokens().get(1301));
            assertEquals((float) tokenizerJson.path("model").path("vocab").path(1301).path(1).asDouble(), t.scores()[1301]);
            assertEquals(GgufTokenizerData.CONTROL, t.tokenTypes()[0]);
            assertEquals(GgufTokenizerData.CONTROL, t.tokenTypes()[1]);
            assertEquals(GgufTokenizerData.UNKNOWN, t.tokenTypes()[2]);
            assertEquals(GgufTokenizerData.USER_DEFINED, t.tokenTypes()[t.tokens().indexOf("<extra_id_0>")], "sentinels are user-defined, as added_tokens.json's");
            assertEquals(GgufTokenizerData.NORMAL, t.tokenTypes()[1301]);
            assertEquals(-1, t.bos());
            assertEquals(1, t.eos());
            assertEquals(2, t.unk());
            assertEquals(0, t.pad());
            assertFalse(t.addBos());
            assertTrue(t.addEos());
        }
    }

    @Test
    void q8_0KeepsRowsThatDoNotFillABlockInF32() {
        Path model = SharedData.require("models/t5-tiny-random");
        Path out = dir.resolve("t5-q8_0.gguf");
        assertEquals("q8_0", new Export(model, Optional.empty(), "gguf", "q8_0", out, 1L << 30).run().dtype());
        try (GgufFile gguf = GgufFile.open(out)) {
            assertEquals(7L, gguf.metadata().get("general.file_type"), "MOSTLY_Q8_0");
            assertEquals(GgufType.Q8_0, gguf.tensors().get("enc.blk.0.attn_q.weight").type(), "rows of d_model 32");
            assertEquals(GgufType.Q8_0, gguf.tensors().get("output.weight").type());
            assertEquals(GgufType.F32, gguf.tensors().get("enc.blk.0.ffn_down.weight").type(), "rows of d_ff 37 cannot be blocked by 32");
        }
    }

    @Test
    void perLayerWidthsExportAsHfForShearsAndAreRefusedAsGguf() throws Exception {
        Path model = Path.of(ExportT5Test.class.getResource("/torchref-t5/t5_nonuniform").toURI());
        Export.Written hf = new Export(model, Optional.empty(), "hf", "", dir.resolve("hf"), 1L << 30).run();
        assertTrue(hf.readBy().startsWith("Shears only (shears_layer_shapes"), hf.readBy());
        assertEquals(T5Model.load(model).config(), T5Model.load(dir.resolve("hf")).config());
        Path gguf = dir.resolve("x.gguf");
        ShearsException e = assertThrows(ShearsException.class, () -> new Export(model, Optional.empty(), "gguf", "", gguf, 1L << 30).run());
        assertTrue(e.getMessage().startsWith(gguf + ": cannot write a GGUF llama.cpp reads: llama.cpp's t5 has one block_count"), e.getMessage());
        assertFalse(Files.exists(gguf));
    }

    @Test
    void spieceModelAndTokenizerJsonOfT5SmallGiveTheSameGgufVocabulary() {
        Path json = SharedData.require("tokenizers/t5/tokenizer.json");
        Path spiece = SharedData.require("tokenizers/t5/spiece.model");
        GgufUnigramVocab fromJson = Export.unigramVocab(json, 32128);
        GgufUnigramVocab fromSpiece = Export.unigramVocab(spiece, 32128);
        assertEquals(fromJson.data().tokens(), fromSpiece.data().tokens());
        assertEquals("<extra_id_0>", fromSpiece.data().tokens().get(32099), "the sentinels tokenizer_config.json adds, last to first");
        assertEquals("[PAD32100]", fromSpiece.data().tokens().get(32100));
        assertArrayEquals(fromJson.data().scores(), fromSpiece.data().scores());
        assertArrayEquals(fromJson.data().tokenTypes(), fromSpiece.data().tokenTypes());
        assertEquals(fromJson, fromSpiece, "ids, flags and the precompiled map too");
        assertTrue(fromSpiece.precompiledCharsmap().length > 1000);
    }

    @Test
    void aBrokenSpieceModelIsOneLineNamingIt() throws IOException {
        Path model = SharedData.require("models/t5-tiny-random");
        Path copy = dir.resolve("t5");
        Files.createDirectories(copy);
        for (String f : List.of("config.json", "pytorch_model.bin")) Files.copy(model.resolve(f), copy.resolve(f));
        Files.write(copy.resolve("spiece.model"), new byte[]{0});
        Path out = dir.resolve("x.gguf");
        ShearsException e = assertThrows(ShearsException.class, () -> new Export(copy, Optional.empty(), "gguf", "", out, 1L << 30).run());
        assertTrue(e.getMessage().startsWith(copy.resolve("spiece.model") + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(Files.exists(out));
    }
}
