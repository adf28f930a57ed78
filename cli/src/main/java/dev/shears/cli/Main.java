package dev.shears.cli;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.DeadRanks;
import dev.shears.dist.SingleProcess;
import dev.shears.recipe.MemoryPlan;
import dev.shears.tensor.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;

/** The {@code shears} command line. */
@Command(name = "shears", mixinStandardHelpOptions = true, version = "shears 0.1.0",
        description = "Prune a LLaMA-family model to the shape you choose, heal it, and measure what it kept.",
        subcommands = {DemoCommand.class, InfoCommand.class, InitCommand.class, PerplexityCommand.class, GenerateCommand.class, ScoreCommand.class, DataCommand.class, TrainCommand.class,
                PruneCommand.class, ShearCommand.class, PipelineCommand.class, EvalCommand.class, ExportCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  shears demo                                     (the whole journey, ~5 minutes on 2 cores)",
                "  shears info ../shared/data/models/stories260K/hf",
                "  shears prune ../shared/data/models/stories260K/hf --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --calibration ../shared/data/eval/tinystories/tinystories_val_head.txt --ffn 0.5 --out /tmp/pruned",
                "  shears eval /tmp/pruned --tasks tinystories,lambada_openai --limit 200",
                "  shears pipeline run examples/openba-v2.yaml --out runs/openba",
                "  shears export /tmp/pruned --format gguf --dtype q8_0 --out /tmp/pruned.gguf",
                "Every command has --help with its own examples."})
public final class Main implements Runnable {
    @Option(names = "--threads", paramLabel = "N", scope = ScopeType.INHERIT,
            description = "Kernel threads (default: all cores). Results are bit-identical for any value.")
    void threads(int n) {
        if (n < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--threads must be at least 1, got " + n);
        Parallel.setThreads(n);
    }

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of unexpected errors.")
    boolean verbose;

    private final Collective collective;

    Main(Collective collective) {
        this.collective = collective;
    }

    /** The ranks of this process's run: one process, or the ranks mpirun started (chosen once, in {@link #main}). */
    Collective collective() {
        return collective;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }

    /**
     * The process entry point. Started by {@code mpirun}, the process is one rank of an MPI run (Open MPI's
     * library is loaded and initialised here, once); otherwise nothing of MPI is touched. A rank that
     * fails aborts the MPI run, so that no other rank waits for it forever.
     */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true), err = new PrintWriter(System.err, true);
        if (args.length > 0 && args[0].equals(HEAP_PLAN)) System.exit(run(args, out, err));
        Collective collective;
        try {
            collective = Collective.fromEnvironment();
        } catch (ShearsException e) {
            err.println("shears: error: " + e.getMessage());
            System.exit(2);
            return;
        }
        DeadRanks deadRanks = collective.size() > 1 ? DeadRanks.watch(collective, err) : null;
        int code = run(args, out, err, collective);
        if (deadRanks != null) deadRanks.finished();
        if (code != 0 && collective.size() > 1) collective.abort(code);
        collective.close();
        System.exit(code);
    }

    /** As {@link #run(String[], PrintWriter, PrintWriter, Collective)} in one process. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, new SingleProcess());
    }

    /**
     * Runs the command line; returns the exit code (0 ok, 1 internal error, 2 user error). With
     * {@code --heap-plan} first, runs nothing: prints the heap in bytes the command plans to need (for
     * the launcher's {@code -Xmx}), or nothing when the command has no plan or its input is wrong
     * (the real run then says what is wrong). Errors of a rank other than 0 name the rank.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Collective collective) {
        if (args.length > 0 && args[0].equals(HEAP_PLAN)) {
            heapPlan(java.util.Arrays.copyOfRange(args, 1, args.length), out);
            out.flush();
            return 0;
        }
        CommandLine cli = commandLine(collective);
        String shears = collective.size() > 1 ? "shears (rank " + collective.rank() + " of " + collective.size() + ")" : "shears";
        cli.setOut(out);
        cli.setErr(err);
        cli.setUsageHelpWidth(110);
        cli.setUsageHelpAutoWidth(true);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println(shears + ": error: " + e.getMessage());
            err.println("Run 'shears " + commandPath(e.getCommandLine()) + "--help' for usage.");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
            if (cause instanceof ShearsException) {
                err.println(shears + ": error: " + cause.getMessage());
                return 2;
            }
            if (cause instanceof OutOfMemoryError) {
                err.println(shears + ": error: out of memory (" + cause.getMessage() + ") with a heap limit of " + MemoryPlan.gigabytes(Runtime.getRuntime().maxMemory())
                        + "; nothing was left half-written. " + MemoryPlan.HOW_TO_RAISE);
                return 1;
            }
            boolean verbose = System.getenv("SHEARS_DEBUG") != null || matched(parseResult, "--verbose");
            err.println(shears + ": internal error: " + cause + (verbose ? "" : " (run with --verbose for the stack trace)"));
            if (verbose) cause.printStackTrace(err);
            return 1;
        });
        if (collective.size() > 1) {
            try {
                List<CommandLine> parsed = commandLine(collective).parseArgs(args).asCommandLineList(); // a copy: execute() parses afresh
                if (!(parsed.getLast().getCommand() instanceof Distributed)) {
                    err.println(shears + ": error: 'shears " + commandPath(parsed.getLast()).strip() + "' does not run under mpirun yet (train, shear, prune, eval, pipeline run and bench train do);"
                            + " run it in one process");
                    err.flush();
                    return 2;
                }
            } catch (CommandLine.ParameterException e) {
                // execute() reports it
            }
        }
        try {
            return cli.execute(args);
        } finally {
            out.flush(); // print() without a newline is not flushed by autoflush
            err.flush();
        }
    }

    /** Whether an option was given on the command or any of its subcommands ({@code --verbose} is inherited: it may follow the subcommand). */
    static boolean matched(CommandLine.ParseResult parsed, String option) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) if (p.hasMatchedOption(option)) return true;
        return false;
    }

    static final String HEAP_PLAN = "--heap-plan";

    private static void heapPlan(String[] args, PrintWriter out) {
        try {
            List<CommandLine> parsed = commandLine().parseArgs(args).asCommandLineList();
            // under mpirun, a rank's plan (its share of the work), read from mpirun's variable without loading MPI
            int ranks = Integer.parseInt(System.getenv().getOrDefault(Collective.WORLD_SIZE, "1"));
            if (parsed.getLast().getCommand() instanceof Planned planned) out.println(planned.plan(ranks).heapBytes());
        } catch (RuntimeException e) {
            // no plan: the launcher keeps its default heap and the run reports the problem
        }
    }

    /** The commands as every entry point parses them. */
    static CommandLine commandLine() {
        return commandLine(new SingleProcess());
    }

    private static CommandLine commandLine(Collective collective) {
        CommandLine cli = new CommandLine(new Main(collective));
        ConfigHelp.install(cli);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    private static String commandPath(CommandLine c) {
        StringBuilder s = new StringBuilder();
        for (CommandLine p = c; p.getParent() != null; p = p.getParent()) s.insert(0, p.getCommandName() + " ");
        return s.toString();
    }
}
