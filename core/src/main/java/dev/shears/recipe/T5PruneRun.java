package dev.shears.recipe;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.ConfigJson;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.prune.Criterion;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Plan;
import dev.shears.seq2seq.T5Scores;
import dev.shears.seq2seq.T5Slicer;
import dev.shears.seq2seq.T5Target;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * {@code shears prune} of a T5 folder: one-shot, data-free structured pruning of an encoder–decoder. Scores
 * every unit by {@code criterion}, keeps the target's share of each axis ({@link T5Target}), slices
 * ({@link T5Slicer}) and writes a Hugging Face folder (per-layer shapes in {@code shears_layer_shapes}) with
 * {@code pruning-plan.json} and the parent's tokenizer files, which appears only when complete.
 *
 * @param model     the parent T5 folder
 * @param out       the output folder (must not exist or be empty)
 * @param target    what to remove
 * @param criterion {@link Criterion#MAGNITUDE} or {@link Criterion#RANDOM}
 * @param seed      seeds the random criterion
 * @param dtype     the child's dtype (f32 when absent: the weights are held in fp32)
 */
public record T5PruneRun(Path model, Path out, T5Target target, Criterion criterion, long seed, Optional<DType> dtype) {
    /** The pruning plan beside the weights. */
    public static final String PLAN = "pruning-plan.json";
    /** The files of a T5 folder's tokenizer and generation settings, copied as they are. */
    static final List<String> TOKENIZER_FILES = List.of("spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "generation_config.json");

    public T5PruneRun {
        if (criterion != Criterion.MAGNITUDE && criterion != Criterion.RANDOM) {
            throw new ShearsException("--importance " + PruneRun.name(criterion) + " is not supported for T5 yet; use magnitude or random");
        }
        if (target.isEmpty()) throw new ShearsException("nothing to prune: give --heads, --ffn, --hidden, --enc-layers or --dec-layers");
    }

    /**
     * The run as the command's options give it.
     *
     * @param importance a criterion's name ("" for magnitude)
     * @param dtype      f32, f16 or bf16 ("" for f32)
     */
    public static T5PruneRun of(Path model, Path out, T5Target target, String importance, long seed, String dtype) {
        Criterion criterion = PruneStage.criterion(importance).orElse(Criterion.MAGNITUDE);
        Optional<DType> written = dtype.isBlank() ? Optional.empty() : DType.parse(dtype);
        if (!dtype.isBlank() && written.isEmpty()) throw new ShearsException("--dtype must be f32, f16 or bf16, got '" + dtype + "'");
        return new T5PruneRun(model, out, target, criterion, seed, written);
    }

    /**
     * What the pruning did.
     *
     * @param parent        the parent's shape
     * @param pruned        the child's shape
     * @param paramsBefore  the parent's parameters (a tied head once)
     * @param paramsAfter   the child's
     */
    public record Result(Path out, T5Config parent, T5Config pruned, T5Plan plan, Criterion criterion, long paramsBefore, long paramsAfter, double seconds) {
    }

    /** Whether {@code model} is an encoder–decoder folder this run refuses (OpenBA), said before any work. */
    public static void refuseUnsupported(Path model) {
        if (OpenBaConfig.describes(model)) throw new ShearsException("OpenBA pruning is not supported yet");
    }

    /** The parent and the child in fp32 on the heap, and the child's bytes while they are written. */
    public MemoryPlan plan() {
        refuseUnsupported(model);
        T5Config c = T5Config.read(model.resolve("config.json"));
        long d = c.dim();
        long parameters = c.vocabSize() * d * (c.tiedEmbeddings() ? 1 : 2) + 2L * c.numBuckets() * c.biasHeads() + 2 * d;
        for (T5Config.Block b : c.encoder()) parameters += attention(c, b.numHeads()) + feedForward(c, b.ffnDim());
        for (T5Config.Block b : c.decoder()) parameters += attention(c, b.numHeads()) + attention(c, b.crossHeads()) + feedForward(c, b.ffnDim());
        return new MemoryPlan("pruning " + model, MemoryPlan.BASELINE + 3 * parameters * Float.BYTES, 0);
    }

    /** Parameters of an attention sub-layer: its norm, q, k, v and o. */
    private static long attention(T5Config c, int heads) {
        return c.dim() + 4L * heads * c.headDim() * c.dim();
    }

    /** Parameters of a feed-forward sub-layer: its norm, wi (or wi_0 and wi_1) and wo. */
    private static long feedForward(T5Config c, int ffnDim) {
        return c.dim() + (c.feedForward().gated() ? 3L : 2L) * ffnDim * c.dim();
    }

    public Result run() {
        long began = System.nanoTime();
        refuseUnsupported(model);
        Outputs.checkNotAnInput(out, Optional.of(model));
        if (!AtomicFiles.isMissingOrEmpty(out)) throw new ShearsException(out + ": already exists and is not empty; choose another --out");
        T5Model parent = T5Model.load(model);
        T5Config pc = parent.config();
        T5Scores scores = criterion == Criterion.RANDOM ? T5Scores.random(pc, seed) : T5Scores.magnitude(parent);
        T5Plan plan = target.plan(pc, scores);
        T5Model pruned = T5Slicer.slice(parent, plan);
        DType written = dtype.orElse(DType.F32);
        ObjectNode base = (ObjectNode) ConfigJson.read(model.resolve("config.json"), "a Hugging Face T5 folder").node();
        ObjectNode config = T5HfFolder.configJson(pruned.config(), base, written);
        AtomicFiles.writeFolder(out, dir -> {
            T5HfFolder.write(pruned, config, dir, written);
            Files.writeString(dir.resolve(PLAN), planJson(plan).toPrettyString() + "\n", StandardCharsets.UTF_8);
            for (String name : TOKENIZER_FILES) {
                Path from = model.resolve(name);
                if (Files.isRegularFile(from)) Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        });
        return new Result(out, pc, pruned.config(), plan, criterion, parent.parameterCount(), pruned.parameterCount(), (System.nanoTime() - began) / 1e9);
    }

    /** The plan as data: kept indices of the parent on every axis. */
    static ObjectNode planJson(T5Plan plan) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ints(n.putArray("hidden"), plan.hidden());
        layers(n.putArray("encoder"), plan.encoder(), false);
        layers(n.putArray("decoder"), plan.decoder(), true);
        ints(n.putArray("vocab"), plan.vocab());
        return n;
    }

    private static void layers(ArrayNode out, List<T5Plan.Layer> layers, boolean cross) {
        for (T5Plan.Layer l : layers) {
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
