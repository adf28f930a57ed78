package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.data.BatchSampler;
import dev.shears.data.TokenDataset;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.format.hf.HfModel;
import dev.shears.io.AtomicFiles;
import dev.shears.l0.ExpectedSize;
import dev.shears.l0.Finalisation;
import dev.shears.l0.GateAdam;
import dev.shears.model.Axis;
import dev.shears.l0.L0Gates;
import dev.shears.l0.Lagrangian;
import dev.shears.prune.PruneTarget;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.prune.PlanFiles;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.TargetParser;
import dev.shears.train.Checkpoint;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
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
    /** Separates the gate-sampling stream from the batch-sampling stream of the same seed. */
    private static final long GATE_SEED_SALT = 0x6A7E5EEDL;

    /** What a finished run did. */
    public record Result(Path out, ModelConfig parent, ModelConfig pruned, PruningPlan plan, PruneTarget target, long steps, long resumedFrom,
                         double lastLoss, List<String> domains, double[] gatedHeldOutLoss, double[] prunedHeldOutLoss,
                         double expectedParameters, double seconds) {
    }

    private ShearRun() {
    }

    public static Result run(ShearConfig config, Path out, boolean resume, Progress progress) {
        TrainConfig tc = config.train();
        Path parentPath = tc.source().model().orElseThrow(() -> new ShearsException("shear needs a model to prune (MODEL)"));
        if (config.target().isBlank() == config.targetConfig().isBlank()) {
            throw new ShearsException("give exactly one of --target SHAPE or --target-config CONFIG.json");
        }
        List<TokenDataset> domains = TrainRun.openDomains(tc);
        MemoryPlan.training("shearing", ModelLoader.config(parentPath), tc.batching().batchSize(), tc.batching().seqLen()).check();
        Model model = ModelLoader.load(parentPath);
        ModelConfig parent = model.config();
        PruneTarget target = TargetParser.resolve(parent, spec(config));
        TrainRun.checkVocabulary(model, domains);
        double[] reference = TrainRun.referenceLosses(tc, domains);
        TrainRun.prepareOutput(config, CONFIG, out, resume);

        long total = tc.totalSteps();
        L0Gates gates = new L0Gates(parent, target);
        gates.initialize(tc.batching().seed());
        Lagrangian lagrangian = new Lagrangian(gates, config.lagrangianWarmup(), total);
        GateAdam gateOptimizer = new GateAdam(gates.size(), tc.optimiser().beta1(), tc.optimiser().beta2(), tc.optimiser().epsilon());
        GateAdam lambdaOptimizer = new GateAdam(lagrangian.lambda().length, tc.optimiser().beta1(), tc.optimiser().beta2(), tc.optimiser().epsilon());
        double[] weights = TrainRun.normalised(tc.batching().data().stream().mapToDouble(TrainConfig.DataSource::weight).toArray());
        Trainer trainer = new Trainer(model, new BatchSampler(domains, tc.batching().seed(), tc.batching().seqLen()), tc);

        long start = 0;
        Optional<Path> latest = resume ? Checkpoint.latest(out) : Optional.empty();
        if (latest.isPresent()) {
            Checkpoint c = Checkpoint.restore(latest.get(), model, trainer.optimizer());
            start = c.step();
            if (c.domainWeights().length == weights.length) weights = c.domainWeights();
            restoreGates(c.extra(), gates, lagrangian, gateOptimizer, lambdaOptimizer, latest.get());
        }
        if (start > total) throw new ShearsException(out + ": the newest checkpoint is at step " + start + ", beyond this run's " + total + " steps");
        List<String> names = domains.stream().map(TokenDataset::name).toList();
        long began = System.nanoTime();
        double lastLoss = Double.NaN;
        double[] heldOut = new double[0];
        double targetParameters = targetParameters(parent, target);
        MaskSet dMasks = MaskSet.filled(parent, 0f);
        double[] dLogAlpha = new double[gates.size()];
        double[] dLambda = new double[lagrangian.lambda().length];
        long gateSeed = tc.batching().seed() ^ GATE_SEED_SALT;
        try (BufferedWriter metrics = TrainRun.openMetrics(out, start)) {
            progress.start("shear", (total - start) * tc.tokensPerStep(), "tok");
            for (long step = start; step < total; step++) {
                MaskSet masks = gates.sample(gateSeed, step);
                dMasks.fill(0f);
                Trainer.StepResult r = trainer.step(step, weights, masks, dMasks);

                Arrays.fill(dLogAlpha, 0);
                Arrays.fill(dLambda, 0);
                gates.backward(dMasks, dLogAlpha);
                double[] keep = gates.keepProbabilities();
                Lagrangian.Terms terms = lagrangian.evaluate(keep, step);
                lagrangian.backward(terms, gates.keepProbabilityGradients(), dLogAlpha, dLambda);
                gateOptimizer.descend(gates.logAlpha(), dLogAlpha, config.gateLr());
                gates.clamp();
                lambdaOptimizer.ascend(lagrangian.lambda(), dLambda, config.lambdaLr());

                long done = step + 1;
                lastLoss = r.loss();
                ObjectNode line = JSON.createObjectNode().put("type", "step").put("step", done).put("tokens", done * tc.tokensPerStep())
                        .put("loss", r.loss()).put("lagrangian", terms.total()).put("lr", r.lr()).put("gradNorm", r.gradNorm())
                        .put("expectedParams", ExpectedSize.parameters(gates, keep)).put("targetParams", targetParameters)
                        .put("tokensPerSecond", r.tokens() / r.seconds());
                ObjectNode axes = line.putObject("axes");
                for (Axis a : Axis.gatedAxes()) {
                    if (!gates.isActive(a)) continue;
                    int i = Lagrangian.slot(a);
                    axes.putObject(a.key()).put("expectedSparsity", terms.sparsity()[i]).put("target", terms.target()[i])
                            .put("finalTarget", lagrangian.finalTarget(a)).put("lambda1", lagrangian.lambda()[2 * i])
                            .put("lambda2", lagrangian.lambda()[2 * i + 1]).put("term", terms.value()[i]);
                }
                TrainRun.writeLine(metrics, line);
                progress.status(String.format(Locale.ROOT, "step %d/%d loss %.4f lagrangian %.4f", done, total, r.loss(), terms.total()));
                progress.advance(r.tokens());
                boolean last = done == total;
                if (last || (tc.evaluation().evalInterval() > 0 && done % tc.evaluation().evalInterval() == 0)) {
                    MaskSet deterministic = Finalisation.masks(gates, Finalisation.plan(gates));
                    heldOut = Trainer.heldOutLoss(model, domains, tc.batching().seqLen(), tc.evaluation().evalWindows(), deterministic);
                    weights = TrainRun.afterEvaluation(tc, heldOut, weights, reference, done, names, metrics);
                }
                if (last || (tc.checkpointing().checkpointInterval() > 0 && done % tc.checkpointing().checkpointInterval() == 0)) {
                    metrics.flush();
                    Checkpoint.save(out, model, trainer.optimizer(), done, weights, gateState(gates, lagrangian, gateOptimizer, lambdaOptimizer),
                            tc.checkpointing().keepCheckpoints());
                }
            }
            progress.finish();
        } catch (IOException e) {
            throw new ShearsException(out.resolve(METRICS) + ": cannot write: " + e.getMessage(), e);
        }

        PruningPlan plan = Finalisation.plan(gates);
        MaskSet deterministic = Finalisation.masks(gates, plan);
        if (heldOut.length == 0) heldOut = Trainer.heldOutLoss(model, domains, tc.batching().seqLen(), tc.evaluation().evalWindows(), deterministic);
        Model pruned = Finalisation.finalise(model, gates, plan);
        double[] prunedLoss = Trainer.heldOutLoss(pruned, domains, tc.batching().seqLen(), tc.evaluation().evalWindows(), MaskSet.NONE);
        HfModel.write(pruned, out, TrainRun.finalDtype(tc), HfModel.DEFAULT_SHARD_BYTES);
        TrainRun.copyTokenizer(tc, domains, out);
        PlanFiles.writePlan(plan, parent, out.resolve(PlanFiles.PLAN));
        AtomicFiles.writeString(out.resolve(GATES), gatesJson(gates, plan) + "\n");
        double seconds = (System.nanoTime() - began) / 1e9;
        return new Result(out, parent, pruned.config(), plan, target, total, start, lastLoss, names, heldOut, prunedLoss,
                ExpectedSize.parameters(gates, gates.keepProbabilities()), seconds);
    }

    /** The target as the pruning target parser reads it: exact counts or another config's shape. */
    static TargetParser.Spec spec(ShearConfig config) {
        return new TargetParser.Spec(Map.of(), config.target().isBlank() ? Map.of() : TargetParser.parseExact(config.target()),
                config.targetConfig().isBlank() ? Optional.empty() : Optional.of(HfConfig.read(Path.of(config.targetConfig()))),
                List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false);
    }

    private static double targetParameters(ModelConfig parent, PruneTarget t) {
        return t.dropsSubLayers() ? Double.NaN : t.config(parent).parameterCount();
    }

    /** Gates, λ and both optimizers' state for the checkpoint (doubles round-trip exactly through JSON). */
    private static ObjectNode gateState(L0Gates gates, Lagrangian lagrangian, GateAdam gateOptimizer, GateAdam lambdaOptimizer) {
        ObjectNode n = JSON.createObjectNode();
        ArrayNode logAlpha = n.putArray("logAlpha");
        for (double v : gates.logAlpha()) logAlpha.add(v);
        ArrayNode lambda = n.putArray("lambda");
        for (double v : lagrangian.lambda()) lambda.add(v);
        n.set("gateOptimizer", gateOptimizer.toJson());
        n.set("lambdaOptimizer", lambdaOptimizer.toJson());
        return n;
    }

    private static void restoreGates(JsonNode extra, L0Gates gates, Lagrangian lagrangian, GateAdam gateOptimizer, GateAdam lambdaOptimizer, Path dir) {
        JsonNode logAlpha = extra.path("logAlpha"), lambda = extra.path("lambda");
        if (logAlpha.size() != gates.size() || lambda.size() != lagrangian.lambda().length) {
            throw new ShearsException(dir + ": the checkpoint holds no gates for this model and target (" + logAlpha.size() + " gates, expected "
                    + gates.size() + ")");
        }
        for (int i = 0; i < gates.size(); i++) gates.logAlpha()[i] = logAlpha.get(i).asDouble();
        for (int i = 0; i < lambda.size(); i++) lagrangian.lambda()[i] = lambda.get(i).asDouble();
        gateOptimizer.restore(extra.path("gateOptimizer"));
        lambdaOptimizer.restore(extra.path("lambdaOptimizer"));
    }

    /** The learned gates: per active axis and row, logAlpha, keep probability, deterministic score and the kept units. */
    static String gatesJson(L0Gates gates, PruningPlan plan) {
        double[] keep = gates.keepProbabilities(), scores = gates.scores();
        ObjectNode n = JSON.createObjectNode();
        n.put("method", "hard-concrete L0 gates (Sheared-LLaMA); head gate = kvHeads gate × heads gate");
        ObjectNode axes = n.putObject("axes");
        for (Axis a : Axis.gatedAxes()) {
            if (!gates.isActive(a)) continue;
            ArrayNode rows = axes.putArray(a.key());
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
        n.set("plan", JSON.valueToTree(Map.of("hidden", plan.hidden().length, "layersKept", plan.layers().stream().filter(l -> l.kept()).count())));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
