package dev.shears.demo;

import dev.shears.format.TokenizerLoader;
import dev.shears.format.llama2c.Llama2cTokenizerFile;
import dev.shears.recipe.LoadedModel;
import dev.shears.recipe.ModelSource;
import dev.shears.recipe.Pipeline;
import dev.shears.ShearsException;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.data.TokenDataset;
import dev.shears.eval.Generation;
import dev.shears.eval.GenerationSettings;
import dev.shears.format.hf.HfConfig;
import dev.shears.io.AtomicFiles;
import dev.shears.model.Architecture;
import dev.shears.model.ModelConfig;
import dev.shears.progress.Progress;
import dev.shears.tokenizer.BpeTrainer;
import dev.shears.tokenizer.Tokenizer;

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
 * (or takes {@code --data}), trains its own BPE tokenizer and prepares token shards, then runs a
 * pipeline it writes into the demo folder ({@code demo-pipeline.yaml}, re-runnable with
 * {@code shears pipeline run}): train a small LLaMA parent from scratch, evaluate it, prune depth and
 * heal with distillation from the parent, prune width and heal, prune the vocabulary, evaluate
 * again and export to GGUF. A second run with {@code resume} continues where the first stopped.
 *
 * @param out    the demo folder
 * @param data   a folder of .txt/.jsonl files (or one file) to use instead of the generated stories
 * @param steps  training steps of the parent (the healing stages take a fraction of it)
 * @param seed   seeds the corpus, the initialisation and the batch order
 * @param resume continue an earlier demo in {@code out}
 */
public record Demo(Path out, Optional<Path> data, long steps, long seed, boolean resume) {
    static final int VOCAB = 512;
    static final int SEQ_LEN = 128;
    static final int STORIES = 6000;
    static final int EVAL_STORIES = 200;
    static final int RECALL_ITEMS = 200;
    static final String PROMPT = "Once upon a time, there was a little";
    public static final String PIPELINE = "demo-pipeline.yaml";

    /** What the demo made: the pipeline's stages, and a story from the parent and from the final model. */
    public record Result(Path out, Path pipelineFile, List<Pipeline.StageResult> stages, Path parent, Path last, String prompt,
                         String parentText, String lastText, double seconds) {
    }

    public Demo {
        if (steps < 10) throw new ShearsException("--steps must be at least 10, got " + steps);
    }

    public Result run(Progress progress, Consumer<String> log) {
        long began = System.nanoTime();
        if (!resume && !AtomicFiles.isMissingOrEmpty(out)) {
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
                AtomicFiles.writeString(eval, DemoCorpus.generate(seed + 1, EVAL_STORIES));
                AtomicFiles.writeString(corpusDir.resolve("name-recall.jsonl"), DemoCorpus.nameRecallItems(seed + 2, RECALL_ITEMS));
                AtomicFiles.writeString(corpusDir.resolve("name-recall.yaml"), """
                        name: name_recall
                        kind: last_word
                        file: name-recall.jsonl
                        context: "{context}"
                        continuation: "{name}"
                        reference: "shears demo: a story's hero named again at its end (LAMBADA-style greedy accuracy)"
                        """);
                AtomicFiles.writeString(corpusDir.resolve("stories-perplexity.yaml"), """
                        name: unseen_stories
                        kind: perplexity
                        file: stories-eval.txt
                        reference: "shears demo: rolling perplexity of generated stories never trained on"
                        """);
                AtomicFiles.writeString(train, DemoCorpus.generate(seed, STORIES));
            }
            inputs = List.of(train);
            evalText = Optional.of(eval);
        }

        Path tokenizerFile = out.resolve("tokenizer.bin");
        if (!Files.isRegularFile(tokenizerFile)) {
            log.accept("training a " + VOCAB + "-token BPE tokenizer on " + inputs.getFirst().getFileName());
            Llama2cTokenizerFile.write(BpeTrainer.train(sample(inputs.getFirst(), 1 << 21), VOCAB), tokenizerFile);
        }
        Tokenizer tokenizer = TokenizerLoader.load(tokenizerFile);
        Path tokens = out.resolve("data");
        if (!Files.isRegularFile(tokens.resolve(TokenDataset.INDEX))) {
            DataPreparer.prepare(tokenizer, tokenizerFile.toAbsolutePath().toString(), inputs, tokens,
                    new PrepareOptions("text", dev.shears.data.DocumentSplit.PARAGRAPH, 0.05, 1024, PrepareOptions.DEFAULT.shardTokens(), true), progress);
        }
        ModelConfig shape = ModelConfig.uniform(Architecture.LLAMA, 128, 4, 4, 2, 32, 384, tokenizer.vocabSize(), SEQ_LEN, 1e-5f, 10000, true, false)
                .withTokens(tokenizer.bosId(), tokenizer.eosId());
        Path init = out.resolve("parent-config.json");
        if (!Files.isRegularFile(init)) HfConfig.write(shape, init, "float32");
        Path calibration = evalText.orElse(inputs.getFirst());
        Path pipelineFile = out.resolve(PIPELINE);
        AtomicFiles.writeString(pipelineFile, pipeline(out, calibration, inputs.getFirst(), evalText.isPresent()));
        Pipeline.Plan plan = Pipeline.load(pipelineFile);
        log.accept(String.format(Locale.ROOT, "running %s: %d stages, from a %,d-parameter parent (%s)", pipelineFile, plan.stages().size(),
                shape.parameterCount(), shape.describe()));
        List<Pipeline.StageResult> stages = Pipeline.run(plan, out, true, progress, // the demo folder already holds its corpus and data
                log, r -> log.accept(String.format(Locale.ROOT, "stage %s done: %s (%,d parameters)", r.stage().folder(), r.shape().describe(), r.shape().parameterCount())));
        Path parent = stages.getFirst().out();
        Path last = stages.stream().filter(r -> !r.summary().passThrough()).reduce((a, b) -> b).orElseThrow().out();
        String parentText = story(parent);
        String lastText = story(last);
        return new Result(out, pipelineFile, stages, parent, last, PROMPT, parentText, lastText, (System.nanoTime() - began) / 1e9);
    }

    private String story(Path model) {
        try (LoadedModel m = ModelSource.open(model, Optional.empty())) {
            return Generation.generate(m.model(), m.tokenizer(), PROMPT, new GenerationSettings(60, 0.8f, 0.95f, seed), id -> { }).text();
        }
    }

    /** The demo's pipeline, relative to the demo folder. */
    private String pipeline(Path out, Path calibration, Path text, boolean ownCorpus) {
        String cal = out.toAbsolutePath().relativize(calibration.toAbsolutePath()).toString();
        String textPath = out.toAbsolutePath().relativize(text.toAbsolutePath()).toString();
        long heal = Math.max(10, steps / 4);
        String train = "data: [{path: data, weight: 1}], batchSize: 16, seqLen: " + SEQ_LEN + ", seed: " + seed;
        String evalStage = ownCorpus
                ? "    eval: {tasks: [corpus/name-recall.yaml, corpus/stories-perplexity.yaml], dataDir: corpus, limit: " + RECALL_ITEMS + "}\n"
                : null;
        StringBuilder y = new StringBuilder("# Written by shears demo; run it again with: shears pipeline run " + PIPELINE + " --out . --resume\n");
        y.append("stages:\n");
        y.append("  - name: parent\n    train: {init: parent-config.json, tokenizer: tokenizer.bin, ").append(train)
                .append(", steps: ").append(steps).append(", lr: 3.0e-3, minLr: 3.0e-4, warmupSteps: ").append(Math.max(1, steps / 20))
                .append(", evalInterval: ").append(Math.max(1, steps / 10)).append(", evalWindows: 32, checkpointInterval: ").append(Math.max(1, steps / 5))
                .append(", keepCheckpoints: 1}\n");
        if (evalStage != null) y.append("  - name: eval-parent\n").append(evalStage);
        y.append("  - name: depth\n    prune: {layers: 0.25, layerImportance: block-influence, calibration: ").append(cal).append("}\n");
        y.append("  - name: heal-depth\n    train: {").append(train).append(", steps: ").append(heal)
                .append(", lr: 1.0e-3, minLr: 1.0e-4, warmupSteps: 5, evalInterval: ").append(Math.max(1, heal / 5))
                .append(", checkpointInterval: ").append(heal).append(", keepCheckpoints: 1, distill: {teacher: 01-parent, temperature: 2.0, alpha: 0.5}}\n");
        y.append("  - name: width\n    prune: {ffn: 0.5, heads: 0.5, headMode: PER_GROUP, importance: activation, calibration: ").append(cal).append("}\n");
        y.append("  - name: heal-width\n    train: {").append(train).append(", steps: ").append(heal)
                .append(", lr: 1.0e-3, minLr: 1.0e-4, warmupSteps: 5, evalInterval: ").append(Math.max(1, heal / 5))
                .append(", checkpointInterval: ").append(heal).append(", keepCheckpoints: 1, distill: {teacher: 01-parent, temperature: 2.0, alpha: 0.5}}\n");
        if (evalStage != null) y.append("  - name: eval-healed\n").append(evalStage);
        y.append("  - name: vocabulary\n    prune: {vocab: 0.1, vocabCorpus: data, samples: 64, seqLen: 32, calibration: ").append(cal).append("}\n");
        // the vocabulary changed, so the heal re-tokenizes the text with the pruned tokenizer
        y.append("  - name: heal-vocabulary\n    train: {data: [{path: ").append(textPath).append(", weight: 1}], batchSize: 16, seqLen: ").append(SEQ_LEN)
                .append(", seed: ").append(seed).append(", steps: ").append(Math.max(10, heal / 2))
                .append(", lr: 1.0e-3, minLr: 1.0e-4, warmupSteps: 5, evalInterval: ").append(Math.max(1, heal / 10))
                .append(", checkpointInterval: ").append(heal).append(", keepCheckpoints: 1}\n");
        if (evalStage != null) y.append("  - name: eval-final\n").append(evalStage);
        y.append("  - name: export\n    export: {format: gguf, dtype: q8_0}\n");
        return y.toString();
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

}
