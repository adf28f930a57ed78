package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PyRandom} against CPython 3.11's {@code random.Random}: the values in {@code eval/pyrandom.json}
 * were written by {@code tools/fixtures/pyrandom_fixture.py} with Debian's {@code /usr/bin/python3}.
 * Each method starts from a fresh generator per seed, and a mixed sequence runs them all on one.
 */
class PyRandomTest {
    static JsonNode fixture() throws IOException {
        try (InputStream in = PyRandomTest.class.getResourceAsStream("/eval/pyrandom.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static PyRandom generator(JsonNode c) {
        return new PyRandom(new BigInteger(c.get("seed").asText()));
    }

    static double pyFloat(JsonNode hex) {
        return Double.parseDouble(hex.asText());
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asInt()));
        return out;
    }

    @Test
    void fixtureWasMadeByPython311WithManySeeds() throws IOException {
        JsonNode f = fixture();
        assertEquals("3.11.2", f.get("python").asText());
        assertTrue(f.get("cases").size() >= 10);
    }

    @Test
    void randomMatchesCPythonBitForBit() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            for (JsonNode v : c.get("random")) {
                double expected = pyFloat(v);
                double actual = r.random();
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                        "seed " + c.get("seed").asText() + ": random() " + actual + " vs CPython " + expected);
            }
        }
    }

    @Test
    void getrandbitsMatchesCPythonForEveryWidth() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            for (JsonNode pair : c.get("getrandbits")) {
                int k = pair.get(0).asInt();
                assertEquals(new BigInteger(pair.get(1).asText()), r.getrandbits(k), "seed " + c.get("seed").asText() + ": getrandbits(" + k + ")");
            }
        }
    }

    @Test
    void randrangeMatchesCPython() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            for (JsonNode pair : c.get("randrange")) {
                JsonNode args = pair.get(0);
                long a0 = Long.parseLong(args.get(0).asText());
                long actual = switch (args.size()) {
                    case 1 -> r.randrange(a0);
                    case 2 -> r.randrange(a0, Long.parseLong(args.get(1).asText()));
                    default -> r.randrange(a0, Long.parseLong(args.get(1).asText()), Long.parseLong(args.get(2).asText()));
                };
                assertEquals(Long.parseLong(pair.get(1).asText()), actual, "seed " + c.get("seed").asText() + ": randrange" + args);
            }
        }
    }

    @Test
    void shuffleMatchesCPython() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            for (JsonNode expected : c.get("shuffle")) {
                List<Integer> x = new ArrayList<>(range(expected.size()));
                r.shuffle(x);
                assertEquals(ints(expected), x, "seed " + c.get("seed").asText() + ": shuffle of " + expected.size());
            }
        }
    }

    @Test
    void sampleMatchesCPythonOnBothBranches() throws IOException {
        int pool = 0;
        int set = 0;
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            for (JsonNode s : c.get("sample")) {
                int n = s.get("n").asInt();
                int k = s.get("k").asInt();
                boolean poolBranch = s.get("branch").asText().equals("pool");
                assertEquals(poolBranch, n <= PyRandom.setSize(k), "setsize of k " + k);
                if (poolBranch) pool++;
                else set++;
                assertEquals(ints(s.get("result")), r.sample(range(n), k), "seed " + c.get("seed").asText() + ": sample(range(" + n + "), " + k + ")");
            }
        }
        assertTrue(pool > 20 && set > 20, "both of CPython's sample branches are exercised: pool " + pool + ", set " + set);
    }

    @Test
    void mixedCallsShareOneState() throws IOException {
        for (JsonNode c : fixture().get("cases")) {
            PyRandom r = generator(c);
            JsonNode m = c.get("mixed");
            String seed = "seed " + c.get("seed").asText();
            assertEquals(pyFloat(m.get(0)), r.random(), seed);
            assertEquals(new BigInteger(m.get(1).asText()), r.getrandbits(70), seed);
            assertEquals(ints(m.get(2)), r.sample(range(30), 4), seed);
            assertEquals(Long.parseLong(m.get(3).asText()), r.randrange(1000), seed);
            assertEquals(ints(m.get(4)), r.sample(range(3000), 20), seed);
            assertEquals(new BigInteger(m.get(5).asText()), r.getrandbits(5), seed);
            assertEquals(pyFloat(m.get(6)), r.random(), seed);
        }
    }

    @Test
    void setSizeIsCPythonsTable() {
        // 21 for k <= 5, then 21 + 4 ** ceil(log(3k, 4)): 3k = 18 -> 64, 3k = 21 -> 64, 3k = 24 -> 64, 3k = 66 -> 256.
        assertEquals(21, PyRandom.setSize(0));
        assertEquals(21, PyRandom.setSize(5));
        assertEquals(85, PyRandom.setSize(6));
        assertEquals(85, PyRandom.setSize(21));
        assertEquals(277, PyRandom.setSize(22));
        assertEquals(277, PyRandom.setSize(85));
        assertEquals(21 + 1024, PyRandom.setSize(86));
    }

    @Test
    void rejectsWhatCPythonRejects() {
        PyRandom r = new PyRandom(1);
        assertThrows(IllegalArgumentException.class, () -> r.sample(range(3), 4));
        assertThrows(IllegalArgumentException.class, () -> r.sample(range(3), -1));
        assertThrows(IllegalArgumentException.class, () -> r.randrange(0));
        assertThrows(IllegalArgumentException.class, () -> r.randrange(5, 5));
        assertThrows(IllegalArgumentException.class, () -> r.randrange(0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> r.getrandbits(-1));
    }
}
