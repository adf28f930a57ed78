package dev.shears.cli;

import dev.shears.train.TrainConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --batch} and {@code --seq}, the shape of a training micro-batch, shared by {@code train} and
 * {@code shear}. They become the configuration keys {@code batchSize} and {@code seqLen}.
 */
final class BatchOptions {
    @Option(names = "--batch", paramLabel = "N", description = "Sequences per micro-batch.")
    Integer batch;

    @Option(names = "--seq", paramLabel = "N", description = "Tokens per sequence.")
    Integer seq;

    /** No defaults of its own: what is not given comes from the configuration. */
    BatchOptions() {
    }

    /** With the defaults of {@code defaults}, shown in the help and always applied. */
    BatchOptions(TrainConfig defaults) {
        batch = defaults.batching().batchSize();
        seq = defaults.batching().seqLen();
    }

    /** The configuration overrides of the options given (or defaulted). */
    List<String> overrides() {
        List<String> out = new ArrayList<>();
        if (batch != null) out.add("batchSize=" + batch);
        if (seq != null) out.add("seqLen=" + seq);
        return out;
    }
}
