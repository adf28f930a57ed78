package dev.shears.recipe;

import dev.shears.ShearsException;
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
 */
public record ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup) implements StageSettings {
    @Override
    public String kind() {
        return "shear";
    }

    /** Published settings: model lr 1e-4 (constant after a short warm-up), gate and λ lr 1.0, target ramp over 20%. */
    public static final ShearConfig DEFAULT = new ShearConfig(TrainConfig.DEFAULT
            .with(new TrainConfig.Schedule(3200, 0, 1e-4, 1e-4, 0, LearningRateSchedule.Decay.CONSTANT))
            .with(new TrainConfig.Optimiser(0.9, 0.95, 1e-8, 0.0, 1.0))
            .with(new TrainConfig.Evaluation(50, 16)),
            "", "", 1.0, 1.0, 0.2);

    public ShearConfig {
        target = target == null ? "" : target;
        targetConfig = targetConfig == null ? "" : targetConfig;
        if (train == null) throw new ShearsException("shear needs its training settings");
        if (!(gateLr > 0)) throw new ShearsException("--gate-lr must be positive, got " + gateLr);
        if (!(lambdaLr > 0)) throw new ShearsException("--lambda-lr must be positive, got " + lambdaLr);
        if (!(lagrangianWarmup >= 0 && lagrangianWarmup <= 1)) throw new ShearsException("--lagrangian-warmup must be in [0, 1], got " + lagrangianWarmup);
    }
}
