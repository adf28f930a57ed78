package dev.shears.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The dynamic batch loading settings LLM-Shearing publishes for the seven RedPajama domains
 * ({@code llmshearing/scripts/pruning.sh}, princeton-nlp/LLM-Shearing @ 8185717): the start mixture
 * (RedPajama's own proportions) and, per target size, reference losses its comment calls "predicted
 * loss from scaling law". The paper (§3, details in its Appendix B) fits a scaling function in the
 * manner of Hoffmann et al. (2022) per domain to the LLaMA2 series and evaluates it at the target
 * size ({@link ScalingLaw} is that form); the scripts publish the predictions, not the fitted constants.
 * They are losses of LLaMA2-family models with the LLaMA2 tokenizer on 4,096-token sequences of
 * RedPajama, and mean nothing for another tokenizer, corpus or model family.
 * Domains are matched by name: prepare each RedPajama domain into a folder named as below.
 */
public enum PublishedReference {
    /** pruning.sh {@code to_model=370m} (the paper's 410M, Pythia-410M's shape). */
    SHEARED_LLAMA_370M("sheared-llama-370m", 2.1401, 0.8694, 2.3625, 1.7791, 2.047, 1.6637, 2.3139),
    /** pruning.sh {@code to_model=1.3b} (Sheared-LLaMA-1.3B, Pythia-1.4B's shape). */
    SHEARED_LLAMA_1_3B("sheared-llama-1.3b", 1.9643, 0.7459, 2.1393, 1.6117, 1.7590, 1.4449, 2.1251),
    /** pruning.sh {@code to_model=3b} (Sheared-LLaMA-2.7B, INCITE-Base-3B's shape). */
    SHEARED_LLAMA_2_7B("sheared-llama-2.7b", 1.8712, 0.6883, 2.0325, 1.5353, 1.6297, 1.3560, 2.0328);

    /** pruning.sh's {@code set_names}, the order of every list here. */
    public static final List<String> DOMAINS = List.of("cc", "github", "book", "stackexchange", "wiki", "arxiv", "c4-rp");
    /** pruning.sh's {@code proportion}: RedPajama's mixture, the start of dynamic batch loading while pruning. */
    private static final double[] REDPAJAMA_PROPORTIONS = {0.67, 0.045, 0.045, 0.02, 0.045, 0.025, 0.15};

    /** The name a configuration uses ({@code dynamicBatchLoading.preset}). */
    public final String key;
    private final double[] referenceLosses;

    PublishedReference(String key, double... referenceLosses) {
        this.key = key;
        this.referenceLosses = referenceLosses;
    }

    /** Start weight per domain name. */
    public Map<String, Double> startWeights() {
        return byDomain(REDPAJAMA_PROPORTIONS);
    }

    /** Reference loss per domain name. */
    public Map<String, Double> referenceLosses() {
        return byDomain(referenceLosses);
    }

    public static Optional<PublishedReference> of(String key) {
        return Arrays.stream(values()).filter(p -> p.key.equals(key)).findFirst();
    }

    public static List<String> keys() {
        return Arrays.stream(values()).map(p -> p.key).toList();
    }

    private static Map<String, Double> byDomain(double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int d = 0; d < DOMAINS.size(); d++) m.put(DOMAINS.get(d), values[d]);
        return m;
    }
}
