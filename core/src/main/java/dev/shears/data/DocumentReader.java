package dev.shears.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.InputStreamReader;
import java.util.function.Consumer;

/**
 * Streams the documents of one input file: JSONL ({@code .jsonl}, {@code .json}: one object per line,
 * the text in a named field) or plain text cut by {@link DocumentSplit}. Only one document is held in
 * memory at a time. Bad input is reported with the file and line.
 */
final class DocumentReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DocumentReader() {
    }

    static boolean isJsonLines(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson");
    }

    /** Calls {@code sink} with each document's text, in file order. */
    static void read(Path file, PrepareOptions options, Consumer<String> sink) {
        if (!Files.isRegularFile(file)) throw new ShearsException(file + ": no such input file");
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)), 1 << 16)) {
            if (isJsonLines(file)) {
                readJsonLines(file, in, options.jsonField(), sink);
            } else {
                readText(file, in, options.textSplit(), sink);
            }
        } catch (CharacterCodingException e) {
            throw new ShearsException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readJsonLines(Path file, BufferedReader in, String field, Consumer<String> sink) throws IOException {
        String line;
        long number = 0;
        while ((line = in.readLine()) != null) {
            number++;
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new ShearsException(file + ":" + number + ": not a JSON object: " + firstLine(e.getMessage()));
            }
            JsonNode text = node == null ? null : node.get(field);
            if (text == null || !text.isTextual()) {
                throw new ShearsException(file + ":" + number + ": no text field \"" + field + "\" (use --field to name another)");
            }
            sink.accept(text.asText());
        }
    }

    private static void readText(Path file, BufferedReader in, DocumentSplit split, Consumer<String> sink) throws IOException {
        StringBuilder doc = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            switch (split) {
                case LINE -> {
                    if (!line.isBlank()) sink.accept(line);
                }
                case PARAGRAPH -> {
                    if (line.isBlank()) {
                        if (!doc.isEmpty()) sink.accept(doc.toString());
                        doc.setLength(0);
                    } else {
                        if (!doc.isEmpty()) doc.append('\n');
                        doc.append(line);
                    }
                }
                case FILE -> doc.append(line).append('\n');
            }
        }
        if (!doc.isEmpty()) sink.accept(doc.toString());
    }

    private static String firstLine(String message) {
        if (message == null) return "";
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
