package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.data.HeldOutPart;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.TokenizerLoader;
import dev.shears.io.AtomicFiles;
import dev.shears.objective.ChunkSource;
import dev.shears.objective.DenoiserMixture;
import dev.shears.objective.DenoiserTokens;
import dev.shears.objective.DenoisingBatcher;
import dev.shears.objective.OpenBaTraining;
import dev.shears.objective.Seq2SeqCheckpoint;
import dev.shears.objective.Seq2SeqTrainer;
import dev.shears.objective.T5TrainConfig;
import dev.shears.objective.T5Training;
import dev.shears.objective.TrainableEncoderDecoder;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.T5Config;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.train.Checkpoint;
import dev.shears.train.TrainConfig;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code shears train --model T5_OR_OPENBA_FOLDER --objective ul2|t5|openba-v2 [--dynamic]}: continued pretraining of
 * an encoder–decoder on a mixture of denoisers ({@link Seq2SeqTrainer} over {@link T5Training} or {@link OpenBaTraining}). One prepared token folder is cut into chunks of
 * {@code seqLen} raw tokens; training reads its train split. Its held-out split is halved as a decoder-only run's is
 * ({@link ChunkSource#heldOut}): the evaluations during the run (and Dynamic-UL2) read {@code ⌈evalWindows / batchSize⌉}
 * batches of each denoiser from one half, the final loss as many from the other, both the same for every run of that
 * folder whatever its seed. Settings are {@code shears train}'s
 * ({@link TrainConfig}: batchSize, gradAccumulation, the schedule, AdamW, gradClip, evalInterval, checkpoints,
 * seed); Dynamic-UL2's reference losses are the model's own held-out losses before its first step. The output
 * folder holds {@code train-config.json} (these settings with the objective), {@code metrics.jsonl} (a step
 * line per step, an eval line per evaluation with each denoiser's loss and weight, a final line with the
 * trained model's loss per denoiser on the reported half), checkpoints, and at the end
 * the trained model as a Hugging Face folder of its architecture (F32, the source's other config keys kept) with the
 * source's tokenizer files. With {@code resume} a
 * run continues from its newest checkpoint and ends with the bits of one never stopped. Under {@code mpirun} the ranks
 * share each step's micro-batches and the held-out batches ({@link Seq2SeqTrainer}): every rank holds the same weights,
 * and rank 0 alone writes the folder (settings, metrics, checkpoints, model), which ends with the bits of one process's.
 */
public final class Seq2SeqTrainRun {

    /** The mixture of denoisers a run trains on. */
    public enum Objective {
        UL2("ul2", DenoiserMixture::ul2), T5("t5", DenoiserMixture::t5), OPENBA_V2("openba-v2", DenoiserMixture::openBaV2);

        public final String key;
        private final Supplier<DenoiserMixture> mixture;

        Objective(String key, Supplier<DenoiserMixture> mixture) {
            this.key = key;
            this.mixture = mixture;
        }

        public DenoiserMixture mixture() {
            return mixture.get();
        }

        /** The objective named {@code key}, or a one-line error listing the names. */
        public static Objective parse(String key) {
            for (Objective o : values()) if (o.key.equals(key.toLowerCase(Locale.ROOT))) return o;
            throw new ShearsException("--objective must be one of " + Arrays.stream(values()).map(o -> o.key).toList() + ", got '" + key + "'");
        }
    }

    /** Seeds the held-out batches' corruption: the same for every run, so runs of several seeds are measured alike. */
    static final long HELD_OUT_SEED = 0x4E1D0E7L;

    /** What is written as {@code train-config.json}. */
    record Settings(String objective, boolean dynamic, TrainConfig train) {
    }

    /** What a finished run did: the last step's loss and the final held-out loss per denoiser. */
    public record Result(Path out, EncoderDecoder model, long steps, long resumedFrom, double lastLoss, Map<String, Double> heldOutLoss, double seconds) {
    }

    private Seq2SeqTrainRun() {
    }

    /** Whether {@code model} is an encoder–decoder folder (T5 or OpenBA), which {@code shears train} trains here. */
    public static boolean trains(Optional<Path> model) {
        return model.isPresent() && EncoderDecoder.describes(model.get());
    }

    public static Result run(TrainConfig config, Objective objective, boolean dynamic, Path out, boolean resume, Progress progress) {
        return run(config, objective, dynamic, out, resume, progress, new SingleProcess());
    }

    /** As {@link #run(TrainConfig, Objective, boolean, Path, boolean, Progress)}, as one of the ranks of {@code collective}. */
    public static Result run(TrainConfig config, Objective objective, boolean dynamic, Path out, boolean resume, Progress progress,
                             Collective collective) {
        TrainingSession.checkOutput(config, TrainRun.CONFIG, out, resume);
        collective.barrier(); // every rank has seen the folder as it was before rank 0 writes into it
        long began = System.nanoTime();
        Setup setup = setup(config, objective, dynamic);
        Path source = setup.source();
        TrainableEncoderDecoder trainable = setup.trainable();
        EncoderDecoder model = trainable.model();
        DenoiserMixture mixture = setup.mixture();
        int chunk = config.batching().seqLen();
        int batchSize = config.batching().batchSize();
        Seq2SeqTrainer trainer = setup.trainer(trainable, collective);
        if (collective.leads()) TrainingSession.prepareOutput(new Settings(objective.key, dynamic, config), TrainRun.CONFIG, out, resume);
        collective.barrier(); // the folder is ready (debris of a killed run removed) before any rank reads its checkpoint
        if (resume) Checkpoint.latest(out).ifPresent(dir -> Seq2SeqCheckpoint.restore(dir, trainer));
        long start = trainer.steps(), total = config.totalSteps();
        String[] names = names(mixture);
        long stepTokens = (long) batchSize * config.batching().gradAccumulation() * chunk;
        progress.start("train", total - start, "steps");
        try (BufferedWriter metrics = collective.leads() ? TrainingSession.openMetrics(out, start) : null) {
            MetricsListener listener = new MetricsListener(metrics, out, names, progress) {
                @Override
                MetricsLine.Step line(Seq2SeqTrainer.StepResult r, double tokensPerSecond) {
                    return new MetricsLine.Step(r.step(), r.step() * stepTokens, r.loss(), null, r.lr(), r.gradNorm(), null, null, tokensPerSecond, null, null);
                }

                @Override
                String status(Seq2SeqTrainer.StepResult r) {
                    return String.format(Locale.ROOT, "step %d/%d loss %.4f lr %.2e", r.step(), total, r.loss(), r.lr());
                }
            };
            trainer.run(total, out, listener);
            progress.finish();
            Map<String, Double> finalLoss = byName(names, trainer.heldOutLosses());
            write(metrics, new MetricsLine.Final(total, finalLoss, null), out);
            if (collective.leads()) writeModel(trainable, source, out);
            return new Result(out, model, total, start, listener.lastLoss(start == total, out.resolve(TrainRun.METRICS)), finalLoss,
                    (System.nanoTime() - began) / 1e9);
        } catch (IOException e) {
            throw new ShearsException(out.resolve(TrainRun.METRICS) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * Writes a run's step and evaluation lines to {@code metrics.jsonl} (rank 0 alone: null elsewhere) and advances its
     * progress; the step line and the status text are the run's own.
     */
    abstract static class MetricsListener implements Seq2SeqTrainer.Listener {
        private final BufferedWriter metrics;
        private final Path out;
        private final String[] names;
        private final Progress progress;
        private long stepBegan = System.nanoTime();
        private double lastLoss = Double.NaN;

        MetricsListener(BufferedWriter metrics, Path out, String[] names, Progress progress) {
            this.metrics = metrics;
            this.out = out;
            this.names = names;
            this.progress = progress;
        }

        /** The step's line, at {@code tokensPerSecond}. */
        abstract MetricsLine.Step line(Seq2SeqTrainer.StepResult r, double tokensPerSecond);

        /** The progress bar's status after the step. */
        abstract String status(Seq2SeqTrainer.StepResult r);

        @Override
        public final void step(Seq2SeqTrainer.StepResult r) {
            double seconds = (System.nanoTime() - stepBegan) / 1e9;
            stepBegan = System.nanoTime();
            lastLoss = r.loss();
            write(metrics, line(r, r.tokens() / seconds), out);
            progress.status(status(r));
            progress.advance(1);
        }

        @Override
        public final void evaluation(Seq2SeqTrainer.Evaluation e) {
            write(metrics, new MetricsLine.Eval(e.step(), byName(names, e.losses()), byName(names, e.weights()), null), out);
            stepBegan = System.nanoTime();
        }

        /** The last step's loss; a run resumed after its last step took none here, so its last loss is the one {@code file} logged. */
        double lastLoss(boolean resumedAtEnd, Path file) {
            if (resumedAtEnd) for (MetricsLine line : MetricsLine.read(file)) if (line instanceof MetricsLine.Step st) lastLoss = st.loss();
            return lastLoss;
        }
    }

    /**
     * What a run of an encoder–decoder folder reads, made ready: the architecture's trainable, the mixture, the training
     * batcher, the held-out ones (the steering half the evaluations during the run read, the reported half the final loss)
     * and the trainer's settings.
     */
    record Setup(Path source, TrainableEncoderDecoder trainable, DenoiserMixture mixture, DenoisingBatcher train, DenoisingBatcher steering,
                 DenoisingBatcher reported, T5TrainConfig trainConfig) {
        /** The trainer of {@code trainable} (or of a decorator of it) over these batchers, one of the ranks of {@code collective}. */
        Seq2SeqTrainer trainer(TrainableEncoderDecoder trained, Collective collective) {
            return new Seq2SeqTrainer(trained, train, steering, reported, trainConfig, collective);
        }
    }

    /**
     * Checks what an encoder–decoder run cannot take (one --data folder, a --model rather than --init, no distillation, no
     * dynamic batch loading over domains) and loads the model, the source's tokenizer and the data: the training batches
     * from the data's train split, the held-out ones from its held-out split, each denoiser's {@code ⌈evalWindows / batchSize⌉}.
     */
    static Setup setup(TrainConfig config, Objective objective, boolean dynamic) {
        if (config.source().init().isPresent()) throw new ShearsException("an encoder-decoder is trained from a folder: pass --model FOLDER, not --init (from scratch: shears init --config CONFIG.json --tokenizer T5_TOKENIZER --out FOLDER first)");
        Path source = config.source().model().orElseThrow(() -> new ShearsException("no model: pass --model FOLDER"));
        if (config.batching().data().size() != 1) {
            throw new ShearsException("an encoder-decoder run reads one --data folder (its denoisers are the mixture), got " + config.batching().data().size());
        }
        if (config.distill().enabled()) throw new ShearsException("distillation is not implemented for encoder-decoder runs");
        if (config.dynamicBatchLoading().enabled()) {
            throw new ShearsException("an encoder-decoder run re-weights its denoisers with --dynamic (Dynamic-UL2), not dynamic batch loading over domains");
        }
        TokenDataset data = TokenDataset.open(config.batching().data().getFirst().path());
        TrainableEncoderDecoder trainable = T5Config.describes(source) ? T5Training.load(source) : OpenBaTraining.load(source);
        EncoderDecoder model = trainable.model();
        Tokenizer tokenizer = TokenizerLoader.load(config.source().tokenizer().orElse(source));
        if (tokenizer.vocabSize() > model.vocabSize()) {
            throw new ShearsException(source + ": the tokenizer has " + tokenizer.vocabSize() + " tokens, the model's vocabulary " + model.vocabSize());
        }
        if (data.vocabSize() != tokenizer.vocabSize()) {
            // e.g. a folder prepared before the vocabulary was pruned: its ids name other pieces, or none
            throw new ShearsException(data.dir() + ": prepared with a " + data.vocabSize() + "-token vocabulary, but the model's tokenizer has "
                    + tokenizer.vocabSize() + "; prepare the text again with this model's tokenizer (a pipeline stage given the text file does it)");
        }
        DenoiserMixture mixture = objective.mixture();
        DenoiserTokens tokens = DenoiserTokens.of(tokenizer, mixture);
        int chunk = config.batching().seqLen();
        long seed = config.batching().seed();
        DenoisingBatcher train = DenoisingBatcher.padToLongest(mixture, tokens, ChunkSource.shuffled(data, Split.TRAIN, chunk, seed), seed);
        // the held-out halves and their corruption are the same for every run of this data, whatever its seed
        DenoisingBatcher steering = DenoisingBatcher.padToLongest(mixture, tokens, ChunkSource.heldOut(data, HeldOutPart.STEERING, chunk), HELD_OUT_SEED);
        DenoisingBatcher reported = DenoisingBatcher.padToLongest(mixture, tokens, ChunkSource.heldOut(data, HeldOutPart.FINAL, chunk), HELD_OUT_SEED);
        int batchSize = config.batching().batchSize();
        T5TrainConfig t5 = new T5TrainConfig(batchSize, config.batching().gradAccumulation(), config.learningRate(), config.optimiser().adamW(),
                config.optimiser().gradClip(), config.evaluation().evalInterval(), Math.ceilDiv(config.evaluation().evalWindows(), batchSize), dynamic,
                new double[0], config.checkpointing().checkpointInterval(), config.checkpointing().keepCheckpoints());
        return new Setup(source, trainable, mixture, train, steering, reported, t5);
    }

    /** The final model beside the run's files (its architecture's folder, F32), and the source's tokenizer files. */
    static void writeModel(TrainableEncoderDecoder trainable, Path source, Path out) {
        trainable.write(out);
        for (String name : Export.T5_FILES) {
            Path from = source.resolve(name);
            if (Files.isRegularFile(from)) AtomicFiles.write(out.resolve(name), o -> Files.copy(from, o));
        }
    }

    /** Each denoiser's label, made unique with its position where two share one. */
    static String[] names(DenoiserMixture mixture) {
        String[] names = new String[mixture.denoisers().size()];
        for (int d = 0; d < names.length; d++) {
            String label = mixture.denoisers().get(d).label();
            names[d] = Arrays.asList(names).contains(label) ? label + "#" + d : label;
        }
        return names;
    }

    static Map<String, Double> byName(String[] names, double[] values) {
        Map<String, Double> map = new LinkedHashMap<>();
        for (int d = 0; d < names.length; d++) map.put(names[d], values[d]);
        return map;
    }

    /** Writes {@code line} to the metrics; a rank that does not lead has none. */
    static void write(BufferedWriter metrics, MetricsLine line, Path out) {
        if (metrics == null) return;
        try {
            metrics.write(line.toJson());
            metrics.newLine();
            metrics.flush();
        } catch (IOException e) {
            throw new ShearsException(out.resolve(TrainRun.METRICS) + ": cannot write: " + e.getMessage(), e);
        }
    }
}
