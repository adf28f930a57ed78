package dev.shears.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.data.TokenDataset;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.io.AtomicFiles;
import dev.shears.l0.Shearing;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.prune.PlanFiles;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.TargetParser;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.StepGradients;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code shears shear}: targeted structured pruning with learned hard-concrete masks (Sheared-LLaMA,
 * METHODS.md §2). Every step samples the gates, runs the model under them, and updates jointly: the
 * model weights by the Trainer's AdamW (LM loss), the gate logAlphas by Adam on LM loss + Lagrangian
 * (then clamped), and the Lagrange multipliers by an Adam ascent step on the Lagrangian. At the end
 * the gates are finalised into a model of exactly the target shape. The output folder holds the
 * resolved config ({@code shear-config.json}), {@code metrics.jsonl} (per step the LM loss, the
 * Lagrangian, and per pruned axis the expected sparsity, its ramped target and λ; per evaluation the
 * held-out loss under the deterministic gates and the domain weights), checkpoints (with the gates, λ
 * and their optimizer state in the checkpoint's extra state), and at the end the pruned model as a
 * loadable Hugging Face folder with its tokenizer, {@code gates.json} and {@code pruning-plan.json}.
 */
public final class ShearRun {
    public static final String CONFIG = "shear-config.json";
    public static final String METRICS = TrainRun.METRICS;
    public static final String GATES = "gates.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a finished run did. */
    public record Result(Path out, ModelConfig parent, ModelConfig pruned, PruningPlan plan, PruneTarget target, long steps, long resumedFrom,
                         double lastLoss, List<String> domains, double[] gatedHeldOutLoss, double[] prunedHeldOutLoss,
                         double expectedParameters, double seconds) {
    }

    private ShearRun() {
    }

    public static Result run(ShearConfig config, Path out, boolean resume, Progress progress) {
        return run(config, out, resume, progress, new SingleProcess());
    }

    /**
     * As {@link #run(ShearConfig, Path, boolean, Progress)}, as one of the ranks of {@code collective}: the
     * micro-batches of each step, their model and gate gradients, and the held-out windows are shared over
     * the ranks in a fixed order ({@link Trainer}), so the gates, λ, plan, model and checkpoints are
     * bit-identical to one process; rank 0 alone writes.
     */
    public static Result run(ShearConfig config, Path out, boolean resume, Progress progress, Collective collective) {
        TrainConfig tc = config.train();
        Path parentPath = tc.source().model().orElseThrow(() -> new ShearsException("shear needs a model to prune (MODEL)"));
        if (config.target().isBlank() == config.targetConfig().isBlank()) {
            throw new ShearsException("give exactly one of --target SHAPE or --target-config CONFIG.json");
        }
        if (!config.encoderDecoder().given().isEmpty()) {
            throw new ShearsException(String.join(", ", config.encoderDecoder().given()) + ": shear an encoder-decoder (T5 or OpenBA); " + parentPath + " is decoder-only");
        }
        TrainingSession.checkOutput(tc, CONFIG, out, resume);
        collective.barrier(); // every rank has seen the folder as it was before rank 0 writes into it
        List<TokenDataset> domains = TrainingSession.openDomains(tc);
        MemoryPlan.training("shearing", ModelLoader.config(parentPath), tc.batching().batchSize(), tc.batching().seqLen(),
                StepGradients.scratchBuffers(tc.batching().gradAccumulation(), collective.size())).check();
        Model model = ModelLoader.load(parentPath);
        ModelConfig parent = model.config();
        PruneTarget target = TargetParser.resolve(parent, spec(config));
        long total = tc.totalSteps();
        TrainConfig.Optimiser o = tc.optimiser();
        LearningRateSchedule schedule = tc.learningRate();
        java.util.function.LongToDoubleFunction lrScale = config.gateSchedule() == ShearConfig.GateSchedule.MODEL ? step -> schedule.at(step) / schedule.maxLr()
                : step -> 1.0;
        Shearing shearing = new Shearing(parent, target, config.layerGates(), config.lagrangianWarmup(), total, tc.batching().seed(), config.gateLr(),
                config.lambdaLr(), lrScale, o.beta1(), o.beta2(), o.epsilon());
        double targetParameters = target.dropsSubLayers() ? Double.NaN : target.config(parent).parameterCount();
        double lastLoss = Double.NaN;
        long began = System.nanoTime();
        try (TrainingSession session = TrainingSession.open(tc, domains, model, config, CONFIG, out, resume,
                Double.isNaN(targetParameters) ? 0 : (long) targetParameters, collective)) {
            Trainer trainer = new Trainer(model, null, session.sampler(), tc, collective);
            session.resume(resume, model, trainer.optimizer(), progress).ifPresent(c -> shearing.restore(c.extra(), c.dir()));
            long start = session.start();
            progress.start("shear", (total - start) * tc.tokensPerStep(), "tok");
            for (long step = start; step < total; step++) {
                Trainer.StepResult r = trainer.step(step, session.weights(), shearing.step(step));
                Shearing.Update u = shearing.update(step);
                long done = step + 1;
                lastLoss = r.loss();
                session.log(new MetricsLine.Step(done, done * tc.tokensPerStep(), r.loss(), u.terms().total(), r.lr(), r.gradNorm(), u.expectedParameters(),
                        targetParameters, r.tokens() / r.seconds(), null, shearing.axes(u.terms())));
                progress.status(String.format(Locale.ROOT, "step %d/%d loss %.4f lagrangian %.4f", done, total, r.loss(), u.terms().total()));
                progress.advance(r.tokens());
                if (session.evaluationDue(done)) session.evaluated(session.heldOutLoss(model, shearing.deterministic(shearing.plan())), done);
                session.checkpointIfDue(done, model, trainer.optimizer(), shearing.state(JSON));
            }
            progress.finish();

            if (start == total) lastLoss = session.lastLoggedLoss(); // resumed after the last step
            PruningPlan plan = shearing.plan();
            // the final evaluation, on held-out windows dynamic batch loading never saw
            double[] heldOut = session.finalLoss(model, shearing.deterministic(plan));
            Model pruned = shearing.finalise(model, plan);
            double[] prunedLoss = session.finalLoss(pruned, MaskSet.NONE);
            session.logFinal(prunedLoss, total);
            session.writeModel(pruned);
            if (collective.leads()) {
                PlanFiles.writePlan(plan, parent, out.resolve(PlanFiles.PLAN));
                AtomicFiles.writeString(out.resolve(GATES), shearing.gatesJson(JSON, plan).toPrettyString() + "\n");
            }
            double seconds = (System.nanoTime() - began) / 1e9;
            return new Result(out, parent, pruned.config(), plan, target, total, start, lastLoss, session.names(), heldOut, prunedLoss,
                    shearing.expectedParameters(), seconds);
        }
    }

    /** The target as the pruning target parser reads it: exact counts or another config's shape. */
    static TargetParser.Spec spec(ShearConfig config) {
        return new TargetParser.Spec(Map.of(), config.target().isBlank() ? Map.of() : TargetParser.parseExact(config.target()),
                config.targetConfig().isBlank() ? Optional.empty() : Optional.of(HfConfig.read(Path.of(config.targetConfig()))),
                List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false);
    }
}
