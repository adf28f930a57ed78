package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.data.BatchSampler;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Sampling;
import dev.shears.data.TokenDataset;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfModel;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import dev.shears.train.AdamW;
import dev.shears.train.Checkpoint;
import dev.shears.train.DynamicBatchLoading;
import dev.shears.train.ScalingLaw;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What every training-like run ({@link TrainRun}, {@link ShearRun}) does around its step: the data
 * domains, their sampler and sampling weights, reference losses for dynamic batch loading
 * ({@link DomainMixture}), the output folder and its resolved settings, resuming from the newest
 * checkpoint (weights, optimizer, domain weights and the sampler's data cursor), {@code metrics.jsonl},
 * held-out evaluations with the dynamic batch loading update on the steering half of the held-out
 * windows, the final evaluation on the other half, checkpoints, and the final model with its
 * tokenizer. A run opens one after its model is loaded and closes it when the loop ends.
 * Under {@code mpirun} every rank opens one, reads the same folder (a file system all ranks share)
 * and resumes from the same checkpoint; only the leading rank ({@link Collective#leads()}) writes
 * anything: settings, metrics, checkpoints and the model.
 */
final class TrainingSession implements AutoCloseable {
    static final String METRICS = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainConfig config;
    private final Path out;
    private final List<TokenDataset> domains;
    private final List<String> names;
    private final DomainMixture mixture;
    private final BatchSampler sampler;
    private final Collective collective;
    private double[] weights;
    private long start;
    private BufferedWriter metrics;

    private TrainingSession(TrainConfig config, Path out, List<TokenDataset> domains, DomainMixture mixture, Collective collective) {
        this.config = config;
        this.collective = collective;
        this.out = out;
        this.domains = domains;
        this.names = domains.stream().map(TokenDataset::name).toList();
        this.mixture = mixture;
        this.sampler = new BatchSampler(domains, config.batching().seed(), config.batching().seqLen(), config.batching().sampling());
        this.weights = mixture.startWeights();
    }

    /**
     * Before any work: {@code out} is none of the run's inputs, and it is new, empty, or (resuming) a
     * run of this command, never someone else's folder.
     */
    static void checkOutput(TrainConfig config, String configFile, Path out, boolean resume) {
        TrainConfig.Source source = config.source();
        Outputs.checkNotAnInput(out, source.init(), source.model(), source.tokenizer(), config.distill().teacher(),
                Optional.of(config.dynamicBatchLoading().referenceModel()).filter(m -> !m.isBlank()).map(Path::of));
        for (TrainConfig.DataSource d : config.batching().data()) Outputs.checkNotAnInput(out, d.path());
        if (Files.isRegularFile(out)) throw new ShearsException(out + ": is a file; a run writes a folder");
        boolean ours = Files.isRegularFile(out.resolve(configFile));
        if (!ours && !AtomicFiles.isMissingOrEmpty(out)) {
            throw new ShearsException(out + ": already exists and holds no " + configFile + " of a run to resume; choose another --out");
        }
        if (ours && !resume && Checkpoint.latest(out).isPresent()) {
            throw new ShearsException(out + ": already holds a training run; pass --resume to continue it, or choose another --out");
        }
    }

    /** The prepared data of a run, checked before its model is loaded. */
    static List<TokenDataset> openDomains(TrainConfig config) {
        if (config.batching().data().isEmpty()) throw new ShearsException("no training data: pass --data DIR (a folder made by 'shears data prepare')");
        List<TokenDataset> domains = new ArrayList<>();
        for (TrainConfig.DataSource source : config.batching().data()) domains.add(TokenDataset.open(source.path()));
        if (config.batching().data().stream().mapToDouble(TrainConfig.DataSource::weight).sum() <= 0) {
            throw new ShearsException("the data weights sum to zero; give at least one domain a positive weight");
        }
        return domains;
    }

    /**
     * Checks the data against the model and the reference losses, then writes {@code settings} as
     * {@code configFile} into {@code out} (or, resuming, checks it against the one there).
     */
    static TrainingSession open(TrainConfig config, List<TokenDataset> domains, Model model, Object settings, String configFile, Path out,
                                boolean resume) {
        return open(config, domains, model, settings, configFile, out, resume, model.config().parameterCount());
    }

    /**
     * As {@link #open(TrainConfig, List, Model, Object, String, Path, boolean)}, with the size at which
     * dynamic batch loading's scaling laws are evaluated ({@code dynamicBatchLoading.targetParameters}
     * overrides it; 0 when unknown).
     */
    static TrainingSession open(TrainConfig config, List<TokenDataset> domains, Model model, Object settings, String configFile, Path out,
                                boolean resume, long referenceParameters) {
        return open(config, domains, model, settings, configFile, out, resume, referenceParameters, new SingleProcess());
    }

    /** As {@link #open(TrainConfig, List, Model, Object, String, Path, boolean, long)}, one of the ranks of {@code collective}. */
    static TrainingSession open(TrainConfig config, List<TokenDataset> domains, Model model, Object settings, String configFile, Path out,
                                boolean resume, long referenceParameters, Collective collective) {
        for (TokenDataset d : domains) {
            if (d.vocabSize() > model.config().vocabSize()) {
                throw new ShearsException(d.dir() + ": prepared with a " + d.vocabSize() + "-token vocabulary, but the model has only "
                        + model.config().vocabSize() + " embeddings");
            }
        }
        DomainMixture mixture = DomainMixture.resolve(config, domains, referenceParameters);
        if (collective.leads()) prepareOutput(settings, configFile, out, resume);
        return new TrainingSession(config, out, domains, mixture, collective);
    }

    List<TokenDataset> domains() {
        return domains;
    }

    List<String> names() {
        return names;
    }

    /** The run's batch sampler: its data cursor is checkpointed and restored here. */
    BatchSampler sampler() {
        return sampler;
    }

    /** Epochs each domain has seen so far (sequences drawn / sequences per epoch). */
    double[] epochs() {
        return sampler.epochs();
    }

    /** The domain weights in force. */
    double[] weights() {
        return weights;
    }

    /** The step the run starts from: 0, or the newest checkpoint's when resuming. */
    long start() {
        return start;
    }

    /**
     * When {@code resume}, restores the newest checkpoint into the model, the optimizer, the domain
     * weights and the sampler's data cursor; then opens {@code metrics.jsonl} (dropping lines after the
     * resumed step, and the final evaluation, which the run writes again).
     *
     * @return the checkpoint restored (its extra state is the run's own), if any
     */
    Optional<Checkpoint> resume(boolean resume, Model model, AdamW optimizer, Progress progress) {
        if (collective.leads()) AtomicFiles.removeDebris(out);
        Optional<Checkpoint> restored = Optional.empty();
        List<Path> checkpoints = resume ? Checkpoint.list(out) : List.of();
        // the newest checkpoint that reads back whole; a damaged one (a disk error, a truncated copy) is skipped, saying so
        for (int i = checkpoints.size() - 1; i >= 0 && restored.isEmpty(); i--) {
            try {
                restored = Optional.of(Checkpoint.restore(checkpoints.get(i), model, optimizer));
            } catch (ShearsException e) {
                if (i == 0) throw e;
                progress.note("skipping a damaged checkpoint: " + e.getMessage() + "; resuming from " + checkpoints.get(i - 1).getFileName());
            }
        }
        restored.ifPresent(c -> {
            start = c.step();
            if (c.domainWeights().length == weights.length) weights = c.domainWeights();
            if (!c.data().isEmpty()) {
                sampler.restore(c.data(), c.dir().toString());
            } else if (config.batching().sampling() == Sampling.RANDOM_OFFSETS) {
                progress.note(c.dir() + " has no data cursor (written before cursors were recorded): the epochs reported count from step " + start);
            } else if (start > 0) {
                throw new ShearsException(c.dir() + ": the checkpoint has no data cursor; it was written by a version of Shears that sampled random "
                        + "offsets. Resume it with --set sampling=RANDOM_OFFSETS to continue as it began, or start a new run");
            }
        });
        long total = config.totalSteps();
        if (start > total) throw new ShearsException(out + ": the newest checkpoint is at step " + start + ", beyond this run's " + total + " steps");
        try {
            if (collective.leads()) metrics = openMetrics(out, start);
        } catch (IOException e) {
            throw cannotWrite(e);
        }
        return restored;
    }

    /** The loss of the last step logged (a run resumed after its last step logs none of its own); NaN before any. */
    double lastLoggedLoss() {
        if (metrics == null) return Double.NaN; // a rank that does not lead has no metrics of its own
        try {
            metrics.flush();
        } catch (IOException e) {
            throw cannotWrite(e);
        }
        double loss = Double.NaN;
        for (MetricsLine line : MetricsLine.read(out.resolve(METRICS))) if (line instanceof MetricsLine.Step s) loss = s.loss();
        return loss;
    }

    /** Appends one line to {@code metrics.jsonl}. */
    void log(MetricsLine line) {
        if (metrics == null) return; // a rank that does not lead writes nothing
        try {
            metrics.write(line.toJson());
            metrics.newLine();
        } catch (IOException e) {
            throw cannotWrite(e);
        }
    }

    /** The reference losses (with dynamic batch loading), where each came from and the scaling laws used, logged once at the start. */
    void logReference() {
        if (!config.dynamicBatchLoading().enabled()) return;
        Map<String, String> source = new LinkedHashMap<>();
        for (int d = 0; d < names.size(); d++) source.put(names.get(d), mixture.source().get(d));
        Map<String, ScalingLaw> laws = new LinkedHashMap<>();
        for (String name : names) if (mixture.laws().containsKey(name)) laws.put(name, mixture.laws().get(name));
        log(new MetricsLine.Reference(0, byDomain(mixture.reference()), source, laws, mixture.parameters() > 0 ? mixture.parameters() : null));
    }

    /** Whether step {@code done} ends with a held-out evaluation: every {@code evalInterval} steps and at the end. */
    boolean evaluationDue(long done) {
        return done == config.totalSteps() || (config.evaluation().evalInterval() > 0 && done % config.evaluation().evalInterval() == 0);
    }

    /**
     * Held-out loss per domain under {@code masks}, on the steering half of the held-out windows (the evaluations during the run);
     * under MPI the windows are shared over the ranks and every rank gets the same bits.
     */
    double[] heldOutLoss(Model model, MaskSet masks) {
        return Trainer.heldOutLoss(model, domains, config.batching().seqLen(), config.evaluation().evalWindows(), masks, HeldOutPart.STEERING,
                collective);
    }

    /** Held-out loss per domain under {@code masks}, on the final half of the held-out windows, which dynamic batch loading never sees. */
    double[] finalLoss(Model model, MaskSet masks) {
        return Trainer.heldOutLoss(model, domains, config.batching().seqLen(), config.evaluation().evalWindows(), masks, HeldOutPart.FINAL,
                collective);
    }

    /** The final evaluation's metrics line: the output model's loss on the final windows and the epochs of the whole run. */
    void logFinal(double[] heldOut, long step) {
        log(new MetricsLine.Final(step, byDomain(heldOut), byDomain(epochs())));
    }

    /**
     * After a held-out evaluation at step {@code step}: the dynamic batch loading update (when on) and
     * the metrics line with every domain's loss and the weights in force from now on.
     */
    void evaluated(double[] heldOut, long step) {
        DynamicBatchLoading dbl = config.dynamicBatchLoading();
        if (dbl.enabled()) weights = DynamicBatchLoading.update(weights, heldOut, mixture.reference(), dbl.smoothing(), dbl.clamp());
        logEvaluation(heldOut, step);
    }

    /** The step-0 evaluation line, before any update. */
    void logEvaluation(double[] heldOut, long step) {
        log(new MetricsLine.Eval(step, byDomain(heldOut), byDomain(weights), byDomain(epochs())));
    }

    /** Per-domain values keyed by domain name, in data order. */
    private Map<String, Double> byDomain(double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int d = 0; d < names.size(); d++) m.put(names.get(d), values[d]);
        return m;
    }

    /** At every {@code checkpointInterval} steps and at the end: the metrics so far, then a checkpoint with the data cursor and the run's extra state. */
    void checkpointIfDue(long done, Model model, AdamW optimizer, ObjectNode extra) {
        if (done != config.totalSteps() && (config.checkpointing().checkpointInterval() <= 0 || done % config.checkpointing().checkpointInterval() != 0)) {
            return;
        }
        if (!collective.leads()) return;
        try {
            metrics.flush();
        } catch (IOException e) {
            throw cannotWrite(e);
        }
        Checkpoint.save(out, model, optimizer, done, weights, sampler.state(), extra, config.checkpointing().keepCheckpoints());
    }

    /** Writes the final model in the run's dtype, with the tokenizer beside it so the folder loads on its own. */
    void writeModel(Model model) {
        if (!collective.leads()) return;
        HfModel.write(model, out, finalDtype(), HfModel.DEFAULT_SHARD_BYTES);
        Optional<Path> tokenizer = config.source().tokenizer().or(() -> config.source().model().flatMap(TokenizerFiles::find));
        if (tokenizer.isEmpty()) {
            Path fromData = Path.of(domains.getFirst().tokenizer());
            if (Files.isRegularFile(fromData)) tokenizer = Optional.of(fromData);
        }
        tokenizer.ifPresent(from -> TokenizerFiles.copyInto(from, out));
    }

    @Override
    public void close() {
        if (metrics == null) return;
        try {
            metrics.close();
        } catch (IOException e) {
            throw cannotWrite(e);
        }
    }

    /** The dtype the final model is written in: the configured one, else the starting model's file dtype (f32 from scratch). */
    private DType finalDtype() {
        if (!config.source().dtype().isBlank()) return DType.parse(config.source().dtype()).orElseThrow();
        if (config.source().model().isEmpty()) return DType.F32;
        try (Model source = ModelLoader.open(config.source().model().get())) {
            return DType.of(source.weights().encoding());
        }
    }

    private ShearsException cannotWrite(IOException e) {
        return new ShearsException(out.resolve(METRICS) + ": cannot write: " + e.getMessage(), e);
    }

    /** Writes the resolved settings into the output folder ({@link #checkOutput} passed), or checks them against the ones there when resuming. */
    static void prepareOutput(Object settings, String fileName, Path out, boolean resume) {
        Path file = out.resolve(fileName);
        // a run that stopped before its first checkpoint has nothing to resume: it starts again with the settings given now
        if (Files.isRegularFile(file) && Checkpoint.latest(out).isPresent()) {
            // compared as records, so spelling ("" or null for an absent path, key order) does not matter
            Object before = ConfigLoader.load(settings, Optional.of(file), List.of());
            if (!before.equals(settings)) {
                JsonNode was = ConfigLoader.toTree(before), now = ConfigLoader.toTree(settings);
                List<String> changed = new ArrayList<>();
                now.properties().forEach(e -> {
                    if (!e.getValue().equals(was.path(e.getKey()))) changed.add(e.getKey());
                });
                throw new ShearsException(out + ": --resume with a different configuration (changed: " + String.join(", ", changed)
                        + "); resume with the same settings, or start a new run in another folder");
            }
            return;
        }
        AtomicFiles.writeString(file, ConfigLoader.toJson(settings) + "\n");
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
                    JsonNode n = JSON.readTree(line);
                    // the final evaluation is written again when the resumed run ends
                    if (n.path("step").asLong(Long.MAX_VALUE) <= resumedStep && !"final".equals(n.path("type").asText())) kept.add(line);
                } catch (IOException e) {
                    break; // a line cut short by the crash, and everything after it
                }
            }
            AtomicFiles.writeString(file, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
