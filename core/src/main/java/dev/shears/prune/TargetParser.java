package dev.shears.prune;

import dev.shears.ShearsException;
import dev.shears.model.Axis;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns what the user asked for — ratios per axis, exact counts ({@code --target layers=12,hidden=512,...})
 * or another model's config — into a {@link PruneTarget} of kept counts, checked against the parent
 * before any work starts.
 */
public final class TargetParser {
    /** How a head ratio is applied under grouped-query attention. */
    public enum HeadMode {
        /** Drop whole KV groups: a key/value head with all its query heads. */
        GROUPS,
        /** Keep every KV head and drop the same number of query heads from each group. */
        PER_GROUP
    }

    /**
     * What was asked.
     *
     * @param ratios        fraction of each axis to remove, on the axes of {@link #RATIO_AXES}
     * @param exact         kept counts, on the axes of {@link #EXACT_AXES}
     * @param targetShape   another config whose shape is the target
     * @param dropLayers    explicit layers to remove
     * @param dropAttention attention sub-layers to remove
     * @param dropFfn       FFN sub-layers to remove
     * @param headMode      how a head ratio treats KV groups
     * @param multipleOf    round kept hidden and FFN widths to a multiple of this (1 = no rounding)
     * @param nonUniform    per-layer widths follow importance
     */
    public record Spec(Map<Axis, Double> ratios, Map<Axis, Integer> exact, Optional<ModelConfig> targetShape, List<Integer> dropLayers,
                       int dropAttention, int dropFfn, HeadMode headMode, int multipleOf, boolean nonUniform) {
        public Spec {
            ratios = Map.copyOf(ratios);
            exact = Map.copyOf(exact);
            dropLayers = List.copyOf(dropLayers);
            for (Map.Entry<Axis, Double> e : ratios.entrySet()) {
                if (!RATIO_AXES.contains(e.getKey())) throw new ShearsException("unknown pruning axis '" + e.getKey().option() + "'");
                if (!(e.getValue() >= 0 && e.getValue() < 1)) {
                    throw new ShearsException("--" + e.getKey().option() + " " + e.getValue() + ": the fraction to remove must be in [0, 1)");
                }
            }
            if (multipleOf < 1) throw new ShearsException("--multiple-of must be at least 1, got " + multipleOf);
            if (dropAttention < 0 || dropFfn < 0) throw new ShearsException("sub-layer counts to drop must be ≥ 0");
            int sources = (ratios.isEmpty() ? 0 : 1) + (exact.isEmpty() ? 0 : 1) + (targetShape.isPresent() ? 1 : 0);
            if (sources > 1) throw new ShearsException("give ratios (--layers/--heads/--ffn/--hidden), --target or --target-config, not several");
        }

        /** Whether anything at all is pruned by shape (the vocabulary is separate). */
        public boolean isEmpty() {
            return ratios.values().stream().allMatch(r -> r == 0) && exact.isEmpty() && targetShape.isEmpty() && dropLayers.isEmpty()
                    && dropAttention == 0 && dropFfn == 0;
        }
    }

    /** The axes a ratio (a fraction to remove) can be given for. */
    public static final List<Axis> RATIO_AXES = List.of(Axis.LAYER, Axis.HEAD, Axis.FFN, Axis.HIDDEN);
    /** The axes {@code --target} takes kept counts for. */
    public static final List<Axis> EXACT_AXES = List.of(Axis.LAYER, Axis.HIDDEN, Axis.HEAD, Axis.KV_HEAD, Axis.FFN);

    private TargetParser() {
    }

    /** Parses {@code layers=12,hidden=512,heads=8,kv-heads=4,ffn=1376}. */
    public static Map<Axis, Integer> parseExact(String text) {
        Map<Axis, Integer> out = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            if (eq <= 0) throw new ShearsException("--target " + text + ": expected key=value pairs, got '" + p + "'");
            String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            Axis axis = EXACT_AXES.stream().filter(a -> a.option().equals(key)).findFirst().orElseThrow(() -> new ShearsException(
                    "--target: unknown key '" + key + "' (known: " + String.join(", ", EXACT_AXES.stream().map(Axis::option).toList()) + ")"));
            if (out.containsKey(axis)) throw new ShearsException("--target " + text + ": " + key + " is given twice");
            try {
                out.put(axis, Integer.parseInt(p.substring(eq + 1).trim()));
            } catch (NumberFormatException e) {
                throw new ShearsException("--target: " + key + " must be a whole number, got '" + p.substring(eq + 1).trim() + "'");
            }
        }
        return out;
    }

    /** The kept counts for {@code parent}; errors name the axis and the limit. */
    public static PruneTarget resolve(ModelConfig parent, Spec spec) {
        LayerShape base = smallest(parent);
        int layers = parent.numLayers(), dim = parent.dim(), heads = base.numHeads(), kv = base.numKvHeads(), ffn = base.ffnDim();
        if (spec.targetShape().isPresent()) {
            ModelConfig t = spec.targetShape().get();
            if (!t.isUniform()) throw new ShearsException("--target-config must describe a uniform model (the same shape in every layer)");
            if (t.headDim() != parent.headDim()) {
                throw new ShearsException("--target-config head_dim " + t.headDim() + " differs from the model's " + parent.headDim()
                        + "; pruning keeps whole heads, so the head width cannot change");
            }
            layers = t.numLayers();
            dim = t.dim();
            heads = t.layer(0).numHeads();
            kv = t.layer(0).numKvHeads();
            ffn = t.layer(0).ffnDim();
        } else if (!spec.exact().isEmpty()) {
            Map<Axis, Integer> e = spec.exact();
            layers = e.getOrDefault(Axis.LAYER, layers);
            dim = e.getOrDefault(Axis.HIDDEN, dim);
            ffn = e.getOrDefault(Axis.FFN, ffn);
            if (e.containsKey(Axis.HEAD) && !e.containsKey(Axis.KV_HEAD)) {
                int h = e.get(Axis.HEAD);
                kv = h % base.groupSize() == 0 && h / base.groupSize() <= base.numKvHeads() ? h / base.groupSize() : Math.min(kv, h);
            }
            heads = e.getOrDefault(Axis.HEAD, heads);
            kv = e.getOrDefault(Axis.KV_HEAD, kv);
        } else {
            Map<Axis, Double> r = spec.ratios();
            layers = keep(layers, r.getOrDefault(Axis.LAYER, 0.0));
            dim = keep(dim, r.getOrDefault(Axis.HIDDEN, 0.0));
            ffn = keep(ffn, r.getOrDefault(Axis.FFN, 0.0));
            double hr = r.getOrDefault(Axis.HEAD, 0.0);
            if (hr > 0) {
                if (spec.headMode() == HeadMode.GROUPS) {
                    if (kv == 1) throw new ShearsException("--heads: the model has one KV head per layer, so whole KV groups cannot be dropped; use --head-mode per-group");
                    kv = keep(kv, hr);
                    heads = kv * base.groupSize();
                } else {
                    heads = kv * keep(base.groupSize(), hr);
                }
            }
        }
        if (spec.multipleOf() > 1) {
            dim = roundTo(dim, spec.multipleOf(), parent.dim());
            ffn = roundTo(ffn, spec.multipleOf(), base.ffnDim());
        }
        if (!spec.dropLayers().isEmpty() && spec.exact().isEmpty() && spec.targetShape().isEmpty() && !spec.ratios().containsKey(Axis.LAYER)) {
            layers = parent.numLayers() - spec.dropLayers().size();
        }
        check(parent, base, layers, dim, heads, kv, ffn);
        return PruneTarget.uniform(layers, dim, heads, kv, ffn).droppingSubLayers(spec.dropAttention(), spec.dropFfn())
                .with(spec.dropLayers(), spec.nonUniform());
    }

    private static void check(ModelConfig parent, LayerShape base, int layers, int dim, int heads, int kv, int ffn) {
        if (layers < 1 || layers > parent.numLayers()) throw new ShearsException("target keeps " + layers + " layers; the model has " + parent.numLayers());
        if (dim < 1 || dim > parent.dim()) throw new ShearsException("target hidden size " + dim + " is outside 1.." + parent.dim());
        if (ffn < 1 || ffn > base.ffnDim()) throw new ShearsException("target FFN width " + ffn + " is outside 1.." + base.ffnDim());
        if (kv < 1 || kv > base.numKvHeads()) throw new ShearsException("target kv heads " + kv + " is outside 1.." + base.numKvHeads());
        if (heads < kv || heads % kv != 0) {
            throw new ShearsException("target heads " + heads + " must be a positive multiple of the kv heads " + kv + " (grouped-query attention)");
        }
        if (heads / kv > base.groupSize()) {
            throw new ShearsException("target " + heads + " heads over " + kv + " kv heads needs " + heads / kv + " query heads per group; the model has "
                    + base.groupSize());
        }
    }

    /** The narrowest widths over layers that have both attention and FFN: what a uniform target can keep at most. */
    private static LayerShape smallest(ModelConfig c) {
        List<LayerShape> full = c.layers().stream().filter(s -> s.hasAttention() && s.hasFfn()).toList();
        if (full.isEmpty()) throw new ShearsException("the model has no layer with both attention and FFN left to prune");
        int kv = full.stream().mapToInt(LayerShape::numKvHeads).min().orElseThrow();
        int group = full.stream().mapToInt(LayerShape::groupSize).min().orElseThrow();
        return new LayerShape(kv * group, kv, full.stream().mapToInt(LayerShape::ffnDim).min().orElseThrow());
    }

    private static int keep(int total, double removeFraction) {
        return Math.max(1, (int) Math.round(total * (1 - removeFraction)));
    }

    private static int roundTo(int value, int multiple, int max) {
        int rounded = Math.max(multiple, (int) Math.round(value / (double) multiple) * multiple);
        return rounded > max ? max : rounded;
    }
}
