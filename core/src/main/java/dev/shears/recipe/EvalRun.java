package dev.shears.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.Evaluator;
import dev.shears.eval.LoglikelihoodScorer;
import dev.shears.eval.Sample;
import dev.shears.eval.Suite;
import dev.shears.eval.Task;
import dev.shears.eval.TaskCatalog;
import dev.shears.eval.TaskFile;
import dev.shears.eval.TaskGroup;
import dev.shears.eval.TaskResult;
import dev.shears.io.AtomicFiles;
import dev.shears.progress.Progress;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/** {@code shears eval} and {@code bench eval}: tasks scored as lm-evaluation-harness scores them, models side by side. */
public final class EvalRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EvalRun() {
    }

    /**
     * @param models    {@code MODEL} or {@code MODEL=TOKENIZER}, in report order
     * @param tokenizer the tokenizer of models given without one (else each model's own)
     * @param tasks     built-in task names or task files (with a suite: its tasks)
     * @param dataDir   the evaluation data folder
     * @param suite     a paper's table: its tasks, each at its own shot count (which overrides {@code settings}')
     */
    public record Request(List<String> models, Optional<Path> tokenizer, List<String> tasks, Path dataDir, EvalSettings settings,
                          Optional<Path> logSamples, Optional<Suite> suite) {
        public Request(List<String> models, Optional<Path> tokenizer, List<String> tasks, Path dataDir, EvalSettings settings) {
            this(models, tokenizer, tasks, dataDir, settings, Optional.empty(), Optional.empty());
        }

        /** A paper's suite: its tasks, each with the shots of its column. */
        public static Request suite(List<String> models, Optional<Path> tokenizer, Suite suite, Path dataDir, EvalSettings settings, Optional<Path> logSamples) {
            return new Request(models, tokenizer, suite.tasks(), dataDir, settings, logSamples, Optional.of(suite));
        }

        /** Each task's settings: the suite's shot count for it (or its group's), else the request's. */
        EvalSettings settings(Task task, Resolved resolved) {
            Integer shots = suite.isEmpty() ? null : resolved.shotsOf(task.name(), suite.get().shots());
            return shots == null ? settings : settings.withNumFewshot(shots);
        }
    }

    /** One model's results in task order, with what a report says of the model (its weights are closed by then). */
    public record Evaluated(String spec, ModelFacts model, List<TaskResult> results) {
    }

    /**
     * What a report says of an evaluated model.
     *
     * @param format         hf, gguf or llama2c
     * @param shape          the model's shape in words
     * @param context        the positions it reads at most
     * @param tokenizerVocab the size of the tokenizer it was evaluated with
     */
    public record ModelFacts(Path source, String format, String shape, long parameters, int context, int tokenizerVocab) {
        static ModelFacts of(LoadedModel m) {
            return new ModelFacts(m.source(), m.format(), m.model().config().describe(), m.model().config().parameterCount(), m.model().config().maxSeqLen(),
                    m.tokenizer().vocabSize());
        }
    }


    /**
     * What was run: the tasks (groups expanded into their leaves), the data folder resolved, and each model's
     * results: one per task in order, then one per group ({@link TaskGroup}).
     */
    public record Result(List<Task> tasks, Path dataDir, List<Evaluated> models) {
    }

    /** The leaf tasks and the groups that {@code names} ask for, each task once. */
    record Resolved(List<Task> tasks, List<TaskGroup> groups) {
        /** The shot count {@code byName} gives the task itself or a group it belongs to; null when none. */
        Integer shotsOf(String task, Map<String, Integer> byName) {
            if (byName.containsKey(task)) return byName.get(task);
            for (TaskGroup g : groups) if (g.leaves().contains(task) && byName.containsKey(g.name())) return byName.get(g.name());
            return null;
        }

        static Resolved of(List<String> names) {
            Map<String, Task> tasks = new LinkedHashMap<>();
            Map<String, TaskGroup> groups = new LinkedHashMap<>();
            for (String name : names) {
                String n = name.strip();
                if (!TaskFile.isTaskFile(n) && TaskCatalog.isGroup(n)) {
                    for (TaskGroup g : TaskCatalog.groups(n)) {
                        for (String leaf : g.leaves()) tasks.putIfAbsent(leaf, TaskCatalog.task(leaf));
                        groups.putIfAbsent(g.name(), g);
                    }
                } else {
                    Task t = task(n);
                    tasks.putIfAbsent(t.name(), t);
                }
            }
            return new Resolved(List.copyOf(tasks.values()), List.copyOf(groups.values()));
        }

        /** Every task's result on one model with its own settings, handing every scored document to {@code samples}. */
        List<TaskResult> run(LoadedModel loaded, List<Evaluator.Items> items, Function<Task, EvalSettings> settings, Progress progress,
                             Consumer<Sample> samples, Collective collective) {
            List<TaskResult> results = new ArrayList<>();
            for (Evaluator.Items i : items) {
                results.add(Evaluator.run(loaded.model(), loaded.tokenizer(), i, settings.apply(i.task()), progress, samples,
                        LoglikelihoodScorer.Batching.PACKED, collective));
            }
            List<TaskResult> leaves = List.copyOf(results);
            for (TaskGroup g : groups) results.add(g.aggregate(leaves));
            return results;
        }
    }

    /**
     * With {@code logSamples}, every scored document is also written there as one JSON line ({@link Sample#json}),
     * model by model and task by task; the file appears only when the whole run succeeded.
     */
    public static Result run(Request request, Progress progress) {
        return run(request, progress, new SingleProcess());
    }

    /**
     * As {@link #run(Request, Progress)}, as one of the ranks of {@code collective}: the ranks share each task's items
     * (see {@link Evaluator}) and every rank returns the same results; rank 0 alone writes the samples.
     */
    public static Result run(Request request, Progress progress, Collective collective) {
        if (request.logSamples().isEmpty() || !collective.leads()) return evaluate(request, progress, (model, sample) -> {
        }, collective);
        Result[] result = new Result[1];
        AtomicFiles.write(request.logSamples().get(), out -> {
            Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
            result[0] = evaluate(request, progress, (model, sample) -> {
                try {
                    w.write(JSON.writeValueAsString(sample.json(model)));
                    w.write('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, collective);
            w.flush();
        });
        return result[0];
    }

    private static Result evaluate(Request request, Progress progress, BiConsumer<String, Sample> samples, Collective collective) {
        Resolved resolved = Resolved.of(request.tasks());
        Path data = dataDir(request.dataDir());
        Function<Task, EvalSettings> settings = t -> request.settings(t, resolved);
        List<Evaluator.Items> items = resolved.tasks().stream().map(t -> Evaluator.load(t, data, settings.apply(t))).toList();
        List<Evaluated> models = new ArrayList<>();
        for (String spec : request.models()) {
            Consumer<Sample> logged = sample -> samples.accept(spec, sample);
            ModelSpec m = ModelSpec.of(spec, request.tokenizer());
            Optional<EncoderDecoder> encoderDecoder = EncoderDecoder.load(m.model());
            if (encoderDecoder.isPresent()) {
                // scored as lm-eval scores seq2seq models
                EncoderDecoder model = encoderDecoder.get();
                Tokenizer tok = ModelSource.seq2seqTokenizer(m.model(), m.tokenizer(), model.vocabSize());
                List<TaskResult> results = new ArrayList<>();
                for (Evaluator.Items i : items) results.add(Evaluator.run(model, tok, i, settings.apply(i.task()), progress, logged, collective));
                List<TaskResult> leaves = List.copyOf(results);
                for (TaskGroup g : resolved.groups()) results.add(g.aggregate(leaves));
                models.add(new Evaluated(spec, new ModelFacts(m.model(), "hf", model.describe(), model.parameterCount(), model.maxLength(), tok.vocabSize()),
                        results));
                continue;
            }
            // one model's weights at a time: each is closed (unmapped) after its tasks, so side by side costs no more memory than one
            try (LoadedModel loaded = ModelSource.open(m.model(), m.tokenizer())) {
                models.add(new Evaluated(spec, ModelFacts.of(loaded), resolved.run(loaded, items, settings, progress, logged, collective)));
            }
        }
        return new Result(resolved.tasks(), data, models);
    }

    /**
     * {@code bench eval}: one task on one model, after {@code warmup} untimed items (JIT compilation).
     *
     * @return the timed run's result
     */
    public static TaskResult throughput(String model, Optional<Path> tokenizer, String task, Path dataDir, EvalSettings settings, int warmup) {
        return throughput(model, tokenizer, task, dataDir, settings, warmup, LoglikelihoodScorer.Batching.PACKED);
    }

    /** {@link #throughput(String, Optional, String, Path, EvalSettings, int)} with the items of a batch run as {@code batching} says. */
    public static TaskResult throughput(String model, Optional<Path> tokenizer, String task, Path dataDir, EvalSettings settings, int warmup,
                                        LoglikelihoodScorer.Batching batching) {
        Task t = task(task);
        Path data = dataDir(dataDir);
        try (LoadedModel loaded = open(model, tokenizer)) {
            Evaluator.Items items = Evaluator.load(t, data, settings);
            if (warmup > 0) {
                Evaluator.run(loaded.model(), loaded.tokenizer(), Evaluator.load(t, data, settings.withLimit(warmup)), settings, Progress.SILENT,
                        sample -> {
                        }, batching);
            }
            return Evaluator.run(loaded.model(), loaded.tokenizer(), items, settings, Progress.SILENT, sample -> {
            }, batching);
        }
    }

    /** A built-in task by name, or a task file. */
    static Task task(String name) {
        return TaskFile.isTaskFile(name) ? TaskFile.load(Path.of(name)) : TaskCatalog.task(name.strip());
    }

    /** The evaluation data folder, resolved against the working directory; a clear error when it is not there. */
    static Path dataDir(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new ShearsException("evaluation data folder " + abs + " does not exist; pass --data-dir DIR (the folder holding mc/, hellaswag/, wikitext-2/, tinystories/)");
        }
        return abs;
    }

    /** MODEL or MODEL=TOKENIZER. */
    static LoadedModel open(String spec, Optional<Path> defaultTokenizer) {
        ModelSpec m = ModelSpec.of(spec, defaultTokenizer);
        return ModelSource.open(m.model(), m.tokenizer());
    }

    /** A model on the command line and its tokenizer: MODEL (with the default tokenizer) or MODEL=TOKENIZER. */
    record ModelSpec(Path model, Optional<Path> tokenizer) {
        static ModelSpec of(String spec, Optional<Path> defaultTokenizer) {
            int eq = spec.lastIndexOf('=');
            if (eq > 0 && !Files.exists(Path.of(spec))) return new ModelSpec(Path.of(spec.substring(0, eq)), Optional.of(Path.of(spec.substring(eq + 1))));
            return new ModelSpec(Path.of(spec), defaultTokenizer);
        }
    }
}
