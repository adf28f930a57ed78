#!/usr/bin/python3
"""Writes the PyTorch reference fixtures under core/src/test/resources/torchref/<name>/.

Each fixture is a tiny seeded Hugging Face model folder (config.json + safetensors, written by the
small writer below) plus expected.safetensors from llama_reference.py:

  input_ids      F32 [batch, seq]          token ids (exact in fp32)
  targets        F32 [batch, seq]          next-token targets, -1 where not scored
  logits         F32 [batch, seq, vocab]   float64 forward, rounded once
  grad.<name>    F32, shape of <name>      d mean-loss / d weight at the stored weights
  after.<name>   F32, shape of <name>      weights after 10 AdamW steps on the same batch
  __metadata__   loss64, loss32, step_losses (JSON list), lr, betas, eps, weight_decay, clip, steps

A tied model has no lm_head tensor and its embedding gradient holds both uses. BF16/F16 fixtures
store the weights in that dtype; the reference runs on the rounded values.

Run with Debian's interpreter (it has python3-torch):  /usr/bin/python3 tools/torch_reference/make_fixtures.py
CI never runs this; the outputs are committed.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as ref  # noqa: E402
from fixture_io import empty_folder, folder_sizes, gradients, randn, sizes_text, write_config, write_model  # noqa: E402
from safetensors_io import DTYPES, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "core", "src", "test", "resources", "torchref"))
BATCH, SEQ = 2, 11
TRAIN = dict(train_steps=10, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, clip=1.0)


# ---------------------------------------------------------------- models

def hf_config(arch, dim, layers, heads, kv_heads, ffn, vocab, head_dim=None, eps=1e-5, theta=10000.0,
              rope_scaling=None, tied=False, extra=None):
    model_type = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2"}[arch]
    c = {"architectures": [arch], "model_type": model_type, "hidden_size": dim, "intermediate_size": ffn,
         "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
         "vocab_size": vocab, "max_position_embeddings": 64, "rms_norm_eps": eps, "rope_theta": theta,
         "rope_scaling": rope_scaling, "hidden_act": "silu", "tie_word_embeddings": tied,
         "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    if head_dim is not None:
        c["head_dim"] = head_dim
    if arch == "LlamaForCausalLM":
        c["attention_bias"] = False
        c["mlp_bias"] = False
    if extra:
        c.update(extra)
    return c


def random_weights(cfg, gen):
    """Weights scaled so activations stay O(1) and the logits are far from uniform (every path matters)."""
    def norm_weight():
        return (1 + randn(gen, cfg.dim, std=0.2)).to(torch.float32)

    d, hd, nh, nkv, f, v = cfg.dim, cfg.head_dim, cfg.num_heads, cfg.num_kv_heads, cfg.ffn_dim, cfg.vocab_size
    # a tied embedding is also the LM head: keep it at LM-head scale so the logits stay moderate
    w = {"model.embed_tokens.weight": randn(gen, v, d, std=1.5 / d ** 0.5 if cfg.tied else 1.0)}
    for l in range(cfg.num_layers):
        p = "model.layers.%d." % l
        w[p + "input_layernorm.weight"] = norm_weight()
        w[p + "self_attn.q_proj.weight"] = randn(gen, nh * hd, d, std=1.5 / d ** 0.5)
        w[p + "self_attn.k_proj.weight"] = randn(gen, nkv * hd, d, std=1.5 / d ** 0.5)
        w[p + "self_attn.v_proj.weight"] = randn(gen, nkv * hd, d, std=1.0 / d ** 0.5)
        if cfg.bias:
            w[p + "self_attn.q_proj.bias"] = randn(gen, nh * hd, std=0.3)
            w[p + "self_attn.k_proj.bias"] = randn(gen, nkv * hd, std=0.3)
            w[p + "self_attn.v_proj.bias"] = randn(gen, nkv * hd, std=0.3)
        w[p + "self_attn.o_proj.weight"] = randn(gen, d, nh * hd, std=1.0 / (nh * hd) ** 0.5)
        w[p + "post_attention_layernorm.weight"] = norm_weight()
        w[p + "mlp.gate_proj.weight"] = randn(gen, f, d, std=1.0 / d ** 0.5)
        w[p + "mlp.up_proj.weight"] = randn(gen, f, d, std=1.0 / d ** 0.5)
        w[p + "mlp.down_proj.weight"] = randn(gen, d, f, std=1.0 / f ** 0.5)
    w["model.norm.weight"] = norm_weight()
    if not cfg.tied:
        w["lm_head.weight"] = randn(gen, v, d, std=1.5 / d ** 0.5)
    return w


# name, seed, config, stored dtype, shards
FIXTURES = [
    ("llama_gqa", 11, hf_config("LlamaForCausalLM", 24, 2, 4, 2, 36, 67, eps=1e-5), "F32", 1),
    ("qwen2_bias_tied", 12, hf_config("Qwen2ForCausalLM", 24, 2, 6, 2, 40, 71, eps=1e-6, theta=1000000.0, tied=True,
                                      extra={"use_sliding_window": False, "sliding_window": None, "max_window_layers": 2}), "F32", 1),
    ("llama3_rope_head_dim", 13, hf_config("LlamaForCausalLM", 20, 2, 4, 1, 32, 61, head_dim=12, eps=1e-5, theta=10000.0,
                                           rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 256}), "F32", 1),
    ("llama_linear_rope", 14, hf_config("LlamaForCausalLM", 16, 2, 4, 4, 28, 53, eps=1e-6, theta=500.0,
                                        rope_scaling={"type": "linear", "factor": 4.0}), "F32", 1),
    ("mistral", 15, hf_config("MistralForCausalLM", 24, 2, 6, 3, 44, 59, eps=1e-5, extra={"sliding_window": 4096}), "F32", 1),
    ("llama_bf16", 16, hf_config("LlamaForCausalLM", 24, 2, 4, 2, 36, 67, eps=1e-5), "BF16", 1),
    ("llama_f16", 17, hf_config("LlamaForCausalLM", 24, 2, 4, 2, 36, 67, eps=1e-5, tied=True), "F16", 1),
    ("llama_sharded", 18, hf_config("LlamaForCausalLM", 16, 3, 4, 2, 24, 50, eps=1e-5), "F32", 2),
]


def write_fixture(name, seed, config, dtype_name, shards):
    out = empty_folder(ROOT, name)
    config = dict(config, torch_dtype={"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype_name])
    cfg = ref.Config(config)
    gen = torch.Generator().manual_seed(seed)
    weights = random_weights(cfg, gen)
    # what the file holds is what the reference computes with
    weights = {n: t.to(DTYPES[dtype_name]).to(torch.float32) for n, t in weights.items()}
    ids = torch.randint(0, cfg.vocab_size, (BATCH, SEQ), generator=gen, dtype=torch.int64)

    write_config(out, config)
    names = sorted(weights)
    if shards == 1:
        write_model(out, weights, dtype_name)
    else:
        parts = [names[i::shards] for i in range(shards)]   # interleaved, so every shard holds layer and model tensors
        weight_map = {}
        total = 0
        for i, part in enumerate(parts):
            file = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
            write_safetensors(os.path.join(out, file), [(n, weights[n]) for n in part], dtype_name, {"format": "pt"})
            for n in part:
                weight_map[n] = file
                total += weights[n].numel() * weights[n].element_size()
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
            f.write("\n")

    r = ref.reference(cfg, weights, ids, **TRAIN)
    expected = [("input_ids", ids.to(torch.float32)), ("targets", r["targets"].to(torch.float32)),
                ("logits", r["logits"].to(torch.float32))]
    expected += gradients(r, names)
    expected += [("after." + n, r["after"][n].to(torch.float32)) for n in names]
    meta = {"loss64": repr(r["loss64"]), "loss32": repr(r["loss32"]), "step_losses": json.dumps(r["step_losses"]),
            "steps": TRAIN["train_steps"], "lr": TRAIN["lr"], "beta1": TRAIN["betas"][0], "beta2": TRAIN["betas"][1],
            "eps": TRAIN["eps"], "weight_decay": TRAIN["weight_decay"], "clip": TRAIN["clip"],
            "weights_dtype": dtype_name, "torch": torch.__version__}
    write_safetensors(os.path.join(out, "expected.safetensors"), expected, "F32", meta)

    grad_norm = sum(float(g.pow(2).sum()) for g in r["grads"].values()) ** 0.5
    sizes = folder_sizes(out)
    print("%-22s loss %.6f (fp32 %.6f) grad norm %.3f logits |max| %.2f  %s" % (
        name, r["loss64"], r["loss32"], grad_norm, float(r["logits"].abs().max()), sizes_text(sizes)))
    return sum(sizes.values())


def main():
    torch.use_deterministic_algorithms(True)
    total = sum(write_fixture(*f) for f in FIXTURES)
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
