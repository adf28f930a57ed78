package dev.shears.recipe;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A pipeline stage that exports the current model (as {@code shears export}) into its folder; the
 * model passes through unchanged.
 *
 * @param format     hf or gguf
 * @param dtype      f32, f16, bf16 or q8_0 (gguf); "" for the model's own
 * @param shardBytes largest safetensors shard (hf)
 */
public record ExportStage(String format, String dtype, long shardBytes) implements StageSettings {
    @Override
    public String kind() {
        return "export";
    }

    public static final ExportStage DEFAULT = new ExportStage("gguf", "", dev.shears.format.hf.HfModel.DEFAULT_SHARD_BYTES);

    /** The export of {@code model} into {@code dir} (a {@code model.gguf} file there for GGUF); checks the settings on construction. */
    Export export(Path model, Path dir) {
        Path out = format.equalsIgnoreCase("gguf") ? dir.resolve("model.gguf") : dir.resolve("hf");
        return new Export(model, Optional.empty(), format, dtype, out, shardBytes);
    }
}
