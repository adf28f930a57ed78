package dev.shears.recipe;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.format.gguf.GgufTokenizers;
import dev.shears.format.hf.HfModel;
import dev.shears.model.Activations;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.TargetParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shears export}: exact F32 round trips, GGUF with the HF folder's logits and tokenizer, non-uniform shapes. */
class ExportTest {
    static final int[] IDS = {1, 403, 407, 261, 378, 434, 267, 360, 412, 267, 300, 358, 298, 426};

    static float[] logits(Model m) {
        return Transformer.forward(m, IDS, 1, IDS.length, Activations.forInference(m.config(), 1, IDS.length), MaskSet.NONE).clone();
    }

    @Test
    void ggufAndHfExportsOfStories260KGiveIdenticalLogitsAndTokens(@TempDir Path tmp) throws java.io.IOException {
        Path hf = SharedData.require("models/stories260K/hf");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Model parent = ModelLoader.load(hf);
        Path gguf = new Export(hf, Optional.of(tok), "gguf", "f32", tmp.resolve("s.gguf"), 1L << 31).run().path();
        assertArrayEquals(logits(parent), logits(ModelLoader.load(gguf)), "GGUF F32 gives the HF folder's logits");
        LoadedModel fromGguf = ModelSource.open(gguf, Optional.empty());
        String text = "Lily and Ben went to the park. They saw a big dog!";
        assertArrayEquals(dev.shears.format.TokenizerLoader.load(tok).encode(text), fromGguf.tokenizer().encode(text), "the tokenizer travels in the metadata");

        Path folder = new Export(gguf, Optional.empty(), "hf", "f32", tmp.resolve("back"), 1L << 31).run().path();
        Model back = HfModel.read(folder);
        parent.weights().forEach((role, layer, v) -> assertArrayEquals(v, back.weights().get(role, layer), role + " " + layer));
        assertTrue(back.config().sameTensorShapes(parent.config()));

        Path sharded = new Export(hf, Optional.of(tok), "hf", "bf16", tmp.resolve("bf16"), 60_000).run().path();
        assertTrue(Files.isRegularFile(sharded.resolve(HfModel.INDEX)), "small shards force an index");
        assertTrue(Files.isRegularFile(sharded.resolve("tokenizer.bin")));
        float[] exact = logits(parent), bf16 = logits(HfModel.read(sharded));
        for (int i = 0; i < exact.length; i++) assertEquals(exact[i], bf16[i], 0.1 + 0.02 * Math.abs(exact[i]), "bf16 logit " + i);

        Path q8 = new Export(hf, Optional.of(tok), "gguf", "q8_0", tmp.resolve("q8.gguf"), 1L << 31).run().path();
        assertTrue(q8.toFile().length() < gguf.toFile().length() / 2, "Q8_0 is about a quarter of F32");

        // without --dtype an export keeps the source's: bf16 stays bf16 in both formats, q8_0 becomes f16 in safetensors
        Export.Written same = new Export(sharded, Optional.empty(), "gguf", "", tmp.resolve("same.gguf"), 1L << 31).run();
        assertEquals("bf16", same.dtype());
        assertArrayEquals(bf16, logits(ModelLoader.load(same.path())), "the bf16 GGUF holds the bf16 folder's weights");
        Export.Written fromQ8 = new Export(q8, Optional.empty(), "hf", "", tmp.resolve("from-q8"), 1L << 31).run();
        assertEquals("f16", fromQ8.dtype());
        assertTrue(Files.readString(fromQ8.path().resolve("config.json")).contains("\"float16\""));
    }

    @Test
    void nonUniformPrunedModelsExportToBothFormats(@TempDir Path tmp) {
        Path pruned = tmp.resolve("pruned");
        new PruneRun(SharedData.require("models/stories260K/hf"), Optional.of(SharedData.require("models/stories260K/tok512.bin")), pruned,
                new TargetParser.Spec(Map.of(Axis.FFN, 0.5, Axis.HEAD, 0.5), Map.of(), Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, true),
                new PruneRun.Ranking(Optional.of(Criterion.ACTIVATION), Optional.empty(), 0, 1),
                new PruneRun.Calibration(Optional.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")), 8, 64), Optional.empty(),
                Optional.empty(), Optional.empty()).run(Progress.SILENT, m -> { });
        Model model = HfModel.read(pruned);
        assertFalse(model.config().isUniform());
        Export.Written written = new Export(pruned, Optional.empty(), "gguf", "f32", tmp.resolve("p.gguf"), 1L << 31).run();
        // issue 13: written as llama.cpp's `deci`, whose loader reads per-layer widths (its `llama` loader uses layer 0's everywhere)
        try (dev.shears.format.gguf.GgufFile gguf = dev.shears.format.gguf.GgufFile.open(written.path())) {
            assertEquals("deci", gguf.metadata().get("general.architecture"));
        }
        assertTrue(written.readBy().startsWith("llama.cpp (architecture deci"), written.readBy());
        Model viaGguf = ModelLoader.load(written.path());
        assertEquals(model.config().layers(), viaGguf.config().layers(), "per-layer shapes survive GGUF, and Shears reads deci back");
        assertArrayEquals(logits(model), logits(viaGguf));
        // a layer without its FFN has no llama.cpp architecture: llama with per-layer arrays, for Shears
        ModelConfig noFfn = model.config().withLayers(java.util.stream.IntStream.range(0, model.config().numLayers())
                .mapToObj(l -> l == 1 ? new dev.shears.model.LayerShape(model.config().layer(l).numHeads(), model.config().layer(l).numKvHeads(), 0)
                        : model.config().layer(l)).toList());
        assertTrue(dev.shears.format.gguf.GgufModel.readers(noFfn).startsWith("Shears only"), dev.shears.format.gguf.GgufModel.readers(noFfn));
    }

    @Test
    void anHfExportOfALlama2cVocabularyCarriesATokenizerJsonThatEncodesTheSame(@TempDir Path tmp) throws java.io.IOException {
        // issue 13: the export carried only tokenizer.bin, which Hugging Face tools cannot read
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path out = new Export(SharedData.require("models/stories260K/hf"), Optional.of(tok), "hf", "f32", tmp.resolve("hf"), 1L << 30).run().path();
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("tokenizer.json")) && java.nio.file.Files.isRegularFile(out.resolve("tokenizer.bin")));
        dev.shears.tokenizer.Tokenizer original = dev.shears.format.TokenizerLoader.load(tok);
        dev.shears.tokenizer.HfTokenizer json = dev.shears.format.hf.HfTokenizerReader.read(out.resolve("tokenizer.json"));
        String text = java.nio.file.Files.readString(SharedData.require("eval/tinystories/tinystories_val_head.txt")).substring(0, 200_000);
        assertArrayEquals(original.encode(text), json.encode(text), "the same ids as the llama2.c tokenizer");
        assertEquals(text, json.decode(json.encode(text)));
        assertEquals(original.bosId(), json.bosId());
        assertEquals(original.addsBos(), json.addsBos());
        // and the tokenizer.model the slow LlamaTokenizer and llama.cpp's converter read
        dev.shears.tokenizer.SentencePieceTokenizer model = dev.shears.format.sentencepiece.SentencePieceModelFile.read(out.resolve("tokenizer.model"));
        assertArrayEquals(original.encode(text), model.encode(text), "tokenizer.model: the same ids as the llama2.c tokenizer");
        assertEquals(text, model.decode(model.encode(text)));
        assertEquals(original.vocabSize(), model.vocabSize());
        for (int id = 0; id < original.vocabSize(); id++) {
            assertEquals(original.pieceType(id), model.pieceType(id), "type of " + id);
            assertEquals(((dev.shears.tokenizer.Llama2cTokenizer) original).score(id), model.score(id), "score of " + id);
        }
    }

    @Test
    void aGgufTokenizerBecomesATokenizerFileAgainOnHfExport(@TempDir Path tmp) {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path gguf = new Export(SharedData.require("models/stories260K/hf"), Optional.of(tok), "gguf", "f32", tmp.resolve("s.gguf"), 1L << 31).run().path();
        Path folder = new Export(gguf, Optional.empty(), "hf", "f32", tmp.resolve("hf"), 1L << 31).run().path();
        assertTrue(Files.isRegularFile(folder.resolve("tokenizer.bin")) && Files.isRegularFile(folder.resolve("tokenizer.model")));
        dev.shears.tokenizer.Tokenizer original = dev.shears.format.TokenizerLoader.load(tok), back = ModelSource.open(folder, Optional.empty()).tokenizer();
        for (String text : List.of("Once upon a time, there was a little girl named Lily.", "Tom's dog ran fast!\n\n\"Hello,\" said Sue. 123 €")) {
            assertArrayEquals(original.encode(text), back.encode(text), text);
        }
    }

    @Test
    void byteLevelTokenizersSurviveGgufMetadataAndComeBackAsTokenizerJson(@TempDir Path tmp) throws java.io.IOException, java.net.URISyntaxException {
        for (String family : List.of("gpt2", "llama3", "qwen2")) {
            Path file = Path.of(ExportTest.class.getResource("/tokenizer/bytelevel/" + family + "/tokenizer.json").toURI());
            dev.shears.tokenizer.HfTokenizer original = dev.shears.format.hf.HfTokenizerReader.read(file);
            dev.shears.format.gguf.GgufTokenizerData data = GgufTokenizers.toData(original, file);
            dev.shears.tokenizer.Tokenizer fromGguf = GgufTokenizers.of(data, file);
            Path dir = Files.createDirectories(tmp.resolve(family));
            Path written = dev.shears.format.TokenizerWriter.writeFiles(data, dir).orElseThrow();
            dev.shears.tokenizer.Tokenizer fromFile = dev.shears.format.TokenizerLoader.load(written);
            for (String text : List.of("Hello world", "It's 2024: numbers 1234567 and   spaces\n\nnew lines", "naïve café — emoji 🎉 done", "<|endoftext|>after")) {
                assertArrayEquals(original.encode(text), fromGguf.encode(text), family + " via GGUF metadata: " + text);
                assertArrayEquals(original.encode(text), fromFile.encode(text), family + " via the written tokenizer.json: " + text);
                assertEquals(original.decode(original.encode(text)), fromFile.decode(fromFile.encode(text)), "decodes as the original (specials decode to nothing)");
            }
        }
    }

    @Test
    void llama3RopeScalingTravelsThroughGgufAsFrequencyFactors(@TempDir Path tmp) throws java.net.URISyntaxException {
        Path folder = Path.of(ExportTest.class.getResource("/torchref/llama3_rope_head_dim").toURI());
        Model hf = ModelLoader.load(folder);
        assertEquals(dev.shears.model.RopeScaling.Type.LLAMA3, hf.config().ropeScaling().type());
        Path gguf = tmp.resolve("l3.gguf");
        dev.shears.format.gguf.GgufModelWriter.write(hf, gguf);
        Model back = ModelLoader.load(gguf);
        assertEquals(hf.config().ropeScaling(), back.config().ropeScaling(), "the exact parameters come back");
        int[] ids = {1, 5, 9, 2, 7, 3, 8, 4};
        float[] a = Transformer.forward(hf, ids, 1, ids.length, Activations.forInference(hf.config(), 1, ids.length), MaskSet.NONE).clone();
        float[] b = Transformer.forward(back, ids, 1, ids.length, Activations.forInference(back.config(), 1, ids.length), MaskSet.NONE);
        assertArrayEquals(a, b);
        try (dev.shears.format.gguf.GgufFile f = dev.shears.format.gguf.GgufFile.open(gguf)) {
            assertTrue(f.tensors().containsKey("rope_freqs.weight"), "llama.cpp's factors tensor is written");
        }
    }

    @Test
    void impossibleRequestsAreRefusedInOneLine(@TempDir Path tmp) {
        Path hf = SharedData.require("models/stories260K/hf");
        assertThrows(ShearsException.class, () -> new Export(hf, Optional.empty(), "hf", "q8_0", tmp.resolve("x"), 1));
        assertThrows(ShearsException.class, () -> new Export(hf, Optional.empty(), "onnx", "f32", tmp.resolve("x"), 1));
        assertThrows(ShearsException.class, () -> new Export(hf, Optional.empty(), "gguf", "int4", tmp.resolve("x"), 1));
    }
}
