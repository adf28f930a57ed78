package dev.shears.format;

import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufModel;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.TorchPickle;
import dev.shears.format.llama2c.Llama2cModel;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads a model from any supported location: a Hugging Face folder, a {@code .gguf} file or a llama2.c
 * {@code .bin} (a {@code .bin} that is a torch.save zip stands for the Hugging Face folder it is in).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /** Loads a model with every weight on the heap in fp32: what training needs. */
    public static Model load(Path path) {
        try (Model opened = open(path)) {
            return opened.dense(); // a model already on the heap holds no files, so closing it takes nothing away
        }
    }

    /**
     * Opens a model with its weights read in place from the memory-mapped file where the format
     * allows (Hugging Face safetensors or pytorch_model.bin, GGUF), in the file's dtype; llama2.c checkpoints are read onto
     * the heap. Close the model when done with it.
     */
    public static Model open(Path path) {
        if (!Files.exists(path)) throw new ShearsException(path + ": no such file or folder");
        if (Files.isDirectory(path)) {
            if (!HfModel.isModelFolder(path)) throw new ShearsException(path + ": not a model folder (no config.json)");
            return HfModel.open(path);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".gguf")) return GgufModel.open(path);
        if (name.endsWith(".bin") && TorchPickle.isArchive(path)) return HfModel.open(torchFolder(path));
        if (name.endsWith(".bin")) return Llama2cModel.read(path);
        if (name.equals("config.json")) return HfModel.open(path.toAbsolutePath().getParent());
        throw new ShearsException(path + ": unknown model format (expected a Hugging Face folder, a .gguf or a llama2.c .bin file)");
    }

    /** The Hugging Face folder of a torch.save archive: it alone has the config. */
    private static Path torchFolder(Path archive) {
        Path folder = archive.toAbsolutePath().getParent();
        if (!HfModel.isModelFolder(folder)) {
            throw new ShearsException(archive + ": a torch.save archive (pytorch_model.bin) without a config.json beside it; give the Hugging Face folder that holds both");
        }
        return folder;
    }

    /** A model's config, from its headers alone (the weights stay unread). */
    public static ModelConfig config(Path path) {
        try (Model opened = open(path)) {
            return opened.config();
        }
    }

    /** A short name of the format, for reports. */
    public static String format(Path path) {
        if (Files.isDirectory(path)) return "hf";
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".gguf") ? "gguf" : name.endsWith(".bin") && !TorchPickle.isArchive(path) ? "llama2c" : "hf";
    }
}
