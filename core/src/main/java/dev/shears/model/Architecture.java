package dev.shears.model;

import java.util.Arrays;
import java.util.Optional;

/** The LLaMA-family variants Shears reads and writes; the math is the same, the file conventions differ. */
public enum Architecture {
    LLAMA("LlamaForCausalLM", "llama"),
    MISTRAL("MistralForCausalLM", "mistral"),
    QWEN2("Qwen2ForCausalLM", "qwen2");

    /** The Hugging Face {@code architectures[0]} value. */
    public final String hfClass;
    /** The Hugging Face {@code model_type}. */
    public final String hfModelType;

    Architecture(String hfClass, String hfModelType) {
        this.hfClass = hfClass;
        this.hfModelType = hfModelType;
    }

    public static Optional<Architecture> fromHfClass(String name) {
        return Arrays.stream(values()).filter(a -> a.hfClass.equals(name)).findFirst();
    }

    public static Optional<Architecture> fromModelType(String name) {
        return Arrays.stream(values()).filter(a -> a.hfModelType.equals(name)).findFirst();
    }
}
