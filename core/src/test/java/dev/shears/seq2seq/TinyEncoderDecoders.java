package dev.shears.seq2seq;

import dev.shears.prune.IndexSets;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Seeded random T5s and OpenBAs of random, non-uniform shapes, and random plans and gates for them. */
public final class TinyEncoderDecoders {
    private TinyEncoderDecoders() {
    }

    /** A T5 of 1–3 + 1–3 layers, per-layer heads and FFN widths, relu or gated-gelu, tied or not; weights U(−0.5, 0.5). */
    public static T5Model t5(SplittableRandom r) {
        int heads = 2 + r.nextInt(3);
        List<T5Config.Block> encoder = new ArrayList<>(), decoder = new ArrayList<>();
        for (int l = 0, n = 1 + r.nextInt(3); l < n; l++) encoder.add(new T5Config.Block(1 + r.nextInt(heads), 0, 3 + r.nextInt(10)));
        for (int l = 0, n = 1 + r.nextInt(3); l < n; l++) decoder.add(new T5Config.Block(1 + r.nextInt(heads), 1 + r.nextInt(heads), 3 + r.nextInt(10)));
        T5Config c = new T5Config(4 + r.nextInt(12), 2 + r.nextInt(4), 20 + r.nextInt(20), heads, 8, 20, 1e-6f,
                r.nextBoolean() ? T5Config.FeedForward.RELU : T5Config.FeedForward.GATED_GELU, r.nextBoolean(), 0, 0, encoder, decoder);
        T5Weights w = T5Weights.zeros(c);
        w.forEach(c, (name, shape, values) -> fill(values, r));
        return new T5Model(c, w);
    }

    /** An OpenBA of 1–3 + 1–3 layers of per-layer widths, biases and tying at random; weights U(−0.5, 0.5). */
    public static OpenBaModel openBa(SplittableRandom r) {
        int heads = 2 + r.nextInt(3);
        List<OpenBaConfig.Block> encoder = new ArrayList<>(), decoder = new ArrayList<>();
        for (int l = 0, n = 1 + r.nextInt(3); l < n; l++) encoder.add(new OpenBaConfig.Block(1 + r.nextInt(heads), 0, 3 + r.nextInt(10)));
        for (int l = 0, n = 1 + r.nextInt(3); l < n; l++) decoder.add(new OpenBaConfig.Block(1 + r.nextInt(heads), 1 + r.nextInt(heads), 3 + r.nextInt(10)));
        OpenBaConfig c = new OpenBaConfig(4 + r.nextInt(12), 2 * (1 + r.nextInt(3)), 20 + r.nextInt(20), r.nextBoolean(), r.nextBoolean(), r.nextBoolean(),
                16, 16, 0, 0, encoder, decoder);
        OpenBaWeights w = OpenBaWeights.zeros(c);
        w.forEach(c, (name, shape, values) -> fill(values, r));
        return new OpenBaModel(c, w);
    }

    private static void fill(float[] values, SplittableRandom r) {
        for (int i = 0; i < values.length; i++) values[i] = (float) r.nextDouble(-0.5, 0.5);
    }

    /** A random plan: a random non-empty subset of every axis, each stack keeping at least one layer; the vocabulary whole. */
    public static EncoderDecoderPlan plan(SplittableRandom r, EncoderDecoderConfig c) {
        return new EncoderDecoderPlan(subset(r, c.dim()), layers(r, c.encoder(), false), layers(r, c.decoder(), true), IndexSets.range(c.vocabSize()));
    }

    private static List<EncoderDecoderPlan.Layer> layers(SplittableRandom r, List<? extends EncoderDecoderConfig.Layer> blocks, boolean decoder) {
        int keep = r.nextInt(blocks.size());
        List<EncoderDecoderPlan.Layer> out = new ArrayList<>();
        for (int l = 0; l < blocks.size(); l++) {
            EncoderDecoderConfig.Layer b = blocks.get(l);
            out.add(l != keep && r.nextInt(3) == 0 ? EncoderDecoderPlan.Layer.removed()
                    : EncoderDecoderPlan.Layer.of(subset(r, b.numHeads()), decoder ? subset(r, b.crossHeads()) : new int[0], subset(r, b.ffnDim())));
        }
        return out;
    }

    /** A random non-empty subset of 0..n-1, increasing. */
    public static int[] subset(SplittableRandom r, int n) {
        int[] kept;
        do {
            kept = IntStream.range(0, n).filter(i -> r.nextBoolean()).toArray();
        } while (kept.length == 0);
        return kept;
    }

    public static int[] ids(SplittableRandom r, int vocab, int n) {
        return IntStream.range(0, n).map(i -> r.nextInt(vocab)).toArray();
    }
}
