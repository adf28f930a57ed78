package dev.shears.format.gguf;

import dev.shears.io.Printable;
import dev.shears.io.TensorNames;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.RopeScaling;
import dev.shears.model.TensorRole;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.SlicedTensor;
import dev.shears.tensor.Tensor;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * {@link Model} → GGUF, as llama.cpp's {@code convert_hf_to_gguf.py} lays out a llama-family model:
 * {@code general.*} and {@code <arch>.*} hyper-parameters, optional {@code tokenizer.ggml.*} data,
 * and the tensors named by {@link TensorNames#GGUF}. Query and key rows (and their biases) go back to the
 * interleaved RoPE layout for llama/mistral. Matrices are stored in the chosen type (Q8_0 only where
 * rows are a multiple of 32, F32 otherwise, as ggml cannot block them); norms and biases stay F32.
 * Per-layer head counts and FFN widths of a non-uniform model are written as arrays, which
 * llama.cpp's loader accepts for those keys.
 */
public final class GgufModelWriter {
    private GgufModelWriter() {
    }

    /**
     * How to write.
     *
     * @param matrixType storage of the 2-D weights: F32, F16, BF16 or Q8_0
     * @param tokenizer  tokenizer metadata to embed (its token count must be the vocabulary size)
     * @param name       {@code general.name}, or "" for none
     */
    public record Options(GgufType matrixType, Optional<GgufTokenizerData> tokenizer, String name) {
        public Options {
            if (!matrixType.isSupported()) throw new IllegalArgumentException("cannot write matrices as " + matrixType + " (F32, F16, BF16, Q8_0 are supported)");
        }

        public static Options defaults() {
            return new Options(GgufType.F32, Optional.empty(), "");
        }

        public Options withMatrixType(GgufType type) {
            return new Options(type, tokenizer, name);
        }

        public Options withTokenizer(GgufTokenizerData data) {
            return new Options(matrixType, Optional.of(data), name);
        }

        public Options withName(String newName) {
            return new Options(matrixType, tokenizer, newName);
        }
    }

    public static void write(Model model, Path path) {
        write(model, path, Options.defaults());
    }

    /** Writes {@code model} to {@code path} atomically. */
    public static void write(Model model, Path path, Options options) {
        writer(model, path, options).write(path);
    }

    public static GgufWriter writer(Model model, Path path, Options options) {
        ModelConfig c = model.config();
        String arch = GgufModel.archName(c);
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        if (!options.name().isEmpty()) w.putString("general.name", options.name());
        w.putU32("general.file_type", options.matrixType().fileType());
        w.putU32("general.quantization_version", 2);
        w.putU32(arch + ".vocab_size", c.vocabSize());
        w.putU32(arch + ".context_length", c.maxSeqLen());
        w.putU32(arch + ".embedding_length", c.dim());
        w.putU32(arch + ".block_count", c.numLayers());
        perLayer(w, c, arch + ".feed_forward_length", LayerShape::ffnDim);
        perLayer(w, c, arch + ".attention.head_count", LayerShape::numHeads);
        perLayer(w, c, arch + ".attention.head_count_kv", LayerShape::numKvHeads);
        w.putU32(arch + ".attention.key_length", c.headDim());
        w.putU32(arch + ".attention.value_length", c.headDim());
        w.putU32(arch + ".rope.dimension_count", c.headDim());
        w.putF32(arch + ".rope.freq_base", (float) c.ropeTheta());
        w.putF32(arch + ".attention.layer_norm_rms_epsilon", c.normEps());
        if (c.ropeScaling().type() == dev.shears.model.RopeScaling.Type.LINEAR) {
            w.putString(arch + ".rope.scaling.type", "linear");
            w.putF32(arch + ".rope.scaling.factor", (float) c.ropeScaling().factor());
        }
        RopeScaling rope = c.ropeScaling();
        if (rope.type() == RopeScaling.Type.LLAMA3) {
            // llama.cpp reads llama3 scaling as per-frequency factors (rope_freqs.weight); the parameters go along for an exact reload
            w.putString(GgufModel.ROPE_KEY + "type", "llama3");
            w.putF64(GgufModel.ROPE_KEY + "factor", rope.factor());
            w.putF64(GgufModel.ROPE_KEY + "low_freq_factor", rope.lowFreqFactor());
            w.putF64(GgufModel.ROPE_KEY + "high_freq_factor", rope.highFreqFactor());
            w.putU32(GgufModel.ROPE_KEY + "original_max_position_embeddings", rope.originalMaxPositionEmbeddings());
        }
        if (options.tokenizer().isPresent()) {
            GgufTokenizerData t = options.tokenizer().get();
            if (t.tokens().size() != c.vocabSize()) {
                throw Printable.error(path + ": cannot write GGUF: the tokenizer has " + t.tokens().size() + " tokens, the model's vocabulary " + c.vocabSize());
            }
            t.writeTo(w);
        } else {
            if (c.bosId() >= 0) w.putU32("tokenizer.ggml.bos_token_id", c.bosId());
            if (c.eosId() >= 0) w.putU32("tokenizer.ggml.eos_token_id", c.eosId());
        }
        for (TensorRole role : TensorRole.values()) {
            if (!role.perLayer && role.isStored(c)) tensor(w, model, options, role, -1);
        }
        if (rope.type() == RopeScaling.Type.LLAMA3) {
            float[] factors = GgufModel.ropeFactors(c.headDim(), c.ropeTheta(), rope);
            w.tensor(GgufModel.ROPE_FREQS, new int[] {factors.length}, GgufType.F32, factors);
        }
        for (int l = 0; l < c.numLayers(); l++) {
            for (TensorRole role : TensorRole.values()) {
                if (role.perLayer && role.isStored(c) && role.isPresent(c, l)) tensor(w, model, options, role, l);
            }
        }
        return w;
    }

    private static void perLayer(GgufWriter w, ModelConfig c, String key, ToIntFunction<LayerShape> field) {
        int[] values = c.layers().stream().mapToInt(field).toArray();
        if (c.isUniform()) w.putU32(key, values[0]);
        else w.putI32s(key, values);
    }

    private static void tensor(GgufWriter w, Model model, Options options, TensorRole role, int layer) {
        ModelConfig c = model.config();
        int[] shape = role.shape(c, layer);
        Tensor values = model.weights().tensor(role, layer);
        int heads = GgufModel.interleavedHeads(c, role, layer);
        if (heads > 0 && role.rank() == 2) {
            values = SlicedTensor.rows(values, RopeLayout.halvesRows(heads, c.headDim()));
        } else if (heads > 0) {
            float[] bias = values.toArray();
            RopeLayout.halvesToInterleaved(bias, heads, c.headDim(), 1);
            values = DenseTensor.vector(bias);
        }
        GgufType type = GgufType.F32;
        if (role.rank() == 2 && shape[1] % options.matrixType().blockSize == 0) type = options.matrixType();
        w.tensor(TensorNames.GGUF.name(role, layer), shape, type, values);
    }
}
