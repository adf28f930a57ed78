package dev.shears.seq2seq;

import dev.shears.SharedData;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Each config's parameter count, from its shape alone, is the number of values its weights hold (tied heads once, biases when on). */
class ParameterCountTest {
    private static Path fixture(String name) throws URISyntaxException {
        URL url = ParameterCountTest.class.getResource("/" + name + "/config.json");
        if (url == null) fail("fixture " + name + " is missing");
        return Path.of(url.toURI()).getParent();
    }

    @Test
    void t5AndOpenBaCountTheirWeightsFromTheirShape() throws URISyntaxException {
        for (String name : List.of("torchref-t5/t5_relu_tied", "torchref-t5/t5_gated_untied", "torchref-t5/t5_nonuniform")) {
            T5Model m = T5Model.load(fixture(name));
            long[] n = {0};
            m.weights().forEach(m.config(), (tensor, shape, values) -> n[0] += values.length);
            assertEquals(n[0], m.config().parameterCount(), name);
        }
        T5Model tiny = T5Model.load(SharedData.require("models/t5-tiny-random"));
        long[] t = {0};
        tiny.weights().forEach(tiny.config(), (tensor, shape, values) -> t[0] += values.length);
        assertEquals(t[0], tiny.config().parameterCount(), "t5-tiny-random");
        for (String name : List.of("torchref-openba/openba_bias_asym", "torchref-openba/openba_nobias_tied", "torchref-openba/openba_nonuniform")) {
            OpenBaModel m = OpenBaModel.load(fixture(name));
            long[] n = {0};
            m.weights().forEach(m.config(), (tensor, shape, values) -> n[0] += values.length);
            assertEquals(n[0], m.config().parameterCount(), name);
        }
    }
}
