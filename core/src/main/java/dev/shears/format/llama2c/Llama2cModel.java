package dev.shears.format.llama2c;

import dev.shears.format.gguf.RopeLayout;
import dev.shears.io.Printable;
import dev.shears.model.Architecture;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * llama2.c checkpoints (karpathy/llama2.c): the legacy format (7 int32 header, a negative vocabulary
 * size meaning an unshared classifier) and the version-1 export ({@code "ak42"} magic, 256-byte header).
 * llama2.c rotates interleaved pairs, so query and key rows are permuted into the rotate-half layout.
 */
public final class Llama2cModel {
    private static final int MAGIC = 0x616b3432;

    private Llama2cModel() {
    }

    public static Model read(Path file) {
        ByteBuffer buffer;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 28) throw Printable.error(file + ": truncated llama2.c checkpoint (" + size + " bytes, the header needs 28)");
            if (size > Integer.MAX_VALUE) throw Printable.error(file + ": llama2.c checkpoints over 2 GB are not supported");
            buffer = channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw Printable.error(file + ": cannot read: " + e.getMessage(), e);
        }
        boolean v1 = buffer.getInt(0) == MAGIC;
        int base = v1 ? 8 : 0;
        int headerBytes = v1 ? 256 : 28;
        if (v1 && buffer.getInt(4) != 1) throw Printable.error(file + ": llama2.c export version " + buffer.getInt(4) + " is not supported (fp32 version 1 is)");
        if (buffer.capacity() < headerBytes) {
            throw Printable.error(file + ": truncated llama2.c checkpoint (" + buffer.capacity() + " bytes, the version 1 header needs 256)");
        }
        int dim = buffer.getInt(base);
        int hidden = buffer.getInt(base + 4);
        int layers = buffer.getInt(base + 8);
        int heads = buffer.getInt(base + 12);
        int kvHeads = buffer.getInt(base + 16);
        int vocab = buffer.getInt(base + 20);
        int seqLen = buffer.getInt(base + 24);
        boolean shared = v1 ? buffer.get(base + 28) != 0 : vocab > 0;
        vocab = vocab == Integer.MIN_VALUE ? 0 : Math.abs(vocab);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seqLen <= 0
                || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0 || dim > 1 << 16 || layers > 1024 || vocab > 1 << 22) {
            throw Printable.error(file + ": not a llama2.c checkpoint (implausible header: dim " + dim + ", hidden " + hidden + ", layers " + layers
                    + ", heads " + heads + ", kv heads " + kvHeads + ", vocab " + vocab + ", seq_len " + seqLen + ")");
        }
        int headDim = dim / heads;
        ModelConfig config = ModelConfig.uniform(Architecture.LLAMA, dim, layers, heads, kvHeads, headDim, hidden, vocab, seqLen,
                1e-5f, 10000, shared, false);
        // checked before allocating: a corrupt header must not ask for gigabytes
        long needed = expectedFloats(config, v1, shared);
        long weightBytes = buffer.capacity() - headerBytes;
        if (weightBytes != 4 * needed) {
            throw Printable.error(file + ": " + (weightBytes < 4 * needed ? "truncated llama2.c checkpoint" : "llama2.c checkpoint larger than its header implies")
                    + ": " + weightBytes + " weight bytes, the header (dim " + dim + ", hidden " + hidden + ", layers " + layers + ", heads " + heads
                    + ", kv heads " + kvHeads + ", vocab " + vocab + (shared ? " shared" : " unshared") + ", seq_len " + seqLen + ") implies " + 4 * needed);
        }
        Model model = Model.zeros(config);
        FloatBuffer f = buffer.position(headerBytes).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        if (v1) {
            readLayers(f, model, TensorRole.ATTENTION_NORM);
            readLayers(f, model, TensorRole.FFN_NORM);
            f.get(model.weights().get(TensorRole.FINAL_NORM));
            f.get(model.weights().get(TensorRole.EMBEDDING));
            readLayers(f, model, TensorRole.QUERY, TensorRole.KEY, TensorRole.VALUE, TensorRole.OUTPUT, TensorRole.GATE, TensorRole.DOWN, TensorRole.UP);
        } else {
            f.get(model.weights().get(TensorRole.EMBEDDING));
            readLayers(f, model, TensorRole.ATTENTION_NORM, TensorRole.QUERY, TensorRole.KEY, TensorRole.VALUE, TensorRole.OUTPUT,
                    TensorRole.FFN_NORM, TensorRole.GATE, TensorRole.DOWN, TensorRole.UP);
            f.get(model.weights().get(TensorRole.FINAL_NORM));
            f.position(f.position() + seqLen * headDim); // freq_cis_real and freq_cis_imag: recomputed from the config
        }
        if (!shared) f.get(model.weights().get(TensorRole.LM_HEAD));
        for (int l = 0; l < layers; l++) {
            RopeLayout.interleavedToHalves(model.weights().get(TensorRole.QUERY, l), heads, headDim, dim);
            RopeLayout.interleavedToHalves(model.weights().get(TensorRole.KEY, l), kvHeads, headDim, dim);
        }
        return model;
    }

    /** Each role in turn for all layers, as llama2.c stacks them. */
    private static void readLayers(FloatBuffer f, Model model, TensorRole... roles) {
        for (TensorRole role : roles) {
            for (int l = 0; l < model.config().numLayers(); l++) f.get(model.weights().get(role, l));
        }
    }

    private static long expectedFloats(ModelConfig c, boolean v1, boolean shared) {
        long total = 0;
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(c) || role == TensorRole.LM_HEAD) continue;
            total += role.totalSize(c);
        }
        if (!v1) total += (long) c.maxSeqLen() * c.headDim();
        if (!shared) total += (long) c.vocabSize() * c.dim();
        return total;
    }
}
