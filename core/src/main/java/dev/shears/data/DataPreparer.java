package dev.shears.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;

/**
 * {@code shears data prepare}: text and JSONL files → packed token shards plus {@code index.json}.
 * Each document is tokenized on its own, preceded by BOS (when the tokenizer has one and
 * {@link PrepareOptions#bos()}) and followed by EOS. The token stream is cut into chunks of
 * {@link PrepareOptions#heldOutChunk()} tokens and evenly spaced chunks form the held-out split. The
 * result is deterministic for the same inputs, tokenizer and options. Work happens in a temporary
 * folder that is moved into place at the end, so no half-written dataset is ever left behind.
 */
public final class DataPreparer {
    static final String FORMAT = "shears-tokens";
    static final int VERSION = 1;

    private DataPreparer() {
    }

    public static TokenDataset prepare(Tokenizer tokenizer, String tokenizerName, List<Path> inputs, Path outDir,
                                       PrepareOptions options, Progress progress) {
        if (inputs.isEmpty()) throw new ShearsException("no input files given");
        if (tokenizer.eosId() < 0) throw new ShearsException("the tokenizer has no EOS token to separate documents");
        if (Files.exists(outDir)) throw new ShearsException(outDir + ": already exists; choose another --out or remove it");
        long totalBytes = 0;
        for (Path input : inputs) {
            if (!Files.isRegularFile(input)) throw new ShearsException(input + ": no such input file");
            try {
                totalBytes += Files.size(input);
            } catch (IOException e) {
                throw new ShearsException(input + ": cannot read: " + e.getMessage(), e);
            }
        }
        Path parent = outDir.toAbsolutePath().getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            AtomicFiles.removeStalePartials(outDir); // an earlier attempt that was killed
            tmp = Files.createTempDirectory(parent, "." + outDir.getFileName() + ".tmp-");
            AtomicFiles.readableByAll(tmp);
        } catch (IOException e) {
            throw new ShearsException(outDir + ": cannot create: " + e.getMessage(), e);
        }
        try {
            TokenWidth width = TokenWidth.forVocabulary(tokenizer.vocabSize());
            ObjectNode index = new ObjectMapper().createObjectNode();
            ArrayNode sources = index.putArray("sources");
            long documents;
            try (ShardWriter train = new ShardWriter(tmp, Split.TRAIN, width, options.shardTokens());
                 ShardWriter heldOut = new ShardWriter(tmp, Split.HELDOUT, width, options.shardTokens())) {
                Chunker chunker = new Chunker(train, heldOut, options);
                progress.start("tokenizing", totalBytes, "B");
                long docs = 0;
                int bos = options.bos() ? tokenizer.bosId() : -1;
                int lead = bos >= 0 ? 1 : 0;
                for (Path input : inputs) {
                    long[] counts = new long[2];
                    DocumentReader.read(input, options, text -> {
                        int[] ids = tokenizer.encode(text);
                        int[] document = new int[lead + ids.length + 1];
                        if (lead == 1) document[0] = bos;
                        System.arraycopy(ids, 0, document, lead, ids.length);
                        document[document.length - 1] = tokenizer.eosId();
                        chunker.append(document);
                        counts[0]++;
                        counts[1] += document.length;
                    });
                    docs += counts[0];
                    sources.addObject().put("path", input.toString()).put("documents", counts[0]).put("tokens", counts[1]);
                    progress.advance(Files.size(input));
                }
                progress.finish();
                chunker.finish();
                documents = docs;
                index.put("format", FORMAT).put("version", VERSION)
                        .put("tokenizer", tokenizerName).put("vocabSize", tokenizer.vocabSize())
                        .put("eosId", tokenizer.eosId()).put("bosId", tokenizer.bosId())
                        .put("tokenWidth", width.name().toLowerCase(java.util.Locale.ROOT))
                        .put("documents", documents)
                        .put("tokens", train.total() + heldOut.total());
                ObjectNode splits = index.putObject("splits");
                for (ShardWriter writer : List.of(train, heldOut)) {
                    Split split = writer == train ? Split.TRAIN : Split.HELDOUT;
                    ObjectNode node = splits.putObject(split.key).put("tokens", writer.total());
                    ArrayNode files = node.putArray("shards");
                    for (ShardWriter.Shard shard : writer.shards()) files.addObject().put("file", shard.file()).put("tokens", shard.tokens());
                }
                index.putObject("options").put("jsonField", options.jsonField()).put("textSplit", options.textSplit().name())
                        .put("heldOutFraction", options.heldOutFraction()).put("heldOutChunk", options.heldOutChunk())
                        .put("shardTokens", options.shardTokens()).put("bos", lead == 1);
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.resolve(TokenDataset.INDEX).toFile(), index);
            Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
            return TokenDataset.open(outDir);
        } catch (IOException e) {
            AtomicFiles.deleteTreeQuietly(tmp);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteTreeQuietly(tmp);
            throw e;
        }
    }

    /**
     * Routes the token stream, chunk by chunk, to the train or held-out split. One finished train chunk
     * is held back so that, when the stream ends without a held-out chunk, the last one can become it.
     */
    private static final class Chunker {
        private final ShardWriter train;
        private final ShardWriter heldOut;
        private final int chunk;
        private final long every;
        private final int[] current;
        private int filled;
        private int[] pending;
        private long chunks;
        private long heldOutChunks;

        Chunker(ShardWriter train, ShardWriter heldOut, PrepareOptions options) {
            this.train = train;
            this.heldOut = heldOut;
            this.chunk = options.heldOutChunk();
            this.every = options.heldOutFraction() == 0 ? 0 : Math.max(2, Math.round(1 / options.heldOutFraction()));
            this.current = new int[chunk];
        }

        void append(int[] ids) {
            int i = 0;
            while (i < ids.length) {
                int n = Math.min(chunk - filled, ids.length - i);
                System.arraycopy(ids, i, current, filled, n);
                filled += n;
                i += n;
                if (filled == chunk) complete();
            }
        }

        private void complete() {
            int[] done = Arrays.copyOf(current, filled);
            filled = 0;
            chunks++;
            if (every > 0 && chunks % every == 0) {
                heldOut.write(done, 0, done.length);
                heldOutChunks++;
            } else {
                if (pending != null) train.write(pending, 0, pending.length);
                pending = done;
            }
        }

        void finish() {
            if (filled > 0) {
                int[] tail = Arrays.copyOf(current, filled);
                if (pending != null) train.write(pending, 0, pending.length);
                pending = tail;
                filled = 0;
            }
            if (pending == null) return;
            boolean divert = every > 0 && heldOutChunks == 0 && train.total() > 0;
            (divert ? heldOut : train).write(pending, 0, pending.length);
        }
    }

}
