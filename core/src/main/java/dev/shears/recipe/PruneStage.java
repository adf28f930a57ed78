package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.hf.HfConfig;
import dev.shears.io.DType;
import dev.shears.model.Axis;
import dev.shears.prune.CharacterPolicy;
import dev.shears.prune.Criterion;
import dev.shears.prune.TargetParser;
import dev.shears.prune.VocabTarget;
import dev.shears.prune.VocabularyOptions;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The settings of a prune step, as a pipeline stage or a config file spells them; the same names as
 * {@code shears prune}'s options. Ratios are fractions to remove; null leaves an axis alone.
 */
public record PruneStage(Double layers, Double heads, Double ffn, Double hidden, String target, String targetConfig, List<Integer> dropLayers,
                         int dropAttention, int dropFfn, TargetParser.HeadMode headMode, int multipleOf, boolean nonUniform, String importance,
                         String layerImportance, String calibration, int samples, int seqLen, long seed, int angularSpan, Double vocab, Integer vocabSize,
                         String vocabCorpus, List<String> keepTokens, boolean keepSeenCharacters, String dtype) implements StageSettings {
    @Override
    public String kind() {
        return "prune";
    }

    public static final PruneStage DEFAULT = new PruneStage(null, null, null, null, "", "", List.of(), 0, 0, TargetParser.HeadMode.GROUPS, 1, false,
            "", "", "", 32, 128, 1337, 0, null, null, "", List.of(), false, "");

    public PruneStage {
        dropLayers = dropLayers == null ? List.of() : List.copyOf(dropLayers);
        target = target == null ? "" : target;
        targetConfig = targetConfig == null ? "" : targetConfig;
        importance = importance == null ? "" : importance;
        layerImportance = layerImportance == null ? "" : layerImportance;
        calibration = calibration == null ? "" : calibration;
        vocabCorpus = vocabCorpus == null ? "" : vocabCorpus;
        keepTokens = keepTokens == null ? List.of() : List.copyOf(keepTokens);
        dtype = dtype == null ? "" : dtype;
        if (!dtype.isBlank() && DType.parse(dtype).isEmpty()) throw new ShearsException("dtype must be f32, f16 or bf16, got '" + dtype + "'");
        if (vocab != null && vocabSize != null) throw new ShearsException("give vocab (a fraction to remove) or vocabSize, not both");
        if (vocab != null && !(vocab >= 0 && vocab < 1)) throw new ShearsException("vocab " + vocab + ": the fraction to remove must be in [0, 1)");
    }

    /** The vocabulary pruning asked for, if any: {@code vocab} removes that fraction of the normal pieces. */
    public Optional<PruneRun.VocabularyRequest> vocabulary(Path base) {
        if (vocab == null && vocabSize == null) return Optional.empty();
        VocabularyOptions options = VocabularyOptions.of(vocabSize != null ? VocabTarget.size(vocabSize) : VocabTarget.normalFraction(1 - vocab))
                .keepingPieces(keepTokens.toArray(String[]::new))
                .withCharacters(keepSeenCharacters ? CharacterPolicy.SEEN : CharacterPolicy.BY_FREQUENCY);
        return Optional.of(new PruneRun.VocabularyRequest(options, vocabCorpus.isBlank() ? Optional.empty() : Optional.of(base.resolve(vocabCorpus))));
    }

    /** The target, with relative paths resolved against {@code base}. */
    public TargetParser.Spec spec(Path base) {
        Map<Axis, Double> ratios = new LinkedHashMap<>();
        if (layers != null) ratios.put(Axis.LAYER, layers);
        if (heads != null) ratios.put(Axis.HEAD, heads);
        if (ffn != null) ratios.put(Axis.FFN, ffn);
        if (hidden != null) ratios.put(Axis.HIDDEN, hidden);
        TargetParser.Spec spec = new TargetParser.Spec(ratios, target.isBlank() ? Map.of() : TargetParser.parseExact(target),
                targetConfig.isBlank() ? Optional.empty() : Optional.of(HfConfig.read(base.resolve(targetConfig))), dropLayers, dropAttention, dropFfn,
                headMode, multipleOf, nonUniform);
        if (spec.isEmpty() && vocab == null && vocabSize == null) {
            throw new ShearsException("nothing to prune: give layers, heads, ffn, hidden, target, targetConfig, dropLayers, vocab or vocabSize");
        }
        return spec;
    }

    /** The run that carries this stage out on {@code model}; {@code scores} reuses an earlier importance.json. */
    public PruneRun run(Path model, Optional<Path> tokenizer, Path out, Path base, Optional<Path> scores) {
        return new PruneRun(model, tokenizer, out, spec(base), criterion(importance), criterion(layerImportance),
                calibration.isBlank() ? Optional.empty() : Optional.of(base.resolve(calibration)), samples, seqLen, scores, seed, angularSpan,
                vocabulary(base), dtype.isBlank() ? Optional.empty() : DType.parse(dtype));
    }

    static Optional<Criterion> criterion(String name) {
        if (name.isBlank()) return Optional.empty();
        try {
            return Optional.of(Criterion.valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException e) {
            throw new ShearsException("unknown importance criterion '" + name + "' (known: magnitude, random, activation, taylor, taylor-second-order, block-influence, angular, every-k)");
        }
    }
}
