package dev.shears.eval;

/**
 * A task YAML's {@code output_type} and the settings that go with it: how lm-evaluation-harness turns a document
 * into requests and scores them.
 */
public sealed interface OutputType permits OutputType.MultipleChoice, GenerateUntil {
    /** {@code multiple_choice}: one log-likelihood request per choice; {@code acc}, {@code acc_norm}. */
    OutputType MULTIPLE_CHOICE = new MultipleChoice();

    /** How Shears scores a task of this output type. */
    TaskKind kind();

    /** {@code output_type: multiple_choice}. */
    record MultipleChoice() implements OutputType {
        @Override
        public TaskKind kind() {
            return TaskKind.MULTIPLE_CHOICE;
        }
    }
}
