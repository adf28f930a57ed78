package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.prune.IndexSets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a structured pruning of a T5 or an OpenBA keeps, as data (the encoder–decoder counterpart of
 * {@link dev.shears.prune.PruningPlan}): hidden channels shared by both stacks, per layer of each stack
 * the kept self-attention heads, cross-attention heads (decoder) and FFN neurons, and the kept
 * vocabulary ids. Every list holds indices into the parent, strictly increasing. {@link #validate} checks it
 * against the parent before anything is cut; {@link T5Slicer} and {@link OpenBaSlicer} cut. The two
 * architectures prune along the same axes, so they share this one plan.
 *
 * @param hidden  kept d_model channels: every d_model-sized axis of both stacks, the embedding and the head
 * @param encoder one entry per parent encoder layer
 * @param decoder one entry per parent decoder layer
 * @param vocab   kept vocabulary ids (new id i is old id vocab[i])
 */
public record EncoderDecoderPlan(int[] hidden, List<Layer> encoder, List<Layer> decoder, int[] vocab) {
    /**
     * What one layer keeps.
     *
     * @param kept       false when the whole layer is removed (every list is then empty)
     * @param heads      kept self-attention heads
     * @param crossHeads kept cross-attention heads (empty in the encoder)
     * @param ffn        kept FFN neurons
     */
    public record Layer(boolean kept, int[] heads, int[] crossHeads, int[] ffn) {
        public Layer {
            heads = heads.clone();
            crossHeads = crossHeads.clone();
            ffn = ffn.clone();
        }

        /** A kept layer with these units. */
        public static Layer of(int[] heads, int[] crossHeads, int[] ffn) {
            return new Layer(true, heads, crossHeads, ffn);
        }

        /** The removed layer. */
        public static Layer removed() {
            return new Layer(false, new int[0], new int[0], new int[0]);
        }

        /** Everything of {@code b}. */
        static Layer all(EncoderDecoderConfig.Layer b) {
            return of(IndexSets.range(b.numHeads()), IndexSets.range(b.crossHeads()), IndexSets.range(b.ffnDim()));
        }

        @Override
        public int[] heads() {
            return heads.clone();
        }

        @Override
        public int[] crossHeads() {
            return crossHeads.clone();
        }

        @Override
        public int[] ffn() {
            return ffn.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layer l && kept == l.kept && Arrays.equals(heads, l.heads) && Arrays.equals(crossHeads, l.crossHeads) && Arrays.equals(ffn, l.ffn);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * Boolean.hashCode(kept) + Arrays.hashCode(heads)) + Arrays.hashCode(crossHeads)) + Arrays.hashCode(ffn);
        }

        @Override
        public String toString() {
            return kept ? "Layer[heads=" + Arrays.toString(heads) + ", crossHeads=" + Arrays.toString(crossHeads) + ", ffn=" + ffn.length + " neurons]"
                    : "Layer[removed]";
        }
    }

    public EncoderDecoderPlan {
        hidden = hidden.clone();
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        vocab = vocab.clone();
    }

    /** The plan that keeps everything of {@code c}. */
    public static EncoderDecoderPlan keepAll(T5Config c) {
        return new EncoderDecoderPlan(IndexSets.range(c.dim()), c.encoder().stream().map(Layer::all).toList(), c.decoder().stream().map(Layer::all).toList(),
                IndexSets.range(c.vocabSize()));
    }

    /** The plan that keeps everything of {@code c}. */
    public static EncoderDecoderPlan keepAll(OpenBaConfig c) {
        return new EncoderDecoderPlan(IndexSets.range(c.dim()), c.encoder().stream().map(Layer::all).toList(), c.decoder().stream().map(Layer::all).toList(),
                IndexSets.range(c.vocabSize()));
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    @Override
    public int[] vocab() {
        return vocab.clone();
    }

    public EncoderDecoderPlan withHidden(int[] kept) {
        return new EncoderDecoderPlan(kept, encoder, decoder, vocab);
    }

    public EncoderDecoderPlan withVocab(int[] kept) {
        return new EncoderDecoderPlan(hidden, encoder, decoder, kept);
    }

    public EncoderDecoderPlan withLayers(List<Layer> newEncoder, List<Layer> newDecoder) {
        return new EncoderDecoderPlan(hidden, newEncoder, newDecoder, vocab);
    }

    /** Throws a one-line {@link ShearsException} naming the first problem of this plan for {@code parent}. */
    public void validate(T5Config parent) {
        validate("T5", parent.dim(), parent.vocabSize(), parent.decoderStartToken(), parent.padToken(), parent.encoder(), parent.decoder());
    }

    /** Throws a one-line {@link ShearsException} naming the first problem of this plan for {@code parent}. */
    public void validate(OpenBaConfig parent) {
        validate("OpenBA", parent.dim(), parent.vocabSize(), parent.decoderStartToken(), parent.padToken(), parent.encoder(), parent.decoder());
    }

    private void validate(String model, int dim, int vocabSize, int decoderStart, int pad, List<? extends EncoderDecoderConfig.Layer> encoderBlocks,
                          List<? extends EncoderDecoderConfig.Layer> decoderBlocks) {
        String name = model + " pruning plan";
        require(name, IndexSets.problem(hidden, dim), "hidden");
        if (hidden.length == 0) throw new ShearsException(name + " keeps no hidden channel");
        require(name, IndexSets.problem(vocab, vocabSize), "vocab");
        for (int special : new int[]{decoderStart, pad}) {
            if (Arrays.binarySearch(vocab, special) < 0) {
                throw new ShearsException(name + ", vocab: drops id " + special + ", the decoder start or pad token; it must stay");
            }
        }
        validate(name, encoder, encoderBlocks, "encoder", false);
        validate(name, decoder, decoderBlocks, "decoder", true);
    }

    private static void validate(String name, List<Layer> plans, List<? extends EncoderDecoderConfig.Layer> blocks, String stack, boolean cross) {
        if (plans.size() != blocks.size()) throw new ShearsException(name + " has " + plans.size() + " " + stack + " layers, the model has " + blocks.size());
        int keptLayers = 0;
        for (int l = 0; l < plans.size(); l++) {
            Layer p = plans.get(l);
            EncoderDecoderConfig.Layer b = blocks.get(l);
            String where = stack + " layer " + l;
            if (!p.kept) {
                if (p.heads.length + p.crossHeads.length + p.ffn.length > 0) throw new ShearsException(name + ", " + where + " is removed but lists kept units");
                continue;
            }
            keptLayers++;
            require(name, IndexSets.problem(p.heads, b.numHeads()), where + " heads");
            require(name, IndexSets.problem(p.crossHeads, b.crossHeads()), where + " cross heads");
            require(name, IndexSets.problem(p.ffn, b.ffnDim()), where + " ffn");
            // neither architecture has a way to skip a sub-layer: each keeps at least one unit
            if (p.heads.length == 0 || p.ffn.length == 0 || cross && p.crossHeads.length == 0) {
                throw new ShearsException(name + ", " + where + " keeps no " + (p.heads.length == 0 ? "self-attention head" : p.ffn.length == 0 ? "FFN neuron" : "cross-attention head")
                        + "; remove the whole layer instead");
            }
        }
        if (keptLayers == 0) throw new ShearsException(name + " removes every " + stack + " layer");
    }

    /** The shape of the pruned model: kept layers renumbered, each self-attention head reading its original bias column. */
    public T5Config resultConfig(T5Config parent) {
        return new T5Config(hidden.length, parent.headDim(), vocab.length, parent.biasHeads(), parent.numBuckets(), parent.maxDistance(), parent.eps(),
                parent.feedForward(), parent.tiedEmbeddings(), remap(parent.decoderStartToken()), remap(parent.padToken()),
                blocks(encoder, parent.encoder()), blocks(decoder, parent.decoder()));
    }

    private static List<T5Config.Block> blocks(List<Layer> plans, List<T5Config.Block> parent) {
        List<T5Config.Block> out = new ArrayList<>();
        for (int l = 0; l < plans.size(); l++) {
            Layer p = plans.get(l);
            if (!p.kept) continue;
            List<Integer> columns = parent.get(l).biasColumns();
            out.add(new T5Config.Block(p.heads.length, p.crossHeads.length, p.ffn.length, Arrays.stream(p.heads).mapToObj(columns::get).toList()));
        }
        return out;
    }

    /** The shape of the pruned OpenBA: kept layers renumbered, the special tokens renumbered into the kept vocabulary. */
    public OpenBaConfig resultConfig(OpenBaConfig parent) {
        return new OpenBaConfig(hidden.length, parent.headDim(), vocab.length, parent.qkvBias(), parent.lmHeadBias(), parent.tiedEmbeddings(),
                parent.maxSrcLen(), parent.maxTgtLen(), remap(parent.decoderStartToken()), remap(parent.padToken()),
                openBaBlocks(encoder), openBaBlocks(decoder));
    }

    private static List<OpenBaConfig.Block> openBaBlocks(List<Layer> plans) {
        return plans.stream().filter(Layer::kept).map(p -> new OpenBaConfig.Block(p.heads.length, p.crossHeads.length, p.ffn.length)).toList();
    }

    /** The new id of a kept old id. */
    private int remap(int oldId) {
        return Arrays.binarySearch(vocab, oldId);
    }

    private static void require(String name, String problem, String where) {
        if (problem != null) throw new ShearsException(name + ", " + where + ": " + problem);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncoderDecoderPlan p && Arrays.equals(hidden, p.hidden) && encoder.equals(p.encoder) && decoder.equals(p.decoder) && Arrays.equals(vocab, p.vocab);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * Arrays.hashCode(hidden) + encoder.hashCode()) + decoder.hashCode()) + Arrays.hashCode(vocab);
    }

    @Override
    public String toString() {
        return "EncoderDecoderPlan[hidden=" + hidden.length + ", encoder=" + encoder + ", decoder=" + decoder + ", vocab=" + vocab.length + "]";
    }
}
