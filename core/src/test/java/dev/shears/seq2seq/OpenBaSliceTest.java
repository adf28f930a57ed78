package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.io.DType;
import dev.shears.prune.IndexSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static dev.shears.seq2seq.T5SliceTest.assertClose;
import static dev.shears.seq2seq.T5SliceTest.ids;
import static dev.shears.seq2seq.T5SliceTest.layers;
import static dev.shears.seq2seq.T5SliceTest.old;
import static dev.shears.seq2seq.T5SliceTest.subset;
import static dev.shears.seq2seq.T5SliceTest.zeroColumns;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masked ≡ sliced for OpenBA ({@link OpenBaSlicer}), on the reference fixtures: dropping self-attention heads (their
 * [q | k | v] block of the fused qkv), cross-attention heads (q rows and the [k | v] block of the fused kv), FFN
 * neurons (rows i and ffnDim + i of fc_in) or whole layers gives the logits of the full model whose dropped units'
 * output weights are zero (a head's o columns, a neuron's fc_out column; a dropped layer's o, o bias and fc_out, so its
 * residual passes through unchanged); a kept vocabulary gives the full model's logits at the kept ids, bit for bit.
 * Hidden channels have no such twin (LayerNorm takes the mean and variance over the channels it has, so zeroing a
 * channel is not removing it): a model cut there must load, run, and read back from its folder with the same logits,
 * as every sliced model must.
 */
class OpenBaSliceTest {
    private static final int SRC_LEN = 7;
    private static final int TGT_LEN = 5;

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String model : OpenBaReferenceTest.FIXTURES) {
            for (T5SliceTest.Axis axis : T5SliceTest.Axis.values()) out.add(Arguments.of(model, axis));
        }
        return out.stream();
    }

    private static OpenBaModel load(String name) {
        return OpenBaModel.load(OpenBaReferenceTest.resource(name));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void droppedUnitsEqualZeroedOutputWeights(String name, T5SliceTest.Axis axis) {
        OpenBaModel full = load(name);
        SplittableRandom r = new SplittableRandom(name.hashCode() * 31L + axis.ordinal());
        EncoderDecoderPlan plan = randomPlan(full.config(), axis, r);
        OpenBaModel sliced = OpenBaSlicer.slice(full, plan);
        OpenBaModel masked = load(name);
        zeroDropped(masked, plan);
        int[] source = ids(r, full.config().vocabSize(), SRC_LEN);
        int[] target = ids(r, full.config().vocabSize(), TGT_LEN);
        assertTrue(sliced.parameterCount() < full.parameterCount(), name + " " + axis + ": the plan removes something");
        assertClose(masked.logits(source, target), sliced.logits(source, target), name + " " + axis);
    }

    @ParameterizedTest
    @MethodSource("dev.shears.seq2seq.OpenBaReferenceTest#fixtures")
    void keptVocabularyGivesTheFullModelsLogitsAtTheKeptIds(String name) {
        OpenBaModel full = load(name);
        OpenBaConfig c = full.config();
        SplittableRandom r = new SplittableRandom(name.hashCode());
        int[] vocab = IntStream.range(0, c.vocabSize()).filter(id -> id == c.decoderStartToken() || id == c.padToken() || r.nextInt(3) > 0).toArray();
        OpenBaModel sliced = OpenBaSlicer.slice(full, EncoderDecoderPlan.keepAll(c).withVocab(vocab));
        int[] source = ids(r, vocab.length, SRC_LEN);
        int[] target = ids(r, vocab.length, TGT_LEN);
        float[] all = full.logits(old(source, vocab), old(target, vocab));
        float[] kept = sliced.logits(source, target);
        assertEquals(vocab.length, sliced.vocabSize());
        float[] expected = new float[TGT_LEN * vocab.length];
        for (int t = 0; t < TGT_LEN; t++) for (int i = 0; i < vocab.length; i++) expected[t * vocab.length + i] = all[t * c.vocabSize() + vocab[i]];
        assertArrayEquals(expected, kept, name + ": the sliced head and its bias are the full ones' kept rows, bit for bit");
    }

    @ParameterizedTest
    @MethodSource("dev.shears.seq2seq.OpenBaReferenceTest#fixtures")
    void keepingEverythingChangesNoBit(String name) {
        OpenBaModel full = load(name);
        OpenBaModel sliced = OpenBaSlicer.slice(full, EncoderDecoderPlan.keepAll(full.config()));
        int[] source = ids(new SplittableRandom(1), full.config().vocabSize(), SRC_LEN);
        int[] target = ids(new SplittableRandom(2), full.config().vocabSize(), TGT_LEN);
        assertEquals(full.config(), sliced.config());
        assertArrayEquals(full.logits(source, target), sliced.logits(source, target));
    }

    @ParameterizedTest
    @MethodSource("dev.shears.seq2seq.OpenBaReferenceTest#fixtures")
    void everyAxisAtOnceLoadsRunsAndReadsBackWithTheSameLogits(String name) throws IOException {
        OpenBaModel full = load(name);
        OpenBaConfig c = full.config();
        SplittableRandom r = new SplittableRandom(name.hashCode() + 7L);
        int[] hidden = subset(r, c.dim());
        int[] vocab = IntStream.range(0, c.vocabSize()).filter(id -> id == c.decoderStartToken() || id == c.padToken() || r.nextBoolean()).toArray();
        EncoderDecoderPlan plan = randomPlan(c, T5SliceTest.Axis.ALL, r).withHidden(hidden).withVocab(vocab);
        OpenBaModel sliced = OpenBaSlicer.slice(full, plan);
        assertEquals(hidden.length, sliced.config().dim());
        assertEquals(plan.resultConfig(c), sliced.config());
        int[] source = ids(r, vocab.length, SRC_LEN);
        int[] target = ids(r, vocab.length, TGT_LEN);
        float[] logits = sliced.logits(source, target);
        for (float v : logits) assertTrue(Float.isFinite(v), name + ": finite logits");

        Path out = dir.resolve(name);
        Files.createDirectories(out);
        OpenBaHfFolder.write(sliced, OpenBaHfFolder.configJson(sliced.config(), DType.F32), out, DType.F32);
        OpenBaModel back = OpenBaModel.load(out);
        assertEquals(sliced.config(), back.config(), name + ": per-layer shapes read back");
        assertArrayEquals(logits, back.logits(source, target), name + ": the written model gives the same logits");
    }

    @Test
    void aUniformModelIsWrittenAsStockOpenBa() throws IOException {
        // the source's ffn_hidden_size still gives every layer's width: no shears_layer_shapes, which transformers would ignore
        OpenBaModel full = load("openba_bias_asym");
        ObjectNode base = (ObjectNode) new ObjectMapper().readTree(OpenBaReferenceTest.resource("openba_bias_asym/config.json").toFile());
        ObjectNode json = OpenBaHfFolder.configJson(full.config(), base, DType.F32);
        assertFalse(json.has(OpenBaConfig.LAYER_SHAPES), json.toString());
        Path out = dir.resolve("stock");
        Files.createDirectories(out);
        OpenBaHfFolder.write(full, json, out, DType.F32);
        assertEquals(full.config(), OpenBaModel.load(out).config());
    }

    @Test
    void tiedHeadScaleFollowsTheKeptWidth() {
        // tied: the head reads (final norm · dim^-½); cutting channels folds √(kept/dim) into the final LayerNorm's weight and bias
        OpenBaModel full = load("openba_nobias_tied");
        OpenBaConfig c = full.config();
        assertTrue(c.tiedEmbeddings(), "the fixture is tied");
        int[] hidden = IntStream.range(0, c.dim()).filter(i -> i % 4 != 1).toArray();
        OpenBaModel sliced = OpenBaSlicer.slice(full, EncoderDecoderPlan.keepAll(c).withHidden(hidden));
        float fold = (float) (Math.pow(c.dim(), -0.5) / Math.pow(hidden.length, -0.5));
        for (int i = 0; i < hidden.length; i++) {
            assertEquals(full.weights().decoderNorm().weight()[hidden[i]] * fold, sliced.weights().decoderNorm().weight()[i], 1e-6, "weight " + hidden[i]);
            assertEquals(full.weights().decoderNorm().bias()[hidden[i]] * fold, sliced.weights().decoderNorm().bias()[i], 1e-6, "bias " + hidden[i]);
            assertEquals(full.weights().encoderNorm().bias()[hidden[i]], sliced.weights().encoderNorm().bias()[i], "channel " + hidden[i]);
        }
    }

    @Test
    void badPlansAreOneLineErrors() {
        OpenBaConfig c = load("openba_bias_asym").config();
        EncoderDecoderPlan all = EncoderDecoderPlan.keepAll(c);
        List<EncoderDecoderPlan.Layer> noCross = new ArrayList<>(all.decoder());
        OpenBaConfig.Block b = c.decoder().getFirst();
        noCross.set(0, EncoderDecoderPlan.Layer.of(IndexSets.range(b.numHeads()), new int[0], IndexSets.range(b.ffnDim())));
        List<EncoderDecoderPlan.Layer> noEncoder = all.encoder().stream().map(l -> EncoderDecoderPlan.Layer.removed()).toList();
        int[] noPad = IntStream.range(0, c.vocabSize()).filter(id -> id != c.padToken()).toArray();
        for (EncoderDecoderPlan bad : List.of(all.withLayers(all.encoder(), noCross), all.withLayers(noEncoder, all.decoder()), all.withVocab(noPad),
                all.withHidden(new int[]{3, 2}), all.withHidden(new int[]{c.dim()}))) {
            ShearsException e = assertThrows(ShearsException.class, () -> OpenBaSlicer.slice(load("openba_bias_asym"), bad));
            assertTrue(!e.getMessage().contains("\n") && e.getMessage().startsWith("OpenBA pruning plan"), e.getMessage());
        }
    }

    /** A random plan that removes something on {@code axis} only (everything on ALL); hidden and vocabulary whole. */
    static EncoderDecoderPlan randomPlan(OpenBaConfig c, T5SliceTest.Axis axis, SplittableRandom r) {
        boolean heads = axis == T5SliceTest.Axis.SELF_HEADS || axis == T5SliceTest.Axis.ALL;
        boolean cross = axis == T5SliceTest.Axis.CROSS_HEADS || axis == T5SliceTest.Axis.ALL;
        boolean ffn = axis == T5SliceTest.Axis.FFN || axis == T5SliceTest.Axis.ALL;
        boolean layers = axis == T5SliceTest.Axis.LAYERS || axis == T5SliceTest.Axis.ALL;
        return EncoderDecoderPlan.keepAll(c).withLayers(layers(c.encoder(), heads, false, ffn, layers, r), layers(c.decoder(), heads, cross, ffn, layers, r));
    }

    /** Zeroes in place what the plan drops: o columns of dropped heads, fc_out columns of dropped neurons, a dropped layer's o biases too. */
    private static void zeroDropped(OpenBaModel model, EncoderDecoderPlan plan) {
        OpenBaConfig c = model.config();
        for (int l = 0; l < c.encoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.encoder().get(l);
            OpenBaWeights.EncoderLayer w = model.weights().encoder().get(l);
            zeroColumns(w.self().output(), c.dim(), w.self().heads(), c.headDim(), p.heads());
            zeroColumns(w.ffn().fcOut(), c.dim(), w.ffn().ffnDim(), 1, p.ffn());
            if (!p.kept()) Arrays.fill(w.self().outputBias(), 0f);
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.decoder().get(l);
            OpenBaWeights.DecoderLayer w = model.weights().decoder().get(l);
            zeroColumns(w.self().output(), c.dim(), w.self().heads(), c.headDim(), p.heads());
            zeroColumns(w.cross().output(), c.dim(), w.cross().heads(), c.headDim(), p.crossHeads());
            zeroColumns(w.ffn().fcOut(), c.dim(), w.ffn().ffnDim(), 1, p.ffn());
            if (!p.kept()) {
                Arrays.fill(w.self().outputBias(), 0f);
                Arrays.fill(w.cross().outputBias(), 0f);
            }
        }
    }
}
