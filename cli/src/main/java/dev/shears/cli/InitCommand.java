package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.HfModel;
import dev.shears.io.DType;
import dev.shears.model.KnownShape;
import dev.shears.recipe.InitRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** {@code shears init}: a random-weight checkpoint of a published or given shape. */
@Command(name = "init", header = "Write a checkpoint of a given shape with random weights (sizing hardware, tests and benchmarks at real size).",
        mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Write a Hugging Face folder (config.json, sharded safetensors with an index, the tokenizer under its standard name)",
                "whose weights are seeded uniform random values (std 0.02; norms 1). The weights are streamed to disk one row at a",
                "time, so any size is written in constant memory; the folder appears only when complete. Use it to see what a",
                "model of that shape needs (shears info, perplexity, prune) before downloading the real one.",
                "Shapes: " + "llama-2-7b, llama-2-13b, tinyllama-1.1b, llama-3.2-1b, sheared-llama-1.3b, sheared-llama-2.7b.",
                "A T5 or OpenBA config.json (model_type t5 or openba) gives an encoder-decoder folder (config.json, one",
                "model.safetensors) that shears prune, train, eval and pipeline read; norms 1 and biases 0 (OpenBA's LayerNorms too)."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears init --shape llama-2-7b --dtype bf16 --tokenizer ../shared/data/tokenizers/llama2/tokenizer.model --out llama-2-7b-random",
                "  shears init --config my-config.json --dtype f32 --out /tmp/custom",
                "  shears init --config examples/openba-tiny-config.json --dtype f32 --tokenizer ../shared/data/tokenizers/t5 --out openba-tiny"})
final class InitCommand implements Runnable {
    @Option(names = "--shape", paramLabel = "NAME", description = "A published shape (see above).")
    String shape;

    @Option(names = "--config", paramLabel = "CONFIG.json", description = "A Hugging Face config.json to take the shape from instead.")
    Path config;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "bf16", description = "bf16, f16 or f32.")
    String dtype;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json, tokenizer.model, spiece.model or tokenizer.bin (or a folder holding one), copied beside the weights.")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write (missing or empty).")
    Path out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed.")
    long seed;

    @Option(names = "--shard-size", paramLabel = "BYTES", defaultValue = "" + HfModel.DEFAULT_SHARD_BYTES, description = "Largest safetensors shard.")
    long shardBytes;

    @Mixin
    JsonOutput output;

    @Override
    public void run() {
        Optional<KnownShape> known = Optional.ofNullable(shape).map(name -> KnownShape.byName(name)
                .orElseThrow(() -> new ShearsException("--shape must be one of " + KnownShape.names() + ", got '" + name + "'")));
        InitRun.Result r = new InitRun(known, Optional.ofNullable(config), DType.parse(dtype).orElseThrow(() -> new ShearsException("--dtype must be f32, f16 or bf16, got '" + dtype + "'")),
                Optional.ofNullable(tokenizer), out, seed, shardBytes).run();
        if (output.json) {
            ObjectNode n = Json.object().put("out", r.out().toString()).put("dtype", dtype.toLowerCase(Locale.ROOT))
                    .put("params", r.params()).put("shape", r.shape()).put("bytes", r.bytes()).put("seconds", r.seconds());
            output.print(n);
        } else {
            output.out().printf(Locale.ROOT, "wrote %s: %,d parameters, %s, %.2f GB in %.1f s%n", r.out(), r.params(),
                    dtype.toLowerCase(Locale.ROOT), r.bytes() / 1e9, r.seconds());
        }
    }
}
