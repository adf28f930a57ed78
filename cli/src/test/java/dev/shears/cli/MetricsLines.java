package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A run's metrics.jsonl as tests compare it across runs that must agree but for timing. */
final class MetricsLines {
    private MetricsLines() {
    }

    /** Metrics lines without their timing fields. */
    static List<String> untimed(Path metrics) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            JsonNode n = Json.MAPPER.readTree(line);
            if (n instanceof ObjectNode o) o.remove(List.of("tokensPerSecond", "gflops", "seconds", "elapsedSeconds"));
            lines.add(n.toString());
        }
        return lines;
    }
}
