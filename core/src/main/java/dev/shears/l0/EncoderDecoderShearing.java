package dev.shears.l0;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.l0.EncoderDecoderGates.Axis;
import dev.shears.l0.EncoderDecoderGates.Row;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.EncoderDecoderTarget;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongToDoubleFunction;

/**
 * The gate side of a shearing step of an encoder–decoder, as {@link Shearing} is for decoder-only models: draw each
 * micro-batch's gates ({@link #sample}); after the model's backward has filled {@link #gradients}, take the chain rule
 * to logAlpha ({@link #backwardInto} a micro-batch's own vector, or {@link #backwardDone} straight into the step's sum,
 * {@link #lossGradient}); once per step ({@link #update}) add the Lagrangian's gradient, descend logAlpha by
 * {@link GateAdam} (then clamp it) and ascend λ by another. The gate and λ learning rates follow the model's schedule
 * ({@code lrScale}), as LLM-Shearing's one optimizer scales every parameter group. It owns what a checkpoint saves of
 * the gates, the metrics of each step and the final plan.
 */
public final class EncoderDecoderShearing {
    private final EncoderDecoderGates gates;
    private final EncoderDecoderLagrangian lagrangian;
    private final GateAdam gateOptimizer;
    private final GateAdam lambdaOptimizer;
    private final double gateLr;
    private final double lambdaLr;
    private final LongToDoubleFunction lrScale;
    private final long gateSeed;
    private final EncoderDecoderMasks dMasks;
    private final double[] dLogAlpha;
    private final double[] dLambda;

    /**
     * @param lagrangianWarmup fraction of {@code totalSteps} over which the target sparsity ramps up from 0
     * @param seed             the run's seed: initial logAlpha and (salted) the gate samples
     * @param lrScale          the factor on {@code gateLr} and {@code lambdaLr} at a step
     */
    public EncoderDecoderShearing(EncoderDecoderConfig parent, EncoderDecoderTarget target, double lagrangianWarmup, long totalSteps, long seed, double gateLr,
                                  double lambdaLr, LongToDoubleFunction lrScale, double beta1, double beta2, double epsilon) {
        gates = new EncoderDecoderGates(parent, target);
        gates.initialize(seed);
        lagrangian = new EncoderDecoderLagrangian(gates, lagrangianWarmup, totalSteps);
        gateOptimizer = new GateAdam(gates.size(), beta1, beta2, epsilon);
        lambdaOptimizer = new GateAdam(lagrangian.lambda().length, beta1, beta2, epsilon);
        this.gateLr = gateLr;
        this.lambdaLr = lambdaLr;
        this.lrScale = lrScale;
        this.gateSeed = seed ^ Shearing.GATE_SEED_SALT;
        dMasks = EncoderDecoderMasks.filled(parent, 0f);
        dLogAlpha = new double[gates.size()];
        dLambda = new double[lagrangian.lambda().length];
    }

    /**
     * The gates of micro-batch {@code micro} of step {@code step}, drawn from a generator seeded by (seed, step, micro), so a
     * resumed run, and a rank that holds only some of the micro-batches, draws the same; clears {@link #gradients}.
     */
    public EncoderDecoderMasks sample(long step, int micro) {
        dMasks.fill(0f);
        return gates.sample(gateSeed, step, micro);
    }

    /** The buffer the model's backward accumulates d loss / d gate into, for the last {@link #sample}. */
    public EncoderDecoderMasks gradients() {
        return dMasks;
    }

    /** Takes the last sample's gate gradients to logAlpha, added into the step's sum ({@link #lossGradient}). */
    public void backwardDone() {
        backwardInto(dLogAlpha);
    }

    /** Takes the last sample's gate gradients to logAlpha, added into {@code into} [gates]: one micro-batch's share of the step's sum. */
    public void backwardInto(double[] into) {
        gates.backward(dMasks, into);
    }

    /**
     * What one update saw, before it moved the gates.
     *
     * @param terms              the Lagrangian's terms
     * @param expectedParameters expected parameters of the sheared model under the keep probabilities the terms used
     */
    public record Update(EncoderDecoderLagrangian.Terms terms, double expectedParameters) {
    }

    /** Updates logAlpha and λ from the gate gradients of the step's micro-batches. */
    public Update update(long step) {
        Arrays.fill(dLambda, 0);
        double[] keep = gates.keepProbabilities();
        EncoderDecoderLagrangian.Terms terms = lagrangian.evaluate(keep, step);
        double expected = EncoderDecoderSize.parameters(gates, keep);
        lagrangian.backward(terms, keep, gates.keepProbabilityGradients(), dLogAlpha, dLambda);
        double scale = lrScale.applyAsDouble(step);
        gateOptimizer.descend(gates.logAlpha(), dLogAlpha, gateLr * scale);
        gates.clamp();
        lambdaOptimizer.ascend(lagrangian.lambda(), dLambda, lambdaLr * scale);
        Arrays.fill(dLogAlpha, 0);
        return new Update(terms, expected);
    }

    /**
     * dL/dlogAlpha of the LM loss summed over the current step's micro-batches, live: {@link #backwardDone} adds to it, or
     * a caller that sums the micro-batches itself (over ranks, in micro-batch order) writes it; {@link #update} reads it and
     * clears it for the next step.
     */
    public double[] lossGradient() {
        return dLogAlpha;
    }

    /** The gates (for tests). */
    public EncoderDecoderGates gates() {
        return gates;
    }

    /** Expected parameters of the sheared model under the current keep probabilities. */
    public double expectedParameters() {
        return EncoderDecoderSize.parameters(gates, gates.keepProbabilities());
    }

    /** Per active axis, keyed by the axis key: as {@link Shearing#axes}. */
    public Map<String, Shearing.AxisTerms> axes(EncoderDecoderLagrangian.Terms terms) {
        Map<String, Shearing.AxisTerms> axes = new LinkedHashMap<>();
        for (Axis a : Axis.values()) {
            if (!gates.isActive(a)) continue;
            int i = a.ordinal();
            axes.put(a.key, new Shearing.AxisTerms(terms.sparsity()[i], terms.target()[i], EncoderDecoderSize.targetSparsity(gates, a), lagrangian.lambda()[2 * i],
                    lagrangian.lambda()[2 * i + 1], terms.value()[i]));
        }
        return axes;
    }

    /** The kept units: top-k of the deterministic scores at the target counts. */
    public EncoderDecoderPlan plan() {
        return EncoderDecoderFinalisation.plan(gates);
    }

    /** The deterministic gates of a plan, to evaluate the model as it will be after finalisation. */
    public EncoderDecoderMasks deterministic(EncoderDecoderPlan plan) {
        return EncoderDecoderFinalisation.masks(gates, plan);
    }

    /** The model of exactly the target shape: deterministic gates folded into the weights, dropped units sliced away. */
    public EncoderDecoder finalise(EncoderDecoder model, EncoderDecoderPlan plan) {
        return EncoderDecoderFinalisation.finalise(model, gates, plan);
    }

    /** Gates, λ and both optimizers' state (doubles round-trip exactly through JSON). */
    public ObjectNode state(ObjectMapper json) {
        return GateState.write(json, gates.logAlpha(), lagrangian.lambda(), gateOptimizer, lambdaOptimizer);
    }

    /** Restores {@link #state}, read from {@code file}; gates of another model or target are a one-line error. */
    public void restore(JsonNode state, Path file) {
        GateState.read(state, file, gates.logAlpha(), lagrangian.lambda(), gateOptimizer, lambdaOptimizer);
    }

    /** The learned gates: per active axis and row, logAlpha, keep probability and deterministic score; and the plan's shape. */
    public ObjectNode gatesJson(ObjectMapper json, EncoderDecoderPlan plan) {
        double[] keep = gates.keepProbabilities(), scores = gates.scores();
        ObjectNode n = json.createObjectNode();
        n.put("method", "hard-concrete L0 gates (Sheared-LLaMA) on both stacks of an encoder-decoder; one hidden mask for both stacks and the embedding");
        ObjectNode axes = n.putObject("axes");
        for (Axis a : Axis.values()) {
            if (!gates.isActive(a)) continue;
            ArrayNode rows = axes.putArray(a.key);
            for (Row r : gates.rows(a)) {
                ObjectNode row = rows.addObject();
                if (r.layer() >= 0) row.put("stack", r.stack().name().toLowerCase(Locale.ROOT)).put("layer", r.layer());
                row.put("kept", r.kept());
                ArrayNode la = row.putArray("logAlpha"), p = row.putArray("keepProbability"), s = row.putArray("score");
                for (int i = r.offset(); i < r.offset() + r.units(); i++) {
                    la.add(gates.logAlpha()[i]);
                    p.add(keep[i]);
                    s.add(scores[i]);
                }
            }
        }
        n.putObject("plan").put("hidden", plan.hidden().length)
                .put("encoderLayersKept", plan.encoder().stream().filter(EncoderDecoderPlan.Layer::kept).count())
                .put("decoderLayersKept", plan.decoder().stream().filter(EncoderDecoderPlan.Layer::kept).count());
        return n;
    }
}
