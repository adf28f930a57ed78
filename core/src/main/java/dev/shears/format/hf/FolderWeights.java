package dev.shears.format.hf;

import dev.shears.io.Printable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fills the fp32 arrays of a model's table of named tensors from a Hugging Face folder's weight files
 * ({@code model.safetensors}, {@code pytorch_model.bin}, or the shards of either's index, as
 * {@link HfModel#openWeightFiles} finds them), widened to fp32: the loader of the models that keep their own name
 * table (T5, OpenBA). A tensor the table names but the folder lacks, one of another shape, or one a file holds that
 * the table does not name (and that is not among the ignored copies) is a one-line error naming the file (the
 * folder, for a missing tensor of a sharded folder) and the tensor.
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

    /** Copies every tensor {@code from} lists into the tensor {@code to} lists at the same position: two tables of one shape. */
    public static void copy(Table from, Table to) {
        List<float[]> source = new ArrayList<>(), target = new ArrayList<>();
        from.forEach((name, shape, values) -> source.add(values));
        to.forEach((name, shape, values) -> target.add(values));
        for (int t = 0; t < source.size(); t++) System.arraycopy(source.get(t), 0, target.get(t), 0, source.get(t).length);
    }

    /**
     * @param modelKind what the folder holds, for messages ("an OpenBA model")
     * @param ignored   names the files may hold that the table leaves out (copies of a shared tensor)
     */
    public static void load(Path dir, String modelKind, Table table, Set<String> ignored) {
        List<WeightFile> files = HfModel.openWeightFiles(dir);
        try {
            Map<String, WeightFile> stored = new HashMap<>();
            for (WeightFile file : files) for (String name : file.entries().keySet()) stored.putIfAbsent(name, file);
            Path missingIn = files.size() == 1 ? files.getFirst().path() : dir;
            Set<String> expected = new HashSet<>(ignored);
            table.forEach((name, shape, values) -> {
                expected.add(name);
                WeightFile file = stored.get(name);
                if (file == null) throw Printable.error(missingIn + ": no tensor named " + name);
                int[] storedShape = file.entry(name).shape();
                if (!Arrays.equals(storedShape, shape)) {
                    throw Printable.error(file.path() + ": " + name + " has shape " + Arrays.toString(storedShape) + ", the config needs " + Arrays.toString(shape));
                }
                System.arraycopy(file.read(name).values(), 0, values, 0, values.length);
            });
            for (WeightFile file : files) {
                for (String name : file.entries().keySet()) {
                    if (!expected.contains(name)) throw Printable.error(file.path() + ": tensor " + name + " is not part of " + modelKind + " with this config.json");
                }
            }
        } finally {
            files.forEach(WeightFile::close);
        }
    }
}
