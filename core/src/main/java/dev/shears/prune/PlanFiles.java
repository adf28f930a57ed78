package dev.shears.prune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.model.Axis;
import dev.shears.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code pruning-plan.json} (kept indices per axis and layer, with the parent's shape) and
 * {@code importance.json} (scores per unit, so one calibration serves several prunings).
 */
public final class PlanFiles {
    public static final String PLAN = "pruning-plan.json";
    public static final String SCORES = "importance.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PlanFiles() {
    }

    public static void writePlan(PruningPlan plan, ModelConfig parent, Path file) {
        ObjectNode root = JSON.createObjectNode().put("format", "shears-pruning-plan").put("version", 1);
        root.putObject("parent").put("shape", parent.describe()).put("params", parent.parameterCount());
        ints(root.putArray("hidden"), plan.hidden());
        ArrayNode layers = root.putArray("layers");
        for (LayerPlan l : plan.layers()) {
            ObjectNode n = layers.addObject().put("kept", l.kept());
            for (Axis a : LayerPlan.AXES) ints(n.putArray(a.key), l.kept(a));
        }
        ints(root.putArray("vocab"), plan.vocab());
        write(file, root);
    }

    public static PruningPlan readPlan(Path file) {
        JsonNode root = read(file, "shears-pruning-plan");
        List<LayerPlan> layers = new ArrayList<>();
        for (JsonNode n : root.path("layers")) {
            Map<Axis, int[]> units = new EnumMap<>(Axis.class);
            for (Axis a : LayerPlan.AXES) units.put(a, ints(n.path(a.key)));
            layers.add(new LayerPlan(n.path("kept").asBoolean(), units));
        }
        return new PruningPlan(ints(root.path("hidden")), layers, ints(root.path("vocab")));
    }

    /**
     * Writes scores with the criterion options they were computed with ({@code options}: informational;
     * reading the file back uses the numbers only).
     */
    public static void writeScores(ImportanceScores s, CriterionOptions options, Path file) {
        ObjectNode root = JSON.createObjectNode().put("format", "shears-importance").put("version", 1)
                .put("criterion", s.criterion().name().toLowerCase(Locale.ROOT)).put("samples", s.samples());
        root.putObject("options").put("taylor", options.taylor().key()).put("taylorReduction", options.taylorReduction().key())
                .put("angularTokens", options.angularTokens().key()).put("finalState", options.finalState().key());
        for (Axis a : ImportanceScores.AXES) {
            ArrayNode array = root.putArray(a.key);
            if (!a.perLayer) doubles(array, s.of(a));
            else for (double[] row : s.perLayer(a)) doubles(array.addArray(), row);
        }
        write(file, root);
    }

    /** Reads scores and checks they fit {@code model}'s shape. */
    public static ImportanceScores readScores(Path file, ModelConfig model) {
        JsonNode root = read(file, "shears-importance");
        Criterion criterion;
        try {
            String name = root.path("criterion").asText().toUpperCase(Locale.ROOT);
            // written before issue 14 made the second-order form a Taylor variant
            criterion = Criterion.valueOf(name.equals("TAYLOR_SECOND_ORDER") ? "TAYLOR" : name);
        } catch (IllegalArgumentException e) {
            throw new ShearsException(file + ": unknown criterion '" + root.path("criterion").asText() + "'");
        }
        Map<Axis, double[][]> rows = new EnumMap<>(Axis.class);
        boolean fits = true;
        for (Axis a : ImportanceScores.AXES) {
            JsonNode node = root.path(a.key);
            double[][] r = a.perLayer ? new double[node.size()][] : new double[][] {doubles(node)};
            if (a.perLayer) for (int l = 0; l < r.length; l++) r[l] = doubles(node.get(l));
            rows.put(a, r);
            fits &= r.length == a.rows(model);
            for (int l = 0; fits && l < r.length; l++) fits = r[l].length == a.units(model, l);
        }
        if (!fits) throw new ShearsException(file + ": these scores were computed for a model of another shape than " + model.describe());
        ImportanceScores s = new ImportanceScores(criterion, rows, root.path("samples").asInt());
        return s;
    }

    private static JsonNode read(Path file, String format) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !format.equals(root.path("format").asText())) throw new ShearsException(file + ": not a " + format + " file");
        return root;
    }

    private static void write(Path file, ObjectNode root) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(root) + "\n");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void ints(ArrayNode a, int[] values) {
        for (int v : values) a.add(v);
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }

    /** Infinite scores (e.g. angular blocks that cannot start at a layer) are written as ±Double.MAX_VALUE: JSON has no infinity. */
    private static void doubles(ArrayNode a, double[] values) {
        for (double v : values) a.add(Double.isNaN(v) ? 0 : Math.max(-Double.MAX_VALUE, Math.min(Double.MAX_VALUE, v)));
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }
}
