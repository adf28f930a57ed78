package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.data.BatchSampler;
import dev.shears.data.TokenDataset;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.format.hf.HfModel;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.model.Flops;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.train.Checkpoint;
import dev.shears.train.DynamicBatchLoading;
import dev.shears.train.InitConfig;
import dev.shears.train.ModelInit;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code shears train}: continued pretraining of a model, or training from scratch, on prepared
 * token folders. The output folder holds the resolved config ({@code train-config.json}, written
 * before work begins), {@code metrics.jsonl} (one line per step and per evaluation), checkpoints,
 * and at the end the trained model as a loadable Hugging Face folder with its tokenizer.
 * A run started again with {@code resume} continues from its newest checkpoint and ends with
 * weights bit-identical to a run that was never interrupted.
 */
public final class TrainRun {
    public static final String CONFIG = "train-config.json";
    public static final String METRICS = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a finished run did. */
    public record Result(Path out, Model model, long steps, long resumedFrom, double lastLoss, List<String> domains,
                         double[] heldOutLoss, double seconds, double tokensPerSecond) {
    }

    private TrainRun() {
    }

    public static Result run(TrainConfig config, Path out, boolean resume, Progress progress) {
        List<TokenDataset> domains = openDomains(config);
        Model model = createModel(config);
        checkVocabulary(model, domains);
        Model teacher = loadTeacher(config, model);
        double[] reference = referenceLosses(config, domains);
        prepareOutput(config, out, resume);

        double[] weights = normalised(config.batching().data().stream().mapToDouble(TrainConfig.DataSource::weight).toArray());
        Trainer trainer = new Trainer(model, teacher, new BatchSampler(domains, config.batching().seed(), config.batching().seqLen()), config);
        long start = 0;
        Optional<Path> latest = resume ? Checkpoint.latest(out) : Optional.empty();
        if (latest.isPresent()) {
            Checkpoint c = Checkpoint.restore(latest.get(), model, trainer.optimizer());
            start = c.step();
            if (c.domainWeights().length == weights.length) weights = c.domainWeights();
        }
        long total = config.totalSteps();
        if (start > total) throw new ShearsException(out + ": the newest checkpoint is at step " + start + ", beyond this run's " + total + " steps");
        List<String> names = domains.stream().map(TokenDataset::name).toList();
        long began = System.nanoTime();
        double lastLoss = Double.NaN;
        double[] heldOut = new double[0];
        long trainedTokens = 0;
        double trainSeconds = 0;
        try (BufferedWriter metrics = openMetrics(out, start)) {
            if (start == 0) {
                // where training starts from: the reference losses (with dynamic batch loading) and a step-0 evaluation
                if (config.dynamicBatchLoading().enabled()) {
                    ObjectNode ref = JSON.createObjectNode().put("type", "reference").put("step", 0);
                    ObjectNode losses = ref.putObject("referenceLoss");
                    for (int d = 0; d < names.size(); d++) losses.put(names.get(d), reference[d]);
                    writeLine(metrics, ref);
                }
                if (config.evaluation().evalInterval() > 0) logEvaluation(trainer.evaluate(domains, config.evaluation().evalWindows()), weights, 0, names, metrics);
            }
            progress.start("train", (total - start) * config.tokensPerStep(), "tok");
            double flopsPerToken = Flops.trainingPerToken(model.config(), config.batching().seqLen());
            for (long step = start; step < total; step++) {
                Trainer.StepResult r = trainer.step(step, weights);
                long done = step + 1;
                lastLoss = r.loss();
                trainedTokens += r.tokens();
                trainSeconds += r.seconds();
                double tokensPerSecond = r.tokens() / r.seconds();
                ObjectNode line = JSON.createObjectNode().put("type", "step").put("step", done).put("tokens", done * config.tokensPerStep())
                        .put("loss", r.loss()).put("lr", r.lr()).put("gradNorm", r.gradNorm()).put("tokensPerSecond", tokensPerSecond)
                        .put("gflops", flopsPerToken * tokensPerSecond / 1e9);
                writeLine(metrics, line);
                progress.status(String.format(Locale.ROOT, "step %d/%d loss %.4f lr %.2e", done, total, r.loss(), r.lr()));
                progress.advance(r.tokens());
                boolean last = done == total;
                if (last || (config.evaluation().evalInterval() > 0 && done % config.evaluation().evalInterval() == 0)) {
                    heldOut = trainer.evaluate(domains, config.evaluation().evalWindows());
                    weights = afterEvaluation(config, heldOut, weights, reference, done, names, metrics);
                }
                if (last || (config.checkpointing().checkpointInterval() > 0 && done % config.checkpointing().checkpointInterval() == 0)) {
                    metrics.flush();
                    Checkpoint.save(out, model, trainer.optimizer(), done, weights, null, config.checkpointing().keepCheckpoints());
                }
            }
            progress.finish();
        } catch (IOException e) {
            throw new ShearsException(out.resolve(METRICS) + ": cannot write: " + e.getMessage(), e);
        }
        HfModel.write(model, out, finalDtype(config), HfModel.DEFAULT_SHARD_BYTES);
        copyTokenizer(config, domains, out);
        double seconds = (System.nanoTime() - began) / 1e9;
        return new Result(out, model, total, start, lastLoss, names, heldOut, seconds, trainSeconds > 0 ? trainedTokens / trainSeconds : 0);
    }

    static List<TokenDataset> openDomains(TrainConfig config) {
        if (config.batching().data().isEmpty()) throw new ShearsException("no training data: pass --data DIR (a folder made by 'shears data prepare')");
        List<TokenDataset> domains = new ArrayList<>();
        for (TrainConfig.DataSource source : config.batching().data()) domains.add(TokenDataset.open(source.path()));
        if (config.batching().data().stream().mapToDouble(TrainConfig.DataSource::weight).sum() <= 0) {
            throw new ShearsException("the data weights sum to zero; give at least one domain a positive weight");
        }
        return domains;
    }

    /** Reference loss per domain (in data order) when dynamic batch loading is on; checked before any work. */
    static double[] referenceLosses(TrainConfig config, List<TokenDataset> domains) {
        DynamicBatchLoading dbl = config.dynamicBatchLoading();
        double[] reference = new double[domains.size()];
        if (!dbl.enabled()) return reference;
        double[] measured = dbl.referenceModel().isBlank() ? null
                : Trainer.heldOutLoss(ModelLoader.open(Path.of(dbl.referenceModel())), domains, config.batching().seqLen(), config.evaluation().evalWindows(), dev.shears.model.MaskSet.NONE);
        List<String> missing = new ArrayList<>();
        for (int d = 0; d < domains.size(); d++) {
            Double r = dbl.referenceLosses().get(domains.get(d).name());
            if (r == null && measured != null && !Double.isNaN(measured[d])) r = measured[d];
            if (r == null) missing.add(domains.get(d).name());
            else reference[d] = r;
        }
        if (!missing.isEmpty()) {
            throw new ShearsException("dynamic batch loading needs a reference loss for every domain; missing: " + String.join(", ", missing)
                    + " (set dynamicBatchLoading.referenceModel, or dynamicBatchLoading.referenceLosses, e.g. --set 'dynamicBatchLoading.referenceLosses={\"" + missing.getFirst() + "\": 2.5}')");
        }
        for (String name : dbl.referenceLosses().keySet()) {
            if (domains.stream().noneMatch(d -> d.name().equals(name))) {
                throw new ShearsException("dynamicBatchLoading.referenceLosses names '" + name + "', which is not one of the domains "
                        + domains.stream().map(TokenDataset::name).toList());
            }
        }
        return reference;
    }

    private static Model createModel(TrainConfig config) {
        Optional<Path> init = config.source().init(), model = config.source().model();
        if (init.isPresent() == model.isPresent()) {
            throw new ShearsException("give exactly one of --init CONFIG.json (train from scratch) or --model PATH (continue training)");
        }
        ModelConfig shape = model.isPresent() ? ModelLoader.config(model.get()) : HfConfig.read(init.get());
        MemoryPlan.training("training", shape, config.batching().batchSize(), config.batching().seqLen()).check();
        if (model.isPresent()) return ModelLoader.load(model.get());
        return ModelInit.initialize(shape, new InitConfig(config.source().initStd(), true, config.batching().seed()));
    }

    /** The dtype the final model is written in: the configured one, else the starting model's file dtype (f32 from scratch). */
    static DType finalDtype(TrainConfig config) {
        if (!config.source().dtype().isBlank()) return DType.parse(config.source().dtype()).orElseThrow();
        if (config.source().model().isEmpty()) return DType.F32;
        try (Model source = ModelLoader.open(config.source().model().get())) {
            return DType.of(source.weights().encoding());
        }
    }

    /** The distillation teacher, checked against the student before any work; null without distillation. */
    private static Model loadTeacher(TrainConfig config, Model student) {
        if (!config.distill().enabled()) return null;
        Path path = config.distill().teacher().orElseThrow();
        Model teacher = ModelLoader.open(path); // forward only: its weights stay mapped in their dtype
        if (teacher.config().vocabSize() != student.config().vocabSize()) {
            throw new ShearsException(path + ": the teacher has " + teacher.config().vocabSize() + " vocabulary entries, the student "
                    + student.config().vocabSize() + "; distillation needs the same vocabulary");
        }
        return teacher;
    }

    static void checkVocabulary(Model model, List<TokenDataset> domains) {
        for (TokenDataset d : domains) {
            if (d.vocabSize() > model.config().vocabSize()) {
                throw new ShearsException(d.dir() + ": prepared with a " + d.vocabSize() + "-token vocabulary, but the model has only "
                        + model.config().vocabSize() + " embeddings");
            }
        }
    }

    /** Creates the output folder and writes the resolved config, or checks it against the one there when resuming. */
    private static void prepareOutput(TrainConfig config, Path out, boolean resume) {
        prepareOutput(config, CONFIG, out, resume);
    }

    /** As above for any recipe's config record, written as {@code fileName}. */
    static void prepareOutput(Object config, String fileName, Path out, boolean resume) {
        String resolved = ConfigLoader.toJson(config);
        Path file = out.resolve(fileName);
        if (Files.isRegularFile(file)) {
            if (!resume) {
                throw new ShearsException(out + ": already holds a training run; pass --resume to continue it, or choose another --out");
            }
            // compared as records, so spelling ("" or null for an absent path, key order) does not matter
            Object before = ConfigLoader.load(config, Optional.of(file), List.of());
            if (!before.equals(config)) {
                JsonNode was = ConfigLoader.toTree(before), now = ConfigLoader.toTree(config);
                List<String> changed = new ArrayList<>();
                now.properties().forEach(e -> {
                    if (!e.getValue().equals(was.path(e.getKey()))) changed.add(e.getKey());
                });
                throw new ShearsException(out + ": --resume with a different configuration (changed: " + String.join(", ", changed)
                        + "); resume with the same settings, or start a new run in another folder");
            }
            return;
        }
        if (Files.isDirectory(out.resolve(Checkpoint.FOLDER))) {
            throw new ShearsException(out + ": has checkpoints but no " + fileName + "; choose another --out");
        }
        AtomicFiles.writeString(file, resolved + "\n");
    }

    /** Opens metrics.jsonl for appending, first dropping lines after the resumed step (written after the checkpoint). */
    static BufferedWriter openMetrics(Path out, long resumedStep) throws IOException {
        Path file = out.resolve(METRICS);
        if (resumedStep == 0) {
            Files.deleteIfExists(file);
        } else if (Files.isRegularFile(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    if (JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= resumedStep) kept.add(line);
                } catch (IOException e) {
                    break; // a line cut short by the crash, and everything after it
                }
            }
            AtomicFiles.writeString(file, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * After a held-out evaluation: the dynamic batch loading update (when on) and the metrics line
     * with every domain's loss and weight; returns the weights in force from now on.
     */
    static double[] afterEvaluation(TrainConfig config, double[] heldOut, double[] weights, double[] reference, long step, List<String> names,
                                    BufferedWriter metrics) throws IOException {
        DynamicBatchLoading dbl = config.dynamicBatchLoading();
        double[] next = dbl.enabled() ? DynamicBatchLoading.update(weights, heldOut, reference, dbl.smoothing(), dbl.clamp()) : weights;
        logEvaluation(heldOut, next, step, names, metrics);
        return next;
    }

    private static void logEvaluation(double[] heldOut, double[] weights, long step, List<String> names, BufferedWriter metrics) throws IOException {
        ObjectNode eval = JSON.createObjectNode().put("type", "eval").put("step", step);
        ObjectNode losses = eval.putObject("heldOutLoss");
        for (int d = 0; d < names.size(); d++) losses.put(names.get(d), heldOut[d]);
        ObjectNode w = eval.putObject("domainWeights");
        for (int d = 0; d < names.size(); d++) w.put(names.get(d), weights[d]);
        writeLine(metrics, eval);
    }

    /** Sampling weights as fractions summing to 1 (how they are logged and updated). */
    static double[] normalised(double[] weights) {
        double total = 0;
        for (double w : weights) total += w;
        double[] out = new double[weights.length];
        for (int i = 0; i < out.length; i++) out[i] = weights[i] / total;
        return out;
    }

    static void writeLine(BufferedWriter metrics, ObjectNode line) throws IOException {
        metrics.write(JSON.writeValueAsString(line));
        metrics.newLine();
    }

    /** Puts the tokenizer beside the trained weights so the output folder loads on its own. */
    static void copyTokenizer(TrainConfig config, List<TokenDataset> domains, Path out) {
        Optional<Path> source = config.source().tokenizer().or(() -> config.source().model().flatMap(TokenizerFiles::find));
        if (source.isEmpty()) {
            Path fromData = Path.of(domains.getFirst().tokenizer());
            if (Files.isRegularFile(fromData)) source = Optional.of(fromData);
        }
        source.ifPresent(from -> TokenizerFiles.copyInto(from, out));
    }
}
