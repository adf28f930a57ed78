package dev.shears.eval;

import dev.shears.ShearsException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A task configured as an lm-evaluation-harness task YAML configures it: the split it evaluates, the split its
 * few-shot examples come from, the sampler, whether the evaluated document is excluded from its own examples,
 * the description and delimiters, the metrics the YAML lists, and its {@code output_type}.
 *
 * <p>Each split list is in preference order: lm-eval's own split first, then what Shears falls back to
 * when that file is not in the data folder. A fallback never fails the run; it is written into the
 * result's notes, which every report prints.
 *
 * @param evalSplits    {@code test_split} (else {@code validation_split}) and its fallbacks
 * @param fewshotSplits {@code fewshot_split}, else lm-eval's {@code fewshot_docs()} choice (training, then
 *                      validation), and its fallbacks
 * @param metrics       {@code metric_list}: which of {@code acc}, {@code acc_norm} lm-eval reports ({@code exact_match}
 *                      for a generation task)
 * @param output        {@code output_type}: multiple choice, or generation with its stop strings, filters and metric options
 */
public record DocumentTask(List<Split> evalSplits, List<Split> fewshotSplits, FewShotSampler sampler, FewShot.Exclusion exclusion,
                           FewShot.Format format, List<String> metrics, OutputType output) {
    public DocumentTask {
        evalSplits = List.copyOf(evalSplits);
        fewshotSplits = List.copyOf(fewshotSplits);
        metrics = List.copyOf(metrics);
        if (evalSplits.isEmpty()) throw new IllegalArgumentException("a task needs a split to evaluate");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(exclusion, "exclusion");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(output, "output");
    }

    /** A multiple-choice task. */
    public DocumentTask(List<Split> evalSplits, List<Split> fewshotSplits, FewShotSampler sampler, FewShot.Exclusion exclusion,
                        FewShot.Format format, List<String> metrics) {
        this(evalSplits, fewshotSplits, sampler, exclusion, format, metrics, OutputType.MULTIPLE_CHOICE);
    }

    /** The same task evaluated on other splits (tests compare contexts of a split lm-eval's fixture used). */
    public DocumentTask withEvalSplits(List<Split> splits) {
        return new DocumentTask(splits, fewshotSplits, sampler, exclusion, format, metrics, output);
    }

    /** Zero-shot items of the preferred evaluation split, read from its file ({@link Task#source()}). */
    ItemSource zeroShot() {
        return file -> {
            List<Item> items = new ArrayList<>();
            for (Doc d : evalSplits.get(0).reader().read(file)) items.add(item(d, format.description()));
            return items;
        };
    }

    /**
     * The task's items with their few-shot contexts. The documents are walked in file order from the first
     * through the last one picked, each advancing the task's one {@code Random(1234)} as lm-eval does, so a
     * picked document sees the examples lm-eval shows it when it runs the whole split, and {@code --limit N
     * --sample first} is lm-eval's {@code --limit N}.
     */
    Evaluator.Items load(Task task, Path dataDir, EvalSettings settings) {
        List<String> notes = new ArrayList<>();
        Split split = evalSplits.stream().filter(s -> s.presentIn(dataDir)).findFirst().orElseThrow(() -> new ShearsException(task.name()
                + ": none of its data files is in " + dataDir + ": " + String.join(", ", evalSplits.stream().map(Split::file).toList()) + " (is --data-dir right?)"));
        if (split != evalSplits.get(0)) {
            notes.add("evaluated on " + split.name() + " (" + split.file() + "): the " + evalSplits.get(0).name() + " split (" + evalSplits.get(0).file() + ") is not in the data folder");
        }
        if (!split.note().isEmpty()) notes.add(split.note());
        List<Doc> docs = split.read(dataDir);
        int shots = settings.numFewshot();
        List<Doc> pool = List.of();
        if (shots > 0) {
            Split from = fewshotSplits.stream().filter(s -> s.presentIn(dataDir)).findFirst().orElse(null);
            if (from == null) {
                notes.add("0-shot instead of " + shots + "-shot: no few-shot split in the data folder ("
                        + String.join(", ", fewshotSplits.stream().map(Split::file).toList()) + ")");
                shots = 0;
            } else {
                if (from != fewshotSplits.get(0)) {
                    notes.add("few-shot examples from " + from.name() + " (" + from.file() + "): the " + fewshotSplits.get(0).name() + " split ("
                            + fewshotSplits.get(0).file() + ") is not in the data folder");
                }
                if (!from.note().isEmpty() && from != split) notes.add(from.note());
                pool = from.file().equals(split.file()) ? docs : from.read(dataDir);
            }
        }
        FewShot<Doc> fewShot = new FewShot<>(pool, Doc::shot, new FewShot.Settings(shots, sampler, exclusion, format), new PyRandom(FewShot.SEED));
        int[] picked = Evaluator.picked(docs.size(), settings);
        List<Item> items = new ArrayList<>(picked.length);
        int next = 0;
        for (int i = 0; next < picked.length; i++) {
            String prefix = fewShot.prefix(docs.get(i)); // every document up to the last picked one draws, as in lm-eval's loop
            if (picked[next] == i) {
                items.add(item(docs.get(i), prefix));
                next++;
            }
        }
        return new Evaluator.Items(task, items, docs.size(), shots, notes, picked);
    }

    /** lm-eval's requests for one document after its few-shot prefix ({@code construct_requests}). */
    private Item item(Doc doc, String prefix) {
        return switch (output) {
            case OutputType.MultipleChoice m -> doc.item(prefix, format.targetDelimiter());
            case GenerateUntil g -> doc.generate(prefix);
        };
    }
}
