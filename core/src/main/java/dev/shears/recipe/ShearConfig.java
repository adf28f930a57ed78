package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.l0.LayerGates;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;

/**
 * Everything a shear run needs (Sheared-LLaMA's targeted structured pruning with learned masks),
 * written to {@code shear-config.json} before work starts.
 *
 * @param train            the parent ({@code train.model}), data, batch, steps, model learning rate and
 *                         schedule, seeds, evaluation, checkpoints and dynamic batch loading, as for {@code shears train}
 * @param target           exact kept counts, e.g. {@code layers=4,ffn=86} ("" when {@code targetConfig} is given)
 * @param targetConfig     a Hugging Face config.json whose shape is the target ("" when {@code target} is given)
 * @param gateLr           Adam learning rate of the gate logAlphas (published: 1.0)
 * @param lambdaLr         Adam learning rate of the Lagrange multipliers' ascent (published: 1.0)
 * @param lagrangianWarmup fraction of the steps over which the target sparsity ramps up from 0 (published: 0.2)
 * @param layerGates       one gate per layer (published default) or separate attention and FFN sub-layer gates
 * @param gateSchedule     whether the gate and λ learning rates follow the model's schedule (published) or stay constant
 */
public record ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup,
                          LayerGates layerGates, GateSchedule gateSchedule) implements StageSettings {
    @Override
    public String kind() {
        return "shear";
    }

    /** How the gate and λ learning rates move over the run. */
    public enum GateSchedule {
        /** Scaled by the model's schedule (its rate over its peak), as one optimizer's scheduler scales every group (LLM-Shearing train.py). */
        MODEL,
        /** Constant. */
        CONSTANT
    }

    /** The share of the steps the model's learning rate warms up over, and its final fraction of the peak (pruning.sh, 7b.yaml). */
    public static final double WARMUP_FRACTION = 0.1, MIN_LR_RATIO = 0.1;

    /**
     * Published settings (LLM-Shearing pruning.sh and configs/llama2/7b.yaml): 3,200 steps; model lr 1e-4 warmed up
     * over the first 10% of the steps, then cosine decay to 0.1×; AdamW β (0.9, 0.95), no weight decay, clip 1.0;
     * gate and λ lr 1.0 on the same schedule; one gate per layer; the target ramped up over 20% of the steps.
     */
    public static final ShearConfig DEFAULT = new ShearConfig(TrainConfig.DEFAULT
            .with(new TrainConfig.Schedule(3200, 0, 1e-4, 1e-4 * MIN_LR_RATIO, Math.round(3200 * WARMUP_FRACTION), LearningRateSchedule.Decay.COSINE))
            .with(new TrainConfig.Optimiser(0.9, 0.95, 1e-8, 0.0, 1.0))
            .with(new TrainConfig.Evaluation(50, 16)),
            "", "", 1.0, 1.0, 0.2, LayerGates.LAYER, GateSchedule.MODEL);

    /** With the published layer gates and gate schedule. */
    public ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup) {
        this(train, target, targetConfig, gateLr, lambdaLr, lagrangianWarmup, LayerGates.LAYER, GateSchedule.MODEL);
    }

    /** The same settings with other training settings. */
    public ShearConfig withTrain(TrainConfig newTrain) {
        return new ShearConfig(newTrain, target, targetConfig, gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule);
    }

    /** The same settings with another target config path. */
    public ShearConfig withTargetConfig(String newTargetConfig) {
        return new ShearConfig(train, target, newTargetConfig, gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule);
    }

    public ShearConfig {
        target = target == null ? "" : target;
        targetConfig = targetConfig == null ? "" : targetConfig;
        if (train == null) throw new ShearsException("shear needs its training settings");
        if (layerGates == null) throw new ShearsException("layerGates must be LAYER or SUB_LAYERS");
        if (gateSchedule == null) throw new ShearsException("gateSchedule must be MODEL or CONSTANT");
        if (train.schedule().warmupSteps() > 0 && train.schedule().warmupSteps() >= train.totalSteps()) {
            throw new ShearsException("warmupSteps " + train.schedule().warmupSteps() + " is not below the " + train.totalSteps()
                    + " steps: the whole run would warm up (published: 10% of the steps; set warmupSteps)");
        }
        if (!(gateLr > 0)) throw new ShearsException("--gate-lr must be positive, got " + gateLr);
        if (!(lambdaLr > 0)) throw new ShearsException("--lambda-lr must be positive, got " + lambdaLr);
        if (!(lagrangianWarmup >= 0 && lagrangianWarmup <= 1)) throw new ShearsException("--lagrangian-warmup must be in [0, 1], got " + lagrangianWarmup);
    }
}
