package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.dist.Collective;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.recipe.ModelShape;
import dev.shears.recipe.Pipeline;
import dev.shears.recipe.StageSummary;
import dev.shears.recipe.Seq2SeqTrainRun;
import dev.shears.recipe.TrainRun;
import dev.shears.recipe.TrainStage;
import dev.shears.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code shears train}: train from scratch or continue training on prepared token folders. */
@Command(name = "train", header = "Train a model from scratch or continue training it on prepared token folders.", mixinStandardHelpOptions = true, showDefaultValues = true, sortOptions = false,
        description = {"Train a model from scratch (--init CONFIG.json) or continue training one (--model PATH) on folders made by",
                "'shears data prepare'. Settings come from the defaults, then --config FILE (YAML or JSON), then the options",
                "below, then --set key=value. The resolved config, metrics.jsonl (one line per step and per evaluation) and",
                "checkpoints go to --out; at the end --out is a loadable Hugging Face model folder with its tokenizer.",
                "A run killed at any point continues with --resume and ends bit-identical to one never stopped.",
                "Under mpirun (mpirun -np N ./shears train ...) the ranks share each step's micro-batches (gradAccumulation):",
                "the weights are bit-identical to a single-process run, and rank 0 alone writes --out and prints.",
                "Data: each sequence draws its domain from the domain weights; sampling EPOCHS then reads that domain's",
                "sequences (seqLen + 1 tokens every seqLen tokens) once each per epoch in a seeded order, the position",
                "checkpointed; metrics and the report give the epochs each domain saw. The held-out windows are split in",
                "two: evaluations during the run (and dynamic batch loading) use the second half, the final evaluation the",
                "first. Learning-rate decay after warm-up: COSINE, LINEAR or CONSTANT. Dynamic batch loading (Sheared-LLaMA)",
                "moves the domain weights toward domains whose held-out loss lags its reference: referenceLosses {domain:",
                "loss}, scalingLaw {domain: {e, a, alpha}} at targetParameters, referenceModels (a scaling law fitted to 3+",
                "sizes), referenceModel, or preset (LLM-Shearing's published RedPajama numbers); startWeights {domain: w}",
                "or the preset's mixture replace the data weights at step 0. Distillation: loss = (1 − alpha)·CE +",
                "alpha·T²·KL(teacher ‖ student). tokens > 0 overrides steps.",
                "A T5 or OpenBA folder (--model) is trained on a mixture of denoisers (--objective; --dynamic for Dynamic-UL2)",
                "over one --data folder cut into seqLen-token chunks; under mpirun its ranks share the micro-batches and held-out",
                "batches the same way (the same model bytes for any N)."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears data prepare --tokenizer ../shared/data/models/stories260K/tok512.bin --out data/tinystories \\",
                "      ../shared/data/eval/tinystories/tinystories_val_head.txt",
                "  shears train --init tiny-config.json --data data/tinystories --out runs/tiny --steps 500 --set lr=3e-3",
                "  shears train --model runs/tiny --data data/a:0.7 --data data/b:0.3 --out runs/healed --config heal.yaml",
                "  shears train --init tiny-config.json --data data/tinystories --out runs/tiny --steps 500 --resume",
                "  shears train --model pruned --data rp/wiki --data rp/book --data rp/github --out healed \\",
                "      --dynamic-batch-loading --reference-model parent --set evalInterval=50",
                "  shears train --model sheared --data rp/cc --data rp/github --data rp/book --data rp/stackexchange \\",
                "      --data rp/wiki --data rp/arxiv --data rp/c4-rp --out healed --dynamic-batch-loading \\",
                "      --reference-preset sheared-llama-1.3b --set evalInterval=400",
                "  shears train --model pruned --teacher parent --data data/ts --out distilled --set distill.alpha=0.9 --set distill.temperature=1",
                "  shears train --model t5-pruned --data data/c4 --objective ul2 --dynamic --steps 1000 --out t5-healed --set seqLen=512"})
final class TrainCommand implements Runnable, Distributed {
    @Option(names = "--config", paramLabel = "FILE", description = "A YAML or JSON file of configuration keys.")
    Path config;

    @Option(names = "--init", paramLabel = "CONFIG.json", description = "Train from scratch a model of this Hugging Face config's shape.")
    Path init;

    @Option(names = "--model", paramLabel = "PATH", description = "Continue training this model (HF folder, .gguf or llama2.c .bin).")
    Path model;

    @Option(names = "--data", paramLabel = "DIR[:WEIGHT]", description = "A prepared token folder and its sampling weight (default 1); repeat for domains.")
    List<String> data = new ArrayList<>();

    @Mixin
    RunFolder folder;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps.")
    Long steps;

    @Option(names = "--tokens", paramLabel = "N", description = "Token budget instead of --steps.")
    Long tokens;

    @Mixin
    BatchOptions batches;

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate.")
    Double lr;

    @Mixin
    TrainingOptions training;

    @Option(names = "--teacher", paramLabel = "MODEL", description = "Distil from this model's logits (same vocabulary); see distill.temperature/alpha.")
    Path teacher;

    @Option(names = "--objective", paramLabel = "ul2|t5|openba-v2", description = "Encoder-decoders only: the mixture of denoisers (UL2's seven, T5's span corruption, OpenBA-V2's); default ul2.")
    String objective;

    @Option(names = "--dynamic", description = "Encoder-decoders only: Dynamic-UL2, re-weighting the denoisers at every evaluation toward those whose held-out loss fell least from step 0.")
    boolean dynamic;

    @Mixin
    JsonOutput output;

    @ParentCommand
    Main main;

    @Override
    public void run() {
        Path out = folder.path;
        List<String> overrides = new ArrayList<>();
        if (init != null) overrides.add("init=" + init.toAbsolutePath());
        if (model != null) overrides.add("model=" + model.toAbsolutePath());
        if (!data.isEmpty()) overrides.add("data=" + dataJson(data));
        if (steps != null) overrides.add("steps=" + steps);
        if (tokens != null) overrides.add("tokens=" + tokens);
        overrides.addAll(batches.overrides());
        if (lr != null) overrides.add("lr=" + lr);
        if (teacher != null) overrides.add("distill.teacher=" + teacher.toAbsolutePath());
        overrides.addAll(training.overrides());
        TrainConfig resolved = ConfigLoader.load(TrainConfig.DEFAULT, Optional.ofNullable(config), overrides);
        if (Seq2SeqTrainRun.trains(resolved.source().model())) {
            trainEncoderDecoder(resolved, out);
            return;
        }
        if (objective != null || dynamic) throw new ShearsException("--objective and --dynamic train an encoder-decoder (--model T5_OR_OPENBA_FOLDER); this model is decoder-only");
        Collective collective = main.collective();
        TrainRun.Result r = TrainRun.run(resolved, out, training.resume, collective.leads() ? ProgressBar.stderr() : Progress.SILENT, collective);
        if (!collective.leads()) return; // rank 0 writes the report and prints
        ObjectNode n = Json.object();
        n.put("out", out.toString()).put("steps", r.steps()).put("resumedFrom", r.resumedFrom()).put("loss", r.lastLoss())
                .put("seconds", r.seconds()).put("tokensPerSecond", r.tokensPerSecond()).put("params", r.model().config().parameterCount());
        Map<String, Double> held = new LinkedHashMap<>(), epochs = new LinkedHashMap<>();
        for (int d = 0; d < r.domains().size(); d++) {
            held.put(r.domains().get(d), r.heldOutLoss()[d]);
            epochs.put(r.domains().get(d), r.epochs()[d]);
        }
        n.set("heldOutLoss", Json.MAPPER.valueToTree(held));
        n.set("epochs", Json.MAPPER.valueToTree(epochs));
        // the run's report: the same page a pipeline gets, for its one stage
        ModelConfig shape = r.model().config();
        StageSummary stage = new StageSummary("train", "train", new StageSummary.Trained(r.steps(), r.lastLoss(), r.resumedFrom(), held, epochs), r.seconds(),
                shape.parameterCount(), shape.describe(), false);
        Path report = new PipelineReport("Training " + out.getFileName(), List.of(new Pipeline.StageResult(
                new Pipeline.Stage(0, "train", new TrainStage(resolved, false)), out, new ModelShape.Decoder(shape), r.seconds(), false, stage)))
                .write(out, Json.object().put("out", out.toString()), "", "");
        n.put("report", report.toString());
        PrintWriter stdout = output.out();
        if (output.json) {
            output.print(n);
        } else {
            stdout.printf(Locale.ROOT, "trained %s (%,d parameters) for %d steps%s in %.1f s, %.0f tokens/s%n", out,
                    r.model().config().parameterCount(), r.steps(), r.resumedFrom() > 0 ? " (resumed at step " + r.resumedFrom() + ")" : "",
                    r.seconds(), r.tokensPerSecond());
            stdout.printf(Locale.ROOT, "  last training loss %.4f%n", r.lastLoss());
            for (int d = 0; d < r.domains().size(); d++) {
                stdout.printf(Locale.ROOT, "  held-out loss %-20s %.4f (perplexity %.2f), %.3f epochs read%n", r.domains().get(d), r.heldOutLoss()[d],
                        Math.exp(r.heldOutLoss()[d]), r.epochs()[d]);
            }
            stdout.printf("  report: %s%n", report.toAbsolutePath());
        }
    }

    /** An encoder-decoder on a mixture of denoisers ({@link Seq2SeqTrainRun}); under mpirun the ranks share its micro-batches and rank 0 writes and prints. */
    private void trainEncoderDecoder(TrainConfig resolved, Path out) {
        Collective collective = main.collective();
        Seq2SeqTrainRun.Objective o = Seq2SeqTrainRun.Objective.parse(objective == null ? "ul2" : objective);
        Seq2SeqTrainRun.Result r = Seq2SeqTrainRun.run(resolved, o, dynamic, out, training.resume, collective.leads() ? ProgressBar.stderr() : Progress.SILENT,
                collective);
        if (!collective.leads()) return;
        ObjectNode n = Json.object();
        n.put("out", out.toString()).put("objective", o.key).put("dynamic", dynamic).put("steps", r.steps()).put("resumedFrom", r.resumedFrom())
                .put("loss", r.lastLoss()).put("seconds", r.seconds()).put("params", r.model().parameterCount());
        n.set("heldOutLoss", Json.MAPPER.valueToTree(r.heldOutLoss()));
        if (output.json) {
            output.print(n);
            return;
        }
        PrintWriter stdout = output.out();
        stdout.printf(Locale.ROOT, "trained %s (%,d parameters) on %s denoising for %d steps%s in %.1f s%n", out, r.model().parameterCount(), o.key,
                r.steps(), r.resumedFrom() > 0 ? " (resumed at step " + r.resumedFrom() + ")" : "", r.seconds());
        stdout.printf(Locale.ROOT, "  last training loss %.4f%n", r.lastLoss());
        r.heldOutLoss().forEach((name, loss) -> stdout.printf(Locale.ROOT, "  held-out loss %-20s %.4f%n", name, loss));
    }

    /** {@code DIR[:WEIGHT]} options as the JSON list of the {@code data} key. */
    static String dataJson(List<String> specs) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (String s : specs) {
            String path = s;
            double weight = 1;
            int colon = s.lastIndexOf(':');
            if (colon > 0) {
                try {
                    weight = Double.parseDouble(s.substring(colon + 1));
                    path = s.substring(0, colon);
                } catch (NumberFormatException e) {
                    // a colon that is part of the path
                }
            }
            if (!(weight >= 0)) throw new ShearsException("--data " + s + ": the weight must be a number ≥ 0");
            list.addObject().put("path", Path.of(path).toAbsolutePath().toString()).put("weight", weight);
        }
        return list.toString();
    }
}
