package dev.shears.cli;

import dev.shears.recipe.PerplexityRun;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Options {@code train} and {@code shear} share: the tokenizer put beside the output, the final dtype,
 * dynamic batch loading, {@code --set} overrides and {@code --resume}. They become configuration keys.
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
        out.addAll(sets);
        return out;
    }
}
