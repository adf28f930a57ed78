package dev.shears.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Dynamic batch loading options, shared by {@code train} and {@code shear}; they become {@code dynamicBatchLoading.*} keys. */
final class DomainWeightOptions {
    @Option(names = "--dynamic-batch-loading", description = "Re-weight domains toward those whose held-out loss lags the reference.")
    boolean enabled;

    @Option(names = "--reference-losses", paramLabel = "FILE", description = "JSON {\"domain\": loss} of reference losses for dynamic batch loading.")
    Path referenceLosses;

    @Option(names = "--reference-model", paramLabel = "PATH", description = "Measure reference losses as this model's held-out loss per domain.")
    Path referenceModel;

    /** The configuration overrides these options stand for. */
    List<String> overrides() {
        List<String> out = new ArrayList<>();
        if (enabled) out.add("dynamicBatchLoading.enabled=true");
        if (referenceModel != null) out.add("dynamicBatchLoading.referenceModel=" + referenceModel.toAbsolutePath());
        if (referenceLosses != null) out.add("dynamicBatchLoading.referenceLosses=" + PerplexityCommand.read(referenceLosses).strip());
        return out;
    }
}
