package dev.shears;

import org.junit.jupiter.api.Assertions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real models and datasets in {@code ../shared/data}. Tests that need them run whenever the folder
 * is there (CI always has it) and fail, naming the missing path, where it is not: a missing input never
 * passes silently as a skip.
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

    /** A file or folder under the data folder; the test fails when it is missing. */
    public static Path require(String relative) {
        Path path = root().resolve(relative);
        if (!Files.exists(path)) {
            Assertions.fail("SHARED DATA MISSING: " + path + " is not there; this test needs ../shared/data beside the repository "
                    + "(or -Dshears.sharedData=DIR)");
        }
        return path;
    }
}
