package dev.shears.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Items from a JSON-lines file, one object per line (llm-foundry's in-context-learning layout:
 * {@code {query, choices, gold}}, {@code {context_options, continuation, gold}}, {@code {context, continuation}}).
 * Every problem names the file and the line.
 */
public final class JsonlItems implements ItemSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Turns one parsed line into an item; throws {@link IllegalArgumentException} with the problem. */
    @FunctionalInterface
    public interface Format {
        Item item(JsonNode line);
    }

    private final Format format;

    public JsonlItems(Format format) {
        this.format = format;
    }

    @Override
    public List<Item> read(Path file) {
        List<Item> items = rows(file, format::item);
        if (items.isEmpty()) throw new ShearsException(file + ": no items (the file is empty)");
        return items;
    }

    /** Every non-blank line of {@code file} as a JSON object, turned into a value by {@code row}; problems name the file and line. */
    static <T> List<T> rows(Path file, java.util.function.Function<JsonNode, T> row) {
        return rows(file, readLines(file), row);
    }

    /** {@link #rows(Path, java.util.function.Function)} of lines already read from {@code file}. */
    static <T> List<T> rows(Path file, List<String> lines, java.util.function.Function<JsonNode, T> row) {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new ShearsException(file + ":" + (i + 1) + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (!node.isObject()) throw new ShearsException(file + ":" + (i + 1) + ": expected a JSON object, found " + node.getNodeType().name().toLowerCase());
            try {
                out.add(row.apply(node));
            } catch (IllegalArgumentException e) {
                throw new ShearsException(file + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        return out;
    }

    static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new ShearsException(file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new ShearsException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The string field {@code name}. */
    public static String text(JsonNode line, String name) {
        JsonNode v = line.get(name);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing \"" + name + "\" (a string)");
        if (!v.isTextual()) throw new IllegalArgumentException("\"" + name + "\" must be a string, found " + v.getNodeType().name().toLowerCase());
        return v.asText();
    }

    /** The array-of-strings field {@code name} (at least one entry). */
    public static List<String> texts(JsonNode line, String name) {
        JsonNode v = line.get(name);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing \"" + name + "\" (an array of strings)");
        if (!v.isArray() || v.isEmpty()) throw new IllegalArgumentException("\"" + name + "\" must be a non-empty array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) throw new IllegalArgumentException("\"" + name + "\" must hold only strings, found " + e.getNodeType().name().toLowerCase());
            out.add(e.asText());
        }
        return out;
    }

    /** The gold index in field {@code name}, checked against the number of choices. */
    public static int gold(JsonNode line, String name, int choices) {
        JsonNode v = line.get(name);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing \"" + name + "\" (the index of the right choice)");
        if (!v.canConvertToExactIntegral() || !v.isNumber()) throw new IllegalArgumentException("\"" + name + "\" must be an integer, found " + v);
        int g = v.asInt();
        if (g < 0 || g >= choices) throw new IllegalArgumentException("\"" + name + "\" is " + g + " but there are " + choices + " choices (0.." + (choices - 1) + ")");
        return g;
    }
}
