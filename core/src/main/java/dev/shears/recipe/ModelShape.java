package dev.shears.recipe;

import dev.shears.format.ModelLoader;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A pipeline's model between stages: a decoder-only {@link ModelConfig} or an encoder–decoder's {@link EncoderDecoderConfig}
 * (T5, OpenBA), read from a folder's config alone. What a pipeline check, a stage record and a report say of either.
 */
public sealed interface ModelShape {
    /** A LLaMA-family model. */
    record Decoder(ModelConfig config) implements ModelShape {
        @Override
        public String describe() {
            return config.describe();
        }

        @Override
        public long parameterCount() {
            return config.parameterCount();
        }

        @Override
        public String layers() {
            return String.valueOf(config.numLayers());
        }

        @Override
        public int numLayers() {
            return config.numLayers();
        }

        @Override
        public int dim() {
            return config.dim();
        }

        @Override
        public int vocabSize() {
            return config.vocabSize();
        }

        @Override
        public int totalHeads() {
            return config.layers().stream().mapToInt(LayerShape::numHeads).sum();
        }

        @Override
        public int totalFfn() {
            return config.layers().stream().mapToInt(LayerShape::ffnDim).sum();
        }

        @Override
        public String heads() {
            return config.isUniform() ? config.layer(0).numHeads() + " / " + config.layer(0).numKvHeads() : "Σ " + totalHeads() + " (per layer)";
        }

        @Override
        public String ffn() {
            return config.isUniform() ? String.valueOf(config.layer(0).ffnDim()) : "Σ " + totalFfn() + " (per layer)";
        }
    }

    /** A T5 or OpenBA: two stacks, decoder layers with cross-attention. */
    record Seq2Seq(EncoderDecoderConfig config) implements ModelShape {
        @Override
        public String describe() {
            return config.describe();
        }

        @Override
        public long parameterCount() {
            return config.parameterCount();
        }

        /** Encoder + decoder layers, e.g. {@code 2+6}. */
        @Override
        public String layers() {
            return config.encoder().size() + "+" + config.decoder().size();
        }

        @Override
        public int numLayers() {
            return config.encoder().size() + config.decoder().size();
        }

        @Override
        public int dim() {
            return config.dim();
        }

        @Override
        public int vocabSize() {
            return config.vocabSize();
        }

        /** Self-attention heads of both stacks and the decoder's cross-attention heads. */
        @Override
        public int totalHeads() {
            return all().mapToInt(l -> l.numHeads() + l.crossHeads()).sum();
        }

        @Override
        public int totalFfn() {
            return all().mapToInt(EncoderDecoderConfig.Layer::ffnDim).sum();
        }

        /** Self / cross heads when every layer has the same, else the sum. */
        @Override
        public String heads() {
            List<? extends EncoderDecoderConfig.Layer> d = config.decoder();
            boolean uniform = all().allMatch(l -> l.numHeads() == d.getFirst().numHeads()) && d.stream().allMatch(l -> l.crossHeads() == d.getFirst().crossHeads());
            return uniform ? d.getFirst().numHeads() + " / " + d.getFirst().crossHeads() + " cross" : "Σ " + totalHeads() + " (per layer)";
        }

        @Override
        public String ffn() {
            int first = config.decoder().getFirst().ffnDim();
            return all().allMatch(l -> l.ffnDim() == first) ? String.valueOf(first) : "Σ " + totalFfn() + " (per layer)";
        }

        private Stream<EncoderDecoderConfig.Layer> all() {
            return Stream.concat(config.encoder().stream(), config.decoder().stream());
        }
    }

    /** The shape of the model at {@code model}: an encoder–decoder folder's, else what {@link ModelLoader#config} reads. */
    static ModelShape of(Path model) {
        return EncoderDecoder.describes(model) ? new Seq2Seq(EncoderDecoderConfig.read(model)) : new Decoder(ModelLoader.config(model));
    }

    /** The shape in words. */
    String describe();

    /** Every parameter, a tied head once. */
    long parameterCount();

    /** The number of layers as a report writes it ({@code 12}, or {@code 2+6} for two stacks). */
    String layers();

    /** Layers of every stack together. */
    int numLayers();

    int dim();

    int vocabSize();

    /** Attention heads of every layer together. */
    int totalHeads();

    /** FFN neurons of every layer together. */
    int totalFfn();

    /** The heads column of a report. */
    String heads();

    /** The FFN column of a report. */
    String ffn();
}
