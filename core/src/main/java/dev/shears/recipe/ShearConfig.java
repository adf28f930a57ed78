package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.config.Flat;
import dev.shears.l0.LayerGates;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

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
 * @param encoderDecoder   the target and objective of a T5 or OpenBA (files keep its keys flat: {@code heads}, {@code decLayers}, {@code objective}, ...)
 */
public record ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup,
                          LayerGates layerGates, GateSchedule gateSchedule, @Flat EncoderDecoderShear encoderDecoder) implements StageSettings {
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

    /**
     * What an encoder–decoder (T5, OpenBA) is sheared to and trained on, as {@code shears shear --heads ... --objective X --dynamic} and
     * a pipeline's enc-dec prune and train stages spell it; null leaves an axis whole or takes the default (ul2, fixed weights).
     *
     * @param heads     fraction of self- and cross-attention heads of every layer to remove
     * @param ffn       fraction of FFN neurons of every layer to remove
     * @param hidden    fraction of hidden channels (d_model) to remove
     * @param encLayers encoder layers to keep
     * @param decLayers decoder layers to keep
     * @param objective the mixture of denoisers: ul2, t5 or openba-v2
     * @param dynamic   Dynamic-UL2: re-weight the denoisers at every evaluation
     */
    public record EncoderDecoderShear(Double heads, Double ffn, Double hidden, Integer encLayers, Integer decLayers, String objective, Boolean dynamic) {
        /** Nothing named: a decoder-only shear, or an encoder-decoder's with nothing to cut. */
        public static final EncoderDecoderShear NONE = new EncoderDecoderShear(null, null, null, null, null, null, null);

        public EncoderDecoderShear {
            if (objective != null) {
                try {
                    Seq2SeqTrainRun.Objective.parse(objective);
                } catch (ShearsException e) {
                    throw new ShearsException("objective: " + e.getMessage().replace("--objective ", ""));
                }
            }
            target(); // fractions in [0, 1)
        }

        /** The keys given, as a file spells them (an encoder-decoder's; refused on a decoder-only model). */
        public List<String> given() {
            List<String> keys = new ArrayList<>();
            if (heads != null) keys.add("heads");
            if (ffn != null) keys.add("ffn");
            if (hidden != null) keys.add("hidden");
            if (encLayers != null) keys.add("encLayers");
            if (decLayers != null) keys.add("decLayers");
            if (objective != null) keys.add("objective");
            if (dynamic != null) keys.add("dynamic");
            return keys;
        }

        /** The shape to shear to: the fractions given (0 for the others) and the layers each stack keeps. */
        public EncoderDecoderTarget target() {
            return new EncoderDecoderTarget(heads == null ? 0 : heads, ffn == null ? 0 : ffn, hidden == null ? 0 : hidden,
                    encLayers == null ? OptionalInt.empty() : OptionalInt.of(encLayers), decLayers == null ? OptionalInt.empty() : OptionalInt.of(decLayers));
        }

        /** The mixture of denoisers (ul2 unless named). */
        public Seq2SeqTrainRun.Objective denoisers() {
            return objective == null ? Seq2SeqTrainRun.Objective.UL2 : Seq2SeqTrainRun.Objective.parse(objective);
        }

        /** Whether Dynamic-UL2 re-weights the denoisers (off unless named). */
        public boolean dynamicWeights() {
            return dynamic != null && dynamic;
        }
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
            "", "", 1.0, 1.0, 0.2, LayerGates.LAYER, GateSchedule.MODEL, EncoderDecoderShear.NONE);

    /** With the published layer gates and gate schedule. */
    public ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup) {
        this(train, target, targetConfig, gateLr, lambdaLr, lagrangianWarmup, LayerGates.LAYER, GateSchedule.MODEL);
    }

    /** Without encoder-decoder keys ({@code shears shear} passes an encoder-decoder's target and objective to {@link Seq2SeqShearRun} itself). */
    public ShearConfig(TrainConfig train, String target, String targetConfig, double gateLr, double lambdaLr, double lagrangianWarmup,
                       LayerGates layerGates, GateSchedule gateSchedule) {
        this(train, target, targetConfig, gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule, EncoderDecoderShear.NONE);
    }

    /** The same settings with other training settings. */
    public ShearConfig withTrain(TrainConfig newTrain) {
        return new ShearConfig(newTrain, target, targetConfig, gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule, encoderDecoder);
    }

    /** The same settings with another target config path. */
    public ShearConfig withTargetConfig(String newTargetConfig) {
        return new ShearConfig(train, target, newTargetConfig, gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule, encoderDecoder);
    }

    public ShearConfig {
        target = target == null ? "" : target;
        targetConfig = targetConfig == null ? "" : targetConfig;
        if (train == null) throw new ShearsException("shear needs its training settings");
        if (layerGates == null) throw new ShearsException("layerGates must be LAYER or SUB_LAYERS");
        if (gateSchedule == null) throw new ShearsException("gateSchedule must be MODEL or CONSTANT");
        encoderDecoder = encoderDecoder == null ? EncoderDecoderShear.NONE : encoderDecoder;
        if (train.schedule().warmupSteps() > 0 && train.schedule().warmupSteps() >= train.totalSteps()) {
            throw new ShearsException("warmupSteps " + train.schedule().warmupSteps() + " is not below the " + train.totalSteps()
                    + " steps: the whole run would warm up (published: 10% of the steps; set warmupSteps)");
        }
        if (!(gateLr > 0)) throw new ShearsException("--gate-lr must be positive, got " + gateLr);
        if (!(lambdaLr > 0)) throw new ShearsException("--lambda-lr must be positive, got " + lambdaLr);
        if (!(lagrangianWarmup >= 0 && lagrangianWarmup <= 1)) throw new ShearsException("--lagrangian-warmup must be in [0, 1], got " + lagrangianWarmup);
    }
}
