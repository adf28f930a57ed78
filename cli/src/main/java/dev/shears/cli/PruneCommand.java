package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.io.AtomicFiles;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.GroupReduction;
import dev.shears.prune.LayerPlan;
import dev.shears.prune.TargetParser;
import dev.shears.prune.TaylorVariant;
import dev.shears.recipe.MemoryPlan;
import dev.shears.recipe.PruneRun;
import dev.shears.recipe.PruneStage;
import dev.shears.recipe.EncoderDecoderPruneRun;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.EncoderDecoderTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code shears prune}: one-shot structured pruning to a chosen shape. Its defaults are those of
 * {@link PruneStage#DEFAULT}, a pipeline's prune stage's, so that the command and the stage cannot disagree.
 */
@Command(name = "prune", header = "One-shot structured pruning by importance: layers, heads, FFN, hidden channels, vocabulary.", mixinStandardHelpOptions = true, showDefaultValues = true, sortOptions = false,
        description = {"Prune a model to a smaller shape in one shot: score every unit (layers, attention heads by KV group, FFN",
                "neurons, hidden channels) on calibration data or data-free, keep the best, slice the weights. Writes a loadable",
                "model folder (weights, config, tokenizer, pruning-plan.json, importance.json) and a report (report.md, .json, .html).",
                "Targets: fractions to remove per axis, exact kept counts (--target) or another config's shape (--target-config).",
                "Criteria (METHODS.md): widths magnitude | random | activation | taylor; layers block-influence | angular | every-k | taylor |",
                "magnitude | random. Defaults: taylor and block-influence with --calibration, else magnitude and every-k. Their variants",
                "(--taylor, --taylor-reduction, --angular-tokens, --final-state) reproduce each source or keep Shears' earlier form (docs/pruning.md).",
                "Under mpirun (mpirun -np N ./shears prune ...) the ranks share the calibration windows and add every window's",
                "scores, gradients and losses in window order: the scores, plan and weights are bit-identical to one",
                "process's, for every criterion and variant; rank 0 alone writes --out and prints.",
                "A T5 folder (T5ForConditionalGeneration) is pruned on every axis: --heads (self and cross), --ffn, --hidden,",
                "--enc-layers and --dec-layers (kept counts), --vocab; widths ranked by --importance magnitude, random, activation or taylor",
                "(--taylor gate, gate-per-sequence, gate-mix or gate-mix-per-sequence), layers by --layer-importance every-k, block-influence",
                "or angular (a contiguous block per stack; --angular-span, --angular-tokens, --final-state). Activation and block-influence are",
                "the defaults with --calibration: windows whose first half the encoder reads and the rest the decoder. Under mpirun the ranks",
                "share those windows as above (the same child for any N). An OpenBA folder (OpenBAForConditionalGeneration) takes the same",
                "axes and options."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears prune ../shared/data/models/stories260K/hf --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --calibration ../shared/data/eval/tinystories/tinystories_val_head.txt --ffn 0.5 --out /tmp/half-ffn",
                "  shears prune MODEL --layers 0.2 --layer-importance angular --calibration data/ts --out pruned",
                "  shears prune MODEL --target layers=4,hidden=48,heads=4,kv-heads=2,ffn=96 --importance activation --calibration text.txt --out p",
                "  shears prune MODEL --drop-layers 2,3 --out p        (Jha et al.: explicit layers, data-free)",
                "  shears prune MODEL --heads 0.5 --head-mode per-group --non-uniform --scores earlier/importance.json --out p",
                "  shears prune MODEL --vocab 0.5 --vocab-corpus ../shared/data/eval/tinystories/tinystories_val_head.txt --out p   (OpenBA-V2)",
                "  shears prune ../shared/data/models/t5-tiny-random --heads 0.5 --ffn 0.5 --enc-layers 3 --dec-layers 4 --out t5-small   (T5)",
                "  mpirun -np 2 ./shears --threads 1 prune T5_FOLDER --ffn 0.5 --dec-layers 4 --importance taylor --layer-importance angular \\",
                "      --calibration text.txt --out t5-taylor   (T5 or OpenBA, windows shared over ranks)"})
final class PruneCommand implements Runnable, Planned, Distributed {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A Hugging Face folder, a .gguf file or a llama2.c .bin.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "Tokenizer (needed for llama2.c checkpoints; found beside the model otherwise).")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model folder (must not exist or be empty).")
    Path out;

    @Option(names = "--layers", paramLabel = "F", description = "Fraction of layers to remove.")
    Double layers;

    @Option(names = "--heads", paramLabel = "F", description = "Fraction of attention heads to remove (see --head-mode).")
    Double heads;

    @Option(names = "--ffn", paramLabel = "F", description = "Fraction of FFN neurons to remove.")
    Double ffn;

    @Option(names = "--hidden", paramLabel = "F", description = "Fraction of hidden channels to remove.")
    Double hidden;

    @Option(names = "--enc-layers", paramLabel = "N", description = "Encoder layers to keep (a T5 or OpenBA folder; which go: --layer-importance).")
    Integer encLayers;

    @Option(names = "--dec-layers", paramLabel = "N", description = "Decoder layers to keep (a T5 or OpenBA folder; which go: --layer-importance).")
    Integer decLayers;

    @Option(names = "--vocab", paramLabel = "F", description = "Fraction of the normal vocabulary pieces to remove (least frequent first; special and byte entries always stay).")
    Double vocab;

    @Option(names = "--vocab-size", paramLabel = "N", description = "Exact vocabulary size to keep instead of --vocab.")
    Integer vocabSize;

    @Option(names = "--vocab-corpus", paramLabel = "FILE|DIR", description = "Where token frequencies are counted (default: --calibration).")
    Path vocabCorpus;

    @Option(names = "--keep-tokens", paramLabel = "PIECE", split = ",", description = "Vocabulary pieces that must stay.")
    List<String> keepTokens = new ArrayList<>();

    @Option(names = "--keep-seen-characters", description = "Keep every single character seen in the corpus (a dropped one falls back to byte tokens).")
    boolean keepSeenCharacters;

    @Option(names = "--target", paramLabel = "SHAPE", description = "Exact kept counts, e.g. layers=12,hidden=512,heads=8,kv-heads=4,ffn=1376.")
    String target;

    @Option(names = "--target-config", paramLabel = "CONFIG.json", description = "Prune to the shape of this Hugging Face config.")
    Path targetConfig;

    @Option(names = "--drop-layers", paramLabel = "I,J", split = ",", description = "Remove exactly these layers (0-based).")
    List<Integer> dropLayers = new ArrayList<>();

    @Option(names = "--drop-attention", paramLabel = "N", description = "Remove N attention sub-layers (least important).")
    int dropAttention = PruneStage.DEFAULT.shape().dropAttention();

    @Option(names = "--drop-ffn", paramLabel = "N", description = "Remove N FFN sub-layers (least important).")
    int dropFfn = PruneStage.DEFAULT.shape().dropFfn();

    @Option(names = "--head-mode", paramLabel = "MODE",
            description = "GROUPS drops whole KV groups; PER_GROUP drops query heads evenly from every group. ${COMPLETION-CANDIDATES}")
    TargetParser.HeadMode headMode = PruneStage.DEFAULT.shape().headMode();

    @Option(names = "--non-uniform", description = "Let per-layer head and FFN counts follow importance (same total).")
    boolean nonUniform;

    @Option(names = "--multiple-of", paramLabel = "N", description = "Round kept hidden and FFN widths to a multiple of N.")
    int multipleOf = PruneStage.DEFAULT.shape().multipleOf();

    @Option(names = "--importance", paramLabel = "CRITERION", description = "How widths are ranked (default: taylor with calibration, else magnitude).")
    String importance;

    @Option(names = "--layer-importance", paramLabel = "CRITERION", description = "How layers are ranked (default: block-influence with calibration, else every-k).")
    String layerImportance;

    @Option(names = "--calibration", paramLabel = "FILE|DIR", description = "Calibration text file or prepared token folder.")
    Path calibration;

    @Option(names = "--samples", paramLabel = "N", description = "Calibration sequences.")
    int samples = PruneStage.DEFAULT.windows().samples();

    @Option(names = "--seq-len", paramLabel = "N", description = "Tokens per calibration sequence.")
    int seqLen = PruneStage.DEFAULT.windows().seqLen();

    @Option(names = "--scores", paramLabel = "FILE", description = "Reuse importance.json from an earlier prune of the same model.")
    Path scores;

    @Option(names = "--angular-span", paramLabel = "N", description = "Block length for the angular criterion (0: the layers removed; of a T5 or OpenBA, per stack).")
    int angularSpan = PruneStage.DEFAULT.criteria().angularSpan();

    @Option(names = "--taylor", paramLabel = "VARIANT", completionCandidates = TaylorNames.class,
            description = {"How taylor scores units: gate = |∂L/∂gate| of the whole calibration batch's gradient; gate-per-sequence = Σ over",
                    "sequences of |∂L/∂gate|; gate-mix(-per-sequence) add LLM-Pruner's ½·Fisher term; vectorize, param-first, param-second,",
                    "param-mix = LLM-Pruner's --taylor, per weight and reduced over the unit's group. One of: ${COMPLETION-CANDIDATES}."})
    String taylor = PruneStage.DEFAULT.criteria().taylor();

    @Option(names = "--taylor-reduction", paramLabel = "HOW", completionCandidates = ReductionNames.class,
            description = "How vectorize and param-* combine the tensors of a unit's group (LLM-Pruner's --grouping_strategy): ${COMPLETION-CANDIDATES}.")
    String taylorReduction = PruneStage.DEFAULT.criteria().taylorReduction();

    @Option(names = "--angular-tokens", paramLabel = "WHICH", completionCandidates = TokenNames.class,
            description = "Positions angular distance compares: last (Gromov et al.'s last token of each window) or all (their mean): ${COMPLETION-CANDIDATES}.")
    String angularTokens = PruneStage.DEFAULT.criteria().angularTokens();

    @Option(names = "--final-state", paramLabel = "STATE", completionCandidates = FinalStateNames.class,
            description = "The state after the last layer for block influence and angular: normed (after the final norm, as transformers' hidden_states and ShortGPT) or residual: ${COMPLETION-CANDIDATES}.")
    String finalState = PruneStage.DEFAULT.criteria().finalState();

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the random criterion.")
    long seed = PruneStage.DEFAULT.criteria().seed();

    @Mixin
    JsonOutput output;

    @ParentCommand
    Main main;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "The child's dtype: f32, f16 or bf16 (default: the parent's; f16 for a Q8_0 GGUF parent).")
    String dtype;

    private PruneRun request() {
        return stage().run(model, Optional.ofNullable(tokenizer), out, Path.of(""), Optional.ofNullable(scores));
    }

    /** The options as a pipeline's prune stage, whose checks and defaults they share. */
    private PruneStage stage() {
        return new PruneStage(new PruneStage.Ratios(layers, heads, ffn, hidden),
                new PruneStage.Shape(target, Optional.ofNullable(targetConfig), dropLayers, dropAttention, dropFfn, headMode, multipleOf, nonUniform),
                new PruneStage.Criteria(importance, layerImportance, angularSpan, seed, taylor, taylorReduction, angularTokens, finalState),
                new PruneStage.Windows(Optional.ofNullable(calibration), samples, seqLen),
                new PruneStage.Vocabulary(vocab, vocabSize, Optional.ofNullable(vocabCorpus), keepTokens, keepSeenCharacters),
                new PruneStage.Stacks(null, null), dtype); // --enc-layers/--dec-layers: encoderDecoderRequest reads them itself
    }

    @Override
    public MemoryPlan plan(int ranks) {
        return EncoderDecoder.describes(model) ? encoderDecoderRequest().plan() : request().plan(ranks);
    }

    /**
     * The run of a T5 or OpenBA folder: the axes of {@link EncoderDecoderTarget}; an option only a decoder-only model
     * takes is a one-line error naming it.
     */
    private EncoderDecoderPruneRun encoderDecoderRequest() {
        Map<String, Boolean> decoderOnly = new LinkedHashMap<>();
        decoderOnly.put("--layers (use --enc-layers and --dec-layers)", layers != null);
        decoderOnly.put("--tokenizer", tokenizer != null);
        decoderOnly.put("--target", target != null || targetConfig != null);
        decoderOnly.put("--drop-layers", !dropLayers.isEmpty() || dropAttention > 0 || dropFfn > 0);
        decoderOnly.put("--non-uniform", nonUniform);
        decoderOnly.put("--scores", scores != null);
        decoderOnly.forEach((option, given) -> {
            if (given) throw new ShearsException(option + " does not apply to an encoder-decoder yet; a T5 or OpenBA takes --heads, --ffn, --hidden, --enc-layers, --dec-layers, --vocab, --importance magnitude|random|activation|taylor, --layer-importance every-k|block-influence|angular");
        });
        EncoderDecoderTarget t = new EncoderDecoderTarget(heads == null ? 0 : heads, ffn == null ? 0 : ffn, hidden == null ? 0 : hidden,
                encLayers == null ? OptionalInt.empty() : OptionalInt.of(encLayers), decLayers == null ? OptionalInt.empty() : OptionalInt.of(decLayers));
        return EncoderDecoderPruneRun.of(model, out, t, stage().vocabulary(Path.of("")), importance == null ? "" : importance,
                layerImportance == null ? "" : layerImportance, seed, angularSpan, stage().criteria().options(),
                new PruneRun.Calibration(Optional.ofNullable(calibration), samples, seqLen), dtype == null ? "" : dtype);
    }

    /** Under mpirun every rank scores its share of the calibration windows; rank 0 alone writes and prints. */
    private void runEncoderDecoder() {
        Collective collective = main.collective();
        EncoderDecoderPruneRun.Result r = encoderDecoderRequest().run(collective.leads() ? m -> System.err.println("prune: " + m) : m -> { }, collective);
        if (!collective.leads()) return;
        ObjectNode n = Json.object();
        n.put("out", r.out().toString()).put("seconds", r.seconds()).put("widthCriterion", PruneRun.name(r.criterion()))
                .put("layerCriterion", PruneRun.name(r.layerCriterion())).put("paramsBefore", r.paramsBefore()).put("paramsAfter", r.paramsAfter())
                .put("before", r.parent().describe()).put("after", r.pruned().describe()).put("hiddenKept", r.plan().hidden().length);
        r.vocabulary().ifPresent(v -> n.putObject("vocabulary").put("before", r.parent().vocabSize()).put("after", v.size()).put("mandatory", v.mandatory())
                .put("byFrequency", v.byFrequency()).put("byAncestry", v.byAncestry()).put("coverage", v.coverage()));
        r.perplexityBefore().ifPresent(p -> n.put("calibrationPerplexityBefore", p).put("perplexityWindows", r.perplexityWindows()));
        r.perplexityAfter().ifPresent(p -> n.put("calibrationPerplexityAfter", p));
        ObjectNode kept = n.putObject("keptPerLayer");
        for (String stack : List.of("encoder", "decoder")) {
            ArrayNode layersOut = kept.putArray(stack);
            List<EncoderDecoderPlan.Layer> plans = stack.equals("encoder") ? r.plan().encoder() : r.plan().decoder();
            for (int l = 0; l < plans.size(); l++) {
                EncoderDecoderPlan.Layer p = plans.get(l);
                layersOut.addObject().put("layer", l).put("kept", p.kept()).put("heads", p.heads().length).put("crossHeads", p.crossHeads().length)
                        .put("ffn", p.ffn().length);
            }
        }
        if (output.json) {
            output.print(n);
            return;
        }
        PrintWriter stdout = output.out();
        stdout.printf(Locale.ROOT, "pruned %s -> %s in %.1f s%n", model, out, r.seconds());
        stdout.printf(Locale.ROOT, "  parameters %,d -> %,d (%.1f%% kept)%n", r.paramsBefore(), r.paramsAfter(), 100.0 * r.paramsAfter() / r.paramsBefore());
        stdout.printf("  shape %s -> %s%n", r.parent().describe(), r.pruned().describe());
        r.vocabulary().ifPresent(v -> stdout.printf(Locale.ROOT, "  vocabulary %d -> %d (covers %.1f%% of the counted tokens)%n",
                r.parent().vocabSize(), v.size(), 100 * v.coverage()));
        r.perplexityBefore().ifPresent(b -> stdout.printf(Locale.ROOT, "  calibration perplexity (teacher-forced) %.3f -> %.3f (%d windows)%n", b,
                r.perplexityAfter().orElseThrow(), r.perplexityWindows()));
        stdout.printf("  widths ranked by %s, layers by %s%n", PruneRun.name(r.criterion()), PruneRun.name(r.layerCriterion()));
    }

    @Override
    public void run() {
        if (EncoderDecoder.describes(model)) {
            runEncoderDecoder();
            return;
        }
        if (encLayers != null || decLayers != null) throw new ShearsException("--enc-layers and --dec-layers apply to an encoder-decoder (T5 or OpenBA) folder only");
        Collective collective = main.collective();
        PruneRun.Result r = collective.leads() ? request().run(ProgressBar.stderr(), m -> System.err.println("prune: " + m), collective)
                : request().run(Progress.SILENT, m -> { }, collective);
        if (!collective.leads()) return; // rank 0 writes the report and prints
        ObjectNode summary = summary(r);
        writeReport(r, summary);
        PrintWriter stdout = output.out();
        if (output.json) {
            output.print(summary);
            return;
        }
        stdout.printf(Locale.ROOT, "pruned %s -> %s in %.1f s%n", model, out, r.seconds());
        stdout.printf(Locale.ROOT, "  parameters %,d -> %,d (%.1f%% kept)%n", r.parent().parameterCount(), r.pruned().parameterCount(),
                100.0 * r.pruned().parameterCount() / r.parent().parameterCount());
        stdout.printf("  shape %s -> %s%n", r.parent().describe(), r.pruned().describe());
        r.vocabulary().ifPresent(v -> stdout.printf(Locale.ROOT, "  vocabulary %d -> %d (covers %.1f%% of the counted tokens)%n",
                r.parent().vocabSize(), v.size(), 100 * v.coverage()));
        r.perplexityBefore().ifPresent(b -> stdout.printf(Locale.ROOT, "  calibration perplexity %.3f -> %s (%d sequences%s)%n", b,
                r.perplexityAfter().map(a -> String.format(Locale.ROOT, "%.3f", a)).orElse("n/a"), r.calibrationSequences(),
                r.vocabulary().isPresent() ? "; compared on the " + r.perplexityWindowsAfter() + " made only of kept tokens" : ""));
        stdout.printf("  report: %s%n", out.resolve("report.html").toAbsolutePath());
    }

    /** A criterion with the variant its scores used: {@code taylor (param-mix, sum over the group)}. */
    private static String ranked(Criterion c, CriterionOptions options) {
        String variant = options.describe(c);
        return PruneRun.name(c) + (variant.isEmpty() ? "" : " (" + variant + ")");
    }

    /** Candidate values for the variant options' help, from their enums. */
    static final class TaylorNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return CriterionOptions.keys(TaylorVariant.class).iterator();
        }
    }

    static final class ReductionNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return CriterionOptions.keys(GroupReduction.class).iterator();
        }
    }

    static final class TokenNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return CriterionOptions.keys(CriterionOptions.AngularTokens.class).iterator();
        }
    }

    static final class FinalStateNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return CriterionOptions.keys(CriterionOptions.FinalState.class).iterator();
        }
    }

    private static String after(PruneRun.Result r) {
        return r.perplexityAfter().map(x -> String.format(Locale.ROOT, "%.3f", x)).orElse("n/a");
    }

    private static String afterNote(PruneRun.Result r) {
        return r.vocabulary().isPresent() ? " (both on the " + r.perplexityWindowsAfter() + " windows made only of kept tokens)" : "";
    }

    private static ObjectNode summary(PruneRun.Result r) {
        ObjectNode n = Json.object();
        n.put("out", r.out().toString()).put("seconds", r.seconds()).put("widthCriterion", PruneRun.name(r.widthCriterion()))
                .put("layerCriterion", PruneRun.name(r.layerCriterion())).put("calibrationSequences", r.calibrationSequences());
        CriterionOptions o = r.options();
        n.putObject("criterionOptions").put("taylor", o.taylor().key()).put("taylorReduction", o.taylorReduction().key())
                .put("angularTokens", o.angularTokens().key()).put("finalState", o.finalState().key());
        n.put("paramsBefore", r.parent().parameterCount()).put("paramsAfter", r.pruned().parameterCount());
        r.perplexityBefore().ifPresent(p -> n.put("calibrationPerplexityBefore", p));
        r.perplexityAfter().ifPresent(p -> n.put("calibrationPerplexityAfter", p));
        r.vocabulary().ifPresent(v -> n.putObject("vocabulary").put("before", r.parent().vocabSize()).put("after", v.size()).put("mandatory", v.mandatory())
                .put("byFrequency", v.byFrequency()).put("byAncestry", v.byAncestry()).put("coverage", v.coverage())
                .put("perplexityWindowsAfter", r.perplexityWindowsAfter()));
        n.set("before", InfoCommand.describe(r.parent()));
        n.set("after", InfoCommand.describe(r.pruned()));
        ArrayNode layers = n.putArray("keptPerLayer");
        for (int l = 0; l < r.plan().layers().size(); l++) {
            LayerPlan p = r.plan().layers().get(l);
            layers.addObject().put("layer", l).put("kept", p.kept()).put("heads", p.count(Axis.HEAD)).put("kvHeads", p.count(Axis.KV_HEAD))
                    .put("ffn", p.count(Axis.FFN));
        }
        n.put("hiddenKept", r.plan().hidden().length);
        return n;
    }

    private static void writeReport(PruneRun.Result r, ObjectNode summary) {
        ModelConfig a = r.parent(), b = r.pruned();
        Map<TensorRole, Long> before = InfoCommand.parametersByRole(a), after = InfoCommand.parametersByRole(b);
        StringBuilder md = new StringBuilder("# Pruning report\n\n");
        md.append(String.format(Locale.ROOT, "%s → %s in %.1f s; widths ranked by **%s**, layers by **%s**, %d calibration sequences.%n%n",
                a.describe(), b.describe(), r.seconds(), ranked(r.widthCriterion(), r.options()), ranked(r.layerCriterion(), r.options()), r.calibrationSequences()));
        r.perplexityBefore().ifPresent(p -> md.append(String.format(Locale.ROOT, "Calibration perplexity: **%.3f → %s**%s%n%n", p, after(r), afterNote(r))));
        r.vocabulary().ifPresent(v -> md.append(String.format(Locale.ROOT, "Vocabulary: %d → **%d** entries (%d mandatory, %d by frequency, %d merge ancestors), covering %.1f%% of the counted tokens.%n%n",
                a.vocabSize(), v.size(), v.mandatory(), v.byFrequency(), v.byAncestry(), 100 * v.coverage())));
        md.append("| tensor role | parameters before | after | kept |\n|---|---:|---:|---:|\n");
        StringBuilder rolesHtml = new StringBuilder();
        for (Map.Entry<TensorRole, Long> e : before.entrySet()) {
            long kept = after.getOrDefault(e.getKey(), 0L);
            String role = e.getKey().name().toLowerCase(Locale.ROOT);
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %.1f%% |%n", role, e.getValue(), kept, 100.0 * kept / e.getValue()));
            rolesHtml.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%,d</td><td>%,d</td><td>%.1f%%</td></tr>", role, e.getValue(), kept, 100.0 * kept / e.getValue()));
        }
        md.append(String.format(Locale.ROOT, "| **total** | %,d | %,d | %.1f%% |%n%n", a.parameterCount(), b.parameterCount(), 100.0 * b.parameterCount() / a.parameterCount()));
        md.append("| layer | kept | heads | kv heads | FFN |\n|---:|---|---:|---:|---:|\n");
        StringBuilder layersHtml = new StringBuilder();
        List<double[]> headPoints = new ArrayList<>(), ffnPoints = new ArrayList<>();
        for (int l = 0; l < r.plan().layers().size(); l++) {
            LayerPlan p = r.plan().layers().get(l);
            LayerShape s = a.layer(l);
            String row = String.format(Locale.ROOT, "%d|%s|%d / %d|%d / %d|%d / %d", l, p.kept() ? "yes" : "removed", p.count(Axis.HEAD), s.numHeads(),
                    p.count(Axis.KV_HEAD), s.numKvHeads(), p.count(Axis.FFN), s.ffnDim());
            md.append("| ").append(row.replace("|", " | ")).append(" |\n");
            layersHtml.append("<tr><td>").append(row.replace("|", "</td><td>")).append("</td></tr>");
            headPoints.add(new double[] {l, s.numHeads() == 0 ? 0 : (double) p.count(Axis.HEAD) / s.numHeads()});
            ffnPoints.add(new double[] {l, s.ffnDim() == 0 ? 0 : (double) p.count(Axis.FFN) / s.ffnDim()});
        }
        md.append(String.format(Locale.ROOT, "%nHidden channels kept: %d / %d.%n", r.plan().hidden().length, a.dim()));
        String chart = Charts.line("Kept fraction per layer", "layer", "fraction kept", List.of(
                Charts.series("attention heads", headPoints), Charts.series("FFN neurons", ffnPoints)));
        String html = Charts.page("Shears pruning report", "<h1>Pruning report</h1><p>" + Charts.esc(a.describe()) + " → <b>" + Charts.esc(b.describe()) + "</b></p>"
                + String.format(Locale.ROOT, "<p>Parameters %,d → <b>%,d</b> (%.1f%% kept). Widths ranked by %s, layers by %s; %d calibration sequences; %.1f s.</p>",
                a.parameterCount(), b.parameterCount(), 100.0 * b.parameterCount() / a.parameterCount(), ranked(r.widthCriterion(), r.options()),
                ranked(r.layerCriterion(), r.options()),
                r.calibrationSequences(), r.seconds())
                + r.perplexityBefore().map(p -> String.format(Locale.ROOT, "<p>Calibration perplexity %.3f → <b>%s</b>%s</p>", p, after(r), Charts.esc(afterNote(r)))).orElse("")
                + r.vocabulary().map(v -> String.format(Locale.ROOT, "<p>Vocabulary %d → <b>%d</b> entries, covering %.1f%% of the counted tokens.</p>",
                a.vocabSize(), v.size(), 100 * v.coverage())).orElse("")
                + "<h2>Parameters by tensor role</h2><table><tr><th>role</th><th>before</th><th>after</th><th>kept</th></tr>" + rolesHtml + "</table>"
                + "<h2>Kept units per layer</h2>" + chart
                + "<table><tr><th>layer</th><th>kept</th><th>heads</th><th>kv heads</th><th>FFN</th></tr>" + layersHtml + "</table>"
                + String.format(Locale.ROOT, "<p>Hidden channels kept: %d / %d.</p>", r.plan().hidden().length, a.dim()));
        AtomicFiles.writeString(r.out().resolve("report.md"), md.toString());
        AtomicFiles.writeString(r.out().resolve("report.json"), Json.text(summary) + "\n");
        AtomicFiles.writeString(r.out().resolve("report.html"), html);
    }
}
