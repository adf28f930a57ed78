package dev.shears.format.gguf;

import dev.shears.format.IoTestFiles;
import dev.shears.format.ModelLoader;
import dev.shears.model.Model;
import dev.shears.model.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tokenizer.ggml.* metadata written with a model and read back as GgufTokenizerData. */
class GgufTokenizerFileTest {
    private static List<String> tokens(int n) {
        List<String> t = new ArrayList<>();
        t.add("<|endoftext|>");
        t.add("<pad>");
        for (int i = 2; i < n; i++) t.add("Ġtok" + i);
        return t;
    }

    @Test
    void byteLevelBpeDataRoundTripsWithEveryField(@TempDir Path dir) {
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        int v = model.config().vocabSize();
        int[] types = new int[v];
        java.util.Arrays.fill(types, GgufTokenizerData.NORMAL);
        types[0] = GgufTokenizerData.CONTROL;
        types[1] = GgufTokenizerData.USER_DEFINED;
        GgufTokenizerData data = new GgufTokenizerData("gpt2", "smollm", tokens(v), new float[0], types, List.of("Ġ t", "Ġt o", "Ġto k"),
                0, 0, -1, 1, false, false, "{% for m in messages %}{{ m.content }}{% endfor %}");
        Path file = dir.resolve("bpe.gguf");
        GgufModelWriter.write(model, file, GgufModelWriter.Options.defaults().withTokenizer(data));
        GgufTokenizerData read = GgufModel.readTokenizer(file).orElseThrow();
        assertEquals(data, read);
        assertEquals(0, read.scores().length, "absent scores read as empty");
        assertEquals(1, read.pad());
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(List.of("Ġ t", "Ġt o", "Ġto k"), g.metadata().get("tokenizer.ggml.merges"));
            assertEquals(0L, g.metadata().get("tokenizer.ggml.bos_token_id"));
        }
        assertEquals(model.config().withTokens(0, 0), ModelLoader.load(file).config(), "the model's bos/eos come from the tokenizer");
    }

    @Test
    void aByteLevelBpeWithoutMergesStillCarriesTheMergesKey(@TempDir Path dir) {
        // issue 13: written without tokenizer.ggml.merges, which llama.cpp requires for "gpt2" vocabularies
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        int v = model.config().vocabSize();
        Path file = dir.resolve("no-merges.gguf");
        GgufModelWriter.write(model, file, GgufModelWriter.Options.defaults()
                .withTokenizer(GgufTokenizerData.of("gpt2", tokens(v), new float[0], new int[v], List.of(), 0, 0)));
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(List.of(), g.metadata().get("tokenizer.ggml.merges"));
        }
        assertEquals(List.of(), GgufModel.readTokenizer(file).orElseThrow().merges());
    }

    @Test
    void llamaCppsNullTokenIdReadsAsNone(@TempDir Path dir) {
        // issue 13: llama.cpp's own GGUFs mark an absent special token with 0xFFFFFFFF, which Shears refused
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        int v = model.config().vocabSize();
        GgufTokenizerData data = GgufTokenizerData.of("llama", tokens(v), new float[v], new int[v], List.of(), 1, 2);
        Path file = dir.resolve("nulls.gguf");
        GgufWriter w = GgufModelWriter.writer(model, file, GgufModelWriter.Options.defaults().withTokenizer(data));
        w.putU32("tokenizer.ggml.padding_token_id", GgufTokenizerData.NO_TOKEN);
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(0xFFFFFFFFL, g.metadata().get("tokenizer.ggml.padding_token_id"));
        }
        assertEquals(-1, GgufModel.readTokenizer(file).orElseThrow().pad());
    }

    @Test
    void aFileWithoutTokenizerHasNoneAndDefaultsFollowLlamaCpp(@TempDir Path dir) {
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        Path file = dir.resolve("bare.gguf");
        GgufModelWriter.write(model, file);
        assertFalse(GgufModel.readTokenizer(file).isPresent());
        GgufTokenizerData spm = GgufTokenizerData.of("llama", tokens(5), new float[5], new int[5], List.of(), 1, 2);
        assertTrue(spm.addBos());
        assertFalse(spm.addEos());
        assertFalse(GgufTokenizerData.of("gpt2", tokens(5), new float[0], new int[0], List.of(), 0, 0).addBos());
    }

    @Test
    void inconsistentDataIsRefused(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> GgufTokenizerData.of("llama", tokens(5), new float[4], new int[0], List.of(), 1, 2));
        assertThrows(IllegalArgumentException.class, () -> GgufTokenizerData.of("llama", tokens(5), new float[0], new int[0], List.of(), 1, 5));
        Model model = TinyModels.random(TinyModels.gqa(), 1);
        Path file = dir.resolve("wrong.gguf");
        IoTestFiles.assertFails(file, () -> GgufModelWriter.write(model, file, GgufModelWriter.Options.defaults()
                .withTokenizer(GgufTokenizerData.of("llama", tokens(7), new float[0], new int[0], List.of(), 1, 2))), "7 tokens", "vocabulary 50");
        assertFalse(java.nio.file.Files.exists(file));
    }
}
