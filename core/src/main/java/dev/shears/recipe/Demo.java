package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.data.TokenDataset;
import dev.shears.eval.Generation;
import dev.shears.eval.GenerationResult;
import dev.shears.eval.GenerationSettings;
import dev.shears.eval.Perplexity;
import dev.shears.eval.PerplexityResult;
import dev.shears.io.AtomicFiles;
import dev.shears.io.HfConfig;
import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.BpeTrainer;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.TokenizerLoader;
import dev.shears.train.LearningRateSchedule;
import dev.shears.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code shears demo}: the whole journey on a machine with nothing on it. It writes its own corpus
 * (or takes {@code --data}), trains its own BPE tokenizer, prepares token shards, trains a small
 * LLaMA parent from scratch, measures its perplexity on text it never saw and lets it write a story.
 * Later stages (pruning, healing, evaluation, export) extend this journey. Every stage keeps its
 * output in the demo folder, so a second run with {@code resume} skips what is done and continues
 * the training from its newest checkpoint.
 *
 * @param out        the demo folder
 * @param data       a folder of .txt/.jsonl files (or one file) to use instead of the generated stories
 * @param steps      training steps of the parent
 * @param seed       seeds the corpus, the initialisation and the batch order
 * @param resume     continue an earlier demo in {@code out}
 */
public record Demo(Path out, Optional<Path> data, long steps, long seed, boolean resume) {
    /** The parent's shape: small enough to train in minutes on two cores, big enough to learn the stories. */
    static final int VOCAB = 512;
    static final int SEQ_LEN = 128;
    static final int STORIES = 6000;
    static final int EVAL_STORIES = 200;
    static final String PROMPT = "Once upon a time, there was a little";

    /** What the demo made. */
    public record Result(Path out, Path parent, ModelConfig parentConfig, TrainRun.Result training, Optional<PerplexityResult> perplexity,
                         String prompt, String greedy, String sampled, double seconds) {
    }

    public Demo {
        if (steps < 1) throw new ShearsException("--steps must be at least 1, got " + steps);
    }

    public Result run(Progress progress, Consumer<String> log) {
        long began = System.nanoTime();
        if (Files.exists(out) && !resume && !isEmpty(out)) {
            throw new ShearsException(out + ": already exists; pass --resume to continue that demo, or choose another --out");
        }
        Path corpusDir = out.resolve("corpus");
        List<Path> inputs;
        Optional<Path> evalText;
        if (data.isPresent()) {
            inputs = listInputs(data.get());
            evalText = Optional.empty();
        } else {
            Path train = corpusDir.resolve("stories.txt");
            Path eval = corpusDir.resolve("stories-eval.txt");
            if (!Files.isRegularFile(train)) {
                log.accept("writing " + STORIES + " generated stories to " + train);
                AtomicFiles.writeString(train, DemoCorpus.generate(seed, STORIES));
                AtomicFiles.writeString(eval, DemoCorpus.generate(seed + 1, EVAL_STORIES));
            }
            inputs = List.of(train);
            evalText = Optional.of(eval);
        }

        Path tokenizerFile = out.resolve("tokenizer.bin");
        if (!Files.isRegularFile(tokenizerFile)) {
            log.accept("training a " + VOCAB + "-token BPE tokenizer on " + inputs.getFirst().getFileName());
            BpeTrainer.writeLlama2c(BpeTrainer.train(sample(inputs.getFirst(), 1 << 21), VOCAB), tokenizerFile);
        }
        Tokenizer tokenizer = TokenizerLoader.load(tokenizerFile);

        Path tokens = out.resolve("data");
        if (!Files.isRegularFile(tokens.resolve(TokenDataset.INDEX))) {
            DataPreparer.prepare(tokenizer, tokenizerFile.toAbsolutePath().toString(), inputs, tokens,
                    new PrepareOptions("text", dev.shears.data.DocumentSplit.PARAGRAPH, 0.05, 1024, PrepareOptions.DEFAULT.shardTokens()), progress);
        }

        ModelConfig shape = ModelConfig.uniform(Architecture.LLAMA, 128, 4, 4, 2, 32, 384, tokenizer.vocabSize(), SEQ_LEN, 1e-5f, 10000, true, false)
                .withTokens(tokenizer.bosId(), tokenizer.eosId());
        Path init = out.resolve("parent-config.json");
        if (!Files.isRegularFile(init)) HfConfig.write(shape, init, "float32");
        Path parent = out.resolve("parent");
        TrainConfig train = new TrainConfig(init.toAbsolutePath().toString(), "", tokenizerFile.toAbsolutePath().toString(),
                List.of(new TrainConfig.DataSource(tokens.toAbsolutePath().toString(), 1)), 16, SEQ_LEN, 1, steps, 0,
                3e-3, 3e-4, Math.max(1, steps / 20), LearningRateSchedule.Decay.COSINE, 0.9, 0.95, 1e-8, 0.1, 1.0, 0.02, seed,
                (int) Math.max(1, steps / 10), 32, (int) Math.max(1, steps / 5), 1, null, null);
        log.accept(String.format(Locale.ROOT, "training the parent (%s, %,d parameters) for %d steps of %d tokens",
                shape.describe(), shape.parameterCount(), steps, train.tokensPerStep()));
        TrainRun.Result trained = TrainRun.run(train, parent, resume && Files.isDirectory(parent), progress);

        Optional<PerplexityResult> ppl = evalText.map(file -> Perplexity.evaluate(trained.model(), tokenizer, read(file), SEQ_LEN, progress));
        GenerationResult greedy = Generation.generate(trained.model(), tokenizer, PROMPT, GenerationSettings.greedy(80), id -> { });
        GenerationResult sampled = Generation.generate(trained.model(), tokenizer, PROMPT, new GenerationSettings(80, 0.8f, 0.95f, seed), id -> { });
        return new Result(out, parent, shape, trained, ppl, PROMPT, greedy.text(), sampled.text(), (System.nanoTime() - began) / 1e9);
    }

    private static List<Path> listInputs(Path data) {
        if (Files.isRegularFile(data)) return List.of(data);
        if (!Files.isDirectory(data)) throw new ShearsException(data + ": no such file or folder");
        try (Stream<Path> files = Files.list(data)) {
            List<Path> inputs = new ArrayList<>(files.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p) && (n.endsWith(".txt") || n.endsWith(".jsonl") || n.endsWith(".raw"));
            }).sorted().toList());
            if (inputs.isEmpty()) throw new ShearsException(data + ": no .txt, .raw or .jsonl files here");
            return inputs;
        } catch (IOException e) {
            throw new ShearsException(data + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** Up to {@code maxChars} of a file's beginning, for tokenizer training (JSONL lines contribute their text field). */
    private static String sample(Path file, int maxChars) {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        StringBuilder s = new StringBuilder();
        try (var reader = Files.newBufferedReader(file)) {
            int lineNumber = 0;
            for (String line; s.length() < maxChars && (line = reader.readLine()) != null; ) {
                lineNumber++;
                if (!jsonl) {
                    s.append(line).append('\n');
                } else if (!line.isBlank()) {
                    try {
                        s.append(mapper.readTree(line).path("text").asText()).append("\n\n");
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new ShearsException(file + ":" + lineNumber + ": not JSON: " + e.getOriginalMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read as UTF-8 text: " + e.getMessage(), e);
        }
        return s.length() > maxChars ? s.substring(0, maxChars) : s.toString();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read as UTF-8 text: " + e.getMessage(), e);
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
