package dev.shears.eval;

/**
 * One log-likelihood request of a task item: how likely {@code continuation} is after {@code context}
 * (lm-evaluation-harness {@code Instance(request_type="loglikelihood", arguments=(context, continuation))}).
 *
 * @param context      the prompt, as the task's format writes it
 * @param continuation what is scored, including its leading delimiter (usually {@code " "})
 * @param chars        characters by which {@code acc_norm} divides the log-likelihood: the length of the
 *                     choice as lm-eval's {@code doc_to_choice} gives it (without the target delimiter)
 */
public record Choice(String context, String continuation, int chars) {
    public Choice {
        if (context == null || continuation == null) throw new IllegalArgumentException("context and continuation must be given");
        if (chars < 0) throw new IllegalArgumentException("negative length " + chars);
    }

    /** A choice scored after {@code context} as {@code delimiter + choice}, normalized by the choice's length in code points. */
    public static Choice of(String context, String delimiter, String choice) {
        return new Choice(context, delimiter + choice, choice.codePointCount(0, choice.length()));
    }
}
