package dev.shears.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --out} of the resumable runs ({@code train}, {@code shear}, {@code pipeline run}): the folder that
 * receives the checkpoints, metrics and result, and that {@code --resume} continues in.
 */
final class RunFolder {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path path;
}
