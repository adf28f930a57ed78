package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.dist.Collective;
import dev.shears.io.AtomicFiles;
import dev.shears.l0.LayerGates;
import dev.shears.progress.Progress;
import dev.shears.recipe.MetricsLine;
import dev.shears.recipe.ShearConfig;
import dev.shears.recipe.Seq2SeqShearRun;
import dev.shears.recipe.Seq2SeqTrainRun;
import dev.shears.recipe.ShearRun;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code shears shear}: prune to an exact target shape with learned hard-concrete masks (Sheared-LLaMA). Its
 * defaults are those of {@link ShearConfig#DEFAULT}, a pipeline's shear stage's.
 */
@Command(name = "shear", header = "Learned hard-concrete masks to an exact target shape (Sheared-LLaMA).", mixinStandardHelpOptions = true, showDefaultValues = true, sortOptions = false,
        description = {"Prune a model to an exact target shape with learned masks (Sheared-LLaMA, METHODS.md §2): a hard-concrete",
                "gate on every hidden channel, KV group, query head, FFN neuron and sub-layer of the pruned axes; the",
                "model weights, the gates and the Lagrange multipliers are optimised jointly (LM loss + the mean over each",
                "axis's layers of λ1·(ŝ − t) + λ2·(ŝ − t)², λ by gradient ascent, the target t ramped up over",
                "--lagrangian-warmup of the steps; one gate per layer unless --layer-gates sub-layers). The model's learning",
                "rate warms up over the first 10%% of the steps and decays by cosine to 0.1× (change with --set warmupSteps=N",
                "--set minLr=X); the gates' and λ's rates follow the same schedule (--gate-schedule constant keeps them). At",
                "the end the gates are made deterministic, top-k per layer lands exactly on the target, the gate values",
                "are folded into the weights and the rest is sliced away. --out receives the pruned model (loadable, with",
                "its tokenizer), gates.json, pruning-plan.json, metrics.jsonl, checkpoints and report.md/.json/.html. A",
                "run killed at any point continues with --resume, bit-identically (the data cursor is checkpointed).",
                "Data and dynamic batch loading work as in 'shears train' (see its --help): sequences read once per epoch",
                "per domain; evaluations during the run and the final evaluation use disjoint halves of the held-out",
                "windows; --reference-preset sheared-llama-1.3b starts from RedPajama's mixture with the published",
                "reference losses, as LLM-Shearing's pruning.sh does.",
                "",
                "A T5 or OpenBA folder is sheared on both stacks: gates on each stack's layers, the self-attention heads of every",
                "layer, the cross-attention heads of every decoder layer, the FFN neurons and the hidden channels (one mask for",
                "both stacks and the embedding), to the target of 'shears prune' for encoder-decoders: --heads, --ffn, --hidden",
                "(fractions of every layer's width to remove) and --enc-layers, --dec-layers (layers to keep). The weights and",
                "gates train together on a mixture of denoisers as in 'shears train' (--objective, --dynamic; one --data",
                "folder); the child is written with the parent's tokenizer files."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears data prepare --tokenizer ../shared/data/models/stories260K/tok512.bin --out data/tinystories \\",
                "      ../shared/data/eval/tinystories/tinystories_val_head.txt",
                "  shears shear ../shared/data/models/stories260K/hf --target layers=4,ffn=86 --data data/tinystories \\",
                "      --steps 200 --batch 8 --seq 64 --out runs/sheared",
                "  shears shear MODEL --target-config small/config.json --data rp/wiki --data rp/book --data rp/github \\",
                "      --dynamic-batch-loading --reference-model small --out sheared --steps 3200",
                "  shears shear MODEL --target layers=4,ffn=86 --data data/tinystories --out runs/sheared --resume",
                "  shears shear ../shared/data/models/t5-tiny-random --heads 0.5 --ffn 0.5 --hidden 0.25 --enc-layers 3 \\",
                "      --dec-layers 3 --data data/t5-tinystories --objective ul2 --steps 200 --batch 8 --seq 64 --out runs/t5-sheared"})
final class ShearCommand implements Runnable, Distributed {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "The model to prune: a Hugging Face folder (decoder-only, T5 or OpenBA), a .gguf file or a llama2.c .bin.")
    Path model;

    @Option(names = "--model", paramLabel = "MODEL", description = "The model to prune, as 'shears train --model' names it (instead of MODEL).")
    Path modelOption;

    @Mixin
    RunFolder folder;

    @Option(names = "--target", paramLabel = "SHAPE", description = "Exact kept counts, e.g. layers=4,hidden=48,heads=4,kv-heads=2,ffn=86.")
    String target;

    @Option(names = "--target-config", paramLabel = "CONFIG.json", description = "Prune to the shape of this Hugging Face config.")
    Path targetConfig;

    @Option(names = "--heads", paramLabel = "F", description = "Encoder-decoders: fraction of self- and cross-attention heads of every layer to remove.")
    Double heads;

    @Option(names = "--ffn", paramLabel = "F", description = "Encoder-decoders: fraction of FFN neurons of every layer to remove.")
    Double ffn;

    @Option(names = "--hidden", paramLabel = "F", description = "Encoder-decoders: fraction of hidden channels (d_model) to remove.")
    Double hidden;

    @Option(names = "--enc-layers", paramLabel = "N", description = "Encoder-decoders: encoder layers to keep.")
    Integer encLayers;

    @Option(names = "--dec-layers", paramLabel = "N", description = "Encoder-decoders: decoder layers to keep.")
    Integer decLayers;

    @Option(names = "--objective", paramLabel = "ul2|t5|openba-v2", description = "Encoder-decoders: the mixture of denoisers; default ul2.")
    String objective;

    @Option(names = "--dynamic", description = "Encoder-decoders: Dynamic-UL2, re-weighting the denoisers at every evaluation.")
    boolean dynamic;

    @Option(names = "--data", required = true, paramLabel = "DIR[:WEIGHT]", description = "A prepared token folder and its sampling weight (default 1); repeat for domains.")
    List<String> data = new ArrayList<>();

    @Mixin
    TrainingOptions training;

    @Option(names = "--steps", paramLabel = "N", description = "Pruning steps (published: 3,200).")
    long steps = ShearConfig.DEFAULT.train().schedule().steps();

    @Option(names = "--lagrangian-warmup", paramLabel = "F", description = "Fraction of the steps over which the target ramps up from 0.")
    double lagrangianWarmup = ShearConfig.DEFAULT.lagrangianWarmup();

    // ShearConfig.DEFAULT's, written out so that the help says 1e-4 rather than 1.0E-4
    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-4", description = "Model learning rate (AdamW).")
    double lr;

    @Option(names = "--gate-lr", paramLabel = "X", description = "Learning rate of the gates' logAlpha (Adam).")
    double gateLr = ShearConfig.DEFAULT.gateLr();

    @Option(names = "--lambda-lr", paramLabel = "X", description = "Learning rate of the Lagrange multipliers (Adam ascent).")
    double lambdaLr = ShearConfig.DEFAULT.lambdaLr();

    @Option(names = "--layer-gates", paramLabel = "KIND", converter = LayerGatesConverter.class,
            description = "layer: one gate per layer on both sub-layers (published); sub-layers: separate attention and FFN gates, each kept by its own score.")
    LayerGates layerGates = ShearConfig.DEFAULT.layerGates();

    @Option(names = "--gate-schedule", paramLabel = "KIND", description = "model: gate and λ learning rates follow the model's schedule (published); constant.")
    ShearConfig.GateSchedule gateSchedule = ShearConfig.DEFAULT.gateSchedule();

    @Mixin
    BatchOptions batches = new BatchOptions(ShearConfig.DEFAULT.train());

    @Mixin
    JsonOutput output;

    @ParentCommand
    Main main;

    @Override
    public void run() {
        Path out = folder.path;
        if ((model == null) == (modelOption == null)) throw new ShearsException("give the model to prune once: MODEL or --model MODEL");
        if (model == null) model = modelOption;
        boolean encoderDecoder = EncoderDecoder.describes(model);
        if (!encoderDecoder) {
            boolean seq2seqOptions = heads != null || ffn != null || hidden != null || encLayers != null || decLayers != null || objective != null || dynamic;
            if (seq2seqOptions) {
                throw new ShearsException("--heads, --ffn, --hidden, --enc-layers, --dec-layers, --objective and --dynamic shear an encoder-decoder (a T5 or OpenBA folder); "
                        + "a decoder-only model takes --target or --target-config");
            }
            if ((target == null) == (targetConfig == null)) throw new ShearsException("give exactly one of --target SHAPE or --target-config CONFIG.json");
        } else if (target != null || targetConfig != null) {
            throw new ShearsException("an encoder-decoder is sheared to --heads, --ffn, --hidden, --enc-layers and --dec-layers, not --target or --target-config");
        }
        List<String> overrides = new ArrayList<>();
        overrides.add("model=" + model.toAbsolutePath());
        overrides.add("data=" + TrainCommand.dataJson(data));
        overrides.add("steps=" + steps);
        overrides.addAll(batches.overrides());
        overrides.add("lr=" + lr);
        overrides.add("minLr=" + lr * ShearConfig.MIN_LR_RATIO);
        overrides.add("warmupSteps=" + Math.round(steps * ShearConfig.WARMUP_FRACTION));
        overrides.addAll(training.overrides());
        TrainConfig train = ConfigLoader.load(ShearConfig.DEFAULT.train(), Optional.empty(), overrides);
        if (objective != null) Seq2SeqTrainRun.Objective.parse(objective); // refused as --objective, before the settings name it as a file would
        ShearConfig.EncoderDecoderShear encoderDecoderShear = encoderDecoder
                ? new ShearConfig.EncoderDecoderShear(heads, ffn, hidden, encLayers, decLayers, objective, dynamic ? true : null) : ShearConfig.EncoderDecoderShear.NONE;
        ShearConfig config = new ShearConfig(train, target == null ? "" : target, targetConfig == null ? "" : targetConfig.toAbsolutePath().toString(),
                gateLr, lambdaLr, lagrangianWarmup, layerGates, gateSchedule, encoderDecoderShear);
        if (encoderDecoder) {
            shearEncoderDecoder(config, out);
            return;
        }
        Collective collective = main.collective();
        ShearRun.Result r = ShearRun.run(config, out, training.resume, collective.leads() ? ProgressBar.stderr() : Progress.SILENT, collective);
        if (!collective.leads()) return; // rank 0 writes the report and prints
        ObjectNode summary = summary(r);
        writeReport(Report.of(r), summary, train.dynamicBatchLoading().enabled());
        PrintWriter stdout = output.out();
        if (output.json) {
            output.print(summary);
            return;
        }
        stdout.printf(Locale.ROOT, "sheared %s -> %s: %d steps%s in %.1f s%n", model, out, r.steps(),
                r.resumedFrom() > 0 ? " (resumed at step " + r.resumedFrom() + ")" : "", r.seconds());
        stdout.printf(Locale.ROOT, "  parameters %,d -> %,d (%.1f%% kept)%n", r.parent().parameterCount(), r.pruned().parameterCount(),
                100.0 * r.pruned().parameterCount() / r.parent().parameterCount());
        stdout.printf("  shape %s -> %s%n", r.parent().describe(), r.pruned().describe());
        for (int d = 0; d < r.domains().size(); d++) {
            stdout.printf(Locale.ROOT, "  held-out loss %-20s %.4f (pruned model; gated parent %.4f)%n", r.domains().get(d), r.prunedHeldOutLoss()[d],
                    r.gatedHeldOutLoss()[d]);
        }
        stdout.printf("  report: %s%n", out.resolve("report.html").toAbsolutePath());
    }

    /** A T5 or OpenBA folder ({@link Seq2SeqShearRun}); under mpirun the ranks share each step's micro-batches and rank 0 alone writes and prints. */
    private void shearEncoderDecoder(ShearConfig config, Path out) {
        ShearConfig.EncoderDecoderShear e = config.encoderDecoder(); // the same keys as a pipeline's shear stage of a T5 or OpenBA
        Seq2SeqTrainRun.Objective o = e.denoisers();
        Collective collective = main.collective();
        Seq2SeqShearRun.Result r = Seq2SeqShearRun.run(config, e.target(), o, e.dynamicWeights(), out, training.resume,
                collective.leads() ? ProgressBar.stderr() : Progress.SILENT, collective);
        if (!collective.leads()) return;
        ObjectNode n = Json.object();
        n.put("out", r.out().toString()).put("objective", o.key).put("dynamic", dynamic).put("steps", r.steps()).put("resumedFrom", r.resumedFrom())
                .put("seconds", r.seconds()).put("lastLoss", r.lastLoss()).put("paramsBefore", r.parent().parameterCount())
                .put("paramsAfter", r.pruned().parameterCount()).put("expectedParamsAtEnd", r.expectedParameters())
                .put("before", r.parent().describe()).put("after", r.pruned().describe());
        ObjectNode held = n.putObject("heldOutLoss");
        r.prunedHeldOutLoss().forEach((d, loss) -> held.putObject(d).put("pruned", loss).put("gatedParent", r.gatedHeldOutLoss().get(d)));
        writeReport(Report.of(r), n, dynamic);
        if (output.json) {
            output.print(n);
            return;
        }
        PrintWriter stdout = output.out();
        stdout.printf(Locale.ROOT, "sheared %s -> %s: %d steps of %s denoising%s in %.1f s%n", model, out, r.steps(), o.key,
                r.resumedFrom() > 0 ? " (resumed at step " + r.resumedFrom() + ")" : "", r.seconds());
        stdout.printf(Locale.ROOT, "  parameters %,d -> %,d (%.1f%% kept)%n", r.parent().parameterCount(), r.pruned().parameterCount(),
                100.0 * r.pruned().parameterCount() / r.parent().parameterCount());
        stdout.printf("  shape %s -> %s%n", r.parent().describe(), r.pruned().describe());
        r.prunedHeldOutLoss().forEach((d, loss) -> stdout.printf(Locale.ROOT, "  held-out loss %-20s %.4f (pruned model; gated parent %.4f)%n", d, loss,
                r.gatedHeldOutLoss().get(d)));
    }

    /** {@code layer} or {@code sub-layers} (any case, - or _). */
    static final class LayerGatesConverter implements picocli.CommandLine.ITypeConverter<LayerGates> {
        @Override
        public LayerGates convert(String value) {
            String v = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
            for (LayerGates g : LayerGates.values()) if (g.name().equals(v)) return g;
            throw new picocli.CommandLine.TypeConversionException("expected layer or sub-layers, got '" + value + "'");
        }
    }

    private static ObjectNode summary(ShearRun.Result r) {
        ObjectNode n = Json.object();
        n.put("out", r.out().toString()).put("steps", r.steps()).put("resumedFrom", r.resumedFrom()).put("seconds", r.seconds())
                .put("lastLoss", r.lastLoss()).put("paramsBefore", r.parent().parameterCount()).put("paramsAfter", r.pruned().parameterCount())
                .put("expectedParamsAtEnd", r.expectedParameters());
        n.set("before", InfoCommand.describe(r.parent()));
        n.set("after", InfoCommand.describe(r.pruned()));
        ObjectNode held = n.putObject("heldOutLoss");
        for (int d = 0; d < r.domains().size(); d++) {
            held.putObject(r.domains().get(d)).put("pruned", r.prunedHeldOutLoss()[d]).put("gatedParent", r.gatedHeldOutLoss()[d]);
        }
        return n;
    }

    /**
     * What a shearing report shows, from either kind of run: both shapes in words and sizes, the steps and seconds, and per
     * domain (a decoder-only run's data domains, an encoder-decoder's denoisers) the final held-out losses.
     */
    private record Report(Path out, String parent, String pruned, long paramsBefore, long paramsAfter, long steps, double seconds, List<String> domains,
                          double[] prunedHeldOutLoss, double[] gatedHeldOutLoss) {
        static Report of(ShearRun.Result r) {
            return new Report(r.out(), r.parent().describe(), r.pruned().describe(), r.parent().parameterCount(), r.pruned().parameterCount(), r.steps(),
                    r.seconds(), r.domains(), r.prunedHeldOutLoss(), r.gatedHeldOutLoss());
        }

        static Report of(Seq2SeqShearRun.Result r) {
            List<String> names = List.copyOf(r.prunedHeldOutLoss().keySet());
            return new Report(r.out(), r.parent().describe(), r.pruned().describe(), r.parent().parameterCount(), r.pruned().parameterCount(), r.steps(),
                    r.seconds(), names, names.stream().mapToDouble(r.prunedHeldOutLoss()::get).toArray(), names.stream().mapToDouble(r.gatedHeldOutLoss()::get).toArray());
        }
    }

    private static void writeReport(Report r, ObjectNode summary, boolean dynamicBatchLoading) {
        List<MetricsLine> lines = MetricsLine.read(r.out().resolve(ShearRun.METRICS));
        List<MetricsLine.Step> steps = lines.stream().filter(l -> l instanceof MetricsLine.Step).map(l -> (MetricsLine.Step) l).toList();
        List<MetricsLine.Eval> evals = lines.stream().filter(l -> l instanceof MetricsLine.Eval).map(l -> (MetricsLine.Eval) l).toList();
        Map<String, Double> epochs = lines.stream().filter(l -> l instanceof MetricsLine.Final).map(l -> ((MetricsLine.Final) l).epochs())
                .filter(java.util.Objects::nonNull).reduce((a, b) -> b).orElse(Map.of());
        summary.set("epochs", Json.MAPPER.valueToTree(epochs));
        double[] x = steps.stream().mapToDouble(MetricsLine.Step::step).toArray();
        List<Charts.Series> kept = new ArrayList<>();
        Map<String, double[]> finals = new LinkedHashMap<>();
        if (!steps.isEmpty()) {
            steps.getLast().axes().forEach((axis, last) -> {
                kept.add(new Charts.Series(axis + " expected", x, steps.stream().mapToDouble(n -> 1 - n.axes().get(axis).expectedSparsity()).toArray()));
                kept.add(new Charts.Series(axis + " target", x, steps.stream().mapToDouble(n -> 1 - n.axes().get(axis).target()).toArray()));
                finals.put(axis, new double[] {1 - last.expectedSparsity(), 1 - last.finalTarget(), last.lambda1(), last.lambda2()});
            });
        }
        String sizeChart = Charts.line("Expected kept fraction vs target, per axis", "step", "kept fraction", kept);
        String paramChart = Charts.line("Expected parameters vs target", "step", "parameters", List.of(
                new Charts.Series("expected", x, steps.stream().mapToDouble(MetricsLine.Step::expectedParams).toArray()),
                new Charts.Series("target", x, steps.stream().mapToDouble(MetricsLine.Step::targetParams).toArray())));
        String lossChart = Charts.line("Loss", "step", "loss", List.of(
                new Charts.Series("LM loss (sampled gates)", x, steps.stream().mapToDouble(MetricsLine.Step::loss).toArray()),
                new Charts.Series("Lagrangian", x, steps.stream().mapToDouble(MetricsLine.Step::lagrangian).toArray())));
        String weightChart = "";
        if (dynamicBatchLoading && !evals.isEmpty()) {
            double[] ex = evals.stream().mapToDouble(MetricsLine.Eval::step).toArray();
            List<Charts.Series> ws = new ArrayList<>();
            for (String d : r.domains()) ws.add(new Charts.Series(d, ex, evals.stream().mapToDouble(n -> n.domainWeights().get(d)).toArray()));
            weightChart = "<h2>Domain weights (dynamic batch loading)</h2>" + Charts.line("Domain weights", "step", "weight", ws);
        }
        StringBuilder md = new StringBuilder("# Shearing report\n\n");
        md.append(String.format(Locale.ROOT, "%s → **%s** in %d steps (%.1f s).%n%n", r.parent(), r.pruned(), r.steps(), r.seconds()));
        md.append(String.format(Locale.ROOT, "Parameters %,d → **%,d** (%.1f%% kept).%n%n", r.paramsBefore(), r.paramsAfter(),
                100.0 * r.paramsAfter() / r.paramsBefore()));
        md.append("| axis | expected kept fraction at the end | target | λ1 | λ2 |\n|---|---:|---:|---:|---:|\n");
        StringBuilder axesHtml = new StringBuilder();
        finals.forEach((axis, v) -> {
            String row = String.format(Locale.ROOT, "%s|%.4f|%.4f|%.3f|%.3f", axis, v[0], v[1], v[2], v[3]);
            md.append("| ").append(row.replace("|", " | ")).append(" |\n");
            axesHtml.append("<tr><td>").append(row.replace("|", "</td><td>")).append("</td></tr>");
        });
        md.append("\n| domain | held-out loss, pruned | gated parent (deterministic gates) | epochs read |\n|---|---:|---:|---:|\n");
        StringBuilder lossHtml = new StringBuilder();
        for (int d = 0; d < r.domains().size(); d++) {
            String row = String.format(Locale.ROOT, "%s|%.4f|%.4f|%.3f", r.domains().get(d), r.prunedHeldOutLoss()[d], r.gatedHeldOutLoss()[d],
                    epochs.getOrDefault(r.domains().get(d), Double.NaN));
            md.append("| ").append(row.replace("|", " | ")).append(" |\n");
            lossHtml.append("<tr><td>").append(row.replace("|", "</td><td>")).append("</td></tr>");
        }
        md.append("\nThe trajectory of expected size vs target per axis is in metrics.jsonl and report.html.\n");
        String html = Charts.page("Shears shearing report", "<h1>Shearing report</h1><p>" + Charts.esc(r.parent()) + " → <b>" + Charts.esc(r.pruned()) + "</b></p>"
                + String.format(Locale.ROOT, "<p>Parameters %,d → <b>%,d</b> (%.1f%% kept); %d steps, %.1f s.</p>", r.paramsBefore(),
                r.paramsAfter(), 100.0 * r.paramsAfter() / r.paramsBefore(), r.steps(), r.seconds())
                + "<h2>Expected size vs target</h2>" + sizeChart + paramChart
                + "<table><tr><th>axis</th><th>expected kept fraction</th><th>target</th><th>λ1</th><th>λ2</th></tr>" + axesHtml + "</table>"
                + "<h2>Loss</h2>" + lossChart
                + "<table><tr><th>domain</th><th>held-out loss, pruned</th><th>gated parent</th><th>epochs read</th></tr>" + lossHtml + "</table>"
                + weightChart);
        ArrayNode axes = summary.putArray("axes");
        finals.forEach((axis, v) -> axes.addObject().put("axis", axis).put("expectedKept", v[0]).put("targetKept", v[1]).put("lambda1", v[2]).put("lambda2", v[3]));
        AtomicFiles.writeString(r.out().resolve("report.md"), md.toString());
        AtomicFiles.writeString(r.out().resolve("report.json"), Json.text(summary) + "\n");
        AtomicFiles.writeString(r.out().resolve("report.html"), html);
    }
}
