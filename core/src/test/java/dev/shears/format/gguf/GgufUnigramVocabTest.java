package dev.shears.format.gguf;

import dev.shears.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unigram vocabulary of a T5 tokenizer.json as llama.cpp's converter writes it: ids past the
 * tokenizer's padded as {@code [PAD<id>]}, and every key read back the same from a written file.
 */
class GgufUnigramVocabTest {
    @TempDir
    Path dir;

    @Test
    void idsPastTheTokenizerArePaddedAsTheConverterPadsThem() {
        Path json = SharedData.require("models/t5-tiny-random/tokenizer.json");
        GgufUnigramVocab v = GgufUnigramVocab.fromTokenizerJson(json, 1310);
        assertEquals(1310, v.data().tokens().size());
        assertEquals("[PAD1302]", v.data().tokens().get(1302));
        assertEquals("[PAD1309]", v.data().tokens().get(1309));
        assertEquals(-10000f, v.data().scores()[1305]);
        assertEquals(GgufTokenizerData.UNUSED, v.data().tokenTypes()[1309]);
        assertEquals(GgufTokenizerData.NORMAL, v.data().tokenTypes()[1301]);
    }

    @Test
    void writtenKeysReadBack() {
        Path json = SharedData.require("models/t5-tiny-random/tokenizer.json");
        GgufUnigramVocab v = GgufUnigramVocab.fromTokenizerJson(json, 1302);
        Path file = dir.resolve("vocab.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "t5");
        v.writeTo(w);
        w.write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(v.data(), GgufTokenizerData.read(gguf).orElseThrow());
            assertEquals("default", gguf.metadata().get("tokenizer.ggml.pre"));
            assertEquals(v.addSpacePrefix(), gguf.metadata().get("tokenizer.ggml.add_space_prefix"));
            assertEquals(v.removeExtraWhitespaces(), gguf.metadata().get("tokenizer.ggml.remove_extra_whitespaces"));
            java.util.List<?> stored = (java.util.List<?>) gguf.metadata().get("tokenizer.ggml.precompiled_charsmap");
            byte[] back = new byte[stored.size()];
            for (int i = 0; i < back.length; i++) back[i] = (byte) (long) (Long) stored.get(i);
            assertArrayEquals(v.precompiledCharsmap(), back);
            assertTrue(back.length > 1000, "T5's map is tens of kilobytes");
        }
    }
}
