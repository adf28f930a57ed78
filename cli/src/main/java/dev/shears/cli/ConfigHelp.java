package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.config.ConfigLoader;
import dev.shears.recipe.ShearConfig;
import dev.shears.train.TrainConfig;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The configuration keys and their defaults in {@code train --help} and {@code shear --help}, written
 * from the defaults records themselves ({@link TrainConfig#DEFAULT}, {@link ShearConfig#DEFAULT}), so
 * that the help cannot disagree with what a run does.
 */
final class ConfigHelp {
    /** Keys the commands' own options stand for. */
    private static final Set<String> OPTIONS = Set.of("init", "model", "tokenizer", "data", "dtype");
    private static final int WIDTH = 105;

    private ConfigHelp() {
    }

    /** Appends the defaults to the descriptions of {@code train} and {@code shear}. */
    static void install(CommandLine cli) {
        append(cli.getSubcommands().get("train"), "Configuration keys (defaults): ", TrainConfig.DEFAULT);
        append(cli.getSubcommands().get("shear"), "Training keys of shear (defaults; --set key=value): ", ShearConfig.DEFAULT.train());
    }

    private static void append(CommandLine command, String lead, Object defaults) {
        UsageMessageSpec usage = command.getCommandSpec().usageMessage();
        List<String> description = new ArrayList<>(List.of(usage.description()));
        description.addAll(lines(lead, defaults));
        usage.description(description.toArray(String[]::new));
    }

    /** {@code lead} and then {@code key value} pairs, nested records as {@code name.{key value, ...}}, wrapped. */
    static List<String> lines(String lead, Object defaults) {
        List<String> items = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : ConfigLoader.toTree(defaults).properties()) {
            if (OPTIONS.contains(e.getKey())) continue;
            items.add(item(e.getKey(), e.getValue()));
        }
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder(lead);
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i) + (i + 1 < items.size() ? "," : ".");
            if (line.length() + 1 + item.length() > WIDTH) {
                out.add(line.toString().stripTrailing());
                line.setLength(0);
            } else if (!line.isEmpty() && !line.toString().endsWith(" ")) {
                line.append(' ');
            }
            line.append(item);
        }
        out.add(line.toString());
        return out;
    }

    private static String item(String key, JsonNode value) {
        if (!value.isObject()) return key + " " + value(value);
        if (value.isEmpty()) return key + " {}";
        List<String> inner = new ArrayList<>();
        value.properties().forEach(e -> inner.add(item(e.getKey(), e.getValue())));
        return key + ".{" + String.join(", ", inner) + "}";
    }

    private static String value(JsonNode v) {
        if (v.isNull() || v.isTextual() && v.asText().isEmpty()) return "\"\""; // an absent path or setting
        if (v.isTextual()) return v.asText();
        if (v.isFloatingPointNumber()) {
            double d = v.asDouble();
            if (d != 0 && Math.abs(d) < 1e-3) return String.format(Locale.ROOT, "%.0e", d).replace("e-0", "e-");
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return v.toString();
    }
}
