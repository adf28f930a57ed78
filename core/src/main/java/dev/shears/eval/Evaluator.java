package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.model.Model;
import dev.shears.progress.Progress;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.stream.IntStream;

/** Runs tasks on a model and computes their metrics as lm-evaluation-harness does. */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * A task's items, limited and sampled as the settings say.
     *
     * @param shots  few-shot examples in each item's context
     * @param notes  what differs from lm-eval's run of the task (a split that is not in the data folder), for every report
     * @param docIds each item's position in the evaluated split (lm-eval's {@code doc_id})
     */
    public record Items(Task task, List<Item> items, int available, int shots, List<String> notes, int[] docIds) {
        public Items {
            items = List.copyOf(items);
            notes = List.copyOf(notes);
            docIds = docIds.clone();
            if (docIds.length != items.size()) throw new IllegalArgumentException(docIds.length + " document ids for " + items.size() + " items");
        }

        /** Every item of a split, in order. */
        public Items(Task task, List<Item> items, int available) {
            this(task, items, available, 0, List.of(), IntStream.range(0, items.size()).toArray());
        }
    }

    /** Reads a task's file from the data folder and applies the limit and sampling. */
    public static Items load(Task task, Path dataDir, EvalSettings settings) {
        if (task.documents().isPresent()) return task.documents().get().load(task, dataDir, settings);
        Path file = dataDir.resolve(task.file());
        if (!Files.isRegularFile(file)) {
            throw new ShearsException(task.name() + ": data file " + file.toAbsolutePath().normalize() + " is missing (is --data-dir right?)");
        }
        List<Item> all = task.source().read(file);
        String fewShot = "0-shot: few-shot contexts are not built for this task yet";
        int[] picked = picked(all.size(), settings);
        return new Items(task, Arrays.stream(picked).mapToObj(all::get).toList(), all.size(), 0,
                settings.numFewshot() > 0 ? List.of(fewShot) : List.of(), picked);
    }

    /** Positions of the items a run scores, ascending: all, the first N, or a seeded sample of N put back in file order. */
    static int[] picked(int size, EvalSettings settings) {
        int n = settings.limit();
        if (n == 0 || n >= size) n = size;
        int[] picked = new int[n];
        if (n == size || settings.sampling() == EvalSettings.Sampling.FIRST) {
            for (int i = 0; i < n; i++) picked[i] = i;
            return picked;
        }
        Integer[] order = new Integer[size];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Collections.shuffle(Arrays.asList(order), new Random(settings.seed()));
        for (int i = 0; i < n; i++) picked[i] = order[i];
        Arrays.sort(picked);
        return picked;
    }

    /** Scores the items on the model and computes the task's metrics. */
    public static TaskResult run(Model model, Tokenizer tokenizer, Items items, EvalSettings settings, Progress progress) {
        return run(model, tokenizer, items, settings, progress, sample -> {
        });
    }

    /** As {@link #run(Model, Tokenizer, Items, EvalSettings, Progress)}, handing every scored document to {@code samples}, in order. */
    public static TaskResult run(Model model, Tokenizer tokenizer, Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples) {
        return run(model, tokenizer, items, settings, progress, samples, LoglikelihoodScorer.Batching.PACKED);
    }

    /** As {@link #run(Model, Tokenizer, Items, EvalSettings, Progress, Consumer)}, with multiple-choice items run as {@code batching} says. */
    public static TaskResult run(Model model, Tokenizer tokenizer, Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples,
                                 LoglikelihoodScorer.Batching batching) {
        return run(model, tokenizer, items, settings, progress, samples, batching, new SingleProcess());
    }

    /**
     * As {@link #run(Model, Tokenizer, Items, EvalSettings, Progress, Consumer, LoglikelihoodScorer.Batching)}, as one of the
     * ranks of {@code collective}: each rank scores its share of the items ({@link #shared}), every rank gets every item's
     * scores and computes the metrics from them in item order, so the result (timing apart) and the samples are the same
     * bits on every rank and for any number of ranks. {@code progress} counts this rank's items.
     */
    public static TaskResult run(Model model, Tokenizer tokenizer, Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples,
                                 LoglikelihoodScorer.Batching batching, Collective collective) {
        // generate_until: greedy generation and exact_match, scored apart from the log-likelihood kinds
        if (items.task().kind() == TaskKind.GENERATE_UNTIL) return GenerationScorer.run(model, tokenizer, items, settings, progress, samples, collective);
        int context = settings.contextLength() == 0 ? model.config().maxSeqLen() : settings.contextLength();
        LoglikelihoodScorer scorer = new LoglikelihoodScorer(model, tokenizer, context, settings.start());
        Requests requests = new Requests() {
            @Override
            public List<List<LoglikelihoodScorer.Score>> choices(List<List<Choice>> share, IntConsumer afterBatch) {
                return scorer.scoreAll(share, settings.batchSize(), batching, afterBatch);
            }

            @Override
            public List<LoglikelihoodScorer.Score> documents(List<String> texts, IntConsumer afterBatch) {
                return scorer.map(texts, settings.batchSize(), scorer::rolling, afterBatch);
            }
        };
        return score(requests, items, progress, samples, collective);
    }

    /**
     * An encoder–decoder's result on one task, scored as lm-eval scores seq2seq models ({@link Seq2SeqScorer}), its items
     * shared over the ranks of {@code collective} as a decoder-only model's are. The context length is the settings' or,
     * by default, the model's ({@link EncoderDecoder#maxLength}); generated-answer tasks as lm-eval generates with a seq2seq model
     * ({@link GenerationScorer}).
     */
    public static TaskResult run(EncoderDecoder model, Tokenizer tokenizer, Items items, EvalSettings settings, Progress progress,
                                 Consumer<Sample> samples, Collective collective) {
        if (settings.contextLength() > model.maxLength()) {
            throw new ShearsException("context length " + settings.contextLength() + " exceeds the model's maximum " + model.maxLength());
        }
        if (items.task().kind() == TaskKind.GENERATE_UNTIL) return GenerationScorer.run(model, tokenizer, items, settings, progress, samples, collective);
        Seq2SeqScorer scorer = new Seq2SeqScorer(model, tokenizer, settings.contextLength() == 0 ? model.maxLength() : settings.contextLength());
        return score(scorer, items, progress, samples, collective);
    }

    /** What scores a task's requests: the log-likelihoods of each item's choices after their contexts, and of whole documents. */
    interface Requests {
        /** Every item's choices scored, in item order; {@code afterBatch} hears how many items each batch finished. */
        List<List<LoglikelihoodScorer.Score>> choices(List<List<Choice>> items, IntConsumer afterBatch);

        /** Every document's rolling log-likelihood, in order; {@code afterBatch} hears how many each batch finished. */
        List<LoglikelihoodScorer.Score> documents(List<String> texts, IntConsumer afterBatch);
    }

    /** The metrics of one log-likelihood task from its requests' scores, the items shared over the ranks. */
    private static TaskResult score(Requests requests, Items items, Progress progress, Consumer<Sample> samples, Collective collective) {
        Task task = items.task();
        List<Item> list = items.items();
        long startNanos = System.nanoTime();
        progress.start(task.name(), OrderedSum.share(list.size(), collective.rank(), collective.size()), "items");
        List<Metric> metrics;
        long tokens = 0;
        int[] docIds = items.docIds();
        if (task.kind() == TaskKind.ROLLING_PERPLEXITY) {
            List<LoglikelihoodScorer.Score> scores = shared(collective, list,
                    share -> requests.documents(share.stream().map(item -> document(task, item).text()).toList(), progress::advance),
                    score -> values(List.of(score)), v -> scores(v).getFirst());
            double ll = 0;
            long words = 0, bytes = 0;
            for (int i = 0; i < list.size(); i++) {
                Item.Document d = document(task, list.get(i));
                LoglikelihoodScorer.Score score = scores.get(i);
                ll += score.logLikelihood();
                tokens += score.tokens();
                words += d.words();
                bytes += d.bytes();
                samples.accept(new Sample(task.name(), docIds[i], OptionalInt.empty(),
                        List.of(new Sample.Request("", d.text(), score.tokens(), score.logLikelihood(), score.greedy())),
                        Map.of("loglikelihood", score.logLikelihood(), "words", (double) d.words(), "bytes", (double) d.bytes())));
            }
            metrics = List.of(new Metric("word_perplexity", Math.exp(-ll / words), Double.NaN),
                    new Metric("byte_perplexity", Math.exp(-ll / bytes), Double.NaN),
                    new Metric("bits_per_byte", -ll / bytes / Math.log(2), Double.NaN),
                    new Metric("token_perplexity", Math.exp(-ll / tokens), Double.NaN));
        } else {
            List<List<LoglikelihoodScorer.Score>> scores = shared(collective, list,
                    share -> requests.choices(share.stream().map(item -> multipleChoice(task, item).choices()).toList(), progress::advance),
                    Evaluator::values, Evaluator::scores);
            int n = list.size();
            double[] acc = new double[n], accNorm = new double[n];
            // lm-eval's metric_list where the task has one (and our chance)
            Predicate<String> reported = name -> name.equals("chance") || task.documents().map(d -> d.metrics().contains(name)).orElse(true);
            double chance = 0;
            double[] goldLl = new double[n];
            for (int i = 0; i < n; i++) {
                Item.MultipleChoice mc = multipleChoice(task, list.get(i));
                List<LoglikelihoodScorer.Score> s = scores.get(i);
                for (LoglikelihoodScorer.Score x : s) tokens += x.tokens();
                if (task.kind() == TaskKind.LAST_WORD) {
                    acc[i] = s.get(mc.gold()).greedy() ? 1 : 0;
                    goldLl[i] = s.get(mc.gold()).logLikelihood();
                } else {
                    acc[i] = argmax(s, mc, false) == mc.gold() ? 1 : 0;
                    accNorm[i] = argmax(s, mc, true) == mc.gold() ? 1 : 0;
                    chance += 1.0 / s.size();
                }
                List<Sample.Request> logged = new ArrayList<>(s.size());
                for (int c = 0; c < s.size(); c++) logged.add(Sample.Request.of(mc.choices().get(c), s.get(c)));
                samples.accept(new Sample(task.name(), docIds[i], OptionalInt.of(mc.gold()), logged, task.kind() == TaskKind.LAST_WORD
                        ? Map.of("acc", acc[i], "loglikelihood", s.get(mc.gold()).logLikelihood())
                        : reported.test("acc_norm") ? Map.of("acc", acc[i], "acc_norm", accNorm[i]) : Map.of("acc", acc[i])));
            }
            metrics = task.kind() == TaskKind.LAST_WORD
                    ? List.of(Metric.mean("acc", acc), new Metric("perplexity", Math.exp(-Metric.average(goldLl)), Bootstrap.perplexityStderr(goldLl)))
                    : List.of(Metric.mean("acc", acc), Metric.mean("acc_norm", accNorm), new Metric("chance", chance / n, Double.NaN));
            metrics = metrics.stream().filter(m -> reported.test(m.name())).toList();
        }
        progress.finish();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return new TaskResult(task.name(), task.kind(), task.reference(), list.size(), items.available(), metrics, tokens, seconds, items.shots(), items.notes());
    }

    /**
     * Every item's result, in item order, on every rank of {@code collective}: this rank runs {@code score} on its
     * contiguous share of the items ({@link OrderedSum#first}: independent of the thread count), the results travel as
     * doubles ({@code encode} and {@code decode} exact) and are gathered in item order. An item's result does not depend
     * on the items scored with it (see {@link LoglikelihoodScorer}), so every rank holds the values one process computes.
     */
    static <I, R> List<R> shared(Collective collective, List<I> items, Function<List<I>, List<R>> score, Function<R, double[]> encode,
                                 Function<double[], R> decode) {
        int n = items.size(), rank = collective.rank(), size = collective.size();
        List<R> mine = score.apply(items.subList(OrderedSum.first(n, rank, size), OrderedSum.first(n, rank + 1, size)));
        return OrderedSum.gather(collective, n, mine.stream().map(encode).toList()).stream().map(decode).toList();
    }

    /** An item's scores as they travel between ranks: log-likelihood, greedy (1 or 0) and tokens of each choice. */
    private static double[] values(List<LoglikelihoodScorer.Score> scores) {
        double[] v = new double[3 * scores.size()];
        for (int i = 0; i < scores.size(); i++) {
            LoglikelihoodScorer.Score s = scores.get(i);
            v[3 * i] = s.logLikelihood();
            v[3 * i + 1] = s.greedy() ? 1 : 0;
            v[3 * i + 2] = s.tokens();
        }
        return v;
    }

    /** The inverse of {@link #values}. */
    private static List<LoglikelihoodScorer.Score> scores(double[] v) {
        List<LoglikelihoodScorer.Score> scores = new ArrayList<>(v.length / 3);
        for (int i = 0; i < v.length; i += 3) scores.add(new LoglikelihoodScorer.Score(v[i], v[i + 1] != 0, (int) v[i + 2]));
        return scores;
    }

    /** lm-eval's {@code np.argmax(lls)} / {@code np.argmax(lls / completion_len)}: the first of equal maxima. */
    static int argmax(List<LoglikelihoodScorer.Score> scores, Item.MultipleChoice item, boolean normalized) {
        int best = 0;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < scores.size(); i++) {
            double v = scores.get(i).logLikelihood();
            if (normalized) v /= Math.max(1, item.choices().get(i).chars());
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    private static Item.Document document(Task task, Item item) {
        if (item instanceof Item.Document d) return d;
        throw new IllegalStateException(task.name() + ": a perplexity task read a multiple-choice item");
    }

    private static Item.MultipleChoice multipleChoice(Task task, Item item) {
        if (item instanceof Item.MultipleChoice m) return m;
        throw new IllegalStateException(task.name() + ": a scored task read a document");
    }
}
