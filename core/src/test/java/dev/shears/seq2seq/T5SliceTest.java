package dev.shears.seq2seq;

import dev.shears.SharedData;
import dev.shears.ShearsException;
import dev.shears.io.DType;
import dev.shears.prune.IndexSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masked ≡ sliced for T5 ({@link T5Slicer}): dropping self-attention heads, cross-attention heads, FFN
 * neurons or whole layers gives the logits of the full model whose dropped units' output weights are
 * zero (a head's o columns, a neuron's wo column, a layer's o and wo: its residual then passes through
 * unchanged, which is the forward that skips it); a kept vocabulary gives the full model's logits at the
 * kept ids. Hidden channels have no such twin among the weights (T5's RMSNorm divides by the number of
 * channels, so zeroing a channel's weights is not removing it; the masked forward, whose norms count only
 * the channels with a non-zero gate, is their twin: {@link MaskedEncoderDecoderTest}): a model cut there must
 * load, run, and read back from its folder with the same logits, as every sliced model must. On the
 * reference fixtures and the real tiny T5.
 */
class T5SliceTest {
    private static final int SRC_LEN = 7;
    private static final int TGT_LEN = 5;
    /** fp32 sums in a different order: a few ulps of the logits' scale. */
    private static final double TOLERANCE = 2e-5;

    @TempDir
    Path dir;

    enum Axis { SELF_HEADS, CROSS_HEADS, FFN, LAYERS, ALL }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String model : List.of("t5_relu_tied", "t5_gated_untied", "t5_nonuniform", "t5-tiny-random")) {
            for (Axis axis : Axis.values()) out.add(Arguments.of(model, axis));
        }
        return out.stream();
    }

    private static T5Model load(String name) {
        if (name.equals("t5-tiny-random")) return T5Model.load(SharedData.require("models/t5-tiny-random"));
        try {
            return T5Model.load(Path.of(T5SliceTest.class.getResource("/torchref-t5/" + name).toURI()));
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void droppedUnitsEqualZeroedOutputWeights(String name, Axis axis) {
        T5Model full = load(name);
        SplittableRandom r = new SplittableRandom(name.hashCode() * 31L + axis.ordinal());
        EncoderDecoderPlan plan = randomPlan(full.config(), axis, r);
        T5Model sliced = T5Slicer.slice(full, plan);
        T5Model masked = load(name);
        zeroDropped(masked, plan);
        int[] source = ids(r, full.config().vocabSize(), SRC_LEN);
        int[] target = ids(r, full.config().vocabSize(), TGT_LEN);
        assertTrue(sliced.parameterCount() < full.parameterCount(), name + " " + axis + ": the plan removes something");
        assertClose(masked.logits(source, target), sliced.logits(source, target), name + " " + axis);
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5_relu_tied", "t5_gated_untied", "t5_nonuniform", "t5-tiny-random"})
    void keptVocabularyGivesTheFullModelsLogitsAtTheKeptIds(String name) {
        T5Model full = load(name);
        T5Config c = full.config();
        SplittableRandom r = new SplittableRandom(name.hashCode());
        int[] vocab = IntStream.range(0, c.vocabSize()).filter(id -> id == c.decoderStartToken() || id == c.padToken() || r.nextInt(3) > 0).toArray();
        T5Model sliced = T5Slicer.slice(full, EncoderDecoderPlan.keepAll(c).withVocab(vocab));
        int[] source = new int[SRC_LEN];
        int[] target = new int[TGT_LEN];
        for (int i = 0; i < SRC_LEN; i++) source[i] = r.nextInt(vocab.length);
        for (int i = 0; i < TGT_LEN; i++) target[i] = r.nextInt(vocab.length);
        float[] all = full.logits(old(source, vocab), old(target, vocab));
        float[] kept = sliced.logits(source, target);
        assertEquals(vocab.length, sliced.vocabSize());
        float[] expected = new float[TGT_LEN * vocab.length];
        for (int t = 0; t < TGT_LEN; t++) for (int i = 0; i < vocab.length; i++) expected[t * vocab.length + i] = all[t * c.vocabSize() + vocab[i]];
        assertArrayEquals(expected, kept, name + ": the sliced head is the full head's kept rows, bit for bit");
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5_relu_tied", "t5_gated_untied", "t5_nonuniform", "t5-tiny-random"})
    void keepingEverythingChangesNoBit(String name) {
        T5Model full = load(name);
        T5Model sliced = T5Slicer.slice(full, EncoderDecoderPlan.keepAll(full.config()));
        int[] source = ids(new SplittableRandom(1), full.config().vocabSize(), SRC_LEN);
        int[] target = ids(new SplittableRandom(2), full.config().vocabSize(), TGT_LEN);
        assertEquals(full.config(), sliced.config());
        assertArrayEquals(full.logits(source, target), sliced.logits(source, target));
    }

    @ParameterizedTest
    @ValueSource(strings = {"t5_relu_tied", "t5_gated_untied", "t5_nonuniform", "t5-tiny-random"})
    void everyAxisAtOnceLoadsRunsAndReadsBackWithTheSameLogits(String name) throws IOException {
        T5Model full = load(name);
        T5Config c = full.config();
        SplittableRandom r = new SplittableRandom(name.hashCode() + 7L);
        int[] hidden = subset(r, c.dim());
        int[] vocab = IntStream.range(0, c.vocabSize()).filter(id -> id == c.decoderStartToken() || id == c.padToken() || r.nextBoolean()).toArray();
        EncoderDecoderPlan plan = randomPlan(c, Axis.ALL, r).withHidden(hidden).withVocab(vocab);
        T5Model sliced = T5Slicer.slice(full, plan);
        assertEquals(hidden.length, sliced.config().dim());
        assertEquals(plan.resultConfig(c), sliced.config());
        int[] source = ids(r, vocab.length, SRC_LEN);
        int[] target = ids(r, vocab.length, TGT_LEN);
        float[] logits = sliced.logits(source, target);
        for (float v : logits) assertTrue(Float.isFinite(v), name + ": finite logits");

        Path out = dir.resolve(name);
        Files.createDirectories(out);
        T5HfFolder.write(sliced, T5HfFolder.configJson(sliced.config(), DType.F32), out, DType.F32);
        T5Model back = T5Model.load(out);
        assertEquals(sliced.config(), back.config(), name + ": per-layer shapes and bias columns read back");
        assertArrayEquals(logits, back.logits(source, target), name + ": the written model gives the same logits");
    }

    @Test
    void tiedHeadScaleFollowsTheKeptWidth() {
        // tied: the head reads (final norm · dim^-½); cutting channels folds √(kept/dim) into the final norm
        T5Model full = load("t5_relu_tied");
        T5Config c = full.config();
        int[] hidden = IntStream.range(0, c.dim()).filter(i -> i % 4 != 1).toArray();
        T5Model sliced = T5Slicer.slice(full, EncoderDecoderPlan.keepAll(c).withHidden(hidden));
        float fold = (float) (Math.pow(c.dim(), -0.5) / Math.pow(hidden.length, -0.5));
        for (int i = 0; i < hidden.length; i++) {
            assertEquals(full.weights().decoderNorm()[hidden[i]] * fold, sliced.weights().decoderNorm()[i], 1e-6, "channel " + hidden[i]);
            assertEquals(full.weights().encoderNorm()[hidden[i]], sliced.weights().encoderNorm()[i], "channel " + hidden[i]);
        }
    }

    @Test
    void badPlansAreOneLineErrors() {
        T5Config c = load("t5_gated_untied").config();
        EncoderDecoderPlan all = EncoderDecoderPlan.keepAll(c);
        List<EncoderDecoderPlan.Layer> noHeads = new ArrayList<>(all.encoder());
        noHeads.set(0, EncoderDecoderPlan.Layer.of(new int[0], new int[0], IndexSets.range(c.encoder().get(0).ffnDim())));
        List<EncoderDecoderPlan.Layer> noDecoder = all.decoder().stream().map(l -> EncoderDecoderPlan.Layer.removed()).toList();
        int[] noStart = IntStream.range(0, c.vocabSize()).filter(id -> id != c.decoderStartToken()).toArray();
        for (EncoderDecoderPlan bad : List.of(all.withLayers(noHeads, all.decoder()), all.withLayers(all.encoder(), noDecoder), all.withVocab(noStart),
                all.withHidden(new int[]{3, 2}), all.withHidden(new int[]{c.dim()}))) {
            ShearsException e = assertThrows(ShearsException.class, () -> bad.validate(c));
            assertTrue(!e.getMessage().contains("\n") && e.getMessage().startsWith("T5 pruning plan"), e.getMessage());
        }
    }

    /** A random plan that removes something on {@code axis} only (everything on ALL); hidden and vocabulary whole. */
    static EncoderDecoderPlan randomPlan(T5Config c, Axis axis, SplittableRandom r) {
        boolean heads = axis == Axis.SELF_HEADS || axis == Axis.ALL;
        boolean cross = axis == Axis.CROSS_HEADS || axis == Axis.ALL;
        boolean ffn = axis == Axis.FFN || axis == Axis.ALL;
        boolean layers = axis == Axis.LAYERS || axis == Axis.ALL;
        List<EncoderDecoderPlan.Layer> encoder = layers(c.encoder(), heads, false, ffn, layers, r);
        List<EncoderDecoderPlan.Layer> decoder = layers(c.decoder(), heads, cross, ffn, layers, r);
        return EncoderDecoderPlan.keepAll(c).withLayers(encoder, decoder);
    }

    /** Per layer of a stack of either architecture: random strict subsets of the chosen kinds of unit, one random layer removed when {@code layers}. */
    static List<EncoderDecoderPlan.Layer> layers(List<? extends EncoderDecoderConfig.Layer> blocks, boolean heads, boolean cross, boolean ffn, boolean layers, SplittableRandom r) {
        List<EncoderDecoderPlan.Layer> out = new ArrayList<>();
        // one layer of the stack is removed when another stays
        int removed = layers && blocks.size() > 1 ? r.nextInt(blocks.size()) : -1;
        for (int l = 0; l < blocks.size(); l++) {
            EncoderDecoderConfig.Layer b = blocks.get(l);
            out.add(l == removed ? EncoderDecoderPlan.Layer.removed() : EncoderDecoderPlan.Layer.of(heads ? subset(r, b.numHeads()) : IndexSets.range(b.numHeads()),
                    cross ? subset(r, b.crossHeads()) : IndexSets.range(b.crossHeads()), ffn ? subset(r, b.ffnDim()) : IndexSets.range(b.ffnDim())));
        }
        return out;
    }

    /** A random non-empty strict subset of [0, n) when n > 1, sorted. */
    static int[] subset(SplittableRandom r, int n) {
        if (n == 1) return new int[]{0};
        int[] kept;
        do {
            kept = IntStream.range(0, n).filter(i -> r.nextBoolean()).toArray();
        } while (kept.length == 0 || kept.length == n);
        return kept;
    }

    /** Zeroes in place what the plan drops: o columns of dropped heads, wo columns of dropped neurons, a dropped layer's o and wo. */
    private static void zeroDropped(T5Model model, EncoderDecoderPlan plan) {
        T5Config c = model.config();
        for (int l = 0; l < c.encoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.encoder().get(l);
            T5Weights.EncoderLayer w = model.weights().encoder().get(l);
            zeroColumns(w.self().output(), c.dim(), w.self().heads(), c.headDim(), p.heads());
            zeroColumns(w.ffn().down(), c.dim(), w.ffn().ffnDim(), 1, p.ffn());
        }
        for (int l = 0; l < c.decoder().size(); l++) {
            EncoderDecoderPlan.Layer p = plan.decoder().get(l);
            T5Weights.DecoderLayer w = model.weights().decoder().get(l);
            zeroColumns(w.self().output(), c.dim(), w.self().heads(), c.headDim(), p.heads());
            zeroColumns(w.cross().output(), c.dim(), w.cross().heads(), c.headDim(), p.crossHeads());
            zeroColumns(w.ffn().down(), c.dim(), w.ffn().ffnDim(), 1, p.ffn());
        }
    }

    /** A [rows, units·width] matrix with the columns of every unit not in {@code kept} set to 0. */
    static void zeroColumns(float[] matrix, int rows, int units, int width, int[] kept) {
        for (int u = 0; u < units; u++) {
            if (Arrays.binarySearch(kept, u) >= 0) continue;
            for (int i = 0; i < rows; i++) Arrays.fill(matrix, i * units * width + u * width, i * units * width + (u + 1) * width, 0f);
        }
    }

    static int[] ids(SplittableRandom r, int vocab, int n) {
        return IntStream.range(0, n).map(i -> r.nextInt(vocab)).toArray();
    }

    static int[] old(int[] ids, int[] vocab) {
        return Arrays.stream(ids).map(i -> vocab[i]).toArray();
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": logits");
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        int worst = 0;
        for (int i = 0; i < expected.length; i++) if (Math.abs(expected[i] - actual[i]) > Math.abs(expected[worst] - actual[worst])) worst = i;
        double diff = Math.abs(expected[worst] - actual[worst]);
        assertTrue(diff <= TOLERANCE * (1 + scale), what + ": worst logit " + worst + " masked " + expected[worst] + " vs sliced " + actual[worst]
                + " (|diff| " + diff + ", scale " + scale + ")");
    }
}
