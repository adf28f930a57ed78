import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.config.ConfigLoader;
import dev.shears.progress.Progress;
import dev.shears.recipe.PerplexityRun;
import dev.shears.recipe.PruneStage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The criterion variants of docs/pruning.md ("Criteria and their sources") measured on held-out text:
 * TinyStories' validation head is cut into three disjoint calibration thirds of its first 75% and a
 * held-out last 25%; each model is pruned one-shot (no healing) with each variant calibrated on each
 * third (32 windows of 128 tokens, the defaults), and the child's rolling perplexity on the first
 * 40,000 characters of the held-out text is recorded. Resumable: rows already in WORK/results.tsv are not recomputed.
 *
 * <pre>
 * mvn -q -B -o package -DskipTests -pl core,cli
 * java --add-modules jdk.incubator.vector -cp cli/target/shears.jar tools/experiments/CriteriaVariants.java /tmp/criteria [widths|layers|all]
 * </pre>
 */
public class CriteriaVariants {
    static final Path DATA = Path.of("../shared/data");
    static final ObjectMapper JSON = new ObjectMapper();
    /** Characters of the held-out text scored (about 20 K tokens, 40 windows of stories260K's 512): every child on the same text. */
    static final int HELD_OUT_CHARS = 40_000;

    record ModelSpec(String name, Path model, Path tokenizer) {
    }

    record Target(String name, Map<String, Object> keys) {
    }

    public static void main(String[] args) throws IOException {
        Path work = Path.of(args.length > 0 ? args[0] : "/tmp/criteria");
        String which = args.length > 1 ? args[1] : "all";
        Files.createDirectories(work);
        List<Path> thirds = split(work);
        Path heldOut = work.resolve("held-out.txt");
        Path results = work.resolve("results.tsv");
        Map<String, Double> done = read(results);
        List<ModelSpec> models = List.of(
                new ModelSpec("stories260K", DATA.resolve("models/stories260K/hf"), DATA.resolve("models/stories260K/tok512.bin")),
                new ModelSpec("aidreams260K", DATA.resolve("models/aidreams260K/aidreams260K.bin"), DATA.resolve("models/aidreams260K/tok512.bin")));

        List<Map<String, Object>> widths = new ArrayList<>();
        for (String v : List.of("gate", "gate-per-sequence", "gate-mix", "gate-mix-per-sequence", "vectorize", "param-first", "param-second", "param-mix")) {
            widths.add(Map.of("importance", "taylor", "taylor", v, "taylorReduction", "sum"));
        }
        for (String v : List.of("param-first", "param-mix")) {
            for (String r : List.of("max", "prod")) widths.add(Map.of("importance", "taylor", "taylor", v, "taylorReduction", r));
        }
        widths.add(Map.of("importance", "activation"));
        widths.add(Map.of("importance", "magnitude"));
        widths.add(Map.of("importance", "random"));
        List<Target> widthTargets = List.of(new Target("ffn50", Map.of("ffn", 0.5)), new Target("heads50-groups", Map.of("heads", 0.5)),
                new Target("heads50-per-group", Map.of("heads", 0.5, "headMode", "PER_GROUP")), new Target("hidden25", Map.of("hidden", 0.25)));
        // aidreams260K is MHA (per-group is the same cut) and out of its domain here: FFN and heads only
        List<Target> outOfDomainTargets = widthTargets.subList(0, 2);

        List<Map<String, Object>> layers = new ArrayList<>();
        for (String state : List.of("normed", "residual")) {
            layers.add(Map.of("layerImportance", "block-influence", "finalState", state));
            for (String tokens : List.of("last", "all")) layers.add(Map.of("layerImportance", "angular", "angularTokens", tokens, "finalState", state));
        }
        // the last token alone sees 1/128 of the positions: does 4 times the windows steady it?
        for (String tokens : List.of("last", "all")) {
            layers.add(Map.of("layerImportance", "angular", "angularTokens", tokens, "finalState", "normed", "samples", 128));
        }

        for (ModelSpec m : models) {
            String baseKey = m.name() + "\t-\tparent\t-";
            if (!done.containsKey(baseKey)) record(results, done, baseKey, ppl(m.model(), Optional.of(m.tokenizer()), heldOut));
            int numLayers = m.name().startsWith("stories") ? 5 : 4;
            List<Target> layerTargets = List.of(new Target("layers1", Map.of("target", "layers=" + (numLayers - 1))),
                    new Target("layers2", Map.of("target", "layers=" + (numLayers - 2))));
            for (int k = 0; k < thirds.size(); k++) {
                if (!which.equals("layers")) {
                    for (Map<String, Object> criteria : widths) {
                        boolean dataFree = !criteria.get("importance").equals("taylor") && !criteria.get("importance").equals("activation");
                        if (dataFree && k > 0) continue;
                        runAll(work, results, done, m, k, thirds.get(k), heldOut, criteria, m.name().startsWith("stories") ? widthTargets : outOfDomainTargets);
                    }
                }
                if (!which.equals("widths")) {
                    for (Map<String, Object> criteria : layers) runAll(work, results, done, m, k, thirds.get(k), heldOut, criteria, layerTargets);
                }
            }
        }
        summary(work, done);
    }

    /** One criterion on one calibration third, every target: the first computes the scores, the others reuse them (angular: per span). */
    static void runAll(Path work, Path results, Map<String, Double> done, ModelSpec m, int k, Path third, Path heldOut, Map<String, Object> criteria,
                       List<Target> targets) throws IOException {
        String label = label(criteria);
        Path scores = null;
        for (Target t : targets) {
            String key = m.name() + "\t" + k + "\t" + label + "\t" + t.name();
            if (done.containsKey(key)) continue;
            Path out = work.resolve("runs").resolve((m.name() + "-" + k + "-" + label + "-" + t.name()).replaceAll("[^A-Za-z0-9.-]", "_"));
            deleteTree(out);
            Map<String, Object> keys = new LinkedHashMap<>(criteria);
            keys.putAll(t.keys());
            keys.put("calibration", third.toAbsolutePath().toString());
            ObjectNode section = JSON.valueToTree(keys);
            boolean angular = "angular".equals(criteria.get("layerImportance"));
            PruneStage stage = ConfigLoader.section(PruneStage.DEFAULT, section, label);
            long began = System.nanoTime();
            stage.run(m.model(), Optional.of(m.tokenizer()), out, Path.of(""), Optional.ofNullable(angular ? null : scores))
                    .run(Progress.SILENT, note -> { });
            double seconds = (System.nanoTime() - began) / 1e9;
            if (scores == null && !angular) scores = out.resolve("importance.json");
            double ppl = ppl(out, Optional.empty(), heldOut);
            System.out.printf(Locale.ROOT, "%s\t%.3f\t(%.1f s)%n", key, ppl, seconds);
            record(results, done, key, ppl);
        }
    }

    static String label(Map<String, Object> criteria) {
        StringBuilder b = new StringBuilder();
        for (String k : List.of("importance", "taylor", "taylorReduction", "layerImportance", "angularTokens", "finalState", "samples")) {
            if (criteria.containsKey(k)) b.append(b.isEmpty() ? "" : "/").append(criteria.get(k));
        }
        return b.toString();
    }

    static double ppl(Path model, Optional<Path> tokenizer, Path text) {
        return PerplexityRun.run(new PerplexityRun.Request(model, tokenizer, text, OptionalInt.empty(), OptionalInt.of(HELD_OUT_CHARS)), Progress.SILENT).ppl();
    }

    /** Lines of the validation head: thirds of the first 75% for calibration, the last 25% held out. */
    static List<Path> split(Path work) throws IOException {
        List<String> lines = Files.readAllLines(DATA.resolve("eval/tinystories/tinystories_val_head.txt"));
        int cut = lines.size() * 3 / 4;
        List<Path> thirds = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            Path p = work.resolve("calibration-" + k + ".txt");
            Files.write(p, lines.subList(cut * k / 3, cut * (k + 1) / 3));
            thirds.add(p);
        }
        Files.write(work.resolve("held-out.txt"), lines.subList(cut, lines.size()));
        return thirds;
    }

    static Map<String, Double> read(Path results) throws IOException {
        Map<String, Double> done = new LinkedHashMap<>();
        if (!Files.exists(results)) return done;
        for (String line : Files.readAllLines(results)) {
            int tab = line.lastIndexOf('\t');
            done.put(line.substring(0, tab), Double.parseDouble(line.substring(tab + 1)));
        }
        return done;
    }

    static void record(Path results, Map<String, Double> done, String key, double ppl) throws IOException {
        done.put(key, ppl);
        Files.writeString(results, key + "\t" + ppl + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Per model, criterion and target: the mean over calibration thirds, with min and max. */
    static void summary(Path work, Map<String, Double> done) throws IOException {
        Map<String, List<Double>> cells = new TreeMap<>();
        done.forEach((key, ppl) -> {
            String[] f = key.split("\t");
            cells.computeIfAbsent(f[0] + "\t" + f[2] + "\t" + f[3], x -> new ArrayList<>()).add(ppl);
        });
        StringBuilder b = new StringBuilder("model\tcriterion\ttarget\tmean\tmin\tmax\truns\n");
        cells.forEach((key, v) -> b.append(String.format(Locale.ROOT, "%s\t%.2f\t%.2f\t%.2f\t%d%n", key, v.stream().mapToDouble(d -> d).average().orElse(0),
                v.stream().mapToDouble(d -> d).min().orElse(0), v.stream().mapToDouble(d -> d).max().orElse(0), v.size())));
        Files.writeString(work.resolve("summary.tsv"), b.toString());
        System.out.print(b);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
