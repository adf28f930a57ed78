package dev.shears.eval;

import java.util.List;

/** One document of a task: a multiple-choice question, a text whose perplexity is measured, or a question answered by generation. */
public sealed interface Item {
    /**
     * Choices scored by log-likelihood; the one with the highest (normalized) score is the model's answer.
     * LAMBADA-style items have a single choice, the true last word, scored for greedy exactness.
     *
     * @param choices one request per choice, in the file's order
     * @param gold    index of the right choice
     */
    record MultipleChoice(List<Choice> choices, int gold) implements Item {
        public MultipleChoice {
            choices = List.copyOf(choices);
            if (choices.isEmpty()) throw new IllegalArgumentException("an item needs at least one choice");
            if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("gold " + gold + " is not one of the " + choices.size() + " choices");
        }
    }

    /**
     * A text scored with rolling windows.
     *
     * @param text  what the model scores (e.g. WikiText after lm-eval's detokenizer)
     * @param words words of the original document, as lm-eval counts them
     * @param bytes UTF-8 bytes of the original document
     */
    record Document(String text, long words, long bytes) implements Item {
    }

    /**
     * A context the model continues greedily ({@link GenerateUntil}); the answer is right when it equals one of the targets.
     *
     * @param context the whole prompt: few-shot prefix and the document's text
     * @param targets lm-eval's {@code doc_to_target}: every accepted answer (NQ's answer list, TriviaQA's aliases)
     */
    record Generate(String context, List<String> targets) implements Item {
        public Generate {
            java.util.Objects.requireNonNull(context, "context");
            targets = List.copyOf(targets);
            if (targets.isEmpty()) throw new IllegalArgumentException("a generation item needs at least one target");
        }
    }
}
