package dev.shears.recipe;

import dev.shears.ShearsException;
import dev.shears.format.ModelLoader;
import dev.shears.format.TokenizerLoader;
import dev.shears.format.gguf.GgufModel;
import dev.shears.format.gguf.GgufTokenizers;
import dev.shears.model.Model;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;

/** Opens a model and its tokenizer the way every command does. */
public final class ModelSource {
    private ModelSource() {
    }

    /**
     * Opens a model with its weights mapped where the format allows (see {@link ModelLoader#open}).
     *
     * @param model     a Hugging Face folder, a {@code .gguf} or a llama2.c {@code .bin}
     * @param tokenizer an explicit tokenizer; otherwise one is looked for in the model's folder
     */
    public static LoadedModel open(Path model, Optional<Path> tokenizer) {
        Model loaded = ModelLoader.open(model);
        Tokenizer tok;
        try {
            tok = tokenizer(model, tokenizer).orElseThrow(() -> new ShearsException(model
                    + ": no tokenizer found beside the model; pass --tokenizer FILE (tokenizer.json, tokenizer.model or a llama2.c tokenizer .bin)"));
            if (tok.vocabSize() > loaded.config().vocabSize()) {
                throw new ShearsException("the tokenizer has " + tok.vocabSize() + " tokens but the model only " + loaded.config().vocabSize()
                        + " embeddings: they do not belong together");
            }
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        return new LoadedModel(loaded, tok, model, ModelLoader.format(model));
    }

    /**
     * The tokenizer of an encoder–decoder folder (explicit, else beside it), checked against the model's vocabulary:
     * a missing or a larger one is refused in one line.
     */
    public static Tokenizer seq2seqTokenizer(Path model, Optional<Path> explicit, int modelVocab) {
        Tokenizer tok = tokenizer(model, explicit).orElseThrow(() -> new ShearsException(model
                + ": no tokenizer found beside the model; pass --tokenizer FILE (spiece.model or tokenizer.json)"));
        if (tok.vocabSize() > modelVocab) {
            throw new ShearsException("the tokenizer has " + tok.vocabSize() + " tokens but " + model + " only " + modelVocab
                    + " embeddings: they do not belong together");
        }
        return tok;
    }

    /**
     * The explicit tokenizer, else the one inside a GGUF file, else the one beside the model. A GGUF
     * carries its own: a tokenizer file that happens to lie in the same folder belongs to something else.
     */
    public static Optional<Tokenizer> tokenizer(Path model, Optional<Path> explicit) {
        if (explicit.isPresent()) return explicit.map(TokenizerLoader::load);
        if ("gguf".equals(ModelLoader.format(model))) {
            Optional<Tokenizer> inside = GgufModel.readTokenizer(model).map(data -> GgufTokenizers.of(data, model));
            if (inside.isPresent()) return inside;
        }
        return TokenizerFiles.find(model).map(TokenizerLoader::load);
    }

    /** The tokenizer file {@link #tokenizer} reads: none when it is the one inside a GGUF. */
    public static Optional<Path> tokenizerFile(Path model, Optional<Path> explicit) {
        if (explicit.isPresent()) return explicit;
        if ("gguf".equals(ModelLoader.format(model)) && GgufModel.readTokenizer(model).isPresent()) return Optional.empty();
        return TokenizerFiles.find(model);
    }
}
