package dev.shears.seq2seq;

import dev.shears.format.gguf.GgufType;
import dev.shears.format.gguf.GgufUnigramVocab;
import dev.shears.format.gguf.GgufWriter;
import dev.shears.io.Printable;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A T5 model as one GGUF file of llama.cpp's {@code t5} architecture, laid out as llama.cpp's
 * {@code convert_hf_to_gguf.py} ({@code class T5Model}) lays out a Hugging Face T5 and read as
 * {@code src/llama-model.cpp} ({@code LLM_ARCH_T5}) reads it at llama.cpp c392e5094: the tensors of
 * {@link T5Weights#forEach} renamed by {@link #NAMES} (gguf-py's {@code tensor_mapping.py}), in their
 * Hugging Face shapes (ggml's {@code {n_embd, n_out}} is PyTorch's {@code [n_out, n_embd]}; the
 * relative bias {@code [numBuckets, heads]} is ggml's {@code {n_head, n_rel_attn_bkts}}), and the
 * converter's {@code t5.*} keys.
 *
 * <p>One departure from the converter: a tied model gets an explicit {@code output.weight}, the shared
 * embedding times dim^-½. llama.cpp's T5 graph multiplies the decoder output by {@code output} and
 * nothing else, so without it a tied T5 (v1.0) would give logits dim^½ too large (the converter leaves
 * {@code output} out and llama.cpp falls back to {@code token_embd}); with it llama.cpp's logits are
 * Hugging Face's.
 *
 * <p>llama.cpp's t5 has one shape for every layer of both stacks: one {@code block_count}, one head
 * count (self- and cross-attention), one FFN width, and a relative-position max distance of 128
 * ({@code llama_relative_position_bucket}); {@link #llamaCppRefusal} names what else it cannot hold.
 */
public final class T5Gguf {
    /** {@code general.architecture}. */
    public static final String ARCH = "t5";
    /** What {@code llama_relative_position_bucket} uses whatever the file says. */
    static final int LLAMA_CPP_MAX_DISTANCE = 128;
    /** {@code t5.context_length} when config.json has no {@code n_positions}, as the converter assumes. */
    public static final int DEFAULT_CONTEXT = 512;

    /** One row of the name table: a Hugging Face name and its GGUF name; {@code {l}} is the layer. */
    private record Name(String hf, String gguf, Pattern pattern) {
        Name(String hf, String gguf) {
            this(hf, gguf, Pattern.compile(Pattern.quote(hf).replace("{l}", "\\E(\\d+)\\Q")));
        }
    }

    /** The one table from Hugging Face names to llama.cpp's (gguf-py {@code tensor_mapping.py}, MODEL_ARCH.T5). */
    private static final List<Name> NAMES = List.of(
            new Name("shared.weight", "token_embd.weight"),
            new Name("encoder.block.{l}.layer.0.SelfAttention.relative_attention_bias.weight", "enc.blk.{l}.attn_rel_b.weight"),
            new Name("encoder.block.{l}.layer.0.layer_norm.weight", "enc.blk.{l}.attn_norm.weight"),
            new Name("encoder.block.{l}.layer.0.SelfAttention.q.weight", "enc.blk.{l}.attn_q.weight"),
            new Name("encoder.block.{l}.layer.0.SelfAttention.k.weight", "enc.blk.{l}.attn_k.weight"),
            new Name("encoder.block.{l}.layer.0.SelfAttention.v.weight", "enc.blk.{l}.attn_v.weight"),
            new Name("encoder.block.{l}.layer.0.SelfAttention.o.weight", "enc.blk.{l}.attn_o.weight"),
            new Name("encoder.block.{l}.layer.1.layer_norm.weight", "enc.blk.{l}.ffn_norm.weight"),
            new Name("encoder.block.{l}.layer.1.DenseReluDense.wi.weight", "enc.blk.{l}.ffn_up.weight"),
            new Name("encoder.block.{l}.layer.1.DenseReluDense.wi_0.weight", "enc.blk.{l}.ffn_gate.weight"),
            new Name("encoder.block.{l}.layer.1.DenseReluDense.wi_1.weight", "enc.blk.{l}.ffn_up.weight"),
            new Name("encoder.block.{l}.layer.1.DenseReluDense.wo.weight", "enc.blk.{l}.ffn_down.weight"),
            new Name("encoder.final_layer_norm.weight", "enc.output_norm.weight"),
            new Name("decoder.block.{l}.layer.0.SelfAttention.relative_attention_bias.weight", "dec.blk.{l}.attn_rel_b.weight"),
            new Name("decoder.block.{l}.layer.0.layer_norm.weight", "dec.blk.{l}.attn_norm.weight"),
            new Name("decoder.block.{l}.layer.0.SelfAttention.q.weight", "dec.blk.{l}.attn_q.weight"),
            new Name("decoder.block.{l}.layer.0.SelfAttention.k.weight", "dec.blk.{l}.attn_k.weight"),
            new Name("decoder.block.{l}.layer.0.SelfAttention.v.weight", "dec.blk.{l}.attn_v.weight"),
            new Name("decoder.block.{l}.layer.0.SelfAttention.o.weight", "dec.blk.{l}.attn_o.weight"),
            new Name("decoder.block.{l}.layer.1.layer_norm.weight", "dec.blk.{l}.cross_attn_norm.weight"),
            new Name("decoder.block.{l}.layer.1.EncDecAttention.q.weight", "dec.blk.{l}.cross_attn_q.weight"),
            new Name("decoder.block.{l}.layer.1.EncDecAttention.k.weight", "dec.blk.{l}.cross_attn_k.weight"),
            new Name("decoder.block.{l}.layer.1.EncDecAttention.v.weight", "dec.blk.{l}.cross_attn_v.weight"),
            new Name("decoder.block.{l}.layer.1.EncDecAttention.o.weight", "dec.blk.{l}.cross_attn_o.weight"),
            new Name("decoder.block.{l}.layer.2.layer_norm.weight", "dec.blk.{l}.ffn_norm.weight"),
            new Name("decoder.block.{l}.layer.2.DenseReluDense.wi.weight", "dec.blk.{l}.ffn_up.weight"),
            new Name("decoder.block.{l}.layer.2.DenseReluDense.wi_0.weight", "dec.blk.{l}.ffn_gate.weight"),
            new Name("decoder.block.{l}.layer.2.DenseReluDense.wi_1.weight", "dec.blk.{l}.ffn_up.weight"),
            new Name("decoder.block.{l}.layer.2.DenseReluDense.wo.weight", "dec.blk.{l}.ffn_down.weight"),
            new Name("decoder.final_layer_norm.weight", "dec.output_norm.weight"),
            new Name("lm_head.weight", "output.weight"));

    private T5Gguf() {
    }

    /**
     * How to write.
     *
     * @param matrixType    storage of the matrices (F32, F16, BF16 or Q8_0; a matrix whose rows do not fill Q8_0 blocks stays F32); norms and relative biases stay F32
     * @param contextLength {@code t5.context_length}: config.json's {@code n_positions}, else {@link #DEFAULT_CONTEXT}
     * @param name          {@code general.name}, or "" for none
     * @param vocab         the tokenizer to embed (llama.cpp needs one to run the file)
     */
    public record Options(GgufType matrixType, int contextLength, String name, Optional<GgufUnigramVocab> vocab) {
        public Options {
            if (!matrixType.isSupported()) throw new IllegalArgumentException("cannot write matrices as " + matrixType + " (F32, F16, BF16, Q8_0 are supported)");
            if (contextLength <= 0) throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        }
    }

    /** llama.cpp's name of a Hugging Face T5 tensor name of {@link T5Weights#forEach}. */
    public static String ggufName(String hfName) {
        for (Name n : NAMES) {
            Matcher m = n.pattern().matcher(hfName);
            if (m.matches()) return m.groupCount() == 0 ? n.gguf() : n.gguf().replace("{l}", m.group(1));
        }
        throw new IllegalArgumentException("no GGUF name for T5 tensor " + hfName);
    }

    /** Why llama.cpp's t5 cannot hold this shape, or empty when it can. */
    public static Optional<String> llamaCppRefusal(T5Config c) {
        if (c.encoder().size() != c.decoder().size()) {
            return Optional.of("llama.cpp's t5 has one block_count for both stacks; this model has " + c.encoder().size() + " encoder and "
                    + c.decoder().size() + " decoder layers");
        }
        if (!T5HfFolder.isUniform(c)) {
            return Optional.of("llama.cpp's t5 has one head count and one FFN width for every layer; this model's differ per layer (" + T5Config.LAYER_SHAPES + ")");
        }
        if (c.maxDistance() != LLAMA_CPP_MAX_DISTANCE) {
            return Optional.of("llama.cpp's t5 always uses relative_attention_max_distance " + LLAMA_CPP_MAX_DISTANCE + "; this model has " + c.maxDistance());
        }
        return Optional.empty();
    }

    /** Writes {@code model} to {@code path} atomically; a shape llama.cpp cannot hold is a one-line error naming the file. */
    public static void write(T5Model model, Path path, Options options) {
        writer(model, path, options).write(path);
    }

    /** The file's metadata and tensors, ready to write. */
    public static GgufWriter writer(T5Model model, Path path, Options options) {
        T5Config c = model.config();
        llamaCppRefusal(c).ifPresent(why -> {
            throw Printable.error(path + ": cannot write a GGUF llama.cpp reads: " + why + "; export --format hf instead");
        });
        if (options.vocab().isPresent() && options.vocab().get().data().tokens().size() != c.vocabSize()) {
            throw Printable.error(path + ": the tokenizer has " + options.vocab().get().data().tokens().size() + " tokens, the model's vocabulary " + c.vocabSize());
        }
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", ARCH);
        if (!options.name().isEmpty()) w.putString("general.name", options.name());
        w.putU32(ARCH + ".context_length", options.contextLength());
        w.putU32(ARCH + ".embedding_length", c.dim());
        w.putU32(ARCH + ".feed_forward_length", c.encoder().getFirst().ffnDim());
        w.putU32(ARCH + ".block_count", c.encoder().size());
        w.putU32(ARCH + ".attention.head_count", c.biasHeads());
        w.putU32(ARCH + ".attention.key_length", c.headDim());
        w.putU32(ARCH + ".attention.value_length", c.headDim());
        w.putF32(ARCH + ".attention.layer_norm_epsilon", c.eps());
        w.putU32(ARCH + ".attention.relative_buckets_count", c.numBuckets());
        w.putF32(ARCH + ".attention.layer_norm_rms_epsilon", c.eps());
        w.putU32(ARCH + ".decoder_start_token_id", c.decoderStartToken());
        w.putU32("general.file_type", options.matrixType().fileType());
        w.putU32("general.quantization_version", 2);
        options.vocab().ifPresent(v -> v.writeTo(w));
        model.weights().forEach(c, (name, shape, values) -> w.tensor(ggufName(name), shape, type(name, shape, options.matrixType()), values));
        if (c.tiedEmbeddings()) {
            float[] output = model.weights().shared().clone();
            float scale = c.headScale();
            for (int i = 0; i < output.length; i++) output[i] *= scale;
            int[] shape = {c.vocabSize(), c.dim()};
            w.tensor(ggufName("lm_head.weight"), shape, type("lm_head.weight", shape, options.matrixType()), output);
        }
        return w;
    }

    private static GgufType type(String hfName, int[] shape, GgufType matrixType) {
        boolean matrix = shape.length == 2 && !hfName.endsWith("relative_attention_bias.weight");
        return matrix && shape[1] % matrixType.blockSize == 0 ? matrixType : GgufType.F32;
    }
}
