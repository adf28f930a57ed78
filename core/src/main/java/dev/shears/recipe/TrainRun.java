package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.data.TokenDataset;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.model.Flops;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.train.InitConfig;
import dev.shears.train.ModelInit;
import dev.shears.train.StepGradients;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code shears train}: continued pretraining of a model, or training from scratch, on prepared
 * token folders. The output folder holds the resolved config ({@code train-config.json}, written
 * before work begins), {@code metrics.jsonl} (one line per step and per evaluation, and the final
 * evaluation on held-out windows the run never steered by), checkpoints,
 * and at the end the trained model as a loadable Hugging Face folder with its tokenizer
 * ({@link TrainingSession}). A run started again with {@code resume} continues from its newest
 * checkpoint and ends with weights bit-identical to a run that was never interrupted.
 *
 * <p>Under {@code mpirun} every rank runs this with its {@link Collective}: each step's micro-batches
 * are shared over the ranks and their gradients added in micro-batch order ({@link Trainer}), so the
 * weights, metrics (timing apart) and checkpoints are bit-identical to a single-process run with the
 * same settings; rank 0 alone writes the output folder, which every rank reads when resuming.
 */
public final class TrainRun {
    public static final String CONFIG = "train-config.json";
    public static final String METRICS = TrainingSession.METRICS;

    /**
     * What a finished run did.
     *
     * @param heldOutLoss per domain, the final evaluation: the trained model on the final half of the
     *                    held-out windows, which dynamic batch loading never saw
     * @param epochs      per domain, the epochs the run read (sequences drawn / sequences per epoch)
     */
    public record Result(Path out, Model model, long steps, long resumedFrom, double lastLoss, List<String> domains,
                         double[] heldOutLoss, double seconds, double tokensPerSecond, double[] epochs) {
    }

    private TrainRun() {
    }

    public static Result run(TrainConfig config, Path out, boolean resume, Progress progress) {
        return run(config, out, resume, progress, new SingleProcess());
    }

    /** As {@link #run(TrainConfig, Path, boolean, Progress)}, as one of the ranks of {@code collective}. */
    public static Result run(TrainConfig config, Path out, boolean resume, Progress progress, Collective collective) {
        TrainingSession.checkOutput(config, CONFIG, out, resume);
        collective.barrier(); // every rank has seen the folder as it was before rank 0 writes into it
        List<TokenDataset> domains = TrainingSession.openDomains(config);
        Model model = createModel(config, collective);
        Model teacher = loadTeacher(config, model);
        long total = config.totalSteps();
        double lastLoss = Double.NaN;
        long trainedTokens = 0;
        double trainSeconds = 0;
        long began = System.nanoTime();
        try (TrainingSession session = TrainingSession.open(config, domains, model, config, CONFIG, out, resume, model.config().parameterCount(),
                collective)) {
            Trainer trainer = new Trainer(model, teacher, session.sampler(), config, collective);
            session.resume(resume, model, trainer.optimizer(), progress);
            long start = session.start();
            if (start == 0) {
                // where training starts from: the reference losses (with dynamic batch loading) and a step-0 evaluation
                session.logReference();
                if (config.evaluation().evalInterval() > 0) session.logEvaluation(session.heldOutLoss(model, MaskSet.NONE), 0);
            }
            progress.start("train", (total - start) * config.tokensPerStep(), "tok");
            double flopsPerToken = Flops.trainingPerToken(model.config(), config.batching().seqLen());
            for (long step = start; step < total; step++) {
                Trainer.StepResult r = trainer.step(step, session.weights());
                long done = step + 1;
                lastLoss = r.loss();
                trainedTokens += r.tokens();
                trainSeconds += r.seconds();
                double tokensPerSecond = r.tokens() / r.seconds();
                session.log(MetricsLine.Step.training(done, done * config.tokensPerStep(), r.loss(), r.lr(), r.gradNorm(), tokensPerSecond,
                        flopsPerToken * tokensPerSecond / 1e9));
                progress.status(String.format(Locale.ROOT, "step %d/%d loss %.4f lr %.2e", done, total, r.loss(), r.lr()));
                progress.advance(r.tokens());
                if (session.evaluationDue(done)) session.evaluated(session.heldOutLoss(model, MaskSet.NONE), done);
                session.checkpointIfDue(done, model, trainer.optimizer(), null);
            }
            progress.finish();
            // resumed after the last step (killed before the end, or already finished): finish the same way
            if (start == total) lastLoss = session.lastLoggedLoss();
            double[] heldOut = session.finalLoss(model, MaskSet.NONE);
            session.logFinal(heldOut, total);
            session.writeModel(model);
            double seconds = (System.nanoTime() - began) / 1e9;
            return new Result(out, model, total, start, lastLoss, session.names(), heldOut, seconds, trainSeconds > 0 ? trainedTokens / trainSeconds : 0,
                    session.epochs());
        }
    }

    private static Model createModel(TrainConfig config, Collective collective) {
        Optional<Path> init = config.source().init(), model = config.source().model();
        if (init.isPresent() == model.isPresent()) {
            throw new ShearsException("give exactly one of --init CONFIG.json (train from scratch) or --model PATH (continue training)");
        }
        ModelConfig shape = model.isPresent() ? ModelLoader.config(model.get()) : HfConfig.read(init.get());
        MemoryPlan.training("training", shape, config.batching().batchSize(), config.batching().seqLen(),
                StepGradients.scratchBuffers(config.batching().gradAccumulation(), collective.size())).check();
        if (model.isPresent()) return ModelLoader.load(model.get());
        return ModelInit.initialize(shape, new InitConfig(config.source().initStd(), true, config.batching().seed()));
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
}
