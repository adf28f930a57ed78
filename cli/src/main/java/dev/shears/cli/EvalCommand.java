package dev.shears.cli;

import dev.shears.eval.ContextStart;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.eval.EvalSettings;
import dev.shears.eval.Suite;
import dev.shears.io.AtomicFiles;
import dev.shears.progress.Progress;
import dev.shears.recipe.EvalRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code shears eval}: tasks scored as lm-evaluation-harness scores them, several models side by
 * side. Its defaults are those of {@link EvalSettings#DEFAULTS}, a pipeline's eval stage's.
 */
@Command(name = "eval", header = "Tasks scored as lm-evaluation-harness scores them, several models side by side.", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Tasks scored as lm-evaluation-harness scores them (log-likelihood of each choice, acc and acc_norm",
                "with standard errors; LAMBADA greedy accuracy and perplexity; rolling word/byte perplexity; greedy answers",
                "cut at stop strings and exact_match for nq_open and triviaqa), for one or more models side by side: a",
                "markdown table on the console, and with --json/--html a JSON file and an HTML page with a chart per task.",
                "Every number is printed next to its metric name.",
                "",
                "Each MODEL may name its tokenizer as MODEL=TOKENIZER; otherwise --tokenizer (for every model), else the",
                "tokenizer beside the model.",
                "",
                "Tasks: piqa, arc_easy, arc_challenge, boolq, sciq, logiqa, mmlu (the group: 57 subjects, 4 categories),",
                "mmlu_<subject>, mmlu_stem|other|social_sciences|humanities, openbookqa, copa (lm-eval's two spaces before the",
                "choice), copa_single_space, siqa, commonsense_qa, hellaswag, nq_open and triviaqa (generation: greedy",
                "until \\n . , and exact_match), winogrande, wsc273, lambada_openai, wikitext, tinystories, or a task file",
                "(.yaml/.json, see docs/evaluation.md).",
                "",
                "--num-fewshot N builds lm-eval's few-shot contexts (arc_easy, arc_challenge, boolq, sciq, logiqa,",
                "hellaswag, mmlu*, nq_open, triviaqa); with --limit N --sample first the contexts are those lm-eval builds",
                "with --limit N. Where a task's few-shot split is not in the data folder (boolq, sciq, logiqa, nq_open,",
                "triviaqa) the examples come from another split, and the report says which.",
                "",
                "Under mpirun (mpirun -np N ./shears eval ...) the ranks share each task's items (contiguous shares) and",
                "gather every item's scores: the results are bit-identical to one process, and rank 0 alone prints and",
                "writes --json, --html and --log-samples."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears eval ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --tasks lambada_openai,tinystories --limit 200",
                "  shears eval parent/ pruned/ healed/ --tasks piqa,arc_easy,hellaswag,winogrande --limit 500 --json eval.json",
                "  shears eval model/ --tasks mmlu --num-fewshot 5",
                "  shears eval parent/ child/ --suite sheared-llama --limit 200 --sample first --json table.json",
                "  shears eval model/ --tasks arc_challenge --num-fewshot 25 --limit 100 --sample first",
                "  shears eval model/ --tasks nq_open --num-fewshot 32 --log-samples nq.jsonl",
                "  shears eval ../shared/data/models/stories260K/stories260K.bin=../shared/data/models/stories260K/tok512.bin \\",
                "      ../shared/data/models/aidreams260K/aidreams260K.bin=../shared/data/models/aidreams260K/tok512.bin --tasks copa,tinystories",
                "  shears eval model/ --tasks my_task.yaml --data-dir ~/eval-data"})
final class EvalCommand implements Runnable, Distributed {
    @Parameters(arity = "1..*", paramLabel = "MODEL[=TOKENIZER]",
            description = "Hugging Face folders, .gguf files or llama2.c .bin checkpoints, each optionally =its tokenizer file.")
    List<String> models;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "Tokenizer for every MODEL that does not name its own.")
    Path tokenizer;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", description = "Comma-separated task names or task files.")
    List<String> tasks;

    @Option(names = "--suite", paramLabel = "NAME",
            description = "A paper's table instead of --tasks: sheared-llama, openba-v2 or jha; each task at the paper's shot count, printed in the paper's layout.")
    String suite;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "../shared/data/eval", description = "Folder of the evaluation data (relative to the working directory).")
    Path dataDir;

    @Option(names = "--limit", paramLabel = "N", description = "Items per task (0: all).")
    int limit = EvalSettings.DEFAULTS.limit();

    // EvalSettings.DEFAULTS' sampling and start, written as they are typed (the help would show SEEDED and BOS)
    @Option(names = "--sample", paramLabel = "HOW", defaultValue = "seeded",
            description = "Which N items with --limit: seeded (a seeded random sample, in file order) or first (lm-eval's --limit).")
    EvalSettings.Sampling sampling;

    @Option(names = "--num-fewshot", paramLabel = "N", description = "Few-shot examples before each document, built as lm-eval builds them (0: none).")
    int numFewshot = EvalSettings.DEFAULTS.numFewshot();

    @Option(names = "--seed", description = "Seed of the seeded sample.")
    long seed = EvalSettings.DEFAULTS.seed();

    @Option(names = "--batch", paramLabel = "N", description = "Items scored together: one packed forward pass (at most 4,096 rows) for choices, one per thread for perplexity.")
    int batch = EvalSettings.DEFAULTS.batchSize();

    @Option(names = "--context", paramLabel = "N", description = "Context length in tokens (0: the model's maximum).")
    int context = EvalSettings.DEFAULTS.contextLength();

    @Option(names = "--start", paramLabel = "HOW", defaultValue = "bos",
            description = "Sequence start: bos (as the model was trained; lm-eval add_bos_token=True) or none (lm-eval's default for HF models).")
    ContextStart start;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the results as JSON (and an HTML page beside it unless --html is given).")
    Path json;

    @Option(names = "--html", paramLabel = "FILE", description = "Write an HTML page with a chart per task.")
    Path html;

    @Option(names = "--log-samples", paramLabel = "FILE",
            description = "Write every scored document as one JSON line, as lm-eval's --log_samples: model, task, doc_id, target, each "
                    + "request's exact context and continuation with the tokens scored, log-likelihood and greedy flag (for a generation "
                    + "task: the context, the generated text, the filtered answer and the answers), and the document's metrics "
                    + "(docs/evaluation.md).")
    Path logSamples;

    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Override
    public void run() {
        EvalSettings settings = new EvalSettings(limit, sampling, seed, batch, context, start, numFewshot);
        if ((tasks == null) == (suite == null)) throw new ShearsException("give either --tasks or --suite (" + String.join(", ", Suite.names()) + ")");
        if (suite != null && numFewshot != 0) throw new ShearsException("--suite sets each task's shot count; leave out --num-fewshot");
        Optional<Suite> chosen = Optional.ofNullable(suite).map(Suite::named);
        EvalRun.Request request = chosen.isPresent()
                ? EvalRun.Request.suite(models, Optional.ofNullable(tokenizer), chosen.get(), dataDir, settings, Optional.ofNullable(logSamples))
                : new EvalRun.Request(models, Optional.ofNullable(tokenizer), tasks, dataDir, settings, Optional.ofNullable(logSamples), Optional.empty());
        Collective collective = main.collective();
        EvalRun.Result result = EvalRun.run(request, collective.leads() ? ProgressBar.stderr() : Progress.SILENT, collective);
        if (!collective.leads()) return; // rank 0 prints and writes the reports
        List<EvalReport.ModelRun> runs = result.models().stream()
                .map(m -> new EvalReport.ModelRun(EvalReport.label(m.spec(), models), m.model(), m.results())).toList();
        EvalReport report = new EvalReport(runs, settings, result.dataDir(), result.tasks(), chosen);
        var out = spec.commandLine().getOut();
        out.print(report.markdown());
        if (logSamples != null) out.println("Samples: " + logSamples.toAbsolutePath());
        if (json != null) {
            AtomicFiles.writeString(json, Json.text(report.json()) + "\n");
            out.println("JSON: " + json.toAbsolutePath());
        }
        Path page = html != null ? html : json != null ? json.resolveSibling(json.getFileName().toString().replaceFirst("\\.json$", "") + ".html") : null;
        if (page != null) {
            AtomicFiles.writeString(page, report.html());
            out.println("HTML: " + page.toAbsolutePath());
        }
    }
}
