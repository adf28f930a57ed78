package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.io.Printable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The values of a Hugging Face config.json, each read with a one-line error that names the file and the key
 * ({@link Printable#error}). {@code HfConfig} reads its file here but keeps its own number checks (it also takes
 * {@code 64.0} for a width, and refuses whole numbers beyond an int).
 *
 * @param file where the object was read, for messages
 * @param node the JSON object
 */
public record ConfigJson(Path file, JsonNode node) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads {@code file} as a JSON object.
     *
     * @param folderKind what needs the file, for the message when it is missing ("an OpenBA folder")
     */
    public static ConfigJson read(Path file, String folderKind) {
        if (!Files.isRegularFile(file)) throw Printable.error(file + ": missing (" + folderKind + " needs config.json)");
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw Printable.error(file + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (n == null || !n.isObject()) throw Printable.error(file + ": not a JSON object");
        return new ConfigJson(file, n);
    }

    /**
     * The config.json of a model folder, for telling model kinds apart; empty when {@code model} is no folder or its
     * config.json is missing or not JSON (the reader that follows says what is wrong with it).
     */
    public static Optional<JsonNode> peek(Path model) {
        Path file = model.resolve("config.json");
        if (!Files.isDirectory(model) || !Files.isRegularFile(file)) return Optional.empty();
        try {
            return Optional.ofNullable(JSON.readTree(file.toFile()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A whole number > 0. */
    public int required(String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.canConvertToExactIntegral() || v.asInt() <= 0) throw Printable.error(file + ": missing or invalid \"" + key + "\"");
        return v.asInt();
    }

    /** A whole number ≥ 0 when present (null counts as absent), else {@code absent}. */
    public int optional(String key, int absent) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return absent;
        if (!v.canConvertToExactIntegral() || v.asInt() < 0) throw Printable.error(file + ": \"" + key + "\" must be a whole number ≥ 0, got " + v);
        return v.asInt();
    }

    /** A number when present (null counts as absent), else {@code absent}. */
    public double number(String key, double absent) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return absent;
        if (!v.isNumber()) throw Printable.error(file + ": \"" + key + "\" must be a number, got " + v);
        return v.asDouble();
    }

    /** true or false when present (null counts as absent), else {@code absent}. */
    public boolean flag(String key, boolean absent) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return absent;
        if (!v.isBoolean()) throw Printable.error(file + ": \"" + key + "\" must be true or false, got " + v);
        return v.asBoolean();
    }

    /** The text of the first element of an array key ({@code architectures}), or {@code absent}. */
    public String first(String key, String absent) {
        return node.path(key).path(0).asText(absent);
    }
}
