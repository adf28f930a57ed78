package dev.shears.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.TokenizerWriter;
import dev.shears.format.gguf.GgufModelWriter;
import dev.shears.format.gguf.GgufTokenizers;
import dev.shears.format.gguf.GgufType;
import dev.shears.format.gguf.GgufUnigramVocab;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.LlamaTokenizerJson;
import dev.shears.format.sentencepiece.SentencePieceModelFile;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.Outputs;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Gguf;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.tensor.Encoding;
import dev.shears.tokenizer.Llama2cTokenizer;
import dev.shears.tokenizer.SentencePieceTokenizer;
import dev.shears.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code shears export}: a model as files other tools load. {@code hf}: a Hugging Face folder
 * (safetensors, sharded above {@code shardBytes}; {@code config.json} with {@code head_dim} and
 * per-layer fields when shapes differ; the tokenizer files). {@code gguf}: one GGUF v3 file with
 * llama-architecture metadata, the interleaved q/k RoPE layout and the tokenizer in its metadata. A
 * Hugging Face T5 folder goes through {@link T5HfFolder} or {@link T5Gguf} instead.
 *
 * @param model      what to export
 * @param tokenizer  an explicit tokenizer
 * @param format     {@code hf} or {@code gguf}
 * @param dtype      {@code f32}, {@code f16}, {@code bf16} or (GGUF only) {@code q8_0}; "" for the source's own (f16 for a
 *                   Q8_0 source written as safetensors)
 * @param out        a folder ({@code hf}) or a {@code .gguf} file
 * @param shardBytes largest safetensors shard ({@code hf})
 * @param force      replace an existing output (never an input); the new one appears only when complete
 */
public record Export(Path model, Optional<Path> tokenizer, String format, String dtype, Path out, long shardBytes, boolean force) {
    /** An export that refuses to replace anything. */
    public Export(Path model, Optional<Path> tokenizer, String format, String dtype, Path out, long shardBytes) {
        this(model, tokenizer, format, dtype, out, shardBytes, false);
    }

    public Export {
        format = format.toLowerCase(Locale.ROOT);
        dtype = dtype.toLowerCase(Locale.ROOT);
        if (!format.equals("hf") && !format.equals("gguf")) throw new ShearsException("--format must be hf or gguf, got '" + format + "'");
        if (!List.of("", "f32", "f16", "bf16", "q8_0").contains(dtype)) throw new ShearsException("--dtype must be f32, f16, bf16 or q8_0, got '" + dtype + "'");
        if (format.equals("hf") && dtype.equals("q8_0")) throw new ShearsException("safetensors has no q8_0; use --format gguf for q8_0, or f32/f16/bf16");
        if (shardBytes < 1) throw new ShearsException("--shard-size must be positive");
    }

    /**
     * A SentencePiece or llama2.c vocabulary also gets the tokenizer.json transformers' LlamaConverter
     * makes from it and a {@code tokenizer.model} (sentencepiece, for the slow LlamaTokenizer and
     * llama.cpp's converter) where the source had none: Hugging Face tools cannot read
     * {@code tokenizer.bin} (issue 13).
     */
    private static void writeTokenizerFiles(Tokenizer tokenizer, Path dir) throws IOException {
        SentencePieceTokenizer sp = tokenizer instanceof Llama2cTokenizer l ? LlamaTokenizerJson.asSentencePiece(l)
                : tokenizer instanceof SentencePieceTokenizer s ? s : null;
        if (sp == null || !LlamaTokenizerJson.fits(tokenizer)) return;
        if (!Files.exists(dir.resolve("tokenizer.json"))) LlamaTokenizerJson.write(sp, dir);
        if (!Files.exists(dir.resolve("tokenizer.model"))) SentencePieceModelFile.write(sp, dir.resolve("tokenizer.model"));
    }

    /**
     * What was written.
     *
     * @param path   the folder or the file
     * @param dtype  the dtype of its matrices
     * @param readBy which tools load it
     */
    public record Written(Path path, String dtype, String readBy) {
    }

    /** Writes the export. */
    public Written run() {
        Outputs.checkNotAnInput(out, Optional.of(model), tokenizer);
        if (format.equals("hf")) Outputs.checkFolderFree(out, force);
        else Outputs.checkFileFree(out, force);
        if (T5Config.describes(model)) return runT5(T5Model.load(model));
        if (OpenBaConfig.describes(model)) return runOpenBa(OpenBaModel.load(model));
        try (LoadedModel loaded = ModelSource.open(model, tokenizer)) {
            return run(loaded);
        }
    }

    /** What a Hugging Face T5 folder carries besides its weights and config, copied as they are. */
    static final List<String> T5_FILES = List.of("tokenizer.json", "spiece.model", "tokenizer_config.json", "special_tokens_map.json",
            "added_tokens.json", "generation_config.json");

    /**
     * A T5 folder: {@code hf} writes its weights under their Hugging Face names with the source's
     * config.json updated ({@link T5HfFolder}) and its tokenizer files; {@code gguf} writes llama.cpp's
     * {@code t5} architecture ({@link T5Gguf}) with the unigram vocabulary of {@code tokenizer.json} or {@code spiece.model}.
     * T5 weights are held in fp32, so the default dtype is f32.
     */
    private Written runT5(T5Model t5) {
        T5Config c = t5.config();
        ObjectNode base = readConfig(model.resolve("config.json"));
        if (format.equals("hf")) {
            DType type = dtype.isEmpty() ? DType.F32 : DType.valueOf(dtype.toUpperCase(Locale.ROOT));
            AtomicFiles.writeFolder(out, force, dir -> {
                T5HfFolder.write(t5, T5HfFolder.configJson(c, base, type), dir, type);
                copyTokenizerFiles(dir);
            });
            return new Written(out, type.name().toLowerCase(Locale.ROOT), T5HfFolder.isUniform(c) ? "Hugging Face transformers (T5ForConditionalGeneration) and Shears"
                    : "Shears only (" + T5Config.LAYER_SHAPES + ": transformers builds every T5 layer with num_heads heads and d_ff)");
        }
        GgufType type = dtype.isEmpty() ? GgufType.F32 : GgufType.valueOf(dtype.toUpperCase(Locale.ROOT));
        Optional<Path> vocabFile = tokenizer.or(() -> Stream.of("tokenizer.json", "spiece.model").map(model::resolve).filter(Files::isRegularFile).findFirst());
        Optional<GgufUnigramVocab> vocab = vocabFile.map(f -> unigramVocab(f, c.vocabSize()));
        int context = base.path("n_positions").asInt(T5Gguf.DEFAULT_CONTEXT);
        T5Gguf.write(t5, out, new T5Gguf.Options(type, context, model.toAbsolutePath().getFileName().toString(), vocab));
        return new Written(out, type.name().toLowerCase(Locale.ROOT), vocab.isPresent() ? "llama.cpp (architecture t5)"
                : "llama.cpp (architecture t5) once a tokenizer is embedded: no tokenizer.json or spiece.model was found; pass --tokenizer FILE");
    }

    /**
     * An OpenBA folder: {@code hf} only (llama.cpp has no OpenBA architecture), its weights under the published names with the
     * source's config.json updated ({@link OpenBaHfFolder}) and its tokenizer files. OpenBA weights are held in fp32, so the
     * default dtype is f32.
     */
    private Written runOpenBa(OpenBaModel openBa) {
        if (!format.equals("hf")) throw new ShearsException(model + ": llama.cpp has no OpenBA architecture; export OpenBA with --format hf");
        DType type = dtype.isEmpty() ? DType.F32 : DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        ObjectNode config = OpenBaHfFolder.configJson(openBa.config(), readConfig(model.resolve("config.json")), type);
        AtomicFiles.writeFolder(out, force, dir -> {
            OpenBaHfFolder.write(openBa, config, dir, type);
            copyTokenizerFiles(dir);
        });
        return new Written(out, type.name().toLowerCase(Locale.ROOT), config.has(OpenBaConfig.LAYER_SHAPES)
                ? "Shears only (" + OpenBaConfig.LAYER_SHAPES + ": the published modeling_openba.py builds every layer alike)"
                : "the published modeling_openba.py (trust_remote_code) and Shears");
    }

    /** The source folder's tokenizer and generation files, and an explicit --tokenizer, into the export {@code dir}. */
    private void copyTokenizerFiles(Path dir) throws java.io.IOException {
        for (String name : T5_FILES) {
            if (Files.isRegularFile(model.resolve(name))) Files.copy(model.resolve(name), dir.resolve(name));
        }
        if (tokenizer.isPresent()) TokenizerFiles.copyInto(tokenizer.get(), dir);
    }

    /** A T5 vocabulary for GGUF from a Unigram tokenizer.json or a SentencePiece unigram model ({@code spiece.model}). */
    static GgufUnigramVocab unigramVocab(Path file, int vocabSize) {
        if (file.getFileName().toString().endsWith(".json")) return GgufUnigramVocab.fromTokenizerJson(file, vocabSize);
        if (!file.getFileName().toString().endsWith(".model")) {
            throw new ShearsException(file + ": a T5 GGUF takes its vocabulary from a Unigram tokenizer.json or a SentencePiece spiece.model");
        }
        SentencePieceModelFile.NormalizerSpec spec = SentencePieceModelFile.normalizerSpec(file);
        return GgufUnigramVocab.of(file, SentencePieceModelFile.load(file), vocabSize, spec.precompiledCharsmap(), spec.addDummyPrefix(),
                spec.removeExtraWhitespaces());
    }

    private static ObjectNode readConfig(Path file) {
        try {
            return (ObjectNode) new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The source's weights stay mapped and are streamed into the output one row at a time. */
    private Written run(LoadedModel loaded) {
        Optional<Path> tokenizerFile = ModelSource.tokenizerFile(model, tokenizer);
        Encoding source = loaded.model().weights().encoding();
        String dtype = !this.dtype.isEmpty() ? this.dtype : format.equals("gguf") ? source.name().toLowerCase(Locale.ROOT)
                : DType.of(source).name().toLowerCase(Locale.ROOT);
        if (format.equals("hf")) {
            AtomicFiles.writeFolder(out, force, dir -> {
                HfModel.write(loaded.model(), dir, DType.valueOf(dtype.toUpperCase(Locale.ROOT)), shardBytes);
                if (tokenizerFile.isPresent()) {
                    TokenizerFiles.copyInto(tokenizerFile.get(), dir);
                } else if ("gguf".equals(loaded.format())) {
                    dev.shears.format.gguf.GgufModel.readTokenizer(model).ifPresent(data -> TokenizerWriter.writeFiles(data, dir));
                }
                writeTokenizerFiles(loaded.tokenizer(), dir);
            });
            return new Written(out, dtype, dev.shears.format.hf.HfConfig.readers(loaded.model().config()));
        }
        GgufModelWriter.Options options = GgufModelWriter.Options.defaults().withMatrixType(GgufType.valueOf(dtype.toUpperCase(Locale.ROOT)))
                .withName(model.toAbsolutePath().getFileName().toString());
        if (tokenizerFile.isPresent()) {
            options = options.withTokenizer(GgufTokenizers.toData(loaded.tokenizer(), tokenizerFile.get()));
        } else if ("gguf".equals(loaded.format())) {
            options = dev.shears.format.gguf.GgufModel.readTokenizer(model).map(options::withTokenizer).orElse(options);
        }
        GgufModelWriter.write(loaded.model(), out, options);
        return new Written(out, dtype, dev.shears.format.gguf.GgufModel.readers(loaded.model().config()));
    }
}
