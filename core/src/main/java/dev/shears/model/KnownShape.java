package dev.shears.model;

import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Optional;

/**
 * The shapes of published checkpoints, from their Hugging Face {@code config.json} files, for sizing
 * hardware and testing at real size with random weights ({@code shears init}).
 */
public enum KnownShape {
    /** meta-llama/Llama-2-7b-hf */
    LLAMA_2_7B("llama-2-7b", llama(4096, 32, 32, 32, 11008, 32000, 4096, 10000, RopeScaling.NONE, false)),
    /** meta-llama/Llama-2-13b-hf */
    LLAMA_2_13B("llama-2-13b", llama(5120, 40, 40, 40, 13824, 32000, 4096, 10000, RopeScaling.NONE, false)),
    /** TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T */
    TINYLLAMA_1_1B("tinyllama-1.1b", llama(2048, 22, 32, 4, 5632, 32000, 2048, 10000, RopeScaling.NONE, false)),
    /** meta-llama/Llama-3.2-1B */
    LLAMA_3_2_1B("llama-3.2-1b", llama(2048, 16, 32, 8, 8192, 128256, 131072, 500000, RopeScaling.llama3(32, 1, 4, 8192), true)),
    /** princeton-nlp/Sheared-LLaMA-1.3B */
    SHEARED_LLAMA_1_3B("sheared-llama-1.3b", llama(2048, 24, 16, 16, 5504, 32000, 4096, 10000, RopeScaling.NONE, false)),
    /** princeton-nlp/Sheared-LLaMA-2.7B */
    SHEARED_LLAMA_2_7B("llama-2-7b", llama(2560, 32, 20, 20, 6912, 32000, 4096, 10000, RopeScaling.NONE, false));

    /** The name users write: {@code llama-2-7b}. */
    public final String userName;
    public final ModelConfig config;

    KnownShape(String userName, ModelConfig config) {
        this.userName = userName;
        this.config = config;
    }

    public static Optional<KnownShape> byName(String name) {
        return Arrays.stream(values()).filter(s -> s.userName.equals(name.toLowerCase(Locale.ROOT))).findFirst();
    }

    /** Every name, for help texts and errors. */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(s -> s.userName).toList());
    }

    private static ModelConfig llama(int dim, int layers, int heads, int kvHeads, int ffn, int vocab, int context, double theta,
                                     RopeScaling rope, boolean tied) {
        return new ModelConfig(Architecture.LLAMA, dim, dim / heads, vocab, Collections.nCopies(layers, new LayerShape(heads, kvHeads, ffn)),
                1e-5f, theta, rope, context, tied, false, vocab == 128256 ? 128000 : 1, vocab == 128256 ? 128001 : 2);
    }
}
