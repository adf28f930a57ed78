package dev.shears.recipe;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.TokenizerWriter;
import dev.shears.format.hf.ConfigJson;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.progress.Progress;
import dev.shears.prune.Criterion;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.KeptVocabulary;
import dev.shears.prune.TaylorVariant;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.OpenBa;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaSlicer;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.EncoderDecoderLayerScores;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.EncoderDecoderPlan;
import dev.shears.seq2seq.EncoderDecoderScores;
import dev.shears.seq2seq.T5Slicer;
import dev.shears.seq2seq.EncoderDecoderTarget;
import dev.shears.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code shears prune} of a T5 or an OpenBA folder: one-shot structured pruning of an encoder–decoder, data-free, by
 * activation or by first-order Taylor. The two share the plan, the target and the criteria' arithmetic and differ in the slicer
 * ({@link T5Slicer}, {@link OpenBaSlicer}) and the folder written ({@link T5HfFolder}, {@link OpenBaHfFolder}). Scores
 * every unit by {@code criterion}, keeps the target's share of each axis ({@link EncoderDecoderTarget}), slices
 * ({@link T5Slicer}) and writes a Hugging Face folder (per-layer shapes in {@code shears_layer_shapes}) with
 * {@code pruning-plan.json} and the parent's tokenizer files (rewritten when the vocabulary is pruned), which appears
 * only when complete. Under {@code mpirun} the ranks share the calibration windows and add each window's scores (and
 * losses) in window order, so the child's bytes are the same for any number of ranks; rank 0 alone writes.
 *
 * @param model     the parent T5 or OpenBA folder
 * @param out       the output folder (must not exist or be empty)
 * @param target    what to remove
 * @param vocabulary the most frequent entries of a corpus to keep, with every special one (T5's sentinels among them): the
 *                   embedding's and the head's rows are cut and the tokenizer rewritten ({@link TokenizerWriter#writePruned})
 * @param criterion {@link Criterion#MAGNITUDE}, {@link Criterion#RANDOM}, {@link Criterion#ACTIVATION} or {@link Criterion#TAYLOR}
 * @param layerCriterion {@link Criterion#EVERY_K}, {@link Criterion#BLOCK_INFLUENCE} or {@link Criterion#ANGULAR}: which layers of each stack go
 * @param seed      seeds the random criterion
 * @param angularSpan the block length n of the angular criterion in both stacks (0: in each stack, the layers it drops)
 * @param options   the criteria's variants: Taylor's gate variants, angular's tokens and the state after a stack's last
 *                  layer (for block influence and angular)
 * @param calibration the text or token folder the data-driven criteria run (windows of seqLen + 1 tokens: the first half the encoder's
 *                    input, the rest the decoder's labels)
 * @param dtype     the child's dtype (f32 when absent: the weights are held in fp32)
 */
public record EncoderDecoderPruneRun(Path model, Path out, EncoderDecoderTarget target, Optional<PruneRun.VocabularyRequest> vocabulary, Criterion criterion,
                         Criterion layerCriterion, long seed, int angularSpan, CriterionOptions options, PruneRun.Calibration calibration,
                         Optional<DType> dtype) {
    /** The pruning plan beside the weights. */
    public static final String PLAN = "pruning-plan.json";
    /** The files of a T5 folder's tokenizer and generation settings, copied as they are. */
    static final List<String> TOKENIZER_FILES = List.of("spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "generation_config.json");
    private static final String GENERATION_CONFIG = "generation_config.json";
    /** What {@link TokenizerWriter#writePruned} writes anew, or what names ids of the old vocabulary: not copied when the vocabulary is pruned. */
    private static final List<String> REWRITTEN = List.of("spiece.model", "tokenizer.json", "tokenizer_config.json", "added_tokens.json");
    /** The keys of config.json and generation_config.json that hold a token id. */
    private static final List<String> ID_KEYS = List.of("decoder_start_token_id", "pad_token_id", "eos_token_id", "bos_token_id", "unk_token_id");

    public EncoderDecoderPruneRun {
        if (criterion != Criterion.MAGNITUDE && criterion != Criterion.RANDOM && criterion != Criterion.ACTIVATION && criterion != Criterion.TAYLOR) {
            throw new ShearsException("--importance " + PruneRun.name(criterion) + " does not rank the widths of an encoder-decoder; use magnitude, random, activation or taylor");
        }
        if (layerCriterion != Criterion.EVERY_K && layerCriterion != Criterion.BLOCK_INFLUENCE && layerCriterion != Criterion.ANGULAR) {
            throw new ShearsException("--layer-importance " + PruneRun.name(layerCriterion) + " does not rank the layers of an encoder-decoder; use every-k, block-influence or angular");
        }
        if (criterion == Criterion.TAYLOR && options.taylor().family != TaylorVariant.Family.GATE) {
            throw new ShearsException("--taylor " + options.taylor().key() + " is not supported for an encoder-decoder; use gate, gate-per-sequence, gate-mix or gate-mix-per-sequence");
        }
        if (angularSpan < 0) throw new ShearsException("--angular-span must be 0 (the layers each stack drops) or more, got " + angularSpan);
        boolean widthReads = criterion == Criterion.ACTIVATION || criterion == Criterion.TAYLOR;
        boolean reads = widthReads || layerCriterion == Criterion.BLOCK_INFLUENCE || layerCriterion == Criterion.ANGULAR;
        if (reads && calibration.data().isEmpty()) {
            throw new ShearsException("the " + PruneRun.name(widthReads ? criterion : layerCriterion)
                    + " criterion needs calibration data: pass --calibration FILE|DIR, or choose magnitude or random and every-k");
        }
        if (!reads && calibration.data().isPresent()) {
            throw new ShearsException("--calibration is read by --importance activation|taylor and --layer-importance block-influence|angular only; "
                    + PruneRun.name(criterion) + " and " + PruneRun.name(layerCriterion) + " are data-free");
        }
        if (target.isEmpty() && vocabulary.isEmpty()) throw new ShearsException("nothing to prune: give --heads, --ffn, --hidden, --enc-layers, --dec-layers or --vocab");
    }

    /**
     * The run as the command's options give it.
     *
     * @param importance      a criterion's name ("" for activation with calibration data, else magnitude)
     * @param layerImportance a criterion's name ("" for block-influence with calibration data, else every-k)
     * @param angularSpan     the angular block in both stacks (0: in each stack, the layers it drops)
     * @param options         the criteria's variants ({@code --taylor}, {@code --angular-tokens}, {@code --final-state})
     * @param dtype           f32, f16 or bf16 ("" for f32)
     */
    public static EncoderDecoderPruneRun of(Path model, Path out, EncoderDecoderTarget target, Optional<PruneRun.VocabularyRequest> vocabulary, String importance,
                                String layerImportance, long seed, int angularSpan, CriterionOptions options, PruneRun.Calibration calibration,
                                String dtype) {
        boolean calibrated = calibration.data().isPresent();
        Criterion criterion = PruneStage.criterion(importance).orElse(calibrated ? Criterion.ACTIVATION : Criterion.MAGNITUDE);
        Criterion layerCriterion = PruneStage.criterion(layerImportance).orElse(calibrated ? Criterion.BLOCK_INFLUENCE : Criterion.EVERY_K);
        Optional<DType> written = dtype.isBlank() ? Optional.empty() : DType.parse(dtype);
        if (!dtype.isBlank() && written.isEmpty()) throw new ShearsException("--dtype must be f32, f16 or bf16, got '" + dtype + "'");
        return new EncoderDecoderPruneRun(model, out, target, vocabulary, criterion, layerCriterion, seed, angularSpan, options, calibration, written);
    }

    /**
     * What the pruning did.
     *
     * @param parent        the parent's shape
     * @param pruned        the child's shape
     * @param vocabulary    the kept vocabulary, when pruned
     * @param paramsBefore  the parent's parameters (a tied head once)
     * @param paramsAfter   the child's
     * @param perplexityWindows the calibration windows perplexity is measured on (with a pruned vocabulary: those made only of kept tokens)
     * @param perplexityBefore  the parent's teacher-forced perplexity on them, when there is calibration data
     * @param perplexityAfter   the child's
     */
    public record Result(Path out, EncoderDecoder parent, EncoderDecoder pruned, EncoderDecoderPlan plan, Criterion criterion, Criterion layerCriterion, Optional<KeptVocabulary> vocabulary,
                         long paramsBefore,
                         long paramsAfter, int perplexityWindows, Optional<Double> perplexityBefore, Optional<Double> perplexityAfter, double seconds) {
    }

    /** The parent and the child in fp32 on the heap, and the child's bytes while they are written; with Taylor, one window's weight gradients. */
    public MemoryPlan plan() {
        long parameters = OpenBaConfig.describes(model) ? parameters(OpenBaConfig.read(model.resolve("config.json")))
                : parameters(T5Config.read(model.resolve("config.json")));
        return new MemoryPlan("pruning " + model, MemoryPlan.BASELINE + (criterion == Criterion.TAYLOR ? 4 : 3) * parameters * Float.BYTES, 0);
    }

    private static long parameters(T5Config c) {
        long d = c.dim();
        long parameters = c.vocabSize() * d * (c.tiedEmbeddings() ? 1 : 2) + 2L * c.numBuckets() * c.biasHeads() + 2 * d;
        for (T5Config.Block b : c.encoder()) parameters += attention(c, b.numHeads()) + feedForward(c, b.ffnDim());
        for (T5Config.Block b : c.decoder()) parameters += attention(c, b.numHeads()) + attention(c, b.crossHeads()) + feedForward(c, b.ffnDim());
        return parameters;
    }

    /** An OpenBA's: embedding, untied head and its bias, two final LayerNorms; per attention its LayerNorm, q, k, v, o and their biases; per MLP its LayerNorm, fc_in and fc_out. */
    private static long parameters(OpenBaConfig c) {
        long d = c.dim();
        long parameters = c.vocabSize() * d * (c.tiedEmbeddings() ? 1 : 2) + c.vocabSize() + 4 * d;
        for (OpenBaConfig.Block b : c.encoder()) parameters += attention(c, b.numHeads()) + 2 * d + 3L * b.ffnDim() * d;
        for (OpenBaConfig.Block b : c.decoder()) parameters += attention(c, b.numHeads()) + attention(c, b.crossHeads()) + 2 * d + 3L * b.ffnDim() * d;
        return parameters;
    }

    /** Parameters of an OpenBA attention sub-layer: its LayerNorm (2·dim), q, k, v (3·inner rows and biases) and o (with its bias). */
    private static long attention(OpenBaConfig c, int heads) {
        long inner = (long) heads * c.headDim();
        return 3L * c.dim() + 4 * inner * c.dim() + 3 * inner;
    }

    /** Parameters of an attention sub-layer: its norm, q, k, v and o. */
    private static long attention(T5Config c, int heads) {
        return c.dim() + 4L * heads * c.headDim() * c.dim();
    }

    /** Parameters of a feed-forward sub-layer: its norm, wi (or wi_0 and wi_1) and wo. */
    private static long feedForward(T5Config c, int ffnDim) {
        return c.dim() + (c.feedForward().gated() ? 3L : 2L) * ffnDim * c.dim();
    }

    public Result run(Consumer<String> log) {
        return run(log, new SingleProcess());
    }

    /**
     * The run on every rank of {@code collective}: each scores its share of the calibration windows and the windows' scores
     * and losses are added in window order ({@link OrderedSum}), so every rank plans and slices the same child; rank 0
     * alone writes it.
     */
    public Result run(Consumer<String> log, Collective collective) {
        long began = System.nanoTime();
        Outputs.checkNotAnInput(out, Optional.of(model), vocabulary.flatMap(PruneRun.VocabularyRequest::corpus), calibration.data());
        if (!AtomicFiles.isMissingOrEmpty(out)) throw new ShearsException(out + ": already exists and is not empty; choose another --out");
        EncoderDecoder parent = EncoderDecoder.load(model).orElseThrow(() -> new ShearsException(model + ": not a T5 or OpenBA folder"));
        if (layerCriterion == Criterion.ANGULAR) {
            int encoder = parent.config().encoder().size(), decoder = parent.config().decoder().size();
            EncoderDecoderLayerScores.checkSpan(span(encoder, target.encoderLayers().orElse(encoder)), encoder, "encoder");
            EncoderDecoderLayerScores.checkSpan(span(decoder, target.decoderLayers().orElse(decoder)), decoder, "decoder");
        }
        Optional<Path> tokenizerFile = TokenizerFiles.find(model);
        Optional<KeptVocabulary> kept = vocabulary.map(v -> keptVocabulary(v, parent.vocabSize(), tokenizerFile, log));
        List<int[]> windows = calibration.data().map(d -> PruneRun.calibrationWindows(d, tokenizer(tokenizerFile, "calibration"), calibration.samples(),
                calibration.seqLen(), log)).orElse(List.of());
        EncoderDecoderScores scores = scores(parent, windows, collective);
        EncoderDecoderLayerScores layerScores = layerScores(parent, windows, collective);
        EncoderDecoderPlan planned = switch (parent) {
            case T5Model t5 -> target.plan(t5.config(), scores, layerScores);
            case OpenBaModel openBa -> target.plan(openBa.config(), scores, layerScores);
        };
        EncoderDecoderPlan plan = kept.map(k -> planned.withVocab(k.kept())).orElse(planned);
        EncoderDecoder pruned = switch (parent) {
            case T5Model t5 -> T5Slicer.slice(t5, plan);
            case OpenBaModel openBa -> OpenBaSlicer.slice(openBa, plan);
        };
        // with a pruned vocabulary, before and after are compared on the windows made only of kept tokens (renumbered after)
        List<int[]> compared = kept.map(k -> windows.stream().filter(k::keepsAll).toList()).orElse(windows);
        Optional<Double> before = compared.isEmpty() ? Optional.empty() : Optional.of(perplexity(parent, compared, collective));
        Optional<Double> after = compared.isEmpty() ? Optional.empty()
                : Optional.of(perplexity(pruned, kept.map(k -> compared.stream().map(k::remap).toList()).orElse(compared), collective));
        Result result = new Result(out, parent, pruned, plan, criterion, layerCriterion, kept, parent.parameterCount(), pruned.parameterCount(), compared.size(),
                before, after, 0);
        collective.barrier(); // every rank has checked that --out is free before rank 0 writes it
        if (!collective.leads()) return result;
        DType written = dtype.orElse(DType.F32);
        ObjectNode base = remapIds((ObjectNode) ConfigJson.read(model.resolve("config.json"), "a Hugging Face encoder-decoder folder").node(), plan.vocab());
        AtomicFiles.writeFolder(out, dir -> {
            switch (pruned) {
                case T5Model t5 -> T5HfFolder.write(t5, T5HfFolder.configJson(t5.config(), base, written), dir, written);
                case OpenBaModel openBa -> OpenBaHfFolder.write(openBa, OpenBaHfFolder.configJson(openBa.config(), base, written), dir, written);
            }
            Files.writeString(dir.resolve(PLAN), planJson(plan).toPrettyString() + "\n", StandardCharsets.UTF_8);
            if (kept.isPresent()) {
                TokenizerWriter.writePruned(TokenizerLoader.load(tokenizerFile.orElseThrow()), tokenizerFile.get(), kept.get().kept(), dir);
            }
            for (String name : TOKENIZER_FILES) {
                Path from = model.resolve(name);
                if (!Files.isRegularFile(from) || Files.exists(dir.resolve(name))) continue;
                if (name.equals(GENERATION_CONFIG)) {
                    ObjectNode generation = (ObjectNode) ConfigJson.read(from, "a Hugging Face encoder-decoder folder").node();
                    Files.writeString(dir.resolve(name), remapIds(generation, plan.vocab()).toPrettyString() + "\n", StandardCharsets.UTF_8);
                } else if (kept.isEmpty() || !REWRITTEN.contains(name)) {
                    Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        });
        return new Result(out, parent, pruned, plan, criterion, layerCriterion, kept, parent.parameterCount(), pruned.parameterCount(), compared.size(), before, after,
                (System.nanoTime() - began) / 1e9);
    }

    private EncoderDecoderScores scores(EncoderDecoder parent, List<int[]> windows, Collective collective) {
        return switch (criterion) {
            case RANDOM -> switch (parent) {
                case T5Model t5 -> EncoderDecoderScores.random(t5.config(), seed);
                case OpenBaModel openBa -> EncoderDecoderScores.random(openBa.config(), seed);
            };
            case ACTIVATION -> EncoderDecoderScores.activation(parent, windows, collective);
            case TAYLOR -> EncoderDecoderScores.taylor(parent, windows, options.taylor(), collective);
            default -> switch (parent) {
                case T5Model t5 -> EncoderDecoderScores.magnitude(t5);
                case OpenBaModel openBa -> EncoderDecoderScores.magnitude(openBa);
            };
        };
    }

    /** The layer scores; angular's block in each stack is {@link #angularSpan}, or the layers the target drops from it. */
    private EncoderDecoderLayerScores layerScores(EncoderDecoder parent, List<int[]> windows, Collective collective) {
        int encoder = parent.config().encoder().size(), decoder = parent.config().decoder().size();
        return switch (layerCriterion) {
            case BLOCK_INFLUENCE -> EncoderDecoderLayerScores.blockInfluence(parent, windows, options.finalState(), collective);
            case ANGULAR -> EncoderDecoderLayerScores.angular(parent, windows, span(encoder, target.encoderLayers().orElse(encoder)),
                    span(decoder, target.decoderLayers().orElse(decoder)), options, collective);
            default -> EncoderDecoderLayerScores.everyK(parent.config());
        };
    }

    /** The angular block of a stack of {@code layers} that keeps {@code kept}: none when it drops none. */
    private int span(int layers, int kept) {
        return kept >= layers || kept < 1 ? 0 : angularSpan > 0 ? angularSpan : layers - kept; // a count outside 1..layers is the target's one-line error
    }

    /** exp of the mean over the windows of each window's mean teacher-forced loss ({@link T5#forwardWindow}, {@link OpenBa#forwardWindow}). */
    static double perplexity(EncoderDecoder model, List<int[]> windows) {
        return perplexity(model, windows, new SingleProcess());
    }

    /** {@link #perplexity(EncoderDecoder, List)} with the windows shared over the ranks: their losses gathered and added in window order. */
    static double perplexity(EncoderDecoder model, List<int[]> windows, Collective collective) {
        int n = windows.size(), rank = collective.rank(), size = collective.size();
        List<int[]> mine = windows.subList(OrderedSum.first(n, rank, size), OrderedSum.first(n, rank + 1, size));
        double[] losses = new double[mine.size()];
        for (int i = 0; i < losses.length; i++) {
            int[] w = mine.get(i);
            losses[i] = switch (model) {
                case T5Model t5 -> T5.loss(T5.forwardWindow(t5, w), T5.windowLabels(w), new float[0]);
                case OpenBaModel openBa -> OpenBa.loss(OpenBa.forwardWindow(openBa, w), T5.windowLabels(w), new float[0]);
            };
        }
        double sum = 0;
        for (double loss : OrderedSum.gather(collective, n, losses)) sum += loss;
        return Math.exp(sum / n);
    }

    /** The entries to keep, counted with the folder's tokenizer, which must not have more ids than the model has rows. */
    private static KeptVocabulary keptVocabulary(PruneRun.VocabularyRequest v, int rows, Optional<Path> tokenizerFile, Consumer<String> log) {
        Path corpus = v.corpus().orElseThrow(() -> new ShearsException("vocabulary pruning of an encoder-decoder counts tokens on a corpus: pass --vocab-corpus FILE|DIR"));
        Tokenizer tok = tokenizer(tokenizerFile, "vocabulary pruning");
        if (tok.vocabSize() > rows) throw new ShearsException(tokenizerFile.get() + ": " + tok.vocabSize() + " tokens, more than the model's " + rows + " rows");
        // rows past the tokenizer's ids (T5 pads its embedding to a multiple of 128) are never an input: they go
        return PruneRun.keptVocabulary(v.options(), corpus, tok, log, Progress.SILENT);
    }

    /** The folder's tokenizer, which {@code what} needs. */
    private static Tokenizer tokenizer(Optional<Path> tokenizerFile, String what) {
        return TokenizerLoader.load(tokenizerFile.orElseThrow(() -> new ShearsException(what + " needs the model folder's tokenizer, and it has none (spiece.model or tokenizer.json)")));
    }

    /** A copy of {@code n} whose token-id keys name the ids' new numbers; an id that is not kept loses its key. */
    static ObjectNode remapIds(ObjectNode n, int[] vocab) {
        ObjectNode copy = n.deepCopy();
        for (String key : ID_KEYS) {
            if (!copy.path(key).canConvertToExactIntegral()) continue;
            int now = Arrays.binarySearch(vocab, copy.path(key).asInt());
            if (now >= 0) copy.put(key, now);
            else copy.remove(key);
        }
        return copy;
    }

    /** The plan as data: kept indices of the parent on every axis. */
    static ObjectNode planJson(EncoderDecoderPlan plan) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ints(n.putArray("hidden"), plan.hidden());
        layers(n.putArray("encoder"), plan.encoder(), false);
        layers(n.putArray("decoder"), plan.decoder(), true);
        ints(n.putArray("vocab"), plan.vocab());
        return n;
    }

    private static void layers(ArrayNode out, List<EncoderDecoderPlan.Layer> layers, boolean cross) {
        for (EncoderDecoderPlan.Layer l : layers) {
            ObjectNode o = out.addObject().put("kept", l.kept());
            ints(o.putArray("heads"), l.heads());
            if (cross) ints(o.putArray("cross_heads"), l.crossHeads());
            ints(o.putArray("ffn"), l.ffn());
        }
    }

    private static void ints(ArrayNode a, int[] values) {
        for (int v : values) a.add(v);
    }
}
