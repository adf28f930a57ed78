package dev.shears.recipe;

/**
 * What one pipeline stage does, typed: every kind of stage is one of these records, so {@link Pipeline}
 * sequences, validates, resumes and records stages by matching on the type, never on a string.
 * {@link #kind()} is the stage's key in a pipeline file and its name in reports.
 */
public sealed interface StageSettings permits PruneStage, TrainStage, ShearConfig, EvalStage, ExportStage {
    /** The stage's key in a pipeline file: prune, train, distill, shear, eval or export. */
    String kind();
}
