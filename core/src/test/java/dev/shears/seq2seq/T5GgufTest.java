package dev.shears.seq2seq;

import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufFile;
import dev.shears.format.gguf.GgufType;
import dev.shears.io.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A T5 GGUF as llama.cpp's {@code t5} architecture reads it (src/llama-model.cpp LLM_ARCH_T5 and
 * src/llama-arch.cpp at c392e5094), read back by Shears' own GGUF reader: the names of a 2-layer model
 * against a golden list, shapes, storage types, values and the {@code t5.*} metadata.
 */
class T5GgufTest {
    private static final int DIM = 32, HEAD_DIM = 8, HEADS = 4, FFN = 64, VOCAB = 40, BUCKETS = 8;

    @TempDir
    Path dir;

    /** A seeded 2 + 2 layer T5 of the given feed-forward, tied or not, with max distance 128 as llama.cpp assumes. */
    static T5Model model(T5Config.FeedForward ffn, boolean tied) {
        T5Config c = new T5Config(DIM, HEAD_DIM, VOCAB, HEADS, BUCKETS, 128, 1e-6f, ffn, tied, 0, 0,
                Collections.nCopies(2, new T5Config.Block(HEADS, 0, FFN)), Collections.nCopies(2, new T5Config.Block(HEADS, HEADS, FFN)));
        T5Weights w = T5Weights.zeros(c);
        SplittableRandom random = new SplittableRandom(16);
        w.forEach(c, (name, shape, values) -> {
            for (int i = 0; i < values.length; i++) values[i] = (float) random.nextDouble(-0.5, 0.5);
        });
        return new T5Model(c, w);
    }

    /** llama.cpp's names of a 2-layer gated T5 with an untied head, in the order written (the modules' order). */
    private static final List<String> GATED_UNTIED = List.of(
            "token_embd.weight", "enc.blk.0.attn_rel_b.weight",
            "enc.blk.0.attn_norm.weight", "enc.blk.0.attn_q.weight", "enc.blk.0.attn_k.weight", "enc.blk.0.attn_v.weight", "enc.blk.0.attn_o.weight",
            "enc.blk.0.ffn_norm.weight", "enc.blk.0.ffn_gate.weight", "enc.blk.0.ffn_up.weight", "enc.blk.0.ffn_down.weight",
            "enc.blk.1.attn_norm.weight", "enc.blk.1.attn_q.weight", "enc.blk.1.attn_k.weight", "enc.blk.1.attn_v.weight", "enc.blk.1.attn_o.weight",
            "enc.blk.1.ffn_norm.weight", "enc.blk.1.ffn_gate.weight", "enc.blk.1.ffn_up.weight", "enc.blk.1.ffn_down.weight",
            "enc.output_norm.weight", "dec.blk.0.attn_rel_b.weight",
            "dec.blk.0.attn_norm.weight", "dec.blk.0.attn_q.weight", "dec.blk.0.attn_k.weight", "dec.blk.0.attn_v.weight", "dec.blk.0.attn_o.weight",
            "dec.blk.0.cross_attn_norm.weight", "dec.blk.0.cross_attn_q.weight", "dec.blk.0.cross_attn_k.weight", "dec.blk.0.cross_attn_v.weight",
            "dec.blk.0.cross_attn_o.weight",
            "dec.blk.0.ffn_norm.weight", "dec.blk.0.ffn_gate.weight", "dec.blk.0.ffn_up.weight", "dec.blk.0.ffn_down.weight",
            "dec.blk.1.attn_norm.weight", "dec.blk.1.attn_q.weight", "dec.blk.1.attn_k.weight", "dec.blk.1.attn_v.weight", "dec.blk.1.attn_o.weight",
            "dec.blk.1.cross_attn_norm.weight", "dec.blk.1.cross_attn_q.weight", "dec.blk.1.cross_attn_k.weight", "dec.blk.1.cross_attn_v.weight",
            "dec.blk.1.cross_attn_o.weight",
            "dec.blk.1.ffn_norm.weight", "dec.blk.1.ffn_gate.weight", "dec.blk.1.ffn_up.weight", "dec.blk.1.ffn_down.weight",
            "dec.output_norm.weight", "output.weight");

    private Path write(T5Model m, GgufType type) {
        Path file = dir.resolve("t5-" + type + ".gguf");
        T5Gguf.write(m, file, new T5Gguf.Options(type, 512, "t5-test", Optional.empty()));
        return file;
    }

    @Test
    void namesShapesAndValuesOfATwoLayerGatedModel() {
        T5Model m = model(T5Config.FeedForward.GATED_GELU, false);
        try (GgufFile gguf = GgufFile.open(write(m, GgufType.F32))) {
            assertEquals(GATED_UNTIED, new ArrayList<>(gguf.tensors().keySet()));
            m.weights().forEach(m.config(), (name, shape, values) -> {
                GgufFile.Tensor t = gguf.tensors().get(T5Gguf.ggufName(name));
                assertArrayEquals(shape, t.shape(), name + " keeps its Hugging Face shape (ggml's innermost first, reversed)");
                assertArrayEquals(values, gguf.read(t), name + " f32 bit for bit");
            });
            assertArrayEquals(new int[]{BUCKETS, HEADS}, gguf.tensors().get("enc.blk.0.attn_rel_b.weight").shape(), "ggml {n_head, n_rel_attn_bkts}");
            assertArrayEquals(new int[]{VOCAB, DIM}, gguf.tensors().get("output.weight").shape());
            assertArrayEquals(m.weights().lmHead(), gguf.read(gguf.tensors().get("output.weight")));
        }
    }

    @Test
    void tiedHeadIsWrittenScaledBecauseLlamaCppDoesNotRescale() {
        T5Model m = model(T5Config.FeedForward.RELU, true);
        try (GgufFile gguf = GgufFile.open(write(m, GgufType.F32))) {
            List<String> names = new ArrayList<>(gguf.tensors().keySet());
            assertTrue(names.contains("enc.blk.1.ffn_up.weight"));
            assertFalse(names.stream().anyMatch(n -> n.contains("ffn_gate")), "relu has no gate: llama.cpp then runs RELU sequentially");
            assertEquals("output.weight", names.getLast());
            float[] output = gguf.read(gguf.tensors().get("output.weight"));
            float scale = (float) Math.pow(DIM, -0.5);
            for (int i = 0; i < output.length; i++) assertEquals(m.weights().shared()[i] * scale, output[i], "output[" + i + "] = shared · dim^-½");
        }
    }

    @Test
    void metadataIsTheConvertersT5Keys() {
        T5Model m = model(T5Config.FeedForward.GATED_GELU, false);
        try (GgufFile gguf = GgufFile.open(write(m, GgufType.F16))) {
            Map<String, Object> md = gguf.metadata();
            assertEquals("t5", md.get("general.architecture"));
            assertEquals("t5-test", md.get("general.name"));
            assertEquals(512L, md.get("t5.context_length"));
            assertEquals((long) DIM, md.get("t5.embedding_length"));
            assertEquals((long) FFN, md.get("t5.feed_forward_length"));
            assertEquals(2L, md.get("t5.block_count"));
            assertEquals((long) HEADS, md.get("t5.attention.head_count"));
            assertEquals((long) HEAD_DIM, md.get("t5.attention.key_length"));
            assertEquals((long) HEAD_DIM, md.get("t5.attention.value_length"));
            assertEquals((double) 1e-6f, md.get("t5.attention.layer_norm_epsilon"));
            assertEquals((double) 1e-6f, md.get("t5.attention.layer_norm_rms_epsilon"));
            assertEquals((long) BUCKETS, md.get("t5.attention.relative_buckets_count"));
            assertEquals(0L, md.get("t5.decoder_start_token_id"));
            assertEquals(1L, md.get("general.file_type"), "MOSTLY_F16");
            assertEquals(GgufType.F16, gguf.tensors().get("enc.blk.0.attn_q.weight").type());
            assertEquals(GgufType.F16, gguf.tensors().get("token_embd.weight").type());
            assertEquals(GgufType.F32, gguf.tensors().get("enc.blk.0.attn_rel_b.weight").type(), "relative biases stay f32");
            assertEquals(GgufType.F32, gguf.tensors().get("dec.blk.1.cross_attn_norm.weight").type(), "norms stay f32");
            float[] q = m.weights().encoder().getFirst().self().query();
            float[] read = gguf.read(gguf.tensors().get("enc.blk.0.attn_q.weight"));
            for (int i = 0; i < q.length; i++) assertEquals(Float.float16ToFloat((short) DType.F16.encode(q[i])), read[i], "f16 of q[" + i + "]");
        }
    }

    @Test
    void shapesLlamaCppCannotHoldAreRefusedInOneLine() {
        T5Model nonUniform = T5Model.load(fixture("t5_nonuniform"));
        Path file = dir.resolve("x.gguf");
        ShearsException e = assertThrows(ShearsException.class, () -> T5Gguf.write(nonUniform, file, new T5Gguf.Options(GgufType.F32, 512, "", Optional.empty())));
        assertTrue(e.getMessage().startsWith(file + ": cannot write a GGUF llama.cpp reads: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.exists(file));
        // uniform widths but max distance 20, which llama.cpp's bucket function does not read
        T5Model relu = T5Model.load(fixture("t5_relu_tied"));
        e = assertThrows(ShearsException.class, () -> T5Gguf.write(relu, file, new T5Gguf.Options(GgufType.F32, 512, "", Optional.empty())));
        assertTrue(e.getMessage().contains("relative_attention_max_distance 128"), e.getMessage());
        assertTrue(T5Gguf.llamaCppRefusal(model(T5Config.FeedForward.RELU, true).config()).isEmpty());
    }

    private static Path fixture(String name) {
        try {
            return Path.of(T5GgufTest.class.getResource("/torchref-t5/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
