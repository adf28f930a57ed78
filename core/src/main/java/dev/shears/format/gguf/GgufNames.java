package dev.shears.format.gguf;

import dev.shears.format.hf.HfNames;
import dev.shears.model.TensorRole;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one table of GGUF (llama.cpp) tensor names. */
public final class GgufNames {
    private static final Map<TensorRole, String> NAMES = new EnumMap<>(TensorRole.class);
    private static final Pattern LAYER = Pattern.compile("blk\\.(\\d{1,9})\\.(.+)");

    static {
        NAMES.put(TensorRole.EMBEDDING, "token_embd.weight");
        NAMES.put(TensorRole.ATTENTION_NORM, "attn_norm.weight");
        NAMES.put(TensorRole.QUERY, "attn_q.weight");
        NAMES.put(TensorRole.KEY, "attn_k.weight");
        NAMES.put(TensorRole.VALUE, "attn_v.weight");
        NAMES.put(TensorRole.QUERY_BIAS, "attn_q.bias");
        NAMES.put(TensorRole.KEY_BIAS, "attn_k.bias");
        NAMES.put(TensorRole.VALUE_BIAS, "attn_v.bias");
        NAMES.put(TensorRole.OUTPUT, "attn_output.weight");
        NAMES.put(TensorRole.FFN_NORM, "ffn_norm.weight");
        NAMES.put(TensorRole.GATE, "ffn_gate.weight");
        NAMES.put(TensorRole.UP, "ffn_up.weight");
        NAMES.put(TensorRole.DOWN, "ffn_down.weight");
        NAMES.put(TensorRole.FINAL_NORM, "output_norm.weight");
        NAMES.put(TensorRole.LM_HEAD, "output.weight");
    }

    private GgufNames() {
    }

    public static String name(TensorRole role, int layer) {
        return role.perLayer ? "blk." + layer + "." + NAMES.get(role) : NAMES.get(role);
    }

    public static Optional<HfNames.Key> parse(String name) {
        Matcher m = LAYER.matcher(name);
        for (Map.Entry<TensorRole, String> e : NAMES.entrySet()) {
            if (m.matches() && e.getKey().perLayer && e.getValue().equals(m.group(2))) {
                return Optional.of(new HfNames.Key(e.getKey(), Integer.parseInt(m.group(1))));
            }
            if (!m.matches() && !e.getKey().perLayer && e.getValue().equals(name)) return Optional.of(new HfNames.Key(e.getKey(), -1));
        }
        return Optional.empty();
    }
}
