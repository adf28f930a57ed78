package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.data.Split;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.data.TokenDataset;
import dev.shears.format.TokenizerWriter;
import dev.shears.format.hf.HfModel;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.SubLayer;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.Importance;
import dev.shears.prune.ImportanceScores;
import dev.shears.prune.KeptVocabulary;
import dev.shears.prune.PlanBuilder;
import dev.shears.prune.PlanFiles;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.PruningPlan;
import dev.shears.prune.Slicer;
import dev.shears.prune.TargetParser;
import dev.shears.prune.TokenCounts;
import dev.shears.prune.VocabularyOptions;
import dev.shears.prune.VocabularyPruner;
import dev.shears.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code shears prune}: one-shot structured pruning. Checks the target against the model, scores
 * every unit on calibration data (or data-free), builds a GQA-aware plan, slices the weights and
 * writes a loadable model folder with its tokenizer, {@code pruning-plan.json} and
 * {@code importance.json}. Calibration perplexity is measured before and after on the same windows.
 *
 * @param model         the parent
 * @param tokenizer     an explicit tokenizer for the parent
 * @param out           the output folder (must not exist or be empty)
 * @param spec          the target
 * @param ranking       how units and layers are ranked
 * @param calibration   the calibration windows
 * @param scores        saved scores to reuse instead of calibrating
 * @param vocabulary    vocabulary pruning by token frequency, applied in the same slice
 * @param dtype         the child's dtype (default: the parent's; f16 for a Q8_0 parent)
 */
public record PruneRun(Path model, Optional<Path> tokenizer, Path out, TargetParser.Spec spec, Ranking ranking, Calibration calibration,
                       Optional<Path> scores, Optional<VocabularyRequest> vocabulary, Optional<DType> dtype) {
    /**
     * How units and layers are ranked.
     *
     * @param width       how heads, FFN neurons and hidden channels are ranked (default: taylor with calibration, else magnitude)
     * @param layers      how layers and sub-layers are ranked (default: block-influence with calibration, else every-k)
     * @param angularSpan block length of the angular criterion (0: the number of layers removed)
     * @param seed        seeds the random criterion
     * @param options     the variants of the data-driven criteria
     */
    public record Ranking(Optional<Criterion> width, Optional<Criterion> layers, int angularSpan, long seed, CriterionOptions options) {
        /** With the default criterion options. */
        public Ranking(Optional<Criterion> width, Optional<Criterion> layers, int angularSpan, long seed) {
            this(width, layers, angularSpan, seed, CriterionOptions.DEFAULT);
        }

        public Ranking {
            if (options == null) throw new IllegalArgumentException("criterion options are required");
            width.ifPresent(c -> {
                if (LAYER_ONLY.contains(c)) throw new ShearsException("--importance " + name(c) + " ranks layers only; use it with --layer-importance");
            });
            layers.ifPresent(c -> {
                if (c == Criterion.ACTIVATION) {
                    throw new ShearsException("--layer-importance activation is not defined for layers; use block-influence, angular, taylor, magnitude, random or every-k");
                }
            });
        }
    }

    /**
     * The calibration windows.
     *
     * @param data    a text file or a prepared token folder (none: data-free criteria only)
     * @param samples calibration sequences
     * @param seqLen  tokens per calibration sequence
     */
    public record Calibration(Optional<Path> data, int samples, int seqLen) {
        public Calibration {
            if (samples < 1) throw new ShearsException("--samples must be at least 1, got " + samples);
            if (seqLen < 2) throw new ShearsException("--seq-len must be at least 2, got " + seqLen);
        }
    }

    /**
     * Which vocabulary entries to keep: the most frequent in {@code corpus} (a text file or prepared
     * token folder; the calibration data when absent), plus every special and byte entry and the
     * merge ancestry of each kept piece (docs/pruning.md).
     */
    public record VocabularyRequest(VocabularyOptions options, Optional<Path> corpus) {
    }

    private static final Set<Criterion> LAYER_ONLY = EnumSet.of(Criterion.BLOCK_INFLUENCE, Criterion.ANGULAR, Criterion.EVERY_K);

    /**
     * What the pruning did.
     *
     * @param options the criterion variants the scores were computed with (see {@link CriterionOptions#describe})
     */
    public record Result(Path out, ModelConfig parent, ModelConfig pruned, PruningPlan plan, PruneTarget target, Criterion widthCriterion,
                         Criterion layerCriterion, CriterionOptions options, int calibrationSequences, Optional<Double> perplexityBefore,
                         Optional<Double> perplexityAfter, Optional<KeptVocabulary> vocabulary, int perplexityWindowsAfter, double seconds) {
    }

    public Result run(Progress progress, Consumer<String> log) {
        return run(progress, log, new SingleProcess());
    }

    /**
     * As {@link #run(Progress, Consumer)}, as one of the ranks of {@code collective}: the ranks share the calibration windows of
     * the data-driven criteria and of the perplexities before and after (each rank its contiguous share; every window's scores,
     * gate gradients and loss are added in window order, see {@link Importance#calibrate}), so every rank holds the scores, the
     * plan and the child one process computes; rank 0 alone writes the output folder.
     */
    public Result run(Progress progress, Consumer<String> log, Collective collective) {
        try (LoadedModel parent = ModelSource.open(model, tokenizer)) {
            return run(parent, progress, log, collective);
        }
    }

    /**
     * What this pruning will hold at its peak in one of {@code ranks} processes sharing the calibration windows (1: one
     * process), from the parent's headers and the options alone.
     */
    public MemoryPlan plan(int ranks) {
        try (LoadedModel parent = ModelSource.open(model, tokenizer)) {
            return setup(parent, ranks).plan();
        }
    }

    /** The resolved target and criteria, checked before any work. */
    private record Setup(ModelConfig parent, PruneTarget target, Criterion width, Criterion layers, boolean prunesWidth, boolean prunesDepth,
                         int span, MemoryPlan plan) {
    }

    /** @param ranks the processes that share the calibration windows (the plan is a rank's) */
    private Setup setup(LoadedModel parent, int ranks) {
        ModelConfig pc = parent.model().config();
        PruneTarget target = TargetParser.resolve(pc, spec);
        PlanBuilder.check(pc, target);
        boolean calibrated = calibration.data().isPresent();
        Criterion width = ranking.width().orElse(calibrated ? Criterion.TAYLOR : Criterion.MAGNITUDE);
        Criterion layers = ranking.layers().orElse(calibrated ? Criterion.BLOCK_INFLUENCE : Criterion.EVERY_K);
        boolean prunesWidth = target.kept(Axis.HIDDEN) < pc.dim() || target.nonUniform() || pc.layers().stream().anyMatch(s ->
                s.hasAttention() && (s.numHeads() > target.kept(Axis.HEAD) || s.numKvHeads() > target.kept(Axis.KV_HEAD)) || s.hasFfn() && s.ffnDim() > target.kept(Axis.FFN));
        if (spec.isEmpty() && vocabulary.isEmpty()) {
            throw new ShearsException("nothing to prune: give layers, heads, ffn, hidden, target, targetConfig, dropLayers or vocab");
        }
        boolean prunesDepth = target.kept(Axis.LAYER) < pc.numLayers() || target.dropped(SubLayer.ATTENTION) > 0 || target.dropped(SubLayer.FFN) > 0;
        int span = ranking.angularSpan() > 0 ? ranking.angularSpan() : Math.max(1, pc.numLayers() - target.kept(Axis.LAYER));
        MemoryPlan plan = MemoryPlan.prune(pc, calibrated ? calibration.samples() : 0, ranks, calibration.seqLen(), prunesWidth ? width : Criterion.MAGNITUDE,
                prunesDepth ? layers : Criterion.EVERY_K, span, ranking.options(), parent.model().weights().bytes());
        return new Setup(pc, target, width, layers, prunesWidth, prunesDepth, span, plan);
    }

    /**
     * The parent's weights stay mapped in their dtype: calibration and perplexity run layer by layer
     * ({@link Importance#meanLoss}), the child is a view of the parent streamed into its folder, which
     * appears only when complete.
     */
    private Result run(LoadedModel parent, Progress progress, Consumer<String> log, Collective collective) {
        long began = System.nanoTime();
        Setup setup = setup(parent, collective.size());
        checkOutput(out);
        collective.barrier(); // every rank has seen --out empty before rank 0 writes it (a data-free prune has no other collective)
        ModelConfig pc = setup.parent();
        PruneTarget target = setup.target();
        roundedRatios(spec, pc, target).forEach(log);
        Criterion width = setup.width();
        Criterion layers = setup.layers();
        boolean prunesWidth = setup.prunesWidth();
        boolean prunesDepth = setup.prunesDepth();
        int span = setup.span();
        boolean needsData = scores.isEmpty() && (prunesWidth && needsData(width) || prunesDepth && target.dropLayers().isEmpty() && needsData(layers));
        if (needsData && calibration.data().isEmpty()) {
            throw new ShearsException("the " + (prunesWidth && needsData(width) ? name(width) : name(layers))
                    + " criterion needs calibration data: pass --calibration FILE|DIR, or choose magnitude, random or every-k");
        }

        setup.plan().check();
        Optional<Path> tokenizerFile = ModelSource.tokenizerFile(model, tokenizer);
        if (vocabulary.isPresent() && tokenizerFile.isEmpty()) {
            throw new ShearsException(model + ": vocabulary pruning rewrites the tokenizer file; pass --tokenizer FILE");
        }
        List<int[]> windows = calibration.data().map(c -> calibrationWindows(c, parent.tokenizer(), calibration.samples(), calibration.seqLen(), log))
                .orElse(List.of());
        Optional<KeptVocabulary> kept = vocabulary.map(v -> keptVocabulary(v, parent.tokenizer(), log, progress));
        // with a pruned vocabulary, before and after are compared on the windows made only of kept tokens (renumbered after)
        List<int[]> compared = kept.map(k -> windows.stream().filter(k::keepsAll).toList()).orElse(windows);
        if (kept.isPresent() && !windows.isEmpty()) {
            log.accept(compared.size() + " of " + windows.size() + " calibration windows use only kept tokens; perplexity before and after is measured on those");
        }
        ImportanceScores merged;
        // each calibration pass also gives the windows' loss: the perplexity before comes free when it is measured on the same windows
        OptionalDouble loss = OptionalDouble.empty();
        if (scores.isPresent()) {
            merged = PlanFiles.readScores(scores.get(), pc);
        } else {
            Importance.Calibrated w = prunesWidth ? score(parent.model(), width, windows, 1, progress, collective) : null;
            boolean explicitOnly = !target.dropLayers().isEmpty() && target.dropped(SubLayer.ATTENTION) == 0 && target.dropped(SubLayer.FFN) == 0;
            Criterion depth = prunesDepth && !explicitOnly ? layers : Criterion.EVERY_K; // every-k: data-free, and unused when nothing is ranked
            Importance.Calibrated d = !prunesDepth && w != null ? w
                    : w != null && w.scores().criterion() == Criterion.ACTIVATION && depth == Criterion.BLOCK_INFLUENCE
                    ? new Importance.Calibrated(w.scores().as(depth), w.meanLoss()) // the activation pass scored the layers by block influence already
                    : score(parent.model(), depth, windows, span, progress, collective);
            merged = (w != null ? w : d).scores().withDepthFrom(d.scores());
            loss = d.meanLoss().isPresent() ? d.meanLoss() : w != null ? w.meanLoss() : OptionalDouble.empty();
        }
        Optional<Double> before = compared.isEmpty() ? Optional.empty()
                : Optional.of(compared == windows && loss.isPresent() ? Math.exp(loss.getAsDouble()) : perplexity(parent.model(), compared, progress, collective));
        PruningPlan plan = PlanBuilder.build(pc, merged, target);
        if (kept.isPresent()) plan = plan.withVocab(kept.get().kept());
        Model pruned = Slicer.slice(parent.model(), plan);
        List<int[]> afterWindows = kept.map(k -> compared.stream().map(k::remap).toList()).orElse(compared);
        Optional<Double> after = afterWindows.isEmpty() ? Optional.empty() : Optional.of(perplexity(pruned, afterWindows, progress, collective));

        PruningPlan finalPlan = plan;
        DType written = dtype.orElse(DType.of(parent.model().weights().encoding()));
        if (collective.leads()) {
            AtomicFiles.writeFolder(out, dir -> {
                HfModel.write(pruned, dir, written, HfModel.DEFAULT_SHARD_BYTES);
                PlanFiles.writePlan(finalPlan, pc, dir.resolve(PlanFiles.PLAN));
                PlanFiles.writeScores(merged, ranking.options(), dir.resolve(PlanFiles.SCORES));
                if (kept.isPresent()) {
                    TokenizerWriter.writePruned(parent.tokenizer(), tokenizerFile.get(), kept.get().kept(), dir);
                } else {
                    tokenizerFile.ifPresent(t -> TokenizerFiles.copyInto(t, dir));
                }
            });
        }
        return new Result(out, pc, pruned.config(), plan, target, width, layers, ranking.options(), windows.size(), before, after, kept, afterWindows.size(),
                (System.nanoTime() - began) / 1e9);
    }

    private KeptVocabulary keptVocabulary(VocabularyRequest v, Tokenizer tok, Consumer<String> log, Progress progress) {
        Path corpus = v.corpus().or(calibration::data).orElseThrow(() -> new ShearsException(
                "vocabulary pruning counts tokens on a corpus: pass --vocab-corpus FILE|DIR (or --calibration)"));
        return keptVocabulary(v.options(), corpus, tok, log, progress);
    }

    /** The entries {@code options} keep of {@code tok}'s vocabulary, by token frequency in {@code corpus} (a text file or a prepared token folder). */
    static KeptVocabulary keptVocabulary(VocabularyOptions options, Path corpus, Tokenizer tok, Consumer<String> log, Progress progress) {
        TokenCounts counts = Files.isDirectory(corpus)
                ? TokenCounts.ofDataset(TokenDataset.open(corpus), Split.TRAIN, tok.vocabSize(), progress)
                : TokenCounts.ofText(tok, corpus, progress);
        KeptVocabulary kept = VocabularyPruner.select(tok, counts, options);
        log.accept(String.format(java.util.Locale.ROOT, "vocabulary: %d of %d entries kept (%d mandatory, %d by frequency, %d merge ancestors), covering %.1f%% of %s's tokens",
                kept.size(), tok.vocabSize(), kept.mandatory(), kept.byFrequency(), kept.byAncestry(), 100 * kept.coverage(), corpus.getFileName()));
        return kept;
    }

    /** Scores by one criterion: data-driven ones come with the calibration windows' mean loss from the same pass. */
    private Importance.Calibrated score(Model parent, Criterion criterion, List<int[]> windows, int span, Progress progress, Collective collective) {
        return needsData(criterion) ? Importance.calibrate(parent, criterion, windows, span, ranking.options(), progress, collective)
                : new Importance.Calibrated(Importance.compute(parent, criterion, windows, ranking.seed(), span, ranking.options(), progress),
                OptionalDouble.empty());
    }

    /**
     * Ratios that land on a visibly different fraction (heads go in whole groups, layers are whole),
     * said before any work: the fraction asked, the one done, and the ones that are possible.
     */
    static List<String> roundedRatios(TargetParser.Spec spec, ModelConfig parent, PruneTarget target) {
        List<String> notes = new ArrayList<>();
        LayerShape widest = parent.layers().stream().filter(l -> l.hasAttention() && l.hasFfn()).findFirst().orElse(parent.layer(0));
        spec.ratios().forEach((axis, asked) -> {
            int total = switch (axis) {
                case LAYER -> parent.numLayers();
                case HIDDEN -> parent.dim();
                case FFN -> widest.ffnDim();
                default -> widest.numHeads();
            };
            int kept = target.kept(axis);
            double done = 1 - (double) kept / total;
            if (Math.abs(done - asked) <= 0.005) return;
            // heads are removed in steps of a group (GROUPS) or of one head per group (PER_GROUP); other axes one unit at a time
            int step = axis != Axis.HEAD ? 1 : spec.headMode() == TargetParser.HeadMode.GROUPS ? widest.groupSize() : widest.numKvHeads();
            List<String> possible = new ArrayList<>();
            for (int k = 0; k < total && possible.size() < 12 && step > 1; k += step) possible.add(String.format(Locale.ROOT, "%.1f%%", 100.0 * k / total));
            notes.add(String.format(Locale.ROOT, "--%s %s removes %.1f%% of the %s, not %.1f%% (keeps %d of %d%s)%s", axis.option(), asked, 100 * done,
                    axis.key, 100 * asked, kept, total, axis.perLayer ? " per layer" : "",
                    possible.isEmpty() ? "" : "; " + axis.key + " go in steps of " + step + ": possible " + String.join(", ", possible)));
        });
        return notes;
    }

    private static boolean needsData(Criterion c) {
        return c == Criterion.TAYLOR || c == Criterion.ACTIVATION || c == Criterion.BLOCK_INFLUENCE || c == Criterion.ANGULAR;
    }

    /** A criterion as users write it: {@code block-influence}. */
    public static String name(Criterion c) {
        return c.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    private void checkOutput(Path out) {
        Outputs.checkNotAnInput(out, Optional.of(model), tokenizer, calibration.data(), scores, vocabulary.flatMap(VocabularyRequest::corpus));
        if (!AtomicFiles.isMissingOrEmpty(out)) throw new ShearsException(out + ": already exists and is not empty; choose another --out");
    }

    /**
     * {@code samples} windows of {@code seqLen + 1} tokens, evenly spaced over a prepared folder's
     * training split or a tokenized text file (windows overlap when the text is short).
     */
    static List<int[]> calibrationWindows(Path source, Tokenizer tokenizer, int samples, int seqLen, Consumer<String> log) {
        int need = seqLen + 1;
        List<int[]> windows = new ArrayList<>();
        if (Files.isDirectory(source)) {
            TokenDataset data = TokenDataset.open(source);
            if (data.vocabSize() > tokenizer.vocabSize()) {
                throw new ShearsException(source + ": prepared with a " + data.vocabSize() + "-token vocabulary, not this model's tokenizer");
            }
            long tokens = data.tokens(Split.TRAIN);
            if (tokens < need) throw new ShearsException(source + ": " + tokens + " tokens, fewer than one calibration sequence of " + need);
            for (int i = 0; i < samples; i++) {
                int[] w = new int[need];
                data.read(Split.TRAIN, samples == 1 ? 0 : (tokens - need) * i / (samples - 1), w, 0, need);
                windows.add(w);
            }
            return windows;
        }
        if (!Files.isRegularFile(source)) throw new ShearsException(source + ": no such calibration file or folder");
        String text;
        try {
            text = Files.readString(source);
        } catch (IOException e) {
            throw new ShearsException(source + ": cannot read as UTF-8 text: " + e.getMessage(), e);
        }
        int[] ids = tokenizer.encode(text);
        if (ids.length < need) throw new ShearsException(source + ": " + ids.length + " tokens, fewer than one calibration sequence of " + need);
        if ((long) samples * need > ids.length) log.accept(source + " holds " + ids.length + " tokens: the " + samples + " calibration windows overlap");
        for (int i = 0; i < samples; i++) {
            int start = samples == 1 ? 0 : (int) ((long) (ids.length - need) * i / (samples - 1));
            windows.add(java.util.Arrays.copyOfRange(ids, start, start + need));
        }
        return windows;
    }

    /** exp of the mean next-token loss over the windows, one layer's weights at a time, the windows shared over the ranks. */
    static double perplexity(Model model, List<int[]> windows, Progress progress, Collective collective) {
        return Math.exp(Importance.meanLoss(model, windows, progress, collective));
    }
}
