package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.data.TokenDataset;
import dev.shears.io.AtomicFiles;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.train.DynamicBatchLoading;
import dev.shears.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code shears pipeline run}: compression in stages (OpenBA-V2: prune a little, heal, prune more,
 * heal, ...). Each stage's output folder is the next stage's input model; a finished stage leaves
 * {@code stage.json}, so a killed pipeline resumes at the stage (and, for training, the step) where
 * it stopped. The whole file is validated before any work: unknown keys, missing data and targets
 * the model will not have room for at that stage are reported with the YAML path of the problem.
 *
 * <pre>
 * model: ../shared/data/models/stories260K/hf      # or, with a first train stage: omit it and give train.init
 * tokenizer: ../shared/data/models/stories260K/tok512.bin
 * stages:
 *   - name: drop-a-layer
 *     prune: {layers: 0.2, layerImportance: block-influence, calibration: ts.txt}
 *   - name: heal
 *     train: {data: [{path: data/ts, weight: 1}], steps: 200, lr: 3.0e-4}
 * </pre>
 */
public final class Pipeline {
    public static final String DONE = "stage.json";
    /** The stages and their settings as last run, in the output folder. */
    public static final String RECORD = "pipeline.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> KINDS = List.of("prune", "shear", "train", "distill", "eval", "export");

    /** One stage: its position, name and typed settings. */
    public record Stage(int index, String name, StageSettings settings) {
        /** The stage's kind: its key in the pipeline file. */
        public String kind() {
            return settings.kind();
        }

        /** The stage's folder name, e.g. {@code 02-heal}. */
        public String folder() {
            return String.format(Locale.ROOT, "%02d-%s", index + 1, name);
        }
    }

    /** A loaded, validated pipeline. */
    public record Plan(Path file, Path base, Optional<Path> model, Optional<Path> tokenizer, List<Stage> stages, List<ModelShape> shapes) {
    }

    /** What one stage did. */
    public record StageResult(Stage stage, Path out, ModelShape shape, double seconds, boolean skipped, StageSummary summary) {
    }

    private Pipeline() {
    }

    /** Reads and validates a pipeline file; nothing is written. */
    public static Plan load(Path file) {
        JsonNode root = ConfigLoader.readTree(file);
        if (!root.isObject()) throw new ShearsException(file + ": a pipeline is a mapping with 'model', 'tokenizer' and 'stages'");
        Path base = file.toAbsolutePath().getParent();
        List<String> unknown = new ArrayList<>();
        root.fieldNames().forEachRemaining(k -> {
            if (!List.of("model", "tokenizer", "stages").contains(k)) unknown.add(k);
        });
        if (!unknown.isEmpty()) throw new ShearsException(file + ": unknown key(s) " + unknown + " at the top (known: model, tokenizer, stages)");
        Optional<Path> model = text(root, "model").map(base::resolve);
        Optional<Path> tokenizer = text(root, "tokenizer").map(base::resolve);
        mustExist(file + ": model", model);
        mustExist(file + ": tokenizer", tokenizer);
        JsonNode stagesNode = root.path("stages");
        if (!stagesNode.isArray() || stagesNode.isEmpty()) throw new ShearsException(file + ": 'stages' must be a non-empty list");
        List<Stage> stages = new ArrayList<>();
        for (int i = 0; i < stagesNode.size(); i++) stages.add(stage(file, base, stagesNode.get(i), i, model));
        List<String> names = stages.stream().map(Stage::name).toList();
        for (String n : names) {
            if (Collections.frequency(names, n) > 1) throw new ShearsException(file + ": two stages are named '" + n + "'");
        }
        return new Plan(file, base, model, tokenizer, stages, PipelineShapes.simulate(file, model, tokenizer, stages));
    }

    private static Stage stage(Path file, Path base, JsonNode node, int i, Optional<Path> model) {
        boolean noModel = model.isEmpty();
        String where = file.getFileName() + ": stages[" + i + "]";
        if (!node.isObject()) throw new ShearsException(where + ": expected a mapping such as {name: heal, train: {...}}");
        List<String> kinds = new ArrayList<>();
        node.fieldNames().forEachRemaining(k -> {
            if (!k.equals("name")) kinds.add(k);
        });
        if (kinds.size() != 1 || !KINDS.contains(kinds.getFirst())) {
            throw new ShearsException(where + ": a stage has a name and exactly one of " + KINDS + "; got " + kinds);
        }
        String kind = kinds.getFirst();
        JsonNode nameNode = node.path("name");
        if (!nameNode.isMissingNode() && (!nameNode.isTextual() || nameNode.asText().isBlank() || nameNode.asText().chars().anyMatch(Character::isISOControl))) {
            throw new ShearsException(where + ".name: a stage name is printable text (or left out for '" + kind + (i + 1) + "'), got " + nameNode);
        }
        String name = nameNode.asText(kind + (i + 1)).replaceAll("[^A-Za-z0-9._-]", "-");
        String at = where + "." + kind;
        StageSettings settings = switch (kind) {
            case "prune" -> checked(ConfigLoader.section(PruneStage.DEFAULT, node.get(kind), at), at + ": ", p -> {
                // the target is checked against the shape the stage meets (PipelineShapes)
                mustExist("calibration", p.windows().calibration().map(base::resolve));
                mustExist("vocabCorpus", p.vocabulary().vocabCorpus().map(base::resolve));
            });
            case "train", "distill" -> {
                Optional<TrainStage.Denoising> denoising = TrainStage.Denoising.of(node.get(kind), at);
                TrainConfig t = ConfigLoader.section(TrainConfig.DEFAULT, TrainStage.Denoising.without(node.get(kind)), at);
                if (kind.equals("distill")) {
                    // continued training against a teacher: the pipeline's parent unless another is named
                    if (t.distill().alpha() == 0) throw new ShearsException(at + ".distill.alpha: a distill stage needs alpha > 0");
                    if (!t.distill().enabled() && noModel) throw new ShearsException(at + ".distill.teacher: name the teacher (the pipeline has no 'model')");
                    if (!t.distill().enabled()) t = t.with(t.distill().withTeacher(model));
                }
                Optional<Path> init = t.source().init();
                if (t.source().model().isPresent()) throw new ShearsException(at + ".model: a stage trains the previous stage's model; remove this key");
                if (init.isPresent() && !(i == 0 && noModel)) {
                    throw new ShearsException(at + ".init: only a first stage of a pipeline without 'model' trains from scratch");
                }
                if (i == 0 && noModel && init.isEmpty()) throw new ShearsException(at + ": the pipeline has no 'model', so this first stage needs 'init'");
                yield new TrainStage(withData(t, dataSources(at, base, t), init.map(base::resolve), base), kind.equals("distill"), denoising);
            }
            case "shear" -> {
                // target/targetConfig (decoder-only) or heads...decLayers (encoder-decoder): checked against the model's kind (PipelineShapes)
                ShearConfig c = ConfigLoader.section(ShearConfig.DEFAULT, node.get(kind), at);
                TrainConfig t = c.train();
                if (t.source().model().isPresent() || t.source().init().isPresent()) {
                    throw new ShearsException(at + ".train: a stage shears the previous stage's model; remove model/init");
                }
                yield c.withTrain(withData(t, dataSources(at + ".train", base, t), Optional.empty(), base))
                        .withTargetConfig(c.targetConfig().isBlank() ? "" : base.resolve(c.targetConfig()).toString());
            }
            case "eval" -> checked(ConfigLoader.section(EvalStage.DEFAULT, node.get(kind), at), at + ".", e -> e.resolve(base));
            case "export" -> checked(ConfigLoader.section(ExportStage.DEFAULT, node.get(kind), at), at + ": ", e -> e.export(base, base));
            default -> throw new IllegalStateException(kind);
        };
        if (i == 0 && noModel && !(settings instanceof TrainStage)) {
            throw new ShearsException(where + ": the pipeline has no 'model', so it must start with a train stage that has 'init'");
        }
        return new Stage(i, name, settings);
    }

    /**
     * Resuming an edited pipeline: every stage that already ran must have the settings it ran with
     * (pipeline.json), otherwise its result no longer follows from the file; refused, naming the stages.
     */
    private static void checkFinishedStagesUnchanged(Plan plan, Path out, String recordText) {
        Path file = out.resolve(RECORD);
        if (!Files.isRegularFile(file)) return;
        JsonNode before, record; // both parsed from text, so numbers compare alike
        try {
            before = JSON.readTree(Files.readString(file));
            record = JSON.readTree(recordText);
        } catch (IOException e) {
            throw new ShearsException(file + ": unreadable pipeline record: " + e.getMessage().lines().findFirst().orElse(""));
        }
        Map<String, JsonNode> ran = new LinkedHashMap<>();
        for (JsonNode n : before) ran.put(n.path("name").asText() + "/" + n.path("kind").asText(), n.path("settings"));
        List<String> changed = new ArrayList<>();
        for (int i = 0; i < plan.stages().size(); i++) {
            Stage s = plan.stages().get(i);
            if (!Files.isRegularFile(out.resolve(s.folder()).resolve(DONE))) continue;
            JsonNode was = ran.get(s.name() + "/" + s.kind());
            if (was == null || !was.equals(record.get(i).path("settings"))) changed.add(s.folder());
        }
        if (!changed.isEmpty()) {
            throw new ShearsException(out + ": stages " + changed + " ran with other settings than the pipeline file now gives; run the edited "
                    + "pipeline into another --out, or delete those stages' folders (and the ones after them) to redo them");
        }
    }

    /** A path a pipeline names must be there before the first stage runs. */
    private static void mustExist(String what, Optional<Path> path) {
        if (path.isPresent() && !Files.exists(path.get())) throw new ShearsException(what + " " + path.get() + " does not exist");
    }

    /** Runs a stage's own check of its settings, its message prefixed with where the stage is. */
    private static <T extends StageSettings> T checked(T settings, String prefix, Consumer<T> check) {
        try {
            check.accept(settings);
        } catch (ShearsException e) {
            throw new ShearsException(prefix + e.getMessage());
        }
        return settings;
    }

    /** The prepared folders of a training section, resolved against the pipeline's folder and checked. */
    private static List<TrainConfig.DataSource> dataSources(String at, Path base, TrainConfig t) {
        List<TrainConfig.DataSource> sources = t.batching().data();
        if (sources.isEmpty()) throw new ShearsException(at + ".data: give at least one prepared folder, e.g. [{path: data/ts, weight: 1}]");
        List<TrainConfig.DataSource> data = new ArrayList<>();
        for (int d = 0; d < sources.size(); d++) {
            Path p = base.resolve(sources.get(d).path());
            if (!Files.isRegularFile(p.resolve(TokenDataset.INDEX)) && !Files.isRegularFile(p)) {
                throw new ShearsException(at + ".data[" + d + "].path: " + p + " is neither a prepared token folder (made by 'shears data prepare') "
                        + "nor a text/JSONL file (tokenized with the stage's model's tokenizer)");
            }
            data.add(new TrainConfig.DataSource(p, sources.get(d).weight()));
        }
        return data;
    }

    /** A training section with its paths (data, init, reference model, teacher, tokenizer) resolved against the pipeline's folder. */
    private static TrainConfig withData(TrainConfig t, List<TrainConfig.DataSource> data, Optional<Path> init, Path base) {
        DynamicBatchLoading dbl = t.dynamicBatchLoading().withPaths(p -> base.resolve(p).toString());
        return t.with(t.source().from(init, t.source().model(), t.source().tokenizer().map(base::resolve))).with(t.batching().withData(data))
                .with(dbl).with(t.distill().withTeacher(t.distill().teacher().map(base::resolve)));
    }

    /** Runs (or, with {@code resume}, continues) every stage into {@code out}, in one process. */
    public static List<StageResult> run(Plan plan, Path out, boolean resume, Progress progress, Consumer<String> log, Consumer<StageResult> onStage) {
        return run(plan, out, resume, progress, log, onStage, new SingleProcess());
    }

    /**
     * Runs (or continues) every stage into {@code out} on every rank of {@code collective}: each rank runs each stage,
     * the train and shear stages sharing their micro-batches over the ranks ({@link TrainRun}, {@link ShearRun}),
     * prune stages their calibration windows ({@link PruneRun}) and eval stages their items ({@link EvalRun});
     * rank 0 alone writes the pipeline's own files, and every rank waits at a barrier after each such write before
     * it reads what was written. The result is the same bits for any number of ranks.
     */
    public static List<StageResult> run(Plan plan, Path out, boolean resume, Progress progress, Consumer<String> log, Consumer<StageResult> onStage,
                                        Collective collective) {
        if (!resume && !AtomicFiles.isMissingOrEmpty(out)) {
            throw new ShearsException(out + ": already exists; pass --resume to continue that pipeline, or choose another --out");
        }
        List<JsonNode> record = plan.stages().stream()
                .map(s -> (JsonNode) JSON.createObjectNode().put("name", s.name()).put("kind", s.kind()).set("settings", ConfigLoader.toTree(s.settings()))).toList();
        String recordText = ConfigLoader.toJson(record) + "\n";
        if (resume) checkFinishedStagesUnchanged(plan, out, recordText);
        collective.barrier(); // every rank has looked at OUT before rank 0 writes into it
        byRankZero(collective, () -> {
            AtomicFiles.removeDebris(out);
            AtomicFiles.writeString(out.resolve(RECORD), recordText);
        });
        Path current = plan.model().orElse(null);
        Optional<Path> tokenizer = plan.tokenizer();
        List<StageResult> results = new ArrayList<>();
        boolean passThrough;
        for (Stage s : plan.stages()) {
            Path dir = out.resolve(s.folder());
            long began = System.nanoTime();
            if (Files.isRegularFile(dir.resolve(DONE))) {
                log.accept("stage " + s.folder() + ": done earlier, skipped");
                StageSummary done = readSummary(dir);
                boolean through = done.passThrough();
                StageResult r = new StageResult(s, dir, ModelShape.of(through ? current : dir), done.seconds(), true, done);
                results.add(r);
                onStage.accept(r);
                if (!through) {
                    current = dir;
                    tokenizer = Optional.empty();
                }
                continue;
            }
            log.accept("stage " + s.folder() + " (" + s.kind() + ")");
            passThrough = false;
            StageSummary.Outcome outcome;
            boolean seq2seq = current != null && EncoderDecoder.describes(current); // T5 or OpenBA
            ModelShape shape = switch (s.settings()) {
                case PruneStage p when seq2seq -> {
                    byRankZero(collective, () -> clearStage(dir)); // an unfinished prune is redone from the start
                    EncoderDecoderPruneRun.Result r = p.encoderDecoderRun(current, dir, plan.base()).run(log, collective);
                    outcome = new StageSummary.Pruned(r.paramsBefore(), r.paramsAfter(), r.perplexityBefore(), r.perplexityAfter());
                    yield new ModelShape.Seq2Seq(r.pruned().config());
                }
                case TrainStage stage when seq2seq -> {
                    boolean started = Files.isRegularFile(dir.resolve(TrainRun.CONFIG)); // every rank looks before rank 0 writes
                    TrainConfig modelled = withModel(stage.config(), current, tokenizer);
                    Optional<dev.shears.tokenizer.Tokenizer> tok = ModelSource.tokenizer(current, tokenizer);
                    TrainConfig config = preparedFiles(modelled, tok, dir, progress, collective);
                    TrainStage.Denoising d = stage.denoising().orElse(TrainStage.Denoising.DEFAULT);
                    Seq2SeqTrainRun.Result r = Seq2SeqTrainRun.run(config, d.objective(), d.dynamic(), dir, started, progress, collective);
                    outcome = new StageSummary.Trained(r.steps(), r.lastLoss(), r.resumedFrom(), r.heldOutLoss(), Map.of());
                    yield new ModelShape.Seq2Seq(r.model().config());
                }
                case ShearConfig c when seq2seq -> {
                    boolean started = Files.isRegularFile(dir.resolve(ShearRun.CONFIG)); // every rank looks before rank 0 writes
                    TrainConfig modelled = withModel(c.train(), current, tokenizer);
                    Optional<dev.shears.tokenizer.Tokenizer> tok = ModelSource.tokenizer(current, tokenizer);
                    ShearConfig config = c.withTrain(preparedFiles(modelled, tok, dir, progress, collective));
                    ShearConfig.EncoderDecoderShear e = c.encoderDecoder();
                    Seq2SeqShearRun.Result r = Seq2SeqShearRun.run(config, e.target(), e.denoisers(), e.dynamicWeights(), dir, started, progress, collective);
                    outcome = new StageSummary.Sheared(r.steps(), r.lastLoss(), r.resumedFrom(), r.parent().parameterCount(), r.pruned().parameterCount(),
                            r.prunedHeldOutLoss());
                    yield new ModelShape.Seq2Seq(r.pruned().config());
                }
                case PruneStage p -> {
                    byRankZero(collective, () -> clearStage(dir)); // an unfinished prune is redone from the start
                    PruneRun.Result r = p.run(current, tokenizer, dir, plan.base(), Optional.empty()).run(progress, log, collective);
                    outcome = new StageSummary.Pruned(r.parent().parameterCount(), r.pruned().parameterCount(), r.perplexityBefore(), r.perplexityAfter());
                    yield new ModelShape.Decoder(r.pruned());
                }
                case TrainStage stage -> {
                    TrainConfig t = stage.config();
                    boolean fromScratch = t.source().init().isPresent();
                    TrainConfig modelled = fromScratch ? t : withModel(t, current, tokenizer);
                    Optional<dev.shears.tokenizer.Tokenizer> tok = fromScratch ? Optional.empty() : ModelSource.tokenizer(current, tokenizer);
                    boolean started = Files.isRegularFile(dir.resolve(TrainRun.CONFIG)); // every rank looks before rank 0 writes
                    TrainConfig config = preparedFiles(modelled, tok, dir, progress, collective);
                    TrainRun.Result r = TrainRun.run(config, dir, started, progress, collective);
                    Map<String, Double> held = new LinkedHashMap<>(), epochs = new LinkedHashMap<>();
                    for (int d = 0; d < r.domains().size(); d++) {
                        held.put(r.domains().get(d), r.heldOutLoss()[d]);
                        epochs.put(r.domains().get(d), r.epochs()[d]);
                    }
                    outcome = new StageSummary.Trained(r.steps(), r.lastLoss(), r.resumedFrom(), held, epochs);
                    yield new ModelShape.Decoder(r.model().config());
                }
                case ShearConfig c -> {
                    ShearConfig config = c.withTrain(withModel(c.train(), current, tokenizer));
                    boolean started = Files.isRegularFile(dir.resolve(ShearRun.CONFIG));
                    collective.barrier(); // every rank has looked before rank 0 writes
                    ShearRun.Result r = ShearRun.run(config, dir, started, progress, collective);
                    Map<String, Double> held = new LinkedHashMap<>();
                    for (int d = 0; d < r.domains().size(); d++) held.put(r.domains().get(d), r.prunedHeldOutLoss()[d]);
                    outcome = new StageSummary.Sheared(r.steps(), r.lastLoss(), r.resumedFrom(), r.parent().parameterCount(), r.pruned().parameterCount(), held);
                    yield new ModelShape.Decoder(r.pruned());
                }
                case EvalStage e -> {
                    outcome = new StageSummary.Evaluated(current, e.run(current, tokenizer, plan.base(), progress, collective));
                    passThrough = true;
                    yield ModelShape.of(current);
                }
                case ExportStage e -> {
                    Export export = e.export(current, dir);
                    byRankZero(collective, () -> {
                        clearStage(dir);
                        export.run();
                    });
                    outcome = new StageSummary.Exported(current, export.out());
                    passThrough = true;
                    yield ModelShape.of(current);
                }
            };
            double seconds = (System.nanoTime() - began) / 1e9;
            StageSummary summary = new StageSummary(s.name(), s.kind(), outcome, seconds, shape.parameterCount(), shape.describe(), passThrough);
            byRankZero(collective, () -> AtomicFiles.writeString(dir.resolve(DONE), summary.toJson().toPrettyString() + "\n"));
            StageResult r = new StageResult(s, dir, shape, seconds, false, summary);
            results.add(r);
            onStage.accept(r);
            if (!passThrough) {
                current = dir;
                tokenizer = Optional.empty();
            }
        }
        return results;
    }

    /** Runs {@code write} on rank 0 alone; every rank then waits until it is done. */
    private static void byRankZero(Collective collective, Runnable write) {
        if (collective.leads()) write.run();
        collective.barrier();
    }

    /** {@link #preparedFiles} on rank 0; every rank then takes the prepared folders' paths, once they are there. */
    private static TrainConfig preparedFiles(TrainConfig t, Optional<dev.shears.tokenizer.Tokenizer> tokenizer, Path dir, Progress progress,
                                             Collective collective) {
        byRankZero(collective, () -> preparedFiles(t, tokenizer, dir, progress));
        return preparedFiles(t, tokenizer, dir, progress); // prepared by now: the paths alone
    }

    /**
     * Text and JSONL files named as training data are tokenized with the stage's input tokenizer into
     * {@code DIR.data/data-N} beside the stage's folder (once; a resumed stage reuses them), so a stage can train after the
     * vocabulary changed; the stage's own folder holds only its run.
     */
    private static TrainConfig preparedFiles(TrainConfig t, Optional<dev.shears.tokenizer.Tokenizer> tokenizer, Path dir, Progress progress) {
        List<TrainConfig.DataSource> sources = t.batching().data();
        if (sources.stream().noneMatch(d -> Files.isRegularFile(d.path()))) return t;
        dev.shears.tokenizer.Tokenizer tok = tokenizer.orElseThrow(() -> new ShearsException(dir + ": text files as training data need the model's tokenizer"));
        List<TrainConfig.DataSource> data = new ArrayList<>();
        for (int d = 0; d < sources.size(); d++) {
            TrainConfig.DataSource source = sources.get(d);
            Path file = source.path();
            if (!Files.isRegularFile(file)) {
                data.add(source);
                continue;
            }
            Path prepared = dir.resolveSibling(dir.getFileName() + ".data").resolve("data-" + (d + 1));
            if (!Files.isRegularFile(prepared.resolve(TokenDataset.INDEX))) {
                dev.shears.data.DataPreparer.prepare(tok, file.toString(), List.of(file), prepared, dev.shears.data.PrepareOptions.DEFAULT, progress);
            }
            data.add(new TrainConfig.DataSource(prepared, source.weight()));
        }
        return t.with(t.batching().withData(data));
    }

    /** A stage's training settings continuing from {@code model}, with the pipeline's tokenizer when it names one. */
    private static TrainConfig withModel(TrainConfig t, Path model, Optional<Path> tokenizer) {
        return t.with(t.source().from(Optional.empty(), Optional.of(model), tokenizer.or(() -> t.source().tokenizer())));
    }

    private static void clearStage(Path dir) {
        try {
            AtomicFiles.deleteTree(dir);
        } catch (IOException e) {
            throw new ShearsException(dir + ": cannot clear an unfinished stage: " + e.getMessage(), e);
        }
    }

    private static StageSummary readSummary(Path dir) {
        Path file = dir.resolve(DONE);
        try {
            return StageSummary.fromJson(JSON.readTree(Files.readString(file)), file);
        } catch (IOException e) {
            throw new ShearsException(file + ": unreadable stage record; delete it to redo the stage");
        }
    }

    private static Optional<String> text(JsonNode root, String key) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() || n.asText().isBlank() ? Optional.empty() : Optional.of(n.asText());
    }

}
