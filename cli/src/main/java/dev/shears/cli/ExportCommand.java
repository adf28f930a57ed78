package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.recipe.Export;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/** {@code shears export}: a model as files other tools load. */
@Command(name = "export", header = "Write a model for other tools: a Hugging Face folder or a GGUF file.", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Write a model for other tools: a Hugging Face folder (safetensors, sharded above --shard-size; config.json with",
                "head_dim and per-layer fields when shapes differ; tokenizer files), or one GGUF v3 file (llama metadata, q/k rows in",
                "the interleaved RoPE layout llama.cpp expects, per-layer head counts and FFN widths as arrays when non-uniform,",
                "the tokenizer in the metadata). F32 exports round-trip bit for bit; loading the GGUF gives the HF folder's logits.",
                "A T5 folder (T5ForConditionalGeneration) becomes a T5 folder with transformers' names (f32 by default), or a GGUF",
                "of llama.cpp's t5 architecture with its unigram vocabulary (tokenizer.json or spiece.model; uniform shapes only)."},
        footerHeading = "%nExamples:%n",
        footer = {"  shears export runs/healed --format gguf --dtype q8_0 --out healed-q8_0.gguf",
                "  shears export ../shared/data/models/stories260K/stories260K.bin --tokenizer ../shared/data/models/stories260K/tok512.bin \\",
                "      --format hf --dtype bf16 --out stories260K-bf16",
                "  shears export ../shared/data/models/t5-tiny-random --format gguf --out t5-tiny.gguf"})
final class ExportCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "hf", description = "hf or gguf.")
    String format;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "", showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER,
            description = "f32, f16, bf16, or q8_0 (gguf only; norms and biases stay f32). Default: the source's dtype (f16 for a q8_0 source as hf).")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "PATH", description = "The folder (hf) or .gguf file to write.")
    Path out;

    @Option(names = "--shard-size", paramLabel = "BYTES", defaultValue = "" + dev.shears.format.hf.HfModel.DEFAULT_SHARD_BYTES, description = "Largest safetensors shard (hf).")
    long shardBytes;

    @Option(names = "--force", description = "Replace an existing --out (a previous export; never the model itself). The new one appears only when complete.")
    boolean force;

    @Mixin
    JsonOutput output;

    @Override
    public void run() {
        Export.Written w = new Export(model.model, Optional.ofNullable(model.tokenizer), format, dtype, out, shardBytes, force).run();
        Path written = w.path();
        long bytes = size(written);
        if (output.json) {
            ObjectNode n = Json.object().put("model", model.model.toString()).put("format", format).put("dtype", w.dtype())
                    .put("out", written.toString()).put("bytes", bytes).put("readBy", w.readBy());
            output.print(n);
        } else {
            output.out().printf(Locale.ROOT, "wrote %s (%s, %s, %.2f MB); loads in %s%n", written, format, w.dtype(), bytes / 1e6, w.readBy());
            if (format.equalsIgnoreCase("hf") && Stream.of("tokenizer.json", "tokenizer.model", "spiece.model", "tokenizer.bin").noneMatch(n -> Files.exists(written.resolve(n)))) {
                System.err.println("shears: note: no tokenizer file was written (none was given, found beside the model, or convertible from the GGUF); pass --tokenizer FILE");
            }
        }
    }

    private static long size(Path p) {
        try (Stream<Path> files = Files.walk(p)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (IOException e) {
            return 0;
        }
    }
}
