package dev.shears.format;

import dev.shears.format.gguf.GgufModel;
import dev.shears.format.gguf.GgufModelWriter;
import dev.shears.format.gguf.GgufType;
import dev.shears.format.hf.HfModel;
import dev.shears.io.DType;
import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.Architecture;
import dev.shears.model.Axis;
import dev.shears.model.KvCache;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TinyModels;
import dev.shears.model.Transformer;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Encoding;
import dev.shears.tensor.MappedTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weights read in place from mapped files, in their dtype, give the same bits as the same file widened
 * onto the heap: full forward (the blocked product), cached generation (the matrix–vector path) and
 * the backward pass's input and gate gradients (Taylor importance), for every encoding.
 */
class MappedModelTest {
    @TempDir
    Path dir;

    /** Widths that are multiples of 32, as Q8_0 rows need; GQA, untied head, biases, interleaved RoPE in GGUF. */
    private static ModelConfig config() {
        return ModelConfig.uniform(Architecture.LLAMA, 64, 2, 4, 2, 16, 96, 70, 64, 1e-5f, 10000, false, false);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class)
    void safetensorsMappedEqualsWidened(DType dtype) {
        Model source = TinyModels.random(TinyModels.nonUniformWithBias(), 5);
        Path folder = dir.resolve("hf");
        HfModel.write(source, folder, dtype, HfModel.DEFAULT_SHARD_BYTES);
        try (Model mapped = HfModel.open(folder)) {
            assertFalse(mapped.weights().isDense());
            assertSameResults(mapped, HfModel.read(folder));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgufType.class, names = {"F32", "F16", "BF16", "Q8_0"})
    void ggufMappedEqualsWidened(GgufType type) {
        Model source = TinyModels.random(config(), 9);
        Path file = dir.resolve("m.gguf");
        GgufModelWriter.write(source, file, GgufModelWriter.Options.defaults().withMatrixType(type));
        try (Model mapped = GgufModel.open(file)) {
            assertSameResults(mapped, GgufModel.read(file));
        }
    }

    @Test
    void aConfigClaimingAMillionLayersBesideASmallFileIsRefusedAtOnce(@TempDir Path tmp) throws Exception {
        // issue 13: `info` allocated every layer for two minutes, then died of an OutOfMemoryError
        Path folder = tmp.resolve("huge");
        Files.createDirectories(folder);
        Path source = dev.shears.SharedData.require("models/stories260K/hf");
        Files.copy(source.resolve("model.safetensors"), folder.resolve("model.safetensors"));
        com.fasterxml.jackson.databind.node.ObjectNode config = (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(source.resolve("config.json").toFile());
        Files.writeString(folder.resolve("config.json"), config.put("num_hidden_layers", 1_000_000).toString());
        long began = System.nanoTime();
        dev.shears.ShearsException e = org.junit.jupiter.api.Assertions.assertThrows(dev.shears.ShearsException.class, () -> ModelLoader.open(folder).close());
        assertTrue(e.getMessage().contains("missing tensor"), e.getMessage());
        assertTrue(System.nanoTime() - began < 10e9, "within seconds");
    }

    @Test
    void mappedWeightsAreNotTrainableArrays() {
        Model source = TinyModels.random(config(), 1);
        Path folder = dir.resolve("hf");
        HfModel.write(source, folder, DType.BF16, HfModel.DEFAULT_SHARD_BYTES);
        try (Model mapped = HfModel.open(folder)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> mapped.weights().get(dev.shears.model.TensorRole.QUERY, 0));
            assertTrue(e.getMessage().contains("MappedTensor"), e.getMessage());
            assertTrue(mapped.dense().weights().isDense());
        }
    }

    @Test
    void slicingAMappedParentStreamsTheSameFileAsSlicingInMemory() throws Exception {
        ModelConfig c = TinyModels.gqa();
        Path parentDir = dir.resolve("parent");
        HfModel.write(TinyModels.random(c, 3), parentDir, DType.BF16, HfModel.DEFAULT_SHARD_BYTES);
        dev.shears.prune.PruningPlan plan = dev.shears.prune.PlanBuilder.build(c,
                dev.shears.prune.Importance.compute(HfModel.read(parentDir), dev.shears.prune.Criterion.RANDOM, java.util.List.of(), 5, 1,
                        dev.shears.progress.Progress.SILENT),
                dev.shears.prune.TargetParser.resolve(c, new dev.shears.prune.TargetParser.Spec(java.util.Map.of(Axis.FFN, 0.5, Axis.HIDDEN, 0.25, Axis.HEAD, 0.5, Axis.LAYER, 0.34),
                        java.util.Map.of(), java.util.Optional.empty(), java.util.List.of(), 0, 0, dev.shears.prune.TargetParser.HeadMode.GROUPS, 1, false)));
        Path streamed = dir.resolve("streamed"), inMemory = dir.resolve("in-memory");
        try (Model mapped = HfModel.open(parentDir)) {
            // a small shard size: several shards and an index
            HfModel.write(dev.shears.prune.Slicer.slice(mapped, plan), streamed, DType.BF16, 2_000);
        }
        HfModel.write(dev.shears.prune.Slicer.slice(HfModel.read(parentDir), plan).dense(), inMemory, DType.BF16, 2_000);
        try (var files = java.nio.file.Files.list(inMemory)) {
            for (Path f : files.toList()) {
                assertArrayEquals(java.nio.file.Files.readAllBytes(f), java.nio.file.Files.readAllBytes(streamed.resolve(f.getFileName())), f.getFileName().toString());
            }
        }
        assertTrue(java.nio.file.Files.isRegularFile(streamed.resolve(HfModel.INDEX)));
        assertTrue(java.nio.file.Files.readString(streamed.resolve("config.json")).contains("\"bfloat16\""));
    }

    @ParameterizedTest
    @EnumSource(value = Encoding.class)
    void mappedTensorReadsWhatTheWidenedCopyHolds(Encoding encoding) {
        Random r = new Random(encoding.ordinal());
        int rows = 5, cols = 96;
        byte[] bytes = new byte[Math.toIntExact(encoding.bytes((long) rows * cols))];
        r.nextBytes(bytes);
        if (encoding != Encoding.Q8_0 && encoding != Encoding.F32) {
            for (int i = 1; i < bytes.length; i += 2) bytes[i] &= 0x3f; // finite values
        } else if (encoding == Encoding.Q8_0) {
            for (int b = 0; b < bytes.length; b += 34) bytes[b + 1] = 0x20; // finite f16 scales
        } else {
            for (int i = 3; i < bytes.length; i += 4) bytes[i] &= 0x3f;
        }
        MappedTensor t = MappedTensor.of(java.lang.foreign.MemorySegment.ofArray(bytes), encoding, rows, cols);
        float[] all = t.toArray();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < all.length; i++) {
            // the definition of each encoding, element by element
            float expected = switch (encoding) {
                case F32 -> b.getFloat(4 * i);
                case F16 -> Float.float16ToFloat(b.getShort(2 * i));
                case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                case Q8_0 -> bytes[34 * (i / 32) + 2 + i % 32] * Float.float16ToFloat(b.getShort(34 * (i / 32)));
            };
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(all[i]), encoding + " element " + i);
        }
        for (int row = 0; row < rows; row++) {
            for (int col = 0; col < cols; col += 7) {
                int n = Math.min(cols - col, 1 + r.nextInt(40));
                float[] part = new float[n + 3];
                t.read(row, col, n, part, 3);
                assertArrayEquals(Arrays.copyOfRange(all, row * cols + col, row * cols + col + n), Arrays.copyOfRange(part, 3, n + 3),
                        encoding + " row " + row + " from " + col);
            }
        }
        int[] order = {3, 1, 4, 0, 2};
        float[] permuted = t.withRowOrder(order).toArray();
        for (int row = 0; row < rows; row++) {
            assertArrayEquals(Arrays.copyOfRange(all, order[row] * cols, order[row] * cols + cols), Arrays.copyOfRange(permuted, row * cols, row * cols + cols));
        }
        assertInstanceOf(DenseTensor.class, DenseTensor.vector(all));
    }

    private static void assertSameResults(Model mapped, Model widened) {
        ModelConfig c = mapped.config();
        int seqLen = 11;
        int[] tokens = new Random(2).ints(seqLen, 0, c.vocabSize()).toArray();
        int[] targets = new Random(3).ints(seqLen, 0, c.vocabSize()).toArray();
        assertArrayEquals(Transformer.forward(widened, tokens, 1, seqLen, Activations.forInference(c, 1, seqLen), MaskSet.NONE).clone(),
                Transformer.forward(mapped, tokens, 1, seqLen, Activations.forInference(c, 1, seqLen), MaskSet.NONE).clone(), "forward");

        KvCache wc = new KvCache(c, seqLen), mc = new KvCache(c, seqLen);
        Activations step = Activations.forInference(c, 1, 1);
        for (int t : tokens) {
            assertArrayEquals(Transformer.forwardCached(widened, new int[] {t}, wc, step), Transformer.forwardCached(mapped, new int[] {t}, mc, step),
                    "generation step");
        }

        // gate gradients and input gradients through mapped weights; weight gradients land in heap arrays
        MaskSet[] dMasks = new MaskSet[2];
        ModelWeights[] grads = new ModelWeights[2];
        Model[] models = {widened, mapped};
        for (int i = 0; i < 2; i++) {
            Activations acts = Activations.forTraining(c, 1, seqLen);
            MaskSet masks = MaskSet.ones(c);
            float[] logits = Transformer.forward(models[i], tokens, 1, seqLen, acts, masks);
            CrossEntropy.forwardBackward(logits, targets, seqLen, c.vocabSize(), acts.gradients().logits, 1f);
            dMasks[i] = MaskSet.filled(c, 0f);
            grads[i] = ModelWeights.zeros(c);
            Transformer.backward(models[i], tokens, acts, masks, grads[i], dMasks[i]);
        }
        assertArrayEquals(dMasks[0].get(Axis.HIDDEN), dMasks[1].get(Axis.HIDDEN), "hidden gate gradients");
        for (int l = 0; l < c.numLayers(); l++) {
            if (c.layer(l).hasAttention()) assertArrayEquals(dMasks[0].get(Axis.HEAD, l), dMasks[1].get(Axis.HEAD, l), "head gate gradients " + l);
            if (c.layer(l).hasFfn()) assertArrayEquals(dMasks[0].get(Axis.FFN, l), dMasks[1].get(Axis.FFN, l), "neuron gate gradients " + l);
        }
        grads[0].forEach((role, layer, values) -> assertArrayEquals(values, grads[1].get(role, layer), role + " gradient " + layer));
    }
}
