package dev.shears.train;

import dev.shears.ShearsException;
import java.util.List;

/**
 * Everything a training run needs, with defaults; loaded from a YAML/JSON file plus {@code --set}
 * overrides, and written to the output folder (resolved) before work starts.
 *
 * @param init               a Hugging Face style config.json to train from scratch ("" when starting from a model)
 * @param model              a model to continue training ("" when training from scratch)
 * @param tokenizer          tokenizer file or folder ("" to use the model's or the data's)
 * @param data               prepared token folders with their sampling weights
 * @param batchSize          sequences per micro-batch
 * @param seqLen             tokens per sequence
 * @param gradAccumulation   micro-batches per optimizer step
 * @param steps              optimizer steps (ignored when {@code tokens} is set)
 * @param tokens             token budget; steps = tokens / (batchSize · seqLen · gradAccumulation) when positive
 * @param lr                 peak learning rate
 * @param minLr              final learning rate
 * @param warmupSteps        linear warm-up steps
 * @param decay              COSINE, LINEAR or CONSTANT after warm-up
 * @param beta1              AdamW β1
 * @param beta2              AdamW β2
 * @param epsilon            AdamW ε
 * @param weightDecay        decoupled weight decay on matrices
 * @param gradClip           global gradient-norm clip (0 for none)
 * @param initStd            std of from-scratch matrices
 * @param seed               seeds initialisation and batch order
 * @param evalInterval       steps between held-out evaluations (0 for none until the end)
 * @param evalWindows        held-out windows per domain per evaluation
 * @param checkpointInterval steps between checkpoints (0 for none until the end)
 * @param keepCheckpoints    how many recent checkpoints to keep
 * @param dynamicBatchLoading domain weights re-weighted toward lagging domains at every evaluation
 * @param distill            training against a teacher's logits (off when its teacher is "")
 * @param dtype              the final model's dtype: f32, f16 or bf16 ("" for the starting model's, f32 from scratch);
 *                           checkpoints always keep fp32 master weights
 */
public record TrainConfig(
        String init,
        String model,
        String tokenizer,
        List<DataSource> data,
        int batchSize,
        int seqLen,
        int gradAccumulation,
        long steps,
        long tokens,
        double lr,
        double minLr,
        long warmupSteps,
        LearningRateSchedule.Decay decay,
        double beta1,
        double beta2,
        double epsilon,
        double weightDecay,
        double gradClip,
        double initStd,
        long seed,
        int evalInterval,
        int evalWindows,
        int checkpointInterval,
        int keepCheckpoints,
        DynamicBatchLoading dynamicBatchLoading,
        Distill distill,
        String dtype) {

    /**
     * Distillation from a teacher run in the same process (forward only): the loss is
     * {@code (1 − alpha)·CE + alpha·T²·KL(teacher ‖ student)} at temperature T.
     *
     * @param teacher     the teacher model ("" for none); it must share the student's vocabulary
     * @param temperature T
     * @param alpha       weight of the distillation term (1: pure distillation)
     */
    public record Distill(String teacher, double temperature, double alpha) {
        public static final Distill OFF = new Distill("", 2.0, 0.5);

        public Distill {
            teacher = teacher == null ? "" : teacher;
            if (!(temperature > 0)) throw new ShearsException("distill.temperature must be positive, got " + temperature);
            if (!(alpha >= 0 && alpha <= 1)) throw new ShearsException("distill.alpha must be in [0, 1], got " + alpha);
        }

        public boolean enabled() {
            return !teacher.isBlank();
        }
    }

    /** One prepared token folder and its sampling weight. */
    public record DataSource(String path, double weight) {
        public DataSource {
            if (path == null || path.isBlank()) throw new ShearsException("data path is empty");
            if (!(weight >= 0)) throw new ShearsException("data weight must be ≥ 0, got " + weight);
        }
    }

    public static final TrainConfig DEFAULT = new TrainConfig("", "", "", List.of(), 8, 256, 1, 1000, 0,
            1e-3, 1e-4, 100, LearningRateSchedule.Decay.COSINE, 0.9, 0.95, 1e-8, 0.1, 1.0, 0.02, 1337,
            100, 16, 500, 2, DynamicBatchLoading.OFF, Distill.OFF, "");

    public TrainConfig {
        data = data == null ? List.of() : List.copyOf(data);
        if (dynamicBatchLoading == null) dynamicBatchLoading = DynamicBatchLoading.OFF;
        if (distill == null) distill = Distill.OFF;
        if (dtype == null) dtype = "";
        if (!dtype.isBlank() && !java.util.List.of("f32", "f16", "bf16", "float32", "float16", "bfloat16").contains(dtype.toLowerCase(java.util.Locale.ROOT))) {
            throw new ShearsException("dtype must be f32, f16 or bf16, got '" + dtype + "'");
        }
        if (batchSize < 1) throw new ShearsException("batchSize must be ≥ 1, got " + batchSize);
        if (seqLen < 2) throw new ShearsException("seqLen must be ≥ 2, got " + seqLen);
        if (gradAccumulation < 1) throw new ShearsException("gradAccumulation must be ≥ 1, got " + gradAccumulation);
        if (steps < 1 && tokens < 1) throw new ShearsException("steps or tokens must be positive");
        if (!(lr > 0)) throw new ShearsException("lr must be positive, got " + lr);
        if (!(minLr >= 0)) throw new ShearsException("minLr must be ≥ 0, got " + minLr);
        if (evalWindows < 1) throw new ShearsException("evalWindows must be ≥ 1, got " + evalWindows);
        if (keepCheckpoints < 1) throw new ShearsException("keepCheckpoints must be ≥ 1, got " + keepCheckpoints);
    }

    /** The same settings with other inputs: where the model comes from, its tokenizer and the data. */
    public TrainConfig withInputs(String newInit, String newModel, String newTokenizer, List<DataSource> newData) {
        return new TrainConfig(newInit, newModel, newTokenizer, newData, batchSize, seqLen, gradAccumulation, steps, tokens, lr, minLr, warmupSteps,
                decay, beta1, beta2, epsilon, weightDecay, gradClip, initStd, seed, evalInterval, evalWindows, checkpointInterval, keepCheckpoints,
                dynamicBatchLoading, distill, dtype);
    }

    /** The same settings with other dynamic batch loading and distillation. */
    public TrainConfig withGuidance(DynamicBatchLoading newDynamicBatchLoading, Distill newDistill) {
        return new TrainConfig(init, model, tokenizer, data, batchSize, seqLen, gradAccumulation, steps, tokens, lr, minLr, warmupSteps,
                decay, beta1, beta2, epsilon, weightDecay, gradClip, initStd, seed, evalInterval, evalWindows, checkpointInterval, keepCheckpoints,
                newDynamicBatchLoading, newDistill, dtype);
    }

    /** Tokens per optimizer step. */
    public long tokensPerStep() {
        return (long) batchSize * seqLen * gradAccumulation;
    }

    /** Optimizer steps of the run. */
    public long totalSteps() {
        return tokens > 0 ? Math.max(1, tokens / tokensPerStep()) : steps;
    }

    public LearningRateSchedule schedule() {
        return new LearningRateSchedule(lr, Math.min(minLr, lr), Math.min(warmupSteps, totalSteps()), totalSteps(), decay);
    }

    public AdamWConfig optimizer() {
        return new AdamWConfig(beta1, beta2, epsilon, weightDecay);
    }
}
