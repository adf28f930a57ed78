package dev.shears.eval;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The few-shot context lm-evaluation-harness builds for each document of a task, as plain text
 * ({@code ConfigurableTask.fewshot_context} and {@code build_qa_turn} in {@code lm_eval/api/task.py}
 * at 4e7e0d47f, lines 933–1104; no chat template, no system instruction, no {@code gen_prefix}):
 *
 * <pre>
 * description
 * + text(shot 1) + targetDelimiter + target(shot 1) + fewshotDelimiter
 * + …
 * + text(shot n) + targetDelimiter + target(shot n) + fewshotDelimiter
 * + text(document)
 * </pre>
 *
 * lm-eval gives each task one {@code random.Random(1234)} ({@code set_fewshot_seed} with
 * {@code DEFAULT_OTHER_SEED}, evaluator.py line 347) and draws the examples of each document from it
 * in document order, so one instance of this class must see the task's documents in that order,
 * from the first: the contexts of the first N documents are the same for the full split and for
 * {@code --limit N}, but skipping a document changes every context after it.
 *
 * <pre>{@code
 * FewShot<JsonNode> arc = new FewShot<>(train, doc -> new FewShot.Shot(text(doc), answer(doc)),
 *         new FewShot.Settings(25, FewShotSampler.RANDOM, FewShot.Exclusion.NONE, FewShot.Format.DEFAULT),
 *         new PyRandom(FewShot.SEED));
 * for (JsonNode doc : test) contexts.add(arc.context(doc, text(doc)));
 * }</pre>
 *
 * @param <D> a document; equality decides which few-shot candidates are the document being evaluated
 */
public final class FewShot<D> {
    /** lm-eval's {@code fewshot_random_seed} default ({@code DEFAULT_OTHER_SEED} in lm_eval/defaults.py). */
    public static final long SEED = 1234;

    /**
     * One rendered example: the task's {@code doc_to_text} and the answer {@code build_qa_turn} writes
     * after it ({@code doc_to_choice[doc_to_target]} for a choice index, the first of a list of
     * targets, else the target itself). An empty target is what lm-eval writes for a missing answer
     * ({@code a is None or a == ""}): the text alone, without either delimiter.
     */
    public record Shot(String text, String target) {
        public Shot {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(target, "target");
        }
    }

    /**
     * The strings around the examples: the task's {@code description} (rendered; it carries its own
     * trailing separator, e.g. MMLU's "\n\n"), and {@code fewshot_config}'s {@code target_delimiter}
     * and {@code fewshot_delimiter}, which default to the task's (" " and "\n\n", TaskConfig).
     */
    public record Format(String description, String targetDelimiter, String fewshotDelimiter) {
        /** TaskConfig's defaults: no description, " " between text and answer, "\n\n" after each example. */
        public static final Format DEFAULT = new Format("", " ", "\n\n");

        public Format {
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(targetDelimiter, "targetDelimiter");
            Objects.requireNonNull(fewshotDelimiter, "fewshotDelimiter");
        }

        public Format withDescription(String text) {
            return new Format(text, targetDelimiter, fewshotDelimiter);
        }
    }

    /** Whether the document being evaluated is kept out of its own examples. */
    public enum Exclusion {
        /** The few-shot split is not the test split: lm-eval passes no {@code eval_doc} (ARC, MMLU). */
        NONE,
        /**
         * {@code fewshot_cfg.split == config.test_split} (task.py line 985), which also holds when
         * both are unset, as for boolq and hellaswag: the random sampler draws one extra example,
         * so the generator advances differently even though the examples come from another split.
         */
        CURRENT_DOCUMENT;

        /** lm-eval's test, {@code None == None} included. */
        public static Exclusion of(Optional<String> fewshotSplit, Optional<String> testSplit) {
            return fewshotSplit.equals(testSplit) ? CURRENT_DOCUMENT : NONE;
        }
    }

    /** How many examples, drawn how, and how they are joined. */
    public record Settings(int shots, FewShotSampler sampler, Exclusion exclusion, Format format) {
        public Settings {
            if (shots < 0) throw new IllegalArgumentException("number of few-shot examples must be >= 0: " + shots);
            Objects.requireNonNull(sampler, "sampler");
            Objects.requireNonNull(exclusion, "exclusion");
            Objects.requireNonNull(format, "format");
        }
    }

    private final List<D> pool;
    private final Function<D, Shot> render;
    private final Settings settings;
    private final PyRandom rnd;

    /**
     * @param pool   the few-shot split in the dataset's order (lm-eval's {@code fewshot_docs()})
     * @param render a pool document as an example ({@code fewshot_config}'s doc_to_text and answer)
     * @param rnd    the task's generator, normally {@code new PyRandom(SEED)}, not yet used
     */
    public FewShot(List<D> pool, Function<D, Shot> render, Settings settings, PyRandom rnd) {
        this.pool = List.copyOf(pool);
        this.render = Objects.requireNonNull(render, "render");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.rnd = Objects.requireNonNull(rnd, "rnd");
    }

    /**
     * The description and examples shown before the next document's own text; with examples from
     * the random sampler this advances the generator once, as lm-eval does for each document. For a
     * task with several contexts per document (lm-eval's multiple input), prepend it to each.
     */
    public String prefix(D doc) {
        Format format = settings.format();
        StringBuilder out = new StringBuilder(format.description());
        if (settings.shots() == 0) return out.toString();
        Optional<D> exclude = settings.exclusion() == Exclusion.CURRENT_DOCUMENT ? Optional.of(doc) : Optional.empty();
        for (D example : settings.sampler().sample(pool, settings.shots(), exclude, rnd)) {
            Shot shot = render.apply(example);
            out.append(shot.text());
            if (shot.target().isEmpty()) continue;
            out.append(format.targetDelimiter()).append(shot.target()).append(format.fewshotDelimiter());
        }
        return out.toString();
    }

    /** lm-eval's context for the next document, whose own {@code doc_to_text} is text: {@code prefix(doc) + text}. */
    public String context(D doc, String text) {
        return prefix(doc) + text;
    }
}
