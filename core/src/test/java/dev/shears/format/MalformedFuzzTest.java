package dev.shears.format;

import dev.shears.ShearsException;
import dev.shears.format.gguf.GgufFile;
import dev.shears.format.gguf.GgufModel;
import dev.shears.format.gguf.GgufModelWriter;
import dev.shears.format.gguf.GgufTokenizerData;
import dev.shears.format.gguf.GgufType;
import dev.shears.format.hf.HfModel;
import dev.shears.format.llama2c.Llama2cModel;
import dev.shears.io.DType;
import dev.shears.model.Architecture;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded corruption of small valid files in every format: every truncation of the header region and
 * random byte changes (with a bias to length and count fields). Each load must succeed or fail with a
 * ShearsException, never any other exception or error.
 */
class MalformedFuzzTest {
    private static final ModelConfig SMALL = ModelConfig.uniform(Architecture.LLAMA, 32, 1, 2, 1, 16, 32, 12, 8, 1e-5f, 10000, false, true);

    @TempDir
    Path dir;

    private int failures;

    private void fuzz(String label, byte[] valid, Path file, Consumer<Path> load, int headerBytes, long seed) throws IOException {
        Files.write(file, valid);
        load.accept(file); // the valid file loads
        for (int n = 0; n < valid.length; n += n < headerBytes ? 1 : 97) attempt(label + " cut at " + n, Arrays.copyOf(valid, n), file, load);
        Random r = new Random(seed);
        byte[] extremes = {0, (byte) 0xff, (byte) 0x7f, (byte) 0x80, 1};
        for (int i = 0; i < 1000; i++) {
            byte[] b = valid.clone();
            int changes = 1 + r.nextInt(4);
            StringBuilder what = new StringBuilder();
            for (int c = 0; c < changes; c++) {
                int at = r.nextInt(10) < 8 ? r.nextInt(Math.min(headerBytes, b.length)) : r.nextInt(b.length);
                b[at] = r.nextBoolean() ? (byte) r.nextInt() : extremes[r.nextInt(extremes.length)];
                what.append(' ').append(at).append('=').append(b[at]);
            }
            attempt(label + " bytes" + what, b, file, load);
        }
    }

    private void attempt(String label, byte[] bytes, Path file, Consumer<Path> load) throws IOException {
        Files.write(file, bytes);
        try {
            load.accept(file);
        } catch (ShearsException expected) {
            // the message names the corrupted file, or for a folder whose files disagree, the folder
            String m = expected.getMessage();
            assertTrue((m.contains(file.getFileName().toString()) || m.contains(file.getParent().toString())) && !m.contains("\n") && m.length() < 1000,
                    label + ": " + m);
        } catch (Throwable t) {
            if (failures++ < 5) t.printStackTrace();
            throw new AssertionError(label + ": " + t, t);
        }
    }

    @Test
    void corruptGgufFiles() throws IOException {
        Model model = TinyModels.random(SMALL, 1);
        Path source = dir.resolve("source.gguf");
        GgufModelWriter.write(model, source, GgufModelWriter.Options.defaults().withMatrixType(GgufType.Q8_0)
                .withTokenizer(GgufTokenizerData.of("llama", List.of("<unk>", "<s>", "</s>", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
                        new float[12], new int[12], List.of(), 1, 2)));
        byte[] valid = Files.readAllBytes(source);
        int header;
        try (GgufFile g = GgufFile.open(source)) {
            header = (int) g.tensors().values().stream().mapToLong(g::dataPosition).min().orElseThrow();
        }
        fuzz("gguf", valid, dir.resolve("fuzz.gguf"), p -> {
            ModelLoader.load(p);
            GgufModel.readTokenizer(p);
        }, header, 1);
    }

    @Test
    void corruptSafetensorsFiles() throws IOException {
        Path folder = dir.resolve("hf");
        HfModel.write(TinyModels.random(SMALL, 2), folder, DType.BF16, Long.MAX_VALUE);
        Path weights = folder.resolve(HfModel.WEIGHTS);
        byte[] valid = Files.readAllBytes(weights);
        int header = (int) (8 + java.nio.ByteBuffer.wrap(valid).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0));
        fuzz("safetensors", valid, weights, p -> HfModel.read(folder), header, 2);
    }

    /** A torch.save archive in a model folder: its pickle (the first entry) is the header, the central directory at the end gets the 20%. */
    @Test
    void corruptTorchPickleFiles() throws IOException, java.net.URISyntaxException {
        Path fixture = Path.of(MalformedFuzzTest.class.getResource("/torchpickle/llama_f32").toURI());
        Path folder = Files.createDirectories(dir.resolve("torch"));
        Files.copy(fixture.resolve("config.json"), folder.resolve("config.json"));
        Path weights = folder.resolve(HfModel.TORCH_WEIGHTS);
        byte[] valid = Files.readAllBytes(fixture.resolve(HfModel.TORCH_WEIGHTS));
        int header;
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(fixture.resolve(HfModel.TORCH_WEIGHTS).toFile())) {
            header = 64 + (int) zip.stream().filter(e -> e.getName().endsWith("/data.pkl")).findFirst().orElseThrow().getSize();
        }
        fuzz("torch.save", valid, weights, p -> HfModel.read(folder), header, 5);
    }

    @Test
    void corruptConfigJson() throws IOException {
        Path folder = dir.resolve("hf");
        HfModel.write(TinyModels.random(SMALL, 3), folder);
        Path config = folder.resolve("config.json");
        byte[] valid = Files.readAllBytes(config);
        fuzz("config.json", valid, config, p -> HfModel.read(folder), valid.length, 3);
    }

    @Test
    void corruptLlama2cFiles() throws IOException {
        int floats = 696;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(28 + 4 * floats).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int h : new int[] {8, 16, 1, 2, 1, 10, 4}) b.putInt(h);
        fuzz("llama2.c", b.array(), dir.resolve("fuzz.bin"), Llama2cModel::read, 28, 4);
    }
}
