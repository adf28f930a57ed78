package dev.shears.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * How the issue-17 tests start {@code shears} as N ranks of {@code mpirun} (on loopback, as root too, more ranks than
 * cores allowed) or as one process, and read what they wrote. Without {@code mpirun} they fail, never skip.
 */
final class MpiRuns {
    private MpiRuns() {
    }

    /** What a command did: its exit code and its stdout and stderr together. */
    record Result(int code, String output) {
    }

    /** {@code mpirun} on this host only, over the loopback interface, as root too, more ranks than cores allowed. */
    static List<String> mpirun(int ranks) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, "mpirun");
            if (Files.isExecutable(p)) {
                return new ArrayList<>(List.of(p.toString(), "--oversubscribe", "--allow-run-as-root", "--mca", "btl_tcp_if_include", "lo",
                        "--mca", "oob_tcp_if_include", "lo", "-np", String.valueOf(ranks)));
            }
        }
        return fail("mpirun is not installed: .ci/run installs it (apt-get install openmpi-bin libopenmpi-dev)");
    }

    /** This test JVM's java running {@link Main} on the test class path. */
    static List<String> java() {
        return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
    }

    /** {@code mpirun -np ranks java … Main args}, or with {@code ranks} 0 the same java alone, not started by mpirun. */
    static List<String> shears(int ranks, List<String> args) {
        List<String> command = ranks == 0 ? new ArrayList<>() : mpirun(ranks);
        command.addAll(java());
        command.addAll(args);
        return command;
    }

    /** Runs {@code command} with {@code env} added, its output logged in {@code logs}; fails when it runs past {@code seconds}. */
    static Result run(List<String> command, Map<String, String> env, int seconds, Path logs) throws IOException, InterruptedException {
        Path log = Files.createTempFile(logs, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(command.getFirst() + " did not finish in " + seconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    /** Every file under {@code folder}, relative to it, sorted. */
    static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> all = Files.walk(folder)) {
            return all.filter(Files::isRegularFile).map(folder::relativize).sorted().toList();
        }
    }
}
