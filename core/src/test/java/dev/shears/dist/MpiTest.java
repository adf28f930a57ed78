package dev.shears.dist;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Open MPI through java.lang.foreign: the collectives under {@code mpirun -np 2} and {@code -np 3}, and single-process runs without any MPI.
 * Its helpers start other probes under {@code mpirun} too ({@code MpiTaylorTest}).
 */
public class MpiTest {
    @Test
    void collectivesOnTwoRanks() throws Exception {
        probe(2);
    }

    @Test
    void collectivesOnThreeRanks() throws Exception {
        probe(3);
    }

    @Test
    void singleProcessNeedsNoLibrary() {
        try (Collective c = Collective.fromEnvironment(Map.of(), "/nonexistent/libmpi.so")) {
            assertInstanceOf(SingleProcess.class, c);
            assertEquals(0, c.rank());
            assertEquals(1, c.size());
            float[] v = {1, 2};
            c.allReduceSum(v);
            float[] all = new float[2];
            c.allGather(v, 0, all, new int[] {2});
            assertEquals(2f, all[1]);
            float[] out = new float[2];
            OrderedSum.sum(c, 2, List.of(new float[] {1, 2}, new float[] {3, 4}), out);
            assertEquals(4f, out[0]);
            assertEquals(6f, out[1]);
            List<double[]> vectors = OrderedSum.gather(c, 2, List.of(new double[] {1, 2, 3}, new double[0]));
            assertArrayEquals(new double[] {1, 2, 3}, vectors.get(0));
            assertEquals(0, vectors.get(1).length);
        }
    }

    @Test
    void startedByMpirunWithoutTheLibraryFailsInOneLine() {
        ShearsException e = assertThrows(ShearsException.class,
                () -> Collective.fromEnvironment(Map.of(Collective.WORLD_SIZE, "2", Collective.WORLD_RANK, "0"), "/nonexistent/libmpi.so"));
        assertTrue(e.getMessage().contains("/nonexistent/libmpi.so") && !e.getMessage().contains("\n"), e.getMessage());
    }

    private static void probe(int ranks) throws Exception {
        List<String> command = mpirun(ranks);
        command.addAll(javaCommand(MpiProbe.class.getName()));
        Result r = run(command, 180);
        assertEquals(0, r.code, "mpirun -np " + ranks + " exited with " + r.code + ":\n" + r.output);
        for (int rank = 0; rank < ranks; rank++) assertTrue(r.output.contains("rank " + rank + " of " + ranks + " ok"), r.output);
    }

    /** {@code mpirun} on this host only, over the loopback interface, as root too, more ranks than cores allowed. */
    public static List<String> mpirun(int ranks) {
        String mpirun = findMpirun();
        return new ArrayList<>(List.of(mpirun, "--oversubscribe", "--allow-run-as-root", "--mca", "btl_tcp_if_include", "lo",
                "--mca", "oob_tcp_if_include", "lo", "-np", String.valueOf(ranks)));
    }

    /** The java of this test's JVM with its flags and class path, running {@code main}. */
    public static List<String> javaCommand(String main) {
        return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), main));
    }

    static String findMpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) return p.toString();
        }
        return fail("mpirun is not installed: .ci/run installs it (apt-get install openmpi-bin libopenmpi-dev)");
    }

    public record Result(int code, String output) {
    }

    public static Result run(List<String> command, int seconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("mpirun", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("mpirun did not finish in " + seconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
