package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.model.ModelConfig;
import dev.shears.prune.PlanBuilder;
import dev.shears.prune.PruneTarget;
import dev.shears.prune.TargetParser;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Gguf;
import dev.shears.seq2seq.EncoderDecoderLayerScores;
import dev.shears.seq2seq.EncoderDecoderScores;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.train.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code shears pipeline check}'s simulation: the model's shape after every stage, from config files alone, each stage checked
 * against the shape it will meet (a prune target the model has no room for, a key the model's kind does not take) and any
 * problem reported with the stage's YAML path. A decoder-only model is followed through {@link TargetParser} and
 * {@link PlanBuilder}; an encoder–decoder (T5, OpenBA) through {@link EncoderDecoderTarget}'s plan of its config, the layers every-k
 * would drop (the kept widths do not depend on which). A vocabulary cut is not followed: its size is counted on the corpus.
 */
final class PipelineShapes {
    private PipelineShapes() {
    }

    /** The shape after each stage of {@code stages}; {@code model} is the pipeline's parent (empty: the first stage trains from {@code init}). */
    static List<ModelShape> simulate(Path file, Optional<Path> model, Optional<Path> tokenizer, List<Pipeline.Stage> stages) {
        Path base = file.toAbsolutePath().getParent();
        ModelShape shape = model.map(ModelShape::of).orElseGet(() -> fromInit(file, stages.getFirst()));
        if (model.isPresent()) checkTokenizer(file, model.get(), tokenizer, shape);
        List<ModelShape> shapes = new ArrayList<>();
        for (Pipeline.Stage s : stages) {
            String at = file.getFileName() + ": stages[" + s.index() + "]." + s.kind();
            try {
                shape = switch (shape) {
                    case ModelShape.Decoder d -> new ModelShape.Decoder(decoderOnly(d.config(), s.settings(), base));
                    case ModelShape.Seq2Seq e -> new ModelShape.Seq2Seq(encoderDecoder(e.config(), s.settings(), base));
                };
            } catch (ShearsException e) {
                throw new ShearsException(at + ": " + e.getMessage());
            }
            shapes.add(shape);
        }
        return shapes;
    }

    /** The shape a first stage that trains from scratch starts from: its {@code init} config, decoder-only. */
    private static ModelShape fromInit(Path file, Pipeline.Stage first) {
        Path init = ((TrainStage) first.settings()).config().source().init().orElseThrow();
        if (EncoderDecoderConfig.readFile(init).isPresent()) {
            throw new ShearsException(file.getFileName() + ": stages[0]." + first.kind() + ".init: an encoder-decoder starts from a folder: make one with "
                    + "'shears init --config " + init.getFileName() + " --tokenizer T5_TOKENIZER --out DIR' and give it as 'model'");
        }
        return new ModelShape.Decoder(HfConfig.read(init));
    }

    /** A decoder-only parent needs its tokenizer beside it or named; an encoder–decoder folder carries its own, which the stages copy along. */
    private static void checkTokenizer(Path file, Path model, Optional<Path> tokenizer, ModelShape shape) {
        boolean beside = TokenizerFiles.find(model).isPresent();
        switch (shape) {
            case ModelShape.Decoder d -> {
                if (tokenizer.isEmpty() && !beside && !"gguf".equals(ModelLoader.format(model))) {
                    throw new ShearsException(file + ": model " + model + " has no tokenizer beside it; add 'tokenizer: FILE'");
                }
            }
            case ModelShape.Seq2Seq e -> {
                if (tokenizer.isPresent()) {
                    throw new ShearsException(file + ": tokenizer: an encoder-decoder folder carries its own tokenizer, which every stage copies along "
                            + "('shears init --tokenizer' puts it there); remove 'tokenizer'");
                }
                if (!beside) throw new ShearsException(file + ": model " + model + " has no tokenizer in its folder (spiece.model or tokenizer.json)");
            }
        }
    }

    /** The shape after one stage of a decoder-only model. */
    private static ModelConfig decoderOnly(ModelConfig shape, StageSettings settings, Path base) {
        Optional<TargetParser.Spec> spec = switch (settings) {
            case PruneStage p -> Optional.of(p.spec(base));
            case ShearConfig c -> {
                if (!c.encoderDecoder().given().isEmpty()) {
                    throw new ShearsException(String.join(", ", c.encoderDecoder().given()) + ": shear an encoder-decoder (T5 or OpenBA); "
                            + "a decoder-only model is sheared to target or targetConfig");
                }
                if (c.target().isBlank() == c.targetConfig().isBlank()) throw new ShearsException("give exactly one of target or targetConfig");
                yield Optional.of(ShearRun.spec(c));
            }
            case TrainStage t -> {
                if (t.denoising().isPresent()) {
                    throw new ShearsException("objective and dynamic train an encoder-decoder (T5 or OpenBA) on denoisers; this model is decoder-only");
                }
                yield Optional.empty();
            }
            case EvalStage e -> Optional.empty();
            case ExportStage e -> Optional.empty();
        };
        if (spec.isEmpty()) return shape;
        PruneTarget target;
        try {
            target = TargetParser.resolve(shape, spec.get());
            PlanBuilder.check(shape, target);
        } catch (ShearsException e) {
            throw new ShearsException(e.getMessage() + " (the model has " + shape.describe() + " at this stage)");
        }
        // the widths of every kept layer (a dropped sub-layer is not followed: later stages see it whole)
        return target.droppingSubLayers(0, 0).config(shape);
    }

    /** The shape after one stage of an encoder–decoder; a stage kind or key it does not take is refused. */
    private static EncoderDecoderConfig encoderDecoder(EncoderDecoderConfig shape, StageSettings settings, Path base) {
        return switch (settings) {
            case PruneStage p -> {
                EncoderDecoderPruneRun run = p.encoderDecoderRun(base, base, base);
                if (run.vocabulary().isPresent() && run.vocabulary().get().corpus().isEmpty()) {
                    throw new ShearsException("vocabCorpus: vocabulary pruning of an encoder-decoder counts tokens on a corpus; name a text file or prepared folder");
                }
                EncoderDecoderTarget target = run.target();
                try {
                    yield pruned(shape, target);
                } catch (ShearsException e) {
                    throw new ShearsException(e.getMessage() + " (the model has " + shape.describe() + " at this stage)");
                }
            }
            case TrainStage t -> {
                checkTraining(t);
                yield shape;
            }
            case ShearConfig c -> {
                checkShear(c);
                try {
                    yield pruned(shape, c.encoderDecoder().target());
                } catch (ShearsException e) {
                    throw new ShearsException(e.getMessage() + " (the model has " + shape.describe() + " at this stage)");
                }
            }
            case EvalStage e -> shape;
            case ExportStage e -> {
                if (e.format().equalsIgnoreCase("gguf")) {
                    ggufRefusal(shape).ifPresent(why -> {
                        throw new ShearsException("format gguf: " + why + "; export it with format: hf");
                    });
                }
                yield shape;
            }
        };
    }

    /** Why llama.cpp could not load the shape as GGUF, if it could not: it has no OpenBA, and its t5 wants one shape for every layer. */
    private static Optional<String> ggufRefusal(EncoderDecoderConfig shape) {
        return switch (shape) {
            case T5Config t5 -> T5Gguf.llamaCppRefusal(t5);
            case OpenBaConfig openBa -> Optional.of("llama.cpp has no OpenBA");
        };
    }

    /** The child's shape: the target's plan over scores that are only placeholders (the kept counts do not depend on them). */
    static EncoderDecoderConfig pruned(EncoderDecoderConfig shape, EncoderDecoderTarget target) {
        return switch (shape) {
            case T5Config t5 -> target.plan(t5, EncoderDecoderScores.random(t5, 0), EncoderDecoderLayerScores.everyK(t5)).resultConfig(t5);
            case OpenBaConfig openBa -> target.plan(openBa, EncoderDecoderScores.random(openBa, 0), EncoderDecoderLayerScores.everyK(openBa)).resultConfig(openBa);
        };
    }

    /**
     * What {@link Seq2SeqShearRun} refuses, refused before any work: the decoder-only target keys and sub-layer gates, an empty
     * target, and what an encoder-decoder's training does not take.
     */
    private static void checkShear(ShearConfig c) {
        List<String> decoderOnly = new ArrayList<>();
        if (!c.target().isBlank()) decoderOnly.add("target");
        if (!c.targetConfig().isBlank()) decoderOnly.add("targetConfig");
        if (c.layerGates() != ShearConfig.DEFAULT.layerGates()) decoderOnly.add("layerGates: sub-layers");
        if (!decoderOnly.isEmpty()) {
            throw new ShearsException(String.join(", ", decoderOnly) + ": not for an encoder-decoder; a T5 or OpenBA shear stage takes heads, ffn, hidden, "
                    + "encLayers, decLayers (the target of its prune stage), objective, dynamic (as its train stage), gateLr, lambdaLr, lagrangianWarmup, "
                    + "gateSchedule and train");
        }
        if (c.encoderDecoder().target().isEmpty()) throw new ShearsException("nothing to shear: give heads, ffn, hidden, encLayers or decLayers");
        try {
            checkTraining(c.train());
        } catch (ShearsException e) {
            throw new ShearsException("train." + e.getMessage());
        }
    }

    /** What {@link Seq2SeqTrainRun} refuses, refused before any work. */
    private static void checkTraining(TrainStage t) {
        if (t.distill()) throw new ShearsException("distillation is not implemented for encoder-decoders; use a train stage");
        checkTraining(t.config());
    }

    /** What an encoder-decoder's training settings cannot take (one data source; denoisers re-weighted by dynamic, not by domain). */
    private static void checkTraining(TrainConfig c) {
        if (c.distill().enabled()) throw new ShearsException("distill: distillation is not implemented for encoder-decoders");
        if (c.batching().data().size() != 1) {
            throw new ShearsException("data: an encoder-decoder stage reads one prepared folder or text file (its denoisers are the mixture), got "
                    + c.batching().data().size());
        }
        if (c.dynamicBatchLoading().enabled()) {
            throw new ShearsException("dynamicBatchLoading re-weights a decoder-only model's domains; an encoder-decoder re-weights its denoisers with dynamic: true");
        }
    }
}
