package dev.shears.format.hf;

import dev.shears.io.Printable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Fills the fp32 arrays of a model's table of named tensors from a Hugging Face folder's
 * {@code model.safetensors} or, failing that, its {@code pytorch_model.bin} ({@link WeightFile}), widened to fp32.
 * A tensor the table names but the file lacks, one of another shape, or one the file holds that the table does
 * not name (and that is not among the ignored copies) is a one-line error naming the file and the tensor.
 * {@code T5Weights} spells out the same loop on its own.
 */
public final class FolderWeights {
    private FolderWeights() {
    }

    /** Receives one tensor of a table. */
    @FunctionalInterface
    public interface Visitor {
        void accept(String name, int[] shape, float[] values);
    }

    /** Lists every tensor of a model: its name, its shape, and the array to fill. */
    @FunctionalInterface
    public interface Table {
        void forEach(Visitor visitor);
    }

    /**
     * @param modelKind what the folder holds, for messages ("an OpenBA model")
     * @param ignored   names the file may hold that the table leaves out (copies of a shared tensor)
     */
    public static void load(Path dir, String modelKind, Table table, Set<String> ignored) {
        Path safetensors = dir.resolve("model.safetensors");
        Path torch = dir.resolve("pytorch_model.bin");
        Path path = Files.isRegularFile(safetensors) ? safetensors : torch;
        if (!Files.isRegularFile(path)) throw Printable.error(dir + ": no model.safetensors or pytorch_model.bin (sharded folders are not read yet)");
        try (WeightFile file = path == safetensors ? Safetensors.open(path) : TorchPickle.open(path)) {
            Set<String> expected = new HashSet<>(ignored);
            table.forEach((name, shape, values) -> {
                expected.add(name);
                WeightFile.TensorEntry e = file.entries().get(name);
                if (e == null) throw Printable.error(path + ": no tensor named " + name);
                if (!Arrays.equals(e.shape(), shape)) {
                    throw Printable.error(path + ": " + name + " has shape " + Arrays.toString(e.shape()) + ", the config needs " + Arrays.toString(shape));
                }
                float[] read = file.read(name).values();
                System.arraycopy(read, 0, values, 0, values.length);
            });
            for (String name : file.entries().keySet()) {
                if (!expected.contains(name)) throw Printable.error(path + ": tensor " + name + " is not part of " + modelKind + " with this config.json");
            }
        }
    }
}
