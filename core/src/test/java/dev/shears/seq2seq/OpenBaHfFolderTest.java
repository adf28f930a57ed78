package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link OpenBaHfFolder} writes what {@link OpenBaModel#load} reads back bit for bit, for every fixture's shape. */
class OpenBaHfFolderTest {
    @Test
    void aWrittenFolderLoadsBackBitIdentical(@TempDir Path tmp) throws Exception {
        for (String name : List.of("openba_nobias_tied", "openba_bias_asym", "openba_nonuniform")) {
            Path source = OpenBaReferenceTest.resource(name);
            OpenBaModel model = OpenBaModel.load(source);
            ObjectNode config = (ObjectNode) new ObjectMapper().readTree(Files.readString(source.resolve("config.json")));
            Path out = tmp.resolve(name);
            OpenBaHfFolder.write(model, OpenBaHfFolder.configJson(model.config(), config, DType.F32), out, DType.F32);
            OpenBaModel back = OpenBaModel.load(out);
            assertEquals(model.config(), back.config(), name);
            List<String> names = new ArrayList<>(), backNames = new ArrayList<>();
            List<float[]> values = new ArrayList<>(), backValues = new ArrayList<>();
            model.weights().forEach(model.config(), (n, shape, v) -> {
                names.add(n);
                values.add(v);
            });
            back.weights().forEach(back.config(), (n, shape, v) -> {
                backNames.add(n);
                backValues.add(v);
            });
            assertEquals(names, backNames, name);
            for (int t = 0; t < values.size(); t++) assertArrayEquals(values.get(t), backValues.get(t), 0f, name + " " + names.get(t));
        }
    }
}
