package dev.shears.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.format.hf.ConfigJson;
import dev.shears.io.AtomicFiles;
import dev.shears.l0.EncoderDecoderGates;
import dev.shears.l0.EncoderDecoderShearing;
import dev.shears.l0.EncoderDecoderSize;
import dev.shears.l0.LayerGates;
import dev.shears.objective.OpenBaTraining;
import dev.shears.objective.Seq2SeqCheckpoint;
import dev.shears.objective.Seq2SeqTrainer;
import dev.shears.objective.T5Training;
import dev.shears.objective.TrainableEncoderDecoder;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.train.Checkpoint;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongToDoubleFunction;

/**
 * {@code shears shear --model T5_OR_OPENBA_FOLDER}: learned hard-concrete gates on both stacks of an encoder–decoder
 * (Sheared-LLaMA, METHODS.md §2, on T5 or OpenBA), trained together with the weights on a mixture of denoisers. It
 * composes the pieces of {@code shears train} and {@code shears prune} for encoder–decoders: {@link Seq2SeqTrainRun#setup}
 * loads the model and the UL2 batches, {@link Seq2SeqTrainer} steps over a {@link ShearingTrainable} (each micro-batch under
 * its own gate sample; after each weight step the gates descend LM loss + Lagrangian by Adam and λ ascends it), and at the
 * end {@link EncoderDecoderShearing#finalise} cuts the model to the exact {@link EncoderDecoderTarget} shape (the axes and options of
 * {@code shears prune} for encoder–decoders). The output folder holds {@code shear-config.json}, {@code metrics.jsonl}
 * (per step the LM loss, the Lagrangian, expected and target parameters and per pruned axis the expected sparsity, its
 * ramped target and λ; per evaluation each denoiser's held-out loss under the deterministic gates), checkpoints (with
 * {@link ShearingTrainable#STATE}), and at the end the pruned model as a Hugging Face folder of its architecture with the
 * parent's tokenizer files, {@code gates.json} and {@code pruning-plan.json}. With {@code resume} a run continues from its
 * newest checkpoint and ends with the bits of one never stopped.
 */
public final class Seq2SeqShearRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The target as written in {@code shear-config.json}: fractions removed and the layers each stack keeps. */
    record Target(double heads, double ffn, double hidden, int encoderLayers, int decoderLayers) {
    }

    /** What is written as {@code shear-config.json}. */
    record Settings(String objective, boolean dynamic, Target target, ShearConfig shear) {
    }

    /**
     * What a finished run did.
     *
     * @param gatedHeldOutLoss  per denoiser, the parent under the final deterministic gates
     * @param prunedHeldOutLoss per denoiser, the pruned model (the same, up to fp32 rounding)
     */
    public record Result(Path out, EncoderDecoder parent, EncoderDecoder pruned, EncoderDecoderPlan plan, long steps, long resumedFrom, double lastLoss,
                         Map<String, Double> gatedHeldOutLoss, Map<String, Double> prunedHeldOutLoss, double expectedParameters, double seconds) {
    }

    private Seq2SeqShearRun() {
    }

    public static Result run(ShearConfig config, EncoderDecoderTarget target, Seq2SeqTrainRun.Objective objective, boolean dynamic, Path out, boolean resume,
                             Progress progress) {
        return run(config, target, objective, dynamic, out, resume, progress, new SingleProcess());
    }

    /**
     * As {@link #run(ShearConfig, EncoderDecoderTarget, Seq2SeqTrainRun.Objective, boolean, Path, boolean, Progress)}, as one of the ranks
     * of {@code collective}: the ranks share each step's micro-batches (weights' and gates' gradients added in micro-batch
     * order) and the held-out batches, so every rank holds the same weights, gates and λ and the folder rank 0 alone writes
     * has the bits of one process's.
     */
    public static Result run(ShearConfig config, EncoderDecoderTarget target, Seq2SeqTrainRun.Objective objective, boolean dynamic, Path out, boolean resume,
                             Progress progress, Collective collective) {
        TrainConfig tc = config.train();
        if (!config.target().isBlank() || !config.targetConfig().isBlank()) {
            throw new ShearsException("an encoder-decoder is sheared to --heads, --ffn, --hidden, --enc-layers and --dec-layers, not --target or --target-config");
        }
        if (target.isEmpty()) throw new ShearsException("nothing to shear: give --heads, --ffn, --hidden, --enc-layers or --dec-layers");
        if (config.layerGates() != LayerGates.LAYER) {
            throw new ShearsException("--layer-gates sub-layers does not apply to an encoder-decoder: every layer has one gate on all its sub-layers");
        }
        TrainingSession.checkOutput(tc, ShearRun.CONFIG, out, resume);
        collective.barrier(); // every rank has seen the folder as it was before rank 0 writes into it
        long began = System.nanoTime();
        Seq2SeqTrainRun.Setup setup = Seq2SeqTrainRun.setup(tc, objective, dynamic);
        TrainableEncoderDecoder inner = setup.trainable();
        EncoderDecoder model = inner.model();
        EncoderDecoderConfig parent = model.config();
        long total = tc.totalSteps();
        LearningRateSchedule schedule = tc.learningRate();
        LongToDoubleFunction lrScale = config.gateSchedule() == ShearConfig.GateSchedule.MODEL ? step -> schedule.at(step) / schedule.maxLr() : step -> 1.0;
        TrainConfig.Optimiser o = tc.optimiser();
        EncoderDecoderShearing shearing = new EncoderDecoderShearing(parent, target, config.lagrangianWarmup(), total, tc.batching().seed(), config.gateLr(),
                config.lambdaLr(), lrScale, o.beta1(), o.beta2(), o.epsilon());
        ShearingTrainable trainable = new ShearingTrainable(inner, shearing, setup.trainConfig().microBatches(), collective);
        Seq2SeqTrainer trainer = setup.trainer(trainable, collective);
        Target written = new Target(target.heads(), target.ffn(), target.hidden(), target.encoderLayers().orElse(parent.encoder().size()),
                target.decoderLayers().orElse(parent.decoder().size()));
        if (collective.leads()) TrainingSession.prepareOutput(new Settings(objective.key, dynamic, written, config), ShearRun.CONFIG, out, resume);
        collective.barrier(); // the folder is ready before any rank reads its checkpoint
        if (resume) Checkpoint.latest(out).ifPresent(dir -> Seq2SeqCheckpoint.restore(dir, trainer));
        long start = trainer.steps();
        String[] names = Seq2SeqTrainRun.names(setup.mixture());
        double targetParameters = targetParameters(shearing.gates());
        long stepTokens = (long) tc.batching().batchSize() * tc.batching().gradAccumulation() * tc.batching().seqLen();
        progress.start("shear", total - start, "steps");
        try (BufferedWriter metrics = collective.leads() ? TrainingSession.openMetrics(out, start) : null) {
            Seq2SeqTrainRun.MetricsListener listener = new Seq2SeqTrainRun.MetricsListener(metrics, out, names, progress) {
                @Override
                MetricsLine.Step line(Seq2SeqTrainer.StepResult r, double tokensPerSecond) {
                    EncoderDecoderShearing.Update u = trainable.lastUpdate().orElseThrow();
                    return new MetricsLine.Step(r.step(), r.step() * stepTokens, r.loss(), u.terms().total(), r.lr(), r.gradNorm(),
                            u.expectedParameters(), targetParameters, tokensPerSecond, null, shearing.axes(u.terms()));
                }

                @Override
                String status(Seq2SeqTrainer.StepResult r) {
                    return String.format(Locale.ROOT, "step %d/%d loss %.4f lagrangian %.4f", r.step(), total, r.loss(),
                            trainable.lastUpdate().orElseThrow().terms().total());
                }
            };
            trainer.run(total, out, listener);
            progress.finish();
            double lastLoss = listener.lastLoss(start == total, out.resolve(ShearRun.METRICS));
            EncoderDecoderPlan plan = shearing.plan();
            Map<String, Double> gated = Seq2SeqTrainRun.byName(names, trainer.heldOutLosses());
            EncoderDecoder pruned = shearing.finalise(model, plan);
            ObjectNode configJson = (ObjectNode) ConfigJson.read(setup.source().resolve("config.json"), "a Hugging Face encoder-decoder folder").node();
            TrainableEncoderDecoder child = switch (pruned) {
                case T5Model t -> new T5Training(t, configJson);
                case OpenBaModel b -> new OpenBaTraining(b, configJson);
            };
            Map<String, Double> prunedLoss = Seq2SeqTrainRun.byName(names, trainer.heldOutLosses(child));
            Seq2SeqTrainRun.write(metrics, new MetricsLine.Final(total, prunedLoss, null), out);
            if (collective.leads()) {
                Seq2SeqTrainRun.writeModel(child, setup.source(), out);
                AtomicFiles.writeString(out.resolve(EncoderDecoderPruneRun.PLAN), EncoderDecoderPruneRun.planJson(plan).toPrettyString() + "\n");
                AtomicFiles.writeString(out.resolve(ShearRun.GATES), shearing.gatesJson(JSON, plan).toPrettyString() + "\n");
            }
            return new Result(out, model, pruned, plan, total, start, lastLoss, gated, prunedLoss, shearing.expectedParameters(),
                    (System.nanoTime() - began) / 1e9);
        } catch (IOException e) {
            throw new ShearsException(out.resolve(ShearRun.METRICS) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * The parameters of the target shape: the expected size with the first {@code kept} units of every row on (exact
     * for a parent whose layers are alike; for one whose layers differ, the size of keeping each stack's first layers).
     */
    static double targetParameters(EncoderDecoderGates gates) {
        double[] keep = new double[gates.size()];
        for (EncoderDecoderGates.Row r : gates.rows()) for (int i = 0; i < r.kept(); i++) keep[r.offset() + i] = 1;
        return EncoderDecoderSize.parameters(gates, keep);
    }
}
