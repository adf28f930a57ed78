package dev.shears.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One multiple-choice document as an lm-evaluation-harness task config renders it: {@code doc_to_text},
 * {@code doc_to_choice} and the gold index {@code doc_to_target}. A {@code generate_until} document
 * ({@link #answers}) keeps its list of answers ({@code doc_to_target}) as the choices with gold 0: lm-eval writes
 * the first after a few-shot example ({@code a[0]} in {@code build_qa_turn}), as it writes {@code choices[gold]}.
 *
 * @param row     the document as read (a JSON object, a CSV row): compared by value, as lm-eval compares its
 *                document dicts when it leaves the evaluated document out of its own examples
 * @param text    {@code doc_to_text}
 * @param choices {@code doc_to_choice}; for a generation document, its answers
 * @param gold    {@code doc_to_target}, an index into the choices; 0 for a generation document
 */
public record Doc(Object row, String text, List<String> choices, int gold) {
    public Doc {
        Objects.requireNonNull(row, "row");
        Objects.requireNonNull(text, "text");
        choices = List.copyOf(choices);
        if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("gold " + gold + " is not one of the " + choices.size() + " choices");
    }

    /** A {@code generate_until} document whose {@code doc_to_target} is a list of answers, any of which is right. */
    static Doc answers(Object row, String text, List<String> answers) {
        return new Doc(row, text, answers, 0);
    }

    /** This document as a few-shot example: its text and {@code doc_to_choice[doc_to_target]} ({@code build_qa_turn}). */
    FewShot.Shot shot() {
        return new FewShot.Shot(text, choices.get(gold));
    }

    /**
     * lm-eval's requests for this document ({@code ConfigurableTask.construct_requests}, multiple_choice): one
     * {@code (context, target_delimiter + choice)} per choice, where the context is the few-shot prefix plus the text.
     */
    Item.MultipleChoice item(String prefix, String targetDelimiter) {
        String context = prefix + text;
        List<Choice> out = new ArrayList<>(choices.size());
        for (String c : choices) out.add(Choice.of(context, targetDelimiter, c));
        return new Item.MultipleChoice(out, gold);
    }

    /** lm-eval's request for a generation document ({@code construct_requests}, generate_until): the context, continued by the model. */
    Item.Generate generate(String prefix) {
        return new Item.Generate(prefix + text, choices);
    }
}
