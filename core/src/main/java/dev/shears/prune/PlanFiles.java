package dev.shears.prune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
            ints(n.putArray("heads"), l.heads());
            ints(n.putArray("kvHeads"), l.kvHeads());
            ints(n.putArray("ffn"), l.ffn());
        }
        ints(root.putArray("vocab"), plan.vocab());
        write(file, root);
    }

    public static PruningPlan readPlan(Path file) {
        JsonNode root = read(file, "shears-pruning-plan");
        List<LayerPlan> layers = new ArrayList<>();
        for (JsonNode n : root.path("layers")) {
            layers.add(new LayerPlan(n.path("kept").asBoolean(), ints(n.path("heads")), ints(n.path("kvHeads")), ints(n.path("ffn"))));
        }
        return new PruningPlan(ints(root.path("hidden")), layers, ints(root.path("vocab")));
    }

    public static void writeScores(ImportanceScores s, Path file) {
        ObjectNode root = JSON.createObjectNode().put("format", "shears-importance").put("version", 1)
                .put("criterion", s.criterion().name().toLowerCase(Locale.ROOT)).put("samples", s.samples());
        doubles(root.putArray("hidden"), s.hidden());
        ArrayNode heads = root.putArray("heads"), ffn = root.putArray("ffn");
        for (double[] h : s.heads()) doubles(heads.addArray(), h);
        for (double[] f : s.ffn()) doubles(ffn.addArray(), f);
        doubles(root.putArray("layers"), s.layers());
        doubles(root.putArray("attentionLayers"), s.attentionLayers());
        doubles(root.putArray("ffnLayers"), s.ffnLayers());
        write(file, root);
    }

    /** Reads scores and checks they fit {@code model}'s shape. */
    public static ImportanceScores readScores(Path file, ModelConfig model) {
        JsonNode root = read(file, "shears-importance");
        Criterion criterion;
        try {
            criterion = Criterion.valueOf(root.path("criterion").asText().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ShearsException(file + ": unknown criterion '" + root.path("criterion").asText() + "'");
        }
        int n = model.numLayers();
        double[][] heads = new double[root.path("heads").size()][], ffn = new double[root.path("ffn").size()][];
        for (int l = 0; l < heads.length; l++) heads[l] = doubles(root.path("heads").get(l));
        for (int l = 0; l < ffn.length; l++) ffn[l] = doubles(root.path("ffn").get(l));
        ImportanceScores s = new ImportanceScores(criterion, doubles(root.path("hidden")), heads, ffn, doubles(root.path("layers")),
                doubles(root.path("attentionLayers")), doubles(root.path("ffnLayers")), root.path("samples").asInt());
        boolean fits = s.hidden().length == model.dim() && heads.length == n && ffn.length == n && s.layers().length == n
                && s.attentionLayers().length == n && s.ffnLayers().length == n;
        for (int l = 0; fits && l < n; l++) fits = heads[l].length == model.layer(l).numHeads() && ffn[l].length == model.layer(l).ffnDim();
        if (!fits) throw new ShearsException(file + ": these scores were computed for a model of another shape than " + model.describe());
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
