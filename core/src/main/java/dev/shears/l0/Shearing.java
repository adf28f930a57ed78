package dev.shears.l0;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.model.Axis;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.train.MicroBatchGates;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The gate side of a Sheared-LLaMA step (METHODS.md §2), around the model's own forward, backward and
 * AdamW step: draw the gates ({@link #sample}); after the model's backward has filled {@link #gateGradients},
 * {@link #update} takes the chain rule to logAlpha, adds the Lagrangian's gradient, descends logAlpha by
 * Adam (then clamps it) and ascends λ by Adam. As in LLM-Shearing's {@code train.py} (one optimizer whose
 * scheduler scales every parameter group), the gate and λ learning rates follow the model's schedule:
 * each step's rate is the configured one times {@code lrScale(step)} (the model's rate over its peak;
 * 1 for constant rates). It also owns what is saved in a checkpoint, the metrics of each step and the
 * final plan, so a recipe only sequences it.
 */
public final class Shearing {
    /** Separates the gate-sampling stream from the batch-sampling stream of the same seed. */
    static final long GATE_SEED_SALT = 0x6A7E5EEDL;

    private final L0Gates gates;
    private final Lagrangian lagrangian;
    private final GateAdam gateOptimizer;
    private final GateAdam lambdaOptimizer;
    private final double gateLr;
    private final double lambdaLr;
    private final java.util.function.LongToDoubleFunction lrScale;
    private final long gateSeed;
    private final MaskSet dMasks;
    private final double[] dLogAlpha;
    private final double[] dLambda;

    /**
     * @param lagrangianWarmup fraction of {@code totalSteps} over which the target sparsity ramps up from 0
     * @param seed             the run's seed: initial logAlpha and (salted) the gate samples
     * @param beta1            Adam β1 of both gate optimizers (the model's)
     * @param lrScale          the factor on {@code gateLr} and {@code lambdaLr} at a step
     */
    public Shearing(ModelConfig parent, PruneTarget target, LayerGates layerGates, double lagrangianWarmup, long totalSteps, long seed, double gateLr,
                    double lambdaLr, java.util.function.LongToDoubleFunction lrScale, double beta1, double beta2, double epsilon) {
        gates = new L0Gates(parent, target, layerGates);
        gates.initialize(seed);
        lagrangian = new Lagrangian(gates, lagrangianWarmup, totalSteps);
        gateOptimizer = new GateAdam(gates.size(), beta1, beta2, epsilon);
        lambdaOptimizer = new GateAdam(lagrangian.lambda().length, beta1, beta2, epsilon);
        this.gateLr = gateLr;
        this.lambdaLr = lambdaLr;
        this.lrScale = lrScale;
        this.gateSeed = seed ^ GATE_SEED_SALT;
        dMasks = MaskSet.filled(parent, 0f);
        dLogAlpha = new double[gates.size()];
        dLambda = new double[lagrangian.lambda().length];
    }

    /**
     * The gates of step {@code step}: one sample per micro-batch, drawn from a generator seeded by (seed, step,
     * micro-batch), so a resumed run draws the same; each micro-batch's gate gradient is taken to logAlpha
     * under its own sample and summed for {@link #update}.
     */
    public MicroBatchGates step(long step) {
        Arrays.fill(dLogAlpha, 0);
        return new MicroBatchGates() {
            @Override
            public MaskSet sample(int micro) {
                dMasks.fill(0f);
                return gates.sample(gateSeed, step, micro);
            }

            @Override
            public MaskSet gradients() {
                return dMasks;
            }

            @Override
            public void backwardDone() {
                gates.backward(dMasks, dLogAlpha);
            }

            @Override
            public double[] accumulated() {
                return dLogAlpha;
            }
        };
    }

    /**
     * What one update saw, before it moved the gates.
     *
     * @param terms              the Lagrangian's terms
     * @param expectedParameters expected parameters of the pruned model under the keep probabilities the terms used
     */
    public record Update(Lagrangian.Terms terms, double expectedParameters) {
    }

    /** The gates (for tests). */
    L0Gates gates() {
        return gates;
    }

    /** dL/dlogAlpha of the LM loss summed over the current step's micro-batches so far (for tests). */
    double[] lossGradient() {
        return dLogAlpha;
    }

    /** Updates logAlpha and λ from the gate gradients of the step's micro-batches. */
    public Update update(long step) {
        Arrays.fill(dLambda, 0);
        double[] keep = gates.keepProbabilities();
        Lagrangian.Terms terms = lagrangian.evaluate(keep, step);
        double expected = ExpectedSize.parameters(gates, keep);
        lagrangian.backward(terms, keep, gates.keepProbabilityGradients(), dLogAlpha, dLambda);
        double scale = lrScale.applyAsDouble(step);
        gateOptimizer.descend(gates.logAlpha(), dLogAlpha, gateLr * scale);
        gates.clamp();
        lambdaOptimizer.ascend(lagrangian.lambda(), dLambda, lambdaLr * scale);
        return new Update(terms, expected);
    }

    /** Expected parameters of the pruned model under the current keep probabilities. */
    public double expectedParameters() {
        return ExpectedSize.parameters(gates, gates.keepProbabilities());
    }

    /** The constraint on one gated axis at a step: expected sparsity, ramped and final target, λ1, λ2 and the Lagrangian term. */
    public record AxisTerms(double expectedSparsity, double target, double finalTarget, double lambda1, double lambda2, double term) {
    }

    /** Per active axis, keyed by the axis key, in gate order. */
    public Map<String, AxisTerms> axes(Lagrangian.Terms terms) {
        Map<String, AxisTerms> axes = new LinkedHashMap<>();
        for (Axis a : Axis.gatedAxes()) {
            if (!gates.isActive(a)) continue;
            int i = Lagrangian.slot(a);
            axes.put(a.key, new AxisTerms(terms.sparsity()[i], terms.target()[i], lagrangian.finalTarget(a), lagrangian.lambda()[2 * i],
                    lagrangian.lambda()[2 * i + 1], terms.value()[i]));
        }
        return axes;
    }

    /** The kept units: top-k of the deterministic scores at the target counts. */
    public PruningPlan plan() {
        return Finalisation.plan(gates);
    }

    /** The deterministic gates of a plan, to evaluate the model as it will be after finalisation. */
    public MaskSet deterministic(PruningPlan plan) {
        return Finalisation.masks(gates, plan);
    }

    /** The model of exactly the target shape: deterministic gates folded into the weights, dropped units sliced away. */
    public Model finalise(Model model, PruningPlan plan) {
        return Finalisation.finalise(model, gates, plan);
    }

    /** Gates, λ and both optimizers' state for a checkpoint (doubles round-trip exactly through JSON). */
    public ObjectNode state(ObjectMapper json) {
        return GateState.write(json, gates.logAlpha(), lagrangian.lambda(), gateOptimizer, lambdaOptimizer);
    }

    /** Restores {@link #state} from a checkpoint in {@code dir}. */
    public void restore(JsonNode state, Path dir) {
        GateState.read(state, dir, gates.logAlpha(), lagrangian.lambda(), gateOptimizer, lambdaOptimizer);
    }

    /** The learned gates: per active axis and row, logAlpha, keep probability, deterministic score; and the plan's size. */
    public ObjectNode gatesJson(ObjectMapper json, PruningPlan plan) {
        double[] keep = gates.keepProbabilities(), scores = gates.scores();
        ObjectNode n = json.createObjectNode();
        n.put("method", "hard-concrete L0 gates (Sheared-LLaMA); head gate = kvHeads gate × heads gate; sub-layer gate = layers gate × attentionLayers/ffnLayers gate");
        ObjectNode axes = n.putObject("axes");
        for (Axis a : Axis.gatedAxes()) {
            if (!gates.isActive(a)) continue;
            ArrayNode rows = axes.putArray(a.key);
            for (int r = 0; r < gates.rows(a); r++) {
                ObjectNode row = rows.addObject();
                if (gates.rows(a) > 1) row.put("layer", r);
                ArrayNode la = row.putArray("logAlpha"), p = row.putArray("keepProbability"), s = row.putArray("score");
                for (int i = 0; i < gates.units(a, r); i++) {
                    int k = gates.offset(a, r) + i;
                    la.add(gates.logAlpha()[k]);
                    p.add(keep[k]);
                    s.add(scores[k]);
                }
            }
        }
        n.putObject("plan").put("hidden", plan.hidden().length).put("layersKept", plan.layers().stream().filter(l -> l.kept()).count());
        return n;
    }
}
