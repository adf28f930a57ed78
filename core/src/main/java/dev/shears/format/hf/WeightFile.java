package dev.shears.format.hf;

import dev.shears.io.DType;
import dev.shears.io.Printable;
import dev.shears.io.TensorData;
import dev.shears.tensor.MappedTensor;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;

/**
 * A memory-mapped file of named tensors in a Hugging Face folder: {@code model.safetensors} or
 * torch.save's {@code pytorch_model.bin}. Each tensor's bytes are read in place, row-major, in the
 * file's dtype; they stay valid until the file is closed.
 */
public sealed interface WeightFile extends AutoCloseable permits Safetensors.File, TorchPickle.File {
    /** What every format records of a tensor. */
    interface TensorEntry {
        String name();

        DType dtype();

        /** Dimensions, outermost first (none for a scalar). */
        int[] shape();

        default long elements() {
            long n = 1;
            for (int d : shape()) n *= d;
            return n;
        }
    }

    Path path();

    /** Entries in file order. */
    Map<String, ? extends TensorEntry> entries();

    /** The bytes of one tensor, exactly {@code elements × dtype.bytes} of them. */
    MemorySegment data(String name);

    /** Reads and converts one tensor to fp32 (as {@link #mapped} widens it). */
    default TensorData read(String name) {
        TensorEntry e = entry(name);
        if (e.elements() > Integer.MAX_VALUE - 8) throw Printable.error(path() + ": tensor " + name + " has " + e.elements() + " elements, too many for one array");
        return new TensorData(name, e.shape(), mapped(name, 1, (int) e.elements()).toArray());
    }

    /** One tensor read in place as a [rows, cols] matrix; valid until this file is closed. */
    default MappedTensor mapped(String name, int rows, int cols) {
        TensorEntry e = entry(name);
        if ((long) rows * cols != e.elements()) throw new IllegalArgumentException(name + " has " + e.elements() + " elements, not " + rows + " × " + cols);
        return MappedTensor.of(data(name), e.dtype().encoding, rows, cols);
    }

    /** The entry of a tensor that must be there. */
    default TensorEntry entry(String name) {
        TensorEntry e = entries().get(name);
        if (e == null) throw Printable.error(path() + ": no tensor named " + name);
        return e;
    }

    @Override
    void close();
}
