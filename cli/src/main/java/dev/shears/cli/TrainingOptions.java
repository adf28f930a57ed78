package dev.shears.cli;

import dev.shears.recipe.PerplexityRun;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Options {@code train} and {@code shear} share: the tokenizer put beside the output, the final dtype,
 * how sequences are sampled, dynamic batch loading, {@code --set} overrides and {@code --resume}. They
 * become configuration keys.
 */
final class TrainingOptions {
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "Tokenizer to put beside the output (default: the model's, else the data's).")
    Path tokenizer;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "The final model's dtype: f32, f16 or bf16 (default: the starting model's; f32 from scratch). Checkpoints keep fp32.")
    String dtype;

    @Option(names = "--dynamic-batch-loading", description = "Re-weight domains toward those whose held-out loss lags the reference.")
    boolean dynamicBatchLoading;

    @Option(names = "--reference-losses", paramLabel = "FILE", description = "JSON {\"domain\": loss} of reference losses for dynamic batch loading.")
    Path referenceLosses;

    @Option(names = "--reference-model", paramLabel = "PATH", description = "Measure reference losses as this model's held-out loss per domain.")
    Path referenceModel;

    @Option(names = "--reference-models", paramLabel = "PATH", split = ",", description = "Three or more models of one family: fit e + a·N^(−alpha) per domain "
            + "to their held-out losses and take it at the target's size (dynamicBatchLoading.targetParameters, default the model's).")
    List<Path> referenceModels = new ArrayList<>();

    @Option(names = "--reference-preset", paramLabel = "NAME", description = "LLM-Shearing's published RedPajama start mixture and reference losses "
            + "(pruning.sh): sheared-llama-370m, sheared-llama-1.3b or sheared-llama-2.7b; domains are matched by folder name (cc, github, book, "
            + "stackexchange, wiki, arxiv, c4-rp).")
    String referencePreset;

    @Option(names = "--sampling", paramLabel = "MODE", description = "How a domain's sequences are read: EPOCHS (each once per epoch, seeded order, "
            + "cursor checkpointed; default) or RANDOM_OFFSETS (uniformly random starts, with reuse; earlier versions).")
    String sampling;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override any configuration key (applied last).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint.")
    boolean resume;

    /** The configuration overrides these options stand for, {@code --set} last so that it wins. */
    List<String> overrides() {
        List<String> out = new ArrayList<>();
        if (tokenizer != null) out.add("tokenizer=" + tokenizer.toAbsolutePath());
        if (dtype != null) out.add("dtype=" + dtype);
        if (dynamicBatchLoading) out.add("dynamicBatchLoading.enabled=true");
        if (referenceModel != null) out.add("dynamicBatchLoading.referenceModel=" + referenceModel.toAbsolutePath());
        if (referenceLosses != null) out.add("dynamicBatchLoading.referenceLosses=" + PerplexityRun.read(referenceLosses).strip());
        if (!referenceModels.isEmpty()) {
            out.add("dynamicBatchLoading.referenceModels=" + Json.MAPPER.valueToTree(referenceModels.stream().map(p -> p.toAbsolutePath().toString()).toList()));
        }
        if (referencePreset != null) out.add("dynamicBatchLoading.preset=" + referencePreset);
        if (sampling != null) out.add("sampling=" + sampling.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        out.addAll(sets);
        return out;
    }
}
