package dev.shears.seq2seq;

import dev.shears.format.hf.Safetensors;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One encoder–decoder reference fixture's {@code expected.safetensors}, read eagerly (the file is closed): the
 * inputs a generator under {@code tools/torch_reference} gave its PyTorch model, and what the model answered.
 *
 * @param batch    rows of {@code input_ids} and {@code labels}
 * @param srcLen   columns of {@code input_ids}
 * @param tgtLen   columns of {@code labels}
 * @param tensors  every tensor of the file by name (ids as floats)
 * @param metadata the file's metadata ({@code loss64})
 */
record ReferenceFixture(String name, int batch, int srcLen, int tgtLen, Map<String, float[]> tensors, Map<String, String> metadata) {
    static ReferenceFixture read(String name, Path expected) {
        try (Safetensors.File file = Safetensors.open(expected)) {
            int[] ids = file.entries().get("input_ids").shape();
            int[] labels = file.entries().get("labels").shape();
            return new ReferenceFixture(name, ids[0], ids[1], labels[1], readAll(file), Map.copyOf(file.metadata()));
        }
    }

    /** A file or folder of the test resources {@code root}; a missing one fails, saying which generator makes it. */
    static Path resource(String root, String generator, String relative) {
        URL url = ReferenceFixture.class.getResource("/" + root + "/" + relative);
        if (url == null) fail("reference fixture " + root + "/" + relative + " is missing; regenerate it with tools/torch_reference/" + generator);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The names of the folders in {@code dir}: the fixtures present there. */
    static Set<String> folders(Path dir) throws IOException {
        try (Stream<Path> dirs = Files.list(dir)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static Map<String, float[]> readAll(Safetensors.File file) {
        Map<String, float[]> tensors = new HashMap<>();
        for (String key : file.entries().keySet()) tensors.put(key, file.read(key).values());
        return tensors;
    }

    static int[] toInts(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < out.length; i++) out[i] = Math.round(values[i]);
        return out;
    }

    float[] tensor(String key) {
        float[] values = tensors.get(key);
        if (values == null) fail(name + ": expected.safetensors has no " + key);
        return values;
    }

    /** [batch, srcLen] */
    int[] inputIds() {
        return toInts(tensor("input_ids"));
    }

    /** [batch, tgtLen] */
    int[] labels() {
        return toInts(tensor("labels"));
    }

    /** The reference's loss in float64. */
    double loss() {
        String v = metadata.get("loss64");
        assertNotNull(v, name + ": expected.safetensors metadata has no loss64");
        return Double.parseDouble(v);
    }
}
