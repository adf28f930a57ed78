package dev.shears.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.shears.ShearsException;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Configuration as data: a record's defaults, then a YAML or JSON file, then {@code --set a.b=c}
 * overrides, in that order. Unknown keys and values of the wrong type are reported with their path.
 * Records group their settings in small {@link Flat} records that files spell as keys of the
 * enclosing object; paths are plain strings in files, and an absent optional path is {@code null} or {@code ""}.
 */
public final class ConfigLoader {
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new Jdk8Module())
            .registerModule(new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance).addDeserializer(Path.class, new PathFromText()))
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ConfigLoader() {
    }

    /**
     * @param defaults  the record holding every default
     * @param file      an optional YAML ({@code .yaml}/{@code .yml}) or JSON file
     * @param overrides {@code key.path=value}; the value is read as JSON when it parses (numbers, booleans,
     *                  lists), else as a string
     */
    @SuppressWarnings("unchecked")
    public static <T> T load(T defaults, Optional<Path> file, List<String> overrides) {
        ObjectNode tree = toTree(defaults);
        String source = "defaults";
        if (file.isPresent()) {
            Path path = file.get();
            source = path.toString();
            JsonNode fromFile = readTree(path);
            if (fromFile != null && !fromFile.isNull()) {
                if (!fromFile.isObject()) throw new ShearsException(path + ": the configuration must be a mapping of keys to values");
                merge(tree, (ObjectNode) fromFile, "");
            }
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) throw new ShearsException("--set " + override + ": expected key=value");
            set(tree, override.substring(0, eq).trim(), parseValue(override.substring(eq + 1)));
            source = source + ", --set";
        }
        nest(tree, defaults.getClass());
        checkWholeNumbers(tree, defaults.getClass(), "configuration key '", "' (" + source + ")");
        try {
            return (T) JSON.treeToValue(tree, defaults.getClass());
        } catch (UnrecognizedPropertyException e) {
            throw new ShearsException("unknown configuration key '" + path(e) + "' (" + source + "); known keys here: " + knownKeys(e));
        } catch (MismatchedInputException e) {
            throw new ShearsException("configuration key '" + path(e) + "' (" + source + "): " + oneLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof ShearsException invalid) throw new ShearsException("configuration (" + source + "): " + invalid.getMessage());
            String key = keyOf(e);
            throw new ShearsException((key.isEmpty() ? "configuration" : "configuration key '" + key + "'") + " (" + source + "): "
                    + oneLine(e.getOriginalMessage()));
        }
    }

    /**
     * Defaults overlaid with one section of a larger file (e.g. a pipeline stage); errors name the
     * key as {@code where.key}.
     */
    @SuppressWarnings("unchecked")
    public static <T> T section(T defaults, JsonNode section, String where) {
        ObjectNode tree = toTree(defaults);
        if (section != null && !section.isNull()) {
            if (!section.isObject()) throw new ShearsException(where + ": expected a mapping of keys to values");
            merge(tree, (ObjectNode) section, "");
        }
        nest(tree, defaults.getClass());
        checkWholeNumbers(tree, defaults.getClass(), where + ".", "");
        try {
            return (T) JSON.treeToValue(tree, defaults.getClass());
        } catch (UnrecognizedPropertyException e) {
            throw new ShearsException(where + "." + path(e) + ": unknown key; known keys here: " + knownKeys(e));
        } catch (MismatchedInputException e) {
            throw new ShearsException(where + "." + path(e) + ": " + oneLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof ShearsException invalid) throw new ShearsException(where + ": " + invalid.getMessage());
            String key = keyOf(e);
            throw new ShearsException(where + (key.isEmpty() ? "" : "." + key) + ": " + oneLine(e.getOriginalMessage()));
        }
    }

    /** Reads a YAML or JSON file as a tree, with the line of a syntax error. */
    public static JsonNode readTree(Path path) {
        try {
            String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            JsonNode node = (name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : JSON).readTree(Files.readString(path));
            return node == null ? JSON.nullNode() : node;
        } catch (JsonProcessingException e) {
            throw new ShearsException(path + ": " + oneLine(e.getOriginalMessage())
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")" : ""));
        } catch (IOException e) {
            throw new ShearsException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a fraction where a record wants a whole number ({@code steps: 2.5}); {@code 2.0e9} stays
     * {@code 2000000000}. The message names the key as files spell it.
     */
    private static void checkWholeNumbers(ObjectNode tree, Class<?> type, String before, String after) {
        if (!type.isRecord()) return;
        for (RecordComponent c : type.getRecordComponents()) {
            JsonNode value = tree.get(c.getName());
            Class<?> t = c.getType();
            if (value instanceof ObjectNode child) {
                checkWholeNumbers(child, t, c.isAnnotationPresent(Flat.class) ? before : before + c.getName() + ".", after);
            } else if (value != null && value.isFloatingPointNumber() && (t == int.class || t == long.class || t == Integer.class || t == Long.class)
                    && value.asDouble() != Math.rint(value.asDouble())) {
                throw new ShearsException(before + c.getName() + after + ": must be a whole number, got " + value.asText());
            }
        }
    }

    /** The key a parser error is about, as files spell it ("" when it names none). */
    private static String keyOf(JsonProcessingException e) {
        return e instanceof JsonMappingException m && !m.getPath().isEmpty() ? path(m) : "";
    }

    /** A parser's message on one line: YAML's quotes the offending source over several indented lines, which the location replaces. */
    static String oneLine(String message) {
        return message.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).map(String::strip)
                .collect(Collectors.joining("; "));
    }

    /** The resolved configuration as JSON text, written into every output folder before work starts. */
    public static String toJson(Object config) {
        try {
            return JSON.writeValueAsString(config instanceof Record ? toTree(config) : config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A mapper that reads and writes paths and optionals as configurations do (a copy: configure it freely). */
    public static ObjectMapper mapper() {
        return JSON.copy();
    }

    /** A configuration record as files spell it: {@link Flat} groups' keys in their enclosing object. */
    public static ObjectNode toTree(Object config) {
        // a record that is written as what one of its methods returns (@JsonValue, as a train stage is its TrainConfig's keys and its objective)
        for (java.lang.reflect.Method m : config.getClass().isRecord() ? config.getClass().getMethods() : new java.lang.reflect.Method[0]) {
            if (m.getParameterCount() == 0 && m.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonValue.class)) {
                try {
                    return toTree(m.invoke(config));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        ObjectNode tree = JSON.valueToTree(config);
        flatten(tree, config.getClass());
        return tree;
    }

    /** The keys a record reads from its own object: its components, a {@link Flat} group's replaced by the group's keys. */
    public static List<String> keys(Class<?> type) {
        List<String> keys = new ArrayList<>();
        for (RecordComponent c : type.getRecordComponents()) {
            if (c.isAnnotationPresent(Flat.class)) keys.addAll(keys(c.getType()));
            else keys.add(c.getName());
        }
        return keys;
    }

    private static void flatten(ObjectNode tree, Class<?> type) {
        if (!type.isRecord()) return;
        ObjectNode out = JSON.createObjectNode();
        for (RecordComponent c : type.getRecordComponents()) {
            JsonNode value = tree.get(c.getName());
            if (value instanceof ObjectNode child && c.getType().isRecord()) flatten(child, c.getType());
            if (c.isAnnotationPresent(Flat.class) && value instanceof ObjectNode child) out.setAll(child);
            else if (value != null) out.set(c.getName(), value);
        }
        tree.removeAll();
        tree.setAll(out);
    }

    /** The inverse of {@link #flatten}: each {@link Flat} group's keys moved into an object of its own, as the records read them. */
    private static void nest(ObjectNode tree, Class<?> type) {
        if (!type.isRecord()) return;
        for (RecordComponent c : type.getRecordComponents()) {
            if (c.isAnnotationPresent(Flat.class)) {
                ObjectNode child = JSON.createObjectNode();
                for (String key : keys(c.getType())) {
                    JsonNode value = tree.remove(key);
                    if (value != null) child.set(key, value);
                }
                nest(child, c.getType());
                tree.set(c.getName(), child);
            } else if (c.getType().isRecord() && tree.get(c.getName()) instanceof ObjectNode child) {
                nest(child, c.getType());
            }
        }
    }

    /** A plain string, not a URI; blank is no path. */
    private static final class PathFromText extends StdDeserializer<Path> {
        PathFromText() {
            super(Path.class);
        }

        @Override
        public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            if (text == null) return (Path) ctxt.handleUnexpectedToken(Path.class, p);
            return text.isBlank() ? null : Path.of(text);
        }
    }

    private static void merge(ObjectNode into, ObjectNode from, String prefix) {
        Iterator<Map.Entry<String, JsonNode>> fields = from.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode existing = into.get(f.getKey());
            if (existing != null && existing.isObject() && f.getValue().isObject()) {
                merge((ObjectNode) existing, (ObjectNode) f.getValue(), prefix + f.getKey() + ".");
            } else {
                into.set(f.getKey(), f.getValue());
            }
        }
    }

    private static void set(ObjectNode tree, String key, JsonNode value) {
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || !child.isObject()) {
                if (child != null && !child.isNull()) throw new ShearsException("--set " + key + ": '" + parts[i] + "' is not a section");
                child = node.putObject(parts[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(parts[parts.length - 1], value);
    }

    private static boolean isFlatGroup(JsonMappingException.Reference ref) {
        Object from = ref.getFrom();
        Class<?> type = from instanceof Class<?> c ? c : from == null ? null : from.getClass();
        if (type == null || !type.isRecord() || ref.getFieldName() == null) return false;
        for (RecordComponent c : type.getRecordComponents()) {
            if (c.getName().equals(ref.getFieldName())) return c.isAnnotationPresent(Flat.class);
        }
        return false;
    }

    private static JsonNode parseValue(String text) {
        try {
            JsonNode parsed = JSON.readTree(text);
            if (parsed != null && !parsed.isMissingNode()) return parsed;
        } catch (JsonProcessingException ignored) {
            // not JSON: a plain string
        }
        return JsonNodeFactory.instance.textNode(text);
    }

    private static String knownKeys(UnrecognizedPropertyException e) {
        Class<?> at = e.getReferringClass();
        List<String> known = at != null && at.isRecord() ? keys(at) : e.getKnownPropertyIds().stream().map(Object::toString).toList();
        return known.stream().sorted().collect(Collectors.joining(", "));
    }

    /** The key path of an error as files spell it ({@link Flat} groups are not part of it). */
    private static String path(JsonMappingException e) {
        return e.getPath().stream().filter(ref -> !isFlatGroup(ref))
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }
}
