package dev.shears.format.hf;

import dev.shears.model.TensorRole;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one table of Hugging Face tensor names (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM). */
public final class HfNames {
    private static final Map<TensorRole, String> NAMES = new EnumMap<>(TensorRole.class);
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,9})\\.(.+)");

    static {
        NAMES.put(TensorRole.EMBEDDING, "model.embed_tokens.weight");
        NAMES.put(TensorRole.ATTENTION_NORM, "input_layernorm.weight");
        NAMES.put(TensorRole.QUERY, "self_attn.q_proj.weight");
        NAMES.put(TensorRole.KEY, "self_attn.k_proj.weight");
        NAMES.put(TensorRole.VALUE, "self_attn.v_proj.weight");
        NAMES.put(TensorRole.QUERY_BIAS, "self_attn.q_proj.bias");
        NAMES.put(TensorRole.KEY_BIAS, "self_attn.k_proj.bias");
        NAMES.put(TensorRole.VALUE_BIAS, "self_attn.v_proj.bias");
        NAMES.put(TensorRole.OUTPUT, "self_attn.o_proj.weight");
        NAMES.put(TensorRole.FFN_NORM, "post_attention_layernorm.weight");
        NAMES.put(TensorRole.GATE, "mlp.gate_proj.weight");
        NAMES.put(TensorRole.UP, "mlp.up_proj.weight");
        NAMES.put(TensorRole.DOWN, "mlp.down_proj.weight");
        NAMES.put(TensorRole.FINAL_NORM, "model.norm.weight");
        NAMES.put(TensorRole.LM_HEAD, "lm_head.weight");
    }

    private HfNames() {
    }

    /** A tensor's role and layer (-1 for model-level tensors). */
    public record Key(TensorRole role, int layer) {
    }

    public static String name(TensorRole role, int layer) {
        return role.perLayer ? "model.layers." + layer + "." + NAMES.get(role) : NAMES.get(role);
    }

    /** The role of a name, or empty for a name outside the table. */
    public static Optional<Key> parse(String name) {
        Matcher m = LAYER.matcher(name);
        if (m.matches()) {
            for (Map.Entry<TensorRole, String> e : NAMES.entrySet()) {
                if (e.getKey().perLayer && e.getValue().equals(m.group(2))) return Optional.of(new Key(e.getKey(), Integer.parseInt(m.group(1))));
            }
            return Optional.empty();
        }
        for (Map.Entry<TensorRole, String> e : NAMES.entrySet()) {
            if (!e.getKey().perLayer && e.getValue().equals(name)) return Optional.of(new Key(e.getKey(), -1));
        }
        return Optional.empty();
    }

    /** Buffers some exporters include that carry no weights (recomputed from the config). */
    public static boolean isIgnorable(String name) {
        return name.endsWith("rotary_emb.inv_freq");
    }
}
