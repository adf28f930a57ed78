package dev.shears.train;

import dev.shears.ShearsException;
import dev.shears.config.Flat;
import dev.shears.data.Sampling;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything a training run needs, in small groups with one home for each default ({@link #DEFAULT});
 * loaded from a YAML/JSON file plus {@code --set} overrides, whose keys are the groups' components
 * (the groups are {@link Flat}: {@code lr: 1e-3}, not {@code schedule: {lr: 1e-3}}), and written to the
 * output folder (resolved) before work starts. Invalid values throw {@link ShearsException}.
 *
 * @param source              where the model comes from and what it becomes
 * @param batching            the data and how it is batched
 * @param schedule            how long and at which learning rate
 * @param optimiser           AdamW's settings and the gradient clip
 * @param evaluation          held-out evaluation during the run
 * @param checkpointing       checkpoints during the run
 * @param dynamicBatchLoading domain weights re-weighted toward lagging domains at every evaluation
 * @param distill             training against a teacher's logits (off when it has no teacher)
 */
public record TrainConfig(
        @Flat Source source,
        @Flat Batching batching,
        @Flat Schedule schedule,
        @Flat Optimiser optimiser,
        @Flat Evaluation evaluation,
        @Flat Checkpointing checkpointing,
        DynamicBatchLoading dynamicBatchLoading,
        Distill distill) {

    /** One group or section of the settings: what {@link #with} replaces. */
    public sealed interface Group permits Source, Batching, Schedule, Optimiser, Evaluation, Checkpointing, DynamicBatchLoading, Distill {
    }

    /**
     * Where the model comes from and what it becomes.
     *
     * @param init      a Hugging Face style config.json to train from scratch
     * @param model     a model to continue training (exactly one of init and model)
     * @param tokenizer tokenizer file or folder (absent: the model's or the data's)
     * @param initStd   std of from-scratch matrices
     * @param dtype     the final model's dtype: f32, f16 or bf16 ("" for the starting model's, f32 from scratch);
     *                  checkpoints always keep fp32 master weights
     */
    public record Source(Optional<Path> init, Optional<Path> model, Optional<Path> tokenizer, double initStd, String dtype) implements Group {
        public Source {
            init = normalised(init);
            model = normalised(model);
            tokenizer = normalised(tokenizer);
            dtype = dtype == null ? "" : dtype;
            if (!dtype.isBlank() && !List.of("f32", "f16", "bf16", "float32", "float16", "bfloat16").contains(dtype.toLowerCase(Locale.ROOT))) {
                throw new ShearsException("dtype must be f32, f16 or bf16, got '" + dtype + "'");
            }
        }

        /** The same settings starting from {@code newInit} or {@code newModel}, with {@code newTokenizer}. */
        public Source from(Optional<Path> newInit, Optional<Path> newModel, Optional<Path> newTokenizer) {
            return new Source(newInit, newModel, newTokenizer, initStd, dtype);
        }
    }

    /**
     * The data and how it is batched.
     *
     * @param data             prepared token folders with their sampling weights
     * @param batchSize        sequences per micro-batch
     * @param seqLen           tokens per sequence
     * @param gradAccumulation micro-batches per optimizer step
     * @param seed             seeds initialisation and batch order
     * @param sampling         how a domain's sequences are read: EPOCHS (each sequence once per epoch, in a
     *                         seeded order; the default) or RANDOM_OFFSETS (uniformly random starts, with reuse)
     */
    public record Batching(List<DataSource> data, int batchSize, int seqLen, int gradAccumulation, long seed, Sampling sampling) implements Group {
        /** Batching that reads every sequence once per epoch ({@link Sampling#EPOCHS}). */
        public Batching(List<DataSource> data, int batchSize, int seqLen, int gradAccumulation, long seed) {
            this(data, batchSize, seqLen, gradAccumulation, seed, Sampling.EPOCHS);
        }

        public Batching {
            data = data == null ? List.of() : List.copyOf(data);
            if (sampling == null) throw new ShearsException("sampling must be EPOCHS or RANDOM_OFFSETS");
            if (batchSize < 1) throw new ShearsException("batchSize must be ≥ 1, got " + batchSize);
            if (seqLen < 2) throw new ShearsException("seqLen must be ≥ 2, got " + seqLen);
            if (gradAccumulation < 1) throw new ShearsException("gradAccumulation must be ≥ 1, got " + gradAccumulation);
            if ((long) batchSize * seqLen > MAX_BATCH_TOKENS) {
                throw new ShearsException("batchSize × seqLen is " + (long) batchSize * seqLen + " tokens per micro-batch; at most " + MAX_BATCH_TOKENS
                        + " (use gradAccumulation for larger batches)");
            }
        }

        /** Tokens one micro-batch may hold: its activations are indexed by int (2^24 tokens of a 4096-wide model are 64 Gi floats already). */
        public static final long MAX_BATCH_TOKENS = 1L << 24;

        /** The same batching over other data. */
        public Batching withData(List<DataSource> newData) {
            return new Batching(newData, batchSize, seqLen, gradAccumulation, seed, sampling);
        }

        /** The same batching with another seed (and every other setting, the sampling mode included, kept). */
        public Batching withSeed(long newSeed) {
            return new Batching(data, batchSize, seqLen, gradAccumulation, newSeed, sampling);
        }

        /** Tokens per optimizer step. */
        public long tokensPerStep() {
            return (long) batchSize * seqLen * gradAccumulation;
        }
    }

    /**
     * How long and at which learning rate.
     *
     * @param steps       optimizer steps (ignored when {@code tokens} is set)
     * @param tokens      token budget; steps = tokens / tokens per step when positive
     * @param lr          peak learning rate
     * @param minLr       final learning rate
     * @param warmupSteps linear warm-up steps
     * @param decay       COSINE, LINEAR or CONSTANT after warm-up
     * @param scheduleStart steps of a schedule shared by several runs that earlier runs took (0: this run starts it); the
     *                    learning rate of this run's step s is the shared schedule's at {@code scheduleStart + s}
     * @param scheduleSteps length of that shared schedule (0: this run's own steps), so stages of a pipeline can follow
     *                    one warm-up and decay instead of restarting them
     */
    public record Schedule(long steps, long tokens, double lr, double minLr, long warmupSteps, LearningRateSchedule.Decay decay, long scheduleStart,
                           long scheduleSteps) implements Group {
        /** A schedule of its own (not shared with other runs). */
        public Schedule(long steps, long tokens, double lr, double minLr, long warmupSteps, LearningRateSchedule.Decay decay) {
            this(steps, tokens, lr, minLr, warmupSteps, decay, 0, 0);
        }

        public Schedule {
            if (scheduleStart < 0 || scheduleSteps < 0) throw new ShearsException("scheduleStart and scheduleSteps must be ≥ 0");
            if (scheduleStart > 0 && scheduleSteps == 0) throw new ShearsException("scheduleStart needs scheduleSteps, the length of the shared schedule");
            if (steps < 1 && tokens < 1) throw new ShearsException("steps or tokens must be positive");
            if (!(lr > 0)) throw new ShearsException("lr must be positive, got " + lr);
            if (!(minLr >= 0)) throw new ShearsException("minLr must be ≥ 0, got " + minLr);
            if (steps < 0 || tokens < 0 || warmupSteps < 0) throw new ShearsException("steps, tokens and warmupSteps must be ≥ 0");
            if (decay == null) throw new ShearsException("decay must be COSINE, LINEAR or CONSTANT");
        }
    }

    /**
     * AdamW's settings and the gradient clip.
     *
     * @param beta1       β1
     * @param beta2       β2
     * @param epsilon     ε
     * @param weightDecay decoupled weight decay on matrices
     * @param gradClip    global gradient-norm clip (0 for none)
     */
    public record Optimiser(double beta1, double beta2, double epsilon, double weightDecay, double gradClip) implements Group {
        public Optimiser {
            if (!(beta1 >= 0 && beta1 < 1)) throw new ShearsException("beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new ShearsException("beta2 must be in [0, 1), got " + beta2);
            if (!(epsilon > 0)) throw new ShearsException("epsilon must be positive, got " + epsilon);
            if (!(weightDecay >= 0)) throw new ShearsException("weightDecay must be ≥ 0, got " + weightDecay);
            if (!(gradClip >= 0)) throw new ShearsException("gradClip must be ≥ 0 (0: no clipping), got " + gradClip);
        }

        public AdamWConfig adamW() {
            return new AdamWConfig(beta1, beta2, epsilon, weightDecay);
        }
    }

    /**
     * Held-out evaluation during the run.
     *
     * @param evalInterval steps between held-out evaluations (0 for none until the end)
     * @param evalWindows  held-out windows per domain per evaluation, at most, evenly spaced through the half of the
     *                     held-out windows the evaluation reads (data/HeldOutPart: steering during the run, final at the end)
     */
    public record Evaluation(int evalInterval, int evalWindows) implements Group {
        public Evaluation {
            if (evalWindows < 1) throw new ShearsException("evalWindows must be ≥ 1, got " + evalWindows);
            if (evalInterval < 0) throw new ShearsException("evalInterval must be ≥ 0 (0: only at the end), got " + evalInterval);
        }
    }

    /**
     * Checkpoints during the run.
     *
     * @param checkpointInterval steps between checkpoints (0 for none until the end)
     * @param keepCheckpoints    how many recent checkpoints to keep
     */
    public record Checkpointing(int checkpointInterval, int keepCheckpoints) implements Group {
        public Checkpointing {
            if (keepCheckpoints < 1) throw new ShearsException("keepCheckpoints must be ≥ 1, got " + keepCheckpoints);
            if (checkpointInterval < 0) throw new ShearsException("checkpointInterval must be ≥ 0 (0: only at the end), got " + checkpointInterval);
        }
    }

    /**
     * Distillation from a teacher run in the same process (forward only): the loss is
     * {@code (1 − alpha)·CE + alpha·T²·KL(teacher ‖ student)} at temperature T.
     *
     * @param teacher     the teacher model (absent: no distillation); it must share the student's vocabulary
     * @param temperature T
     * @param alpha       weight of the distillation term (1: pure distillation)
     */
    public record Distill(Optional<Path> teacher, double temperature, double alpha) implements Group {
        public static final Distill OFF = new Distill(Optional.empty(), 2.0, 0.5);

        public Distill {
            teacher = normalised(teacher);
            if (!(temperature > 0)) throw new ShearsException("distill.temperature must be positive, got " + temperature);
            if (!(alpha >= 0 && alpha <= 1)) throw new ShearsException("distill.alpha must be in [0, 1], got " + alpha);
        }

        public boolean enabled() {
            return teacher.isPresent();
        }

        /** The same settings with another teacher. */
        public Distill withTeacher(Optional<Path> newTeacher) {
            return new Distill(newTeacher, temperature, alpha);
        }
    }

    /** One prepared token folder and its sampling weight. */
    public record DataSource(Path path, double weight) {
        public DataSource {
            if (path == null || path.toString().isBlank()) throw new ShearsException("data path is empty");
            path = path.normalize();
            if (!(weight >= 0)) throw new ShearsException("data weight must be ≥ 0, got " + weight);
        }
    }

    /** Paths are kept normalised ({@code a/./b/../c} is {@code a/c}), so the same file given two ways is one setting and resumes. */
    private static Optional<Path> normalised(Optional<Path> path) {
        return path == null ? Optional.empty() : path.map(Path::normalize);
    }

    public static final TrainConfig DEFAULT = new TrainConfig(
            new Source(Optional.empty(), Optional.empty(), Optional.empty(), 0.02, ""),
            new Batching(List.of(), 8, 256, 1, 1337, Sampling.EPOCHS),
            new Schedule(1000, 0, 1e-3, 1e-4, 100, LearningRateSchedule.Decay.COSINE),
            new Optimiser(0.9, 0.95, 1e-8, 0.1, 1.0),
            new Evaluation(100, 16),
            new Checkpointing(500, 2),
            DynamicBatchLoading.OFF, Distill.OFF);

    public TrainConfig {
        if (source == null || batching == null || schedule == null || optimiser == null || evaluation == null || checkpointing == null) {
            throw new ShearsException("a training configuration needs every group of settings");
        }
        if (dynamicBatchLoading == null) dynamicBatchLoading = DynamicBatchLoading.OFF;
        if (distill == null) distill = Distill.OFF;
        long steps = schedule.tokens() > 0 ? Math.max(1, schedule.tokens() / batching.tokensPerStep()) : schedule.steps();
        if (schedule.scheduleSteps() > 0 && schedule.scheduleStart() + steps > schedule.scheduleSteps()) {
            throw new ShearsException("scheduleStart " + schedule.scheduleStart() + " + " + steps + " steps run past scheduleSteps " + schedule.scheduleSteps());
        }
    }

    /** This configuration with one group (or section) of settings replaced. */
    public TrainConfig with(Group group) {
        return new TrainConfig(group instanceof Source g ? g : source, group instanceof Batching g ? g : batching,
                group instanceof Schedule g ? g : schedule, group instanceof Optimiser g ? g : optimiser,
                group instanceof Evaluation g ? g : evaluation, group instanceof Checkpointing g ? g : checkpointing,
                group instanceof DynamicBatchLoading g ? g : dynamicBatchLoading, group instanceof Distill g ? g : distill);
    }

    /** Tokens per optimizer step. */
    public long tokensPerStep() {
        return batching.tokensPerStep();
    }

    /** Optimizer steps of the run. */
    public long totalSteps() {
        return schedule.tokens() > 0 ? Math.max(1, schedule.tokens() / tokensPerStep()) : schedule.steps();
    }

    /** The learning rate at every step of this run. */
    public LearningRateSchedule learningRate() {
        long total = schedule.scheduleSteps() > 0 ? schedule.scheduleSteps() : totalSteps();
        return new LearningRateSchedule(schedule.lr(), Math.min(schedule.minLr(), schedule.lr()), Math.min(schedule.warmupSteps(), total), total,
                schedule.decay(), schedule.scheduleStart());
    }
}
