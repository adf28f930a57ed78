package dev.shears.recipe;

import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.data.TokenDataset;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;

import java.nio.file.Path;
import java.util.List;

/** {@code shears data prepare}: text and JSONL files tokenized into a token folder with a held-out split. */
public final class DataPrepareRun {
    private DataPrepareRun() {
    }

    /** @param tokenizer tokenizer.json, tokenizer.model or a llama2.c .bin; recorded in the folder by its absolute path */
    public record Request(Path tokenizer, List<Path> inputs, Path out, PrepareOptions options) {
    }

    public static TokenDataset run(Request request, Progress progress) {
        return DataPreparer.prepare(TokenizerLoader.load(request.tokenizer()), request.tokenizer().toAbsolutePath().toString(), request.inputs(),
                request.out(), request.options(), progress);
    }
}
