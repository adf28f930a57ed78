package dev.shears.eval;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * lm-evaluation-harness's few-shot samplers ({@code lm_eval/api/samplers.py} at 4e7e0d47f, the
 * {@code fewshot_config.sampler} names in brackets). Documents are compared with {@code equals}, as
 * lm-eval compares its document dicts with {@code !=}: give them value equality over every field
 * (a Jackson {@code JsonNode}, a record), so that two different documents with the same text stay
 * different, as they do in lm-eval, whose documents carry an id.
 */
public enum FewShotSampler {
    /**
     * {@code ContextSampler} ("default"), lines 31–67 and 87–93: {@code rnd.sample(pool, n)}; when the
     * current document must be excluded, {@code rnd.sample(pool, n + 1)}, then every document equal to
     * it is dropped and the first n kept. One {@code sample} call per document advances the generator.
     */
    RANDOM("default"),
    /**
     * {@code FirstNSampler} ("first_n"), lines 96–106: the first n of the pool, after removing the
     * current document when it must be excluded. The generator is not touched.
     */
    FIRST_N("first_n");

    private final String lmEvalName;

    FewShotSampler(String lmEvalName) {
        this.lmEvalName = lmEvalName;
    }

    /** The name a task YAML gives this sampler in {@code fewshot_config.sampler}. */
    public String lmEvalName() {
        return lmEvalName;
    }

    /**
     * The n examples lm-eval shows before one document, in the order it shows them.
     *
     * @param pool    the few-shot split, in the dataset's order
     * @param exclude the document being evaluated, when lm-eval excludes it ({@link FewShot.Exclusion})
     * @param rnd     the task's generator, advanced here exactly as lm-eval advances it
     * @throws ShearsException when the pool cannot give n examples (lm-eval fails there too)
     */
    public <D> List<D> sample(List<D> pool, int n, Optional<D> exclude, PyRandom rnd) {
        if (n < 0) throw new IllegalArgumentException("number of few-shot examples must be >= 0: " + n);
        return switch (this) {
            case RANDOM -> random(pool, n, exclude, rnd);
            case FIRST_N -> firstN(pool, n, exclude);
        };
    }

    private static <D> List<D> random(List<D> pool, int n, Optional<D> exclude, PyRandom rnd) {
        if (n == 0) return List.of();
        if (pool.isEmpty()) throw new ShearsException("no documents to draw " + n + " few-shot examples from");
        int draw = exclude.isPresent() ? n + 1 : n;
        if (draw > pool.size()) {
            throw new ShearsException(n + " few-shot examples need " + draw + " documents to draw from"
                    + (exclude.isPresent() ? " (one more, to leave out the document being evaluated)" : "") + "; the few-shot split has " + pool.size());
        }
        List<D> drawn = rnd.sample(pool, draw);
        if (exclude.isEmpty()) return drawn;
        List<D> kept = without(drawn, exclude.get(), n);
        if (kept.size() != n) {
            throw new ShearsException("the few-shot draw held the evaluated document " + (draw - kept.size())
                    + " times (it is duplicated in the few-shot split), leaving " + kept.size() + " of " + n + " examples");
        }
        return kept;
    }

    private static <D> List<D> firstN(List<D> pool, int n, Optional<D> exclude) {
        List<D> candidates = exclude.isPresent() ? without(pool, exclude.get(), pool.size()) : pool;
        if (n > candidates.size()) {
            throw new ShearsException(n + " few-shot examples requested; the few-shot split has " + candidates.size()
                    + (exclude.isPresent() ? " besides the document being evaluated" : ""));
        }
        return List.copyOf(candidates.subList(0, n));
    }

    /** {@code rm_eval_doc}: the documents not equal to doc, at most limit of them. */
    private static <D> List<D> without(List<D> docs, D doc, int limit) {
        List<D> kept = new ArrayList<>();
        for (D d : docs) {
            if (kept.size() == limit) break;
            if (!d.equals(doc)) kept.add(d);
        }
        return kept;
    }
}
