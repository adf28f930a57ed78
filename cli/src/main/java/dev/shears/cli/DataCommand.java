package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.data.DocumentSplit;
import dev.shears.data.PrepareOptions;
import dev.shears.data.Split;
import dev.shears.data.TokenDataset;
import dev.shears.recipe.DataPrepareRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code shears data}: token data for training and evaluation. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Prepare token data for training.",
        subcommands = {DataCommand.Prepare.class, CommandLine.HelpCommand.class})
final class DataCommand extends CommandGroup {
    @Command(name = "prepare", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Tokenize text files and JSONL into packed token shards (uint16 when the vocabulary fits, else uint32) with",
                    "an index of document and token counts; EOS between documents; an evenly spaced held-out split for evaluation.",
                    "Deterministic. Streams its inputs, so they may be larger than memory. The output folder appears only when complete."},
            footerHeading = "%nExamples:%n",
            footer = {"  shears data prepare --tokenizer ../shared/data/models/stories260K/tok512.bin --out data/tinystories \\",
                    "      ../shared/data/eval/tinystories/tinystories_val_head.txt",
                    "  for d in ../shared/data/pretrain/redpajama_sample/*; do",
                    "    shears data prepare --tokenizer ../shared/data/tokenizers/llama2/tokenizer.model --out data/$(basename $d) $d/*.jsonl; done"})
    static final class Prepare implements Runnable {
        @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "tokenizer.json, tokenizer.model or a llama2.c .bin.")
        Path tokenizer;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist).")
        Path out;

        // defaults: PrepareOptions.DEFAULT's, which a pipeline's data preparation uses too
        @Option(names = "--field", paramLabel = "NAME", description = "The JSONL field holding the text.")
        String field = PrepareOptions.DEFAULT.jsonField();

        @Option(names = "--split", paramLabel = "HOW",
                description = "How plain text is cut into documents: ${COMPLETION-CANDIDATES}.")
        DocumentSplit split = PrepareOptions.DEFAULT.textSplit();

        @Option(names = "--held-out", paramLabel = "F", description = "Fraction of tokens held out for evaluation.")
        double heldOut = PrepareOptions.DEFAULT.heldOutFraction();

        @Option(names = "--held-out-chunk", paramLabel = "N", description = "Held-out tokens come in evenly spaced chunks of N.")
        int heldOutChunk = PrepareOptions.DEFAULT.heldOutChunk();

        @Option(names = "--bos", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Start every document with the tokenizer's BOS token, as LLaMA-family models are pretrained and evaluated "
                        + "(default: on, when the tokenizer has a BOS token; --no-bos for models pretrained without it).")
        boolean bos = PrepareOptions.DEFAULT.bos();

        @Mixin
        JsonOutput output;

        @Parameters(paramLabel = "INPUT", arity = "1..*", description = "Text (.txt) or JSONL (.jsonl) files.")
        List<Path> inputs;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            PrepareOptions options;
            try {
                options = new PrepareOptions(field, split, heldOut, heldOutChunk, PrepareOptions.DEFAULT.shardTokens(), bos);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            TokenDataset d = DataPrepareRun.run(new DataPrepareRun.Request(tokenizer, inputs, out, options), ProgressBar.stderr());
            if (output.json) {
                ObjectNode n = Json.object();
                n.put("out", out.toString()).put("documents", d.documents()).put("trainTokens", d.tokens(Split.TRAIN))
                        .put("heldOutTokens", d.tokens(Split.HELDOUT)).put("vocabSize", d.vocabSize());
                output.print(n);
            } else {
                output.out().printf(Locale.ROOT, "%s: %,d documents, %,d training tokens, %,d held-out tokens (vocabulary %d)%n",
                        out, d.documents(), d.tokens(Split.TRAIN), d.tokens(Split.HELDOUT), d.vocabSize());
            }
        }
    }
}
