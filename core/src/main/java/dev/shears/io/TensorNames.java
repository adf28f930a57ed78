package dev.shears.io;

import dev.shears.model.TensorRole;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table of tensor names: each role's name in a Hugging Face checkpoint (LlamaForCausalLM,
 * MistralForCausalLM, Qwen2ForCausalLM) and in a GGUF file (llama.cpp) side by side, per-layer names
 * under the layout's layer prefix.
 */
public enum TensorNames {
    HF("model.layers.", "model\\.layers\\.(\\d{1,9})\\.(.+)"),
    GGUF("blk.", "blk\\.(\\d{1,9})\\.(.+)");

    /** Role → {HF name, GGUF name}. */
    private static final Map<TensorRole, String[]> TABLE = new EnumMap<>(TensorRole.class);

    static {
        TABLE.put(TensorRole.EMBEDDING, new String[] {"model.embed_tokens.weight", "token_embd.weight"});
        TABLE.put(TensorRole.ATTENTION_NORM, new String[] {"input_layernorm.weight", "attn_norm.weight"});
        TABLE.put(TensorRole.QUERY, new String[] {"self_attn.q_proj.weight", "attn_q.weight"});
        TABLE.put(TensorRole.KEY, new String[] {"self_attn.k_proj.weight", "attn_k.weight"});
        TABLE.put(TensorRole.VALUE, new String[] {"self_attn.v_proj.weight", "attn_v.weight"});
        TABLE.put(TensorRole.QUERY_BIAS, new String[] {"self_attn.q_proj.bias", "attn_q.bias"});
        TABLE.put(TensorRole.KEY_BIAS, new String[] {"self_attn.k_proj.bias", "attn_k.bias"});
        TABLE.put(TensorRole.VALUE_BIAS, new String[] {"self_attn.v_proj.bias", "attn_v.bias"});
        TABLE.put(TensorRole.OUTPUT, new String[] {"self_attn.o_proj.weight", "attn_output.weight"});
        TABLE.put(TensorRole.FFN_NORM, new String[] {"post_attention_layernorm.weight", "ffn_norm.weight"});
        TABLE.put(TensorRole.GATE, new String[] {"mlp.gate_proj.weight", "ffn_gate.weight"});
        TABLE.put(TensorRole.UP, new String[] {"mlp.up_proj.weight", "ffn_up.weight"});
        TABLE.put(TensorRole.DOWN, new String[] {"mlp.down_proj.weight", "ffn_down.weight"});
        TABLE.put(TensorRole.FINAL_NORM, new String[] {"model.norm.weight", "output_norm.weight"});
        TABLE.put(TensorRole.LM_HEAD, new String[] {"lm_head.weight", "output.weight"});
    }

    private final String layerPrefix;
    private final Pattern layer;

    TensorNames(String layerPrefix, String layerPattern) {
        this.layerPrefix = layerPrefix;
        this.layer = Pattern.compile(layerPattern);
    }

    /** A tensor's role and layer (-1 for model-level tensors). */
    public record Key(TensorRole role, int layer) {
    }

    public String name(TensorRole role, int layer) {
        String name = TABLE.get(role)[ordinal()];
        return role.perLayer ? layerPrefix + layer + "." + name : name;
    }

    /** The role of a name, or empty for a name outside the table. */
    public Optional<Key> parse(String name) {
        Matcher m = layer.matcher(name);
        boolean perLayer = m.matches();
        for (Map.Entry<TensorRole, String[]> e : TABLE.entrySet()) {
            if (e.getKey().perLayer != perLayer) continue;
            if (e.getValue()[ordinal()].equals(perLayer ? m.group(2) : name)) {
                return Optional.of(new Key(e.getKey(), perLayer ? Integer.parseInt(m.group(1)) : -1));
            }
        }
        return Optional.empty();
    }

    /** Buffers some exporters include that carry no weights (recomputed from the config). */
    public boolean isIgnorable(String name) {
        return this == HF && name.endsWith("rotary_emb.inv_freq");
    }
}
