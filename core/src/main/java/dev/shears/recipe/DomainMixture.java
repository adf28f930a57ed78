package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.data.HeldOutPart;
import dev.shears.data.TokenDataset;
import dev.shears.format.ModelLoader;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.train.DynamicBatchLoading;
import dev.shears.train.PublishedReference;
import dev.shears.train.ScalingLaw;
import dev.shears.train.TrainConfig;
import dev.shears.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A run's domain mixture at step 0 and, with dynamic batch loading, every domain's reference loss and
 * where it came from ({@link DynamicBatchLoading} gives the order of the sources), resolved and checked
 * before training starts.
 *
 * @param startWeights the sampling weights at step 0, summing to 1 [domains]
 * @param reference    reference loss per domain [domains] (zeros without dynamic batch loading)
 * @param source       where each domain's reference came from: referenceLosses, scalingLaw,
 *                     referenceModels, referenceModel or preset:NAME (empty without dynamic batch loading)
 * @param laws         the scaling laws used, given or fitted, by domain
 * @param parameters   the N the scaling laws were evaluated at (0 when none was)
 */
record DomainMixture(double[] startWeights, double[] reference, List<String> source, Map<String, ScalingLaw> laws, long parameters) {

    /**
     * @param modelParameters the size a scaling law is evaluated at unless {@code targetParameters} is set:
     *                        the trained model's, or the shear target's (0 when unknown)
     */
    static DomainMixture resolve(TrainConfig config, List<TokenDataset> domains, long modelParameters) {
        DynamicBatchLoading dbl = config.dynamicBatchLoading();
        List<String> names = domains.stream().map(TokenDataset::name).toList();
        double[] start = startWeights(config, names);
        if (!dbl.enabled()) return new DomainMixture(start, new double[domains.size()], List.of(), Map.of(), 0);

        int seqLen = config.batching().seqLen(), windows = config.evaluation().evalWindows();
        for (TokenDataset d : domains) {
            if (HeldOutPart.STEERING.windows(d, seqLen, 1).length == 0) {
                throw new ShearsException(d.dir() + ": dynamic batch loading measures each domain on the second half of its held-out windows, and its "
                        + "held-out split (" + d.tokens(dev.shears.data.Split.HELDOUT) + " tokens) has fewer than two windows of " + (seqLen + 1)
                        + " tokens; prepare it with a larger held-out fraction or train with a shorter seqLen");
            }
        }
        checkNames("referenceLosses", dbl.referenceLosses().keySet(), names);
        checkNames("scalingLaw", dbl.scalingLaw().keySet(), names);
        long n = dbl.targetParameters() > 0 ? dbl.targetParameters() : modelParameters;
        Optional<PublishedReference> preset = dbl.published();

        List<Integer> unexplained = new ArrayList<>();
        for (int d = 0; d < names.size(); d++) {
            if (!dbl.referenceLosses().containsKey(names.get(d)) && !dbl.scalingLaw().containsKey(names.get(d))) unexplained.add(d);
        }
        Map<String, ScalingLaw> fitted = unexplained.isEmpty() || dbl.referenceModels().isEmpty() ? Map.of()
                : fit(dbl.referenceModels(), domains, unexplained, seqLen, windows);
        double[] measured = unexplained.isEmpty() || dbl.referenceModel().isBlank() ? null : measure(dbl.referenceModel(), domains, seqLen, windows);

        double[] reference = new double[names.size()];
        List<String> source = new ArrayList<>();
        Map<String, ScalingLaw> laws = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (int d = 0; d < names.size(); d++) {
            String name = names.get(d);
            ScalingLaw law = dbl.scalingLaw().containsKey(name) ? dbl.scalingLaw().get(name) : fitted.get(name);
            if (dbl.referenceLosses().containsKey(name)) {
                reference[d] = dbl.referenceLosses().get(name);
                source.add("referenceLosses");
            } else if (law != null) {
                if (n <= 0) {
                    throw new ShearsException("dynamic batch loading evaluates a scaling law for domain '" + name
                            + "' at the target size, which this run does not know; set dynamicBatchLoading.targetParameters");
                }
                reference[d] = law.loss(n);
                laws.put(name, law);
                source.add(dbl.scalingLaw().containsKey(name) ? "scalingLaw" : "referenceModels");
            } else if (measured != null && !Double.isNaN(measured[d])) {
                reference[d] = measured[d];
                source.add("referenceModel");
            } else if (preset.isPresent() && preset.get().referenceLosses().containsKey(name)) {
                reference[d] = preset.get().referenceLosses().get(name);
                source.add("preset:" + preset.get().key);
            } else {
                missing.add(name);
                source.add("");
            }
        }
        if (!missing.isEmpty()) {
            throw new ShearsException("dynamic batch loading needs a reference loss for every domain; missing: " + String.join(", ", missing)
                    + " (set dynamicBatchLoading.referenceModel, referenceModels, scalingLaw, preset " + PublishedReference.keys()
                    + " (RedPajama domain names), or referenceLosses, e.g. --set 'dynamicBatchLoading.referenceLosses={\""
                    + missing.getFirst() + "\": 2.5}')");
        }
        return new DomainMixture(start, reference, List.copyOf(source), Map.copyOf(laws), laws.isEmpty() ? 0 : n);
    }

    /** The step-0 mixture: startWeights, else the preset's proportions, else the data weights; normalised. */
    private static double[] startWeights(TrainConfig config, List<String> names) {
        DynamicBatchLoading dbl = config.dynamicBatchLoading();
        double[] w = new double[names.size()];
        String from;
        Map<String, Double> byName;
        if (!dbl.startWeights().isEmpty()) {
            checkNames("startWeights", dbl.startWeights().keySet(), names);
            byName = dbl.startWeights();
            from = "dynamicBatchLoading.startWeights";
        } else if (dbl.published().isPresent()) {
            byName = dbl.published().get().startWeights();
            from = "dynamicBatchLoading.preset " + dbl.preset() + " (domains " + PublishedReference.DOMAINS + ")";
        } else {
            for (int d = 0; d < w.length; d++) w[d] = config.batching().data().get(d).weight();
            return normalised(w, "the data weights");
        }
        List<String> missing = names.stream().filter(n -> !byName.containsKey(n)).toList();
        if (!missing.isEmpty()) {
            throw new ShearsException(from + " gives no start weight for domain" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + "; name every domain in dynamicBatchLoading.startWeights");
        }
        for (int d = 0; d < w.length; d++) w[d] = byName.get(names.get(d));
        return normalised(w, from);
    }

    private static double[] normalised(double[] w, String from) {
        double total = 0;
        for (double v : w) total += v;
        if (!(total > 0)) throw new ShearsException(from + ": the weights of this run's domains sum to zero; give at least one a positive weight");
        double[] out = new double[w.length];
        for (int d = 0; d < w.length; d++) out[d] = w[d] / total;
        return out;
    }

    private static void checkNames(String key, Set<String> given, List<String> names) {
        for (String name : given) {
            if (!names.contains(name)) throw new ShearsException("dynamicBatchLoading." + key + " names '" + name + "', which is not one of the domains " + names);
        }
    }

    /** A model's loss on the steering half of each domain's held-out windows (what dynamic batch loading compares). */
    private static double[] measure(String model, List<TokenDataset> domains, int seqLen, int windows) {
        try (Model m = ModelLoader.open(Path.of(model))) {
            return Trainer.heldOutLoss(m, domains, seqLen, windows, MaskSet.NONE, HeldOutPart.STEERING);
        }
    }

    /** Per domain in {@code which}, a scaling law fitted to the models' sizes and measured losses. */
    private static Map<String, ScalingLaw> fit(List<String> models, List<TokenDataset> domains, List<Integer> which, int seqLen, int windows) {
        double[] sizes = new double[models.size()];
        double[][] losses = new double[models.size()][];
        for (int i = 0; i < models.size(); i++) {
            try (Model m = ModelLoader.open(Path.of(models.get(i)))) {
                sizes[i] = m.config().parameterCount();
                losses[i] = Trainer.heldOutLoss(m, domains, seqLen, windows, MaskSet.NONE, HeldOutPart.STEERING);
            }
        }
        Map<String, ScalingLaw> laws = new LinkedHashMap<>();
        for (int d : which) {
            double[] y = new double[models.size()];
            for (int i = 0; i < y.length; i++) y[i] = losses[i][d];
            try {
                laws.put(domains.get(d).name(), ScalingLaw.fit(sizes, y));
            } catch (ShearsException e) {
                throw new ShearsException("dynamicBatchLoading.referenceModels, domain '" + domains.get(d).name() + "': " + e.getMessage());
            }
        }
        return laws;
    }
}
