package dev.shears;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real models and datasets in {@code ../shared/data}. Tests that need them run whenever the folder
 * is there (CI always has it). Where it is absent they fail under {@code CI=true}, which {@code .ci/run}
 * (the full test command) always sets; only a targeted run outside it skips them, with a loud message.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The data folder. */
    public static Path root() {
        String configured = System.getProperty("shears.sharedData");
        Path root = configured != null ? Path.of(configured) : Path.of("..", "shared", "data");
        return root.toAbsolutePath().normalize();
    }

    /** A file or folder under the data folder; fails on CI and skips loudly elsewhere when it is missing. */
    public static Path require(String relative) {
        Path path = root().resolve(relative);
        if (Files.exists(path)) return path;
        String message = "SHARED DATA MISSING: " + path + " is not there; this test needs ../shared/data beside the repository";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(message);
        System.err.println("!!! " + message + " — SKIPPED");
        Assumptions.abort(message);
        return path;
    }
}
