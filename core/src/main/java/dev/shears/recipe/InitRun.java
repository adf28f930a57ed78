package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.hf.HfConfig;
import dev.shears.format.hf.HfModel;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.model.KnownShape;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.tensor.RandomTensor;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code shears init}: a checkpoint of a given shape with seeded random weights (matrices uniform with
 * standard deviation {@value #STD}, norms 1, biases 0), written as a Hugging Face folder in the chosen
 * dtype, sharded, streamed one row at a time (constant memory at any size), with the tokenizer copied
 * beside it under its standard name. A T5 or OpenBA config.json ({@code model_type} t5 or openba) gives that
 * encoder–decoder instead, filled the same way and written by its own folder writer ({@link EncoderDecoderInit}). For sizing hardware before downloading and for testing and
 * benchmarking at real size.
 *
 * @param shape      a published shape, or a config file when empty
 * @param config     a Hugging Face config.json (when no shape is named)
 * @param dtype      the weights' dtype in the file
 * @param tokenizer  copied beside the weights; its vocabulary must fit the model's
 * @param out        the folder to write (missing or empty)
 * @param seed       the random seed
 * @param shardBytes the largest shard
 */
public record InitRun(Optional<KnownShape> shape, Optional<Path> config, DType dtype, Optional<Path> tokenizer, Path out, long seed, long shardBytes) {
    static final double STD = 0.02;

    public InitRun {
        if (shape.isPresent() == config.isPresent()) throw new ShearsException("give exactly one of --shape NAME (" + KnownShape.names() + ") or --config CONFIG.json");
        if (shardBytes < 1) throw new ShearsException("--shard-size must be positive, got " + shardBytes);
    }

    /**
     * What was written.
     *
     * @param shape  the model's shape in words
     * @param params its parameters
     */
    public record Result(Path out, String shape, long params, DType dtype, long bytes, double seconds) {
    }

    public Result run() {
        long began = System.nanoTime();
        Optional<EncoderDecoderConfig> encoderDecoder = config.flatMap(EncoderDecoderConfig::readFile);
        if (encoderDecoder.isPresent()) return runEncoderDecoder(encoderDecoder.get(), began);
        ModelConfig c = shape.map(s -> s.config).orElseGet(() -> HfConfig.read(config.get()));
        Optional<Tokenizer> tok = tokenizer.map(TokenizerLoader::load);
        checkVocabulary(tok, c.vocabSize());
        Outputs.checkSpace(out, c.parameterCount() * dtype.bytes);
        Model model = random(c, seed);
        AtomicFiles.writeFolder(out, dir -> {
            HfModel.write(model, dir, dtype, shardBytes);
            tokenizer.ifPresent(t -> TokenizerFiles.copyInto(t, dir));
        });
        return new Result(out, c.describe(), c.parameterCount(), dtype, c.parameterCount() * dtype.bytes, (System.nanoTime() - began) / 1e9);
    }

    /** A T5 or OpenBA config: one model.safetensors (the architecture's writer reads no shards), so {@code shardBytes} does not apply. */
    private Result runEncoderDecoder(EncoderDecoderConfig c, long began) {
        checkVocabulary(tokenizer.map(TokenizerLoader::load), c.vocabSize());
        EncoderDecoderInit.checkFits(c);
        Outputs.checkSpace(out, c.parameterCount() * dtype.bytes);
        EncoderDecoder model = EncoderDecoderInit.random(c, seed);
        AtomicFiles.writeFolder(out, dir -> {
            EncoderDecoderInit.write(model, config.get(), dir, dtype);
            if (tokenizer.isPresent()) EncoderDecoderInit.copyTokenizer(tokenizer.get(), dir);
        });
        return new Result(out, c.describe(), c.parameterCount(), dtype, c.parameterCount() * dtype.bytes, (System.nanoTime() - began) / 1e9);
    }

    private void checkVocabulary(Optional<Tokenizer> tok, int vocabSize) {
        if (tok.isPresent() && tok.get().vocabSize() > vocabSize) {
            throw new ShearsException(tokenizer.get() + ": has " + tok.get().vocabSize() + " tokens, more than the model's " + vocabSize + " embeddings");
        }
    }

    /** A model whose every tensor is a {@link RandomTensor}: nothing is computed until it is read. */
    static Model random(ModelConfig c, long seed) {
        long[] next = {seed};
        ModelWeights weights = ModelWeights.of(c, (role, layer) -> {
            int rows = role.rows(c, layer), cols = role.cols(c, layer);
            long tensorSeed = next[0]++;
            return switch (role) {
                case ATTENTION_NORM, FFN_NORM, FINAL_NORM -> new RandomTensor(rows, cols, 0, 1f, tensorSeed);
                case QUERY_BIAS, KEY_BIAS, VALUE_BIAS -> new RandomTensor(rows, cols, 0, 0f, tensorSeed);
                default -> new RandomTensor(rows, cols, STD, 0f, tensorSeed * 0x2545F4914F6CDD1DL);
            };
        }, List.of());
        return new Model(c, weights);
    }
}
