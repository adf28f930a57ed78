package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.config.Flat;
import dev.shears.format.hf.HfConfig;
import dev.shears.io.DType;
import dev.shears.model.Axis;
import dev.shears.prune.CharacterPolicy;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.TaylorVariant;
import dev.shears.prune.TargetParser;
import dev.shears.prune.VocabTarget;
import dev.shears.prune.VocabularyOptions;
import dev.shears.seq2seq.EncoderDecoderTarget;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The settings of a prune step, as a pipeline stage or a config file spells them, in small groups
 * that files keep flat ({@link Flat}): the same keys as {@code shears prune}'s options, one home for
 * each default ({@link #DEFAULT}), relative paths resolved against the file's folder.
 *
 * @param ratios     fractions to remove per axis
 * @param shape      an exact target shape, layers and sub-layers to drop, and how widths are rounded
 * @param criteria   how units and layers are ranked
 * @param windows    the calibration data
 * @param vocabulary vocabulary pruning by token frequency
 * @param stacks     kept layers per stack of an encoder–decoder (T5, OpenBA)
 * @param dtype      the child's dtype: f32, f16 or bf16 ("" for the parent's)
 */
public record PruneStage(@Flat Ratios ratios, @Flat Shape shape, @Flat Criteria criteria, @Flat Windows windows, @Flat Vocabulary vocabulary,
                         @Flat Stacks stacks, String dtype) implements StageSettings {
    @Override
    public String kind() {
        return "prune";
    }

    /**
     * Fractions of each axis to remove; null leaves an axis alone.
     *
     * @param layers whole layers
     * @param heads  attention heads (see {@link Shape#headMode})
     * @param ffn    FFN neurons
     * @param hidden hidden channels
     */
    public record Ratios(Double layers, Double heads, Double ffn, Double hidden) {
        /** The ratios given, keyed by their axis. */
        public Map<Axis, Double> byAxis() {
            Map<Axis, Double> r = new EnumMap<>(Axis.class);
            if (layers != null) r.put(Axis.LAYER, layers);
            if (heads != null) r.put(Axis.HEAD, heads);
            if (ffn != null) r.put(Axis.FFN, ffn);
            if (hidden != null) r.put(Axis.HIDDEN, hidden);
            return r;
        }
    }

    /**
     * An exact target and the structure of the cut.
     *
     * @param target        exact kept counts, e.g. {@code layers=12,hidden=512,heads=8,kv-heads=4,ffn=1376} ("" for none)
     * @param targetConfig  a Hugging Face config.json whose shape is the target
     * @param dropLayers    layers to remove (0-based)
     * @param dropAttention attention sub-layers to remove (least important)
     * @param dropFfn       FFN sub-layers to remove (least important)
     * @param headMode      how a head ratio treats KV groups
     * @param multipleOf    round kept hidden and FFN widths to a multiple of this
     * @param nonUniform    per-layer head and FFN counts follow importance (same total)
     */
    public record Shape(String target, Optional<Path> targetConfig, List<Integer> dropLayers, int dropAttention, int dropFfn,
                        TargetParser.HeadMode headMode, int multipleOf, boolean nonUniform) {
        public Shape {
            target = target == null ? "" : target;
            targetConfig = targetConfig == null ? Optional.empty() : targetConfig;
            dropLayers = dropLayers == null ? List.of() : List.copyOf(dropLayers);
        }
    }

    /**
     * How units and layers are ranked.
     *
     * @param importance      how widths are ranked ("" for taylor with calibration, else magnitude)
     * @param layerImportance how layers are ranked ("" for block-influence with calibration, else every-k)
     * @param angularSpan     block length of the angular criterion (0: the number of layers removed)
     * @param seed            seeds the random criterion
     * @param taylor          the Taylor variant ({@link TaylorVariant}: gate, gate-per-sequence, ..., param-mix)
     * @param taylorReduction how the weight-level Taylor variants combine a group's tensors: sum, mean, max, prod
     * @param angularTokens   which positions angular distance compares: last (Gromov et al.) or all
     * @param finalState      the state after the last layer for block influence and angular distance: normed (as transformers returns it) or residual
     */
    public record Criteria(String importance, String layerImportance, int angularSpan, long seed, String taylor, String taylorReduction,
                           String angularTokens, String finalState) {
        public Criteria {
            importance = importance == null ? "" : importance;
            layerImportance = layerImportance == null ? "" : layerImportance;
            CriterionOptions d = CriterionOptions.DEFAULT;
            taylor = taylor == null ? d.taylor().key() : taylor;
            taylorReduction = taylorReduction == null ? d.taylorReduction().key() : taylorReduction;
            angularTokens = angularTokens == null ? d.angularTokens().key() : angularTokens;
            finalState = finalState == null ? d.finalState().key() : finalState;
            criterion(importance);
            criterion(layerImportance);
            CriterionOptions.parse(taylor, taylorReduction, angularTokens, finalState);
        }

        /** The same criteria with another seed. */
        public Criteria withSeed(long newSeed) {
            return new Criteria(importance, layerImportance, angularSpan, newSeed, taylor, taylorReduction, angularTokens, finalState);
        }

        /** The criterion variants these settings name. */
        public CriterionOptions options() {
            return CriterionOptions.parse(taylor, taylorReduction, angularTokens, finalState);
        }
    }

    /** The same stage with another seed for its criteria. */
    public PruneStage withSeed(long seed) {
        return new PruneStage(ratios, shape, criteria.withSeed(seed), windows, vocabulary, stacks, dtype);
    }

    /**
     * The calibration data.
     *
     * @param calibration a text file or a prepared token folder
     * @param samples     calibration sequences
     * @param seqLen      tokens per calibration sequence
     */
    public record Windows(Optional<Path> calibration, int samples, int seqLen) {
        public Windows {
            calibration = calibration == null ? Optional.empty() : calibration;
            if (samples < 1 || seqLen < 2 || (long) samples * seqLen > MAX_TOKENS) {
                throw new ShearsException("calibration of " + samples + " × " + seqLen + " tokens: samples must be ≥ 1, seqLen ≥ 2, and together at most "
                        + MAX_TOKENS + " tokens");
            }
        }

        /** Calibration tokens in all windows at most: far beyond what ranking needs, and what a layer's activations can index. */
        public static final long MAX_TOKENS = 1L << 24;
    }

    /**
     * Vocabulary pruning by token frequency.
     *
     * @param vocab              the fraction of the normal pieces to remove (null: none)
     * @param vocabSize          the exact vocabulary size to keep instead
     * @param vocabCorpus        where tokens are counted (default: the calibration data)
     * @param keepTokens         pieces that must stay
     * @param keepSeenCharacters keep every single character seen in the corpus
     */
    public record Vocabulary(Double vocab, Integer vocabSize, Optional<Path> vocabCorpus, List<String> keepTokens, boolean keepSeenCharacters) {
        public Vocabulary {
            vocabCorpus = vocabCorpus == null ? Optional.empty() : vocabCorpus;
            keepTokens = keepTokens == null ? List.of() : List.copyOf(keepTokens);
            if (vocab != null && vocabSize != null) throw new ShearsException("give vocab (a fraction to remove) or vocabSize, not both");
            if (vocab != null && !(vocab >= 0 && vocab < 1)) throw new ShearsException("vocab " + vocab + ": the fraction to remove must be in [0, 1)");
        }

        boolean requested() {
            return vocab != null || vocabSize != null;
        }
    }

    /**
     * The layers each stack of an encoder–decoder keeps ({@code shears prune --enc-layers/--dec-layers}); null keeps a stack whole.
     *
     * @param encLayers encoder layers to keep
     * @param decLayers decoder layers to keep
     */
    public record Stacks(Integer encLayers, Integer decLayers) {
        boolean requested() {
            return encLayers != null || decLayers != null;
        }
    }

    public static final PruneStage DEFAULT = new PruneStage(new Ratios(null, null, null, null),
            new Shape("", Optional.empty(), List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false), new Criteria("", "", 0, 1337, null, null, null, null),
            new Windows(Optional.empty(), 32, 128), new Vocabulary(null, null, Optional.empty(), List.of(), false), new Stacks(null, null), "");

    public PruneStage {
        if (ratios == null || shape == null || criteria == null || windows == null || vocabulary == null || stacks == null) {
            throw new ShearsException("a prune stage needs every group of settings");
        }
        dtype = dtype == null ? "" : dtype;
        if (!dtype.isBlank() && DType.parse(dtype).isEmpty()) throw new ShearsException("dtype must be f32, f16 or bf16, got '" + dtype + "'");
    }

    /** The vocabulary pruning asked for, if any: {@code vocab} removes that fraction of the normal pieces. */
    public Optional<PruneRun.VocabularyRequest> vocabulary(Path base) {
        Vocabulary v = vocabulary;
        if (!v.requested()) return Optional.empty();
        VocabularyOptions options = VocabularyOptions.of(v.vocabSize() != null ? VocabTarget.size(v.vocabSize()) : VocabTarget.normalFraction(1 - v.vocab()))
                .keepingPieces(v.keepTokens().toArray(String[]::new))
                .withCharacters(v.keepSeenCharacters() ? CharacterPolicy.SEEN : CharacterPolicy.BY_FREQUENCY);
        return Optional.of(new PruneRun.VocabularyRequest(options, v.vocabCorpus().map(base::resolve)));
    }

    /** The target, with relative paths resolved against {@code base}. */
    public TargetParser.Spec spec(Path base) {
        Shape s = shape;
        TargetParser.Spec spec = new TargetParser.Spec(ratios.byAxis(), s.target().isBlank() ? Map.of() : TargetParser.parseExact(s.target()),
                s.targetConfig().map(c -> HfConfig.read(base.resolve(c))), s.dropLayers(), s.dropAttention(), s.dropFfn(), s.headMode(),
                s.multipleOf(), s.nonUniform());
        if (stacks.requested()) throw new ShearsException("encLayers and decLayers apply to an encoder-decoder (T5 or OpenBA); this model is decoder-only");
        if (spec.isEmpty() && !vocabulary.requested()) {
            throw new ShearsException("nothing to prune: give layers, heads, ffn, hidden, target, targetConfig, dropLayers, vocab or vocabSize");
        }
        return spec;
    }

    /** The run that carries this stage out on {@code model}; {@code scores} reuses an earlier importance.json. */
    public PruneRun run(Path model, Optional<Path> tokenizer, Path out, Path base, Optional<Path> scores) {
        return new PruneRun(model, tokenizer, out, spec(base),
                new PruneRun.Ranking(criterion(criteria.importance()), criterion(criteria.layerImportance()), criteria.angularSpan(), criteria.seed(),
                        criteria.options()),
                new PruneRun.Calibration(windows.calibration().map(base::resolve), windows.samples(), windows.seqLen()), scores, vocabulary(base),
                dtype.isBlank() ? Optional.empty() : DType.parse(dtype));
    }

    /**
     * The run that carries this stage out on the encoder–decoder folder {@code model} ({@link EncoderDecoderPruneRun}: the keys of
     * {@code shears prune} for a T5 or OpenBA); a key only a decoder-only model takes is refused in one line naming it.
     */
    public EncoderDecoderPruneRun encoderDecoderRun(Path model, Path out, Path base) {
        CriterionOptions d = CriterionOptions.DEFAULT;
        Map<String, Boolean> decoderOnly = new java.util.LinkedHashMap<>();
        decoderOnly.put("layers (use encLayers and decLayers)", ratios.layers() != null);
        decoderOnly.put("target", !shape.target().isBlank());
        decoderOnly.put("targetConfig", shape.targetConfig().isPresent());
        decoderOnly.put("dropLayers", !shape.dropLayers().isEmpty());
        decoderOnly.put("dropAttention", shape.dropAttention() > 0);
        decoderOnly.put("dropFfn", shape.dropFfn() > 0);
        decoderOnly.put("headMode", shape.headMode() != DEFAULT.shape.headMode());
        decoderOnly.put("multipleOf", shape.multipleOf() != DEFAULT.shape.multipleOf());
        decoderOnly.put("nonUniform", shape.nonUniform());
        decoderOnly.put("taylorReduction", !criteria.taylorReduction().equals(d.taylorReduction().key()));
        List<String> given = decoderOnly.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
        if (!given.isEmpty()) {
            throw new ShearsException(String.join(", ", given) + ": not for an encoder-decoder; a T5 or OpenBA prune stage takes heads, ffn, hidden, "
                    + "encLayers, decLayers, vocab, vocabSize, vocabCorpus, keepTokens, keepSeenCharacters, importance (magnitude, random, activation, taylor), "
                    + "taylor (gate variants), layerImportance (every-k, block-influence, angular), angularSpan, angularTokens, finalState, calibration, samples, seqLen, "
                    + "seed, dtype");
        }
        EncoderDecoderTarget target = new EncoderDecoderTarget(orZero(ratios.heads()), orZero(ratios.ffn()), orZero(ratios.hidden()), layers(stacks.encLayers()),
                layers(stacks.decLayers()));
        return EncoderDecoderPruneRun.of(model, out, target, vocabulary(base), criteria.importance(), criteria.layerImportance(), criteria.seed(),
                criteria.angularSpan(), criteria.options(), new PruneRun.Calibration(windows.calibration().map(base::resolve), windows.samples(), windows.seqLen()), dtype);
    }

    private static double orZero(Double fraction) {
        return fraction == null ? 0 : fraction;
    }

    private static OptionalInt layers(Integer kept) {
        return kept == null ? OptionalInt.empty() : OptionalInt.of(kept);
    }

    static Optional<Criterion> criterion(String name) {
        if (name.isBlank()) return Optional.empty();
        if (name.trim().equalsIgnoreCase("taylor-second-order")) {
            throw new ShearsException("the criterion taylor-second-order is now taylor with the variant gate-mix-per-sequence"
                    + " (--importance taylor --taylor gate-mix-per-sequence; in a pipeline: importance: taylor, taylor: gate-mix-per-sequence)");
        }
        try {
            return Optional.of(Criterion.valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException e) {
            throw new ShearsException("unknown importance criterion '" + name + "' (known: " + String.join(", ", CriterionOptions.keys(Criterion.class)) + ")");
        }
    }
}
