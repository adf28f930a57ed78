#!/usr/bin/python3
"""Writes the OpenBA PyTorch reference fixtures under core/src/test/resources/torchref-openba/.

Each fixture <name>/ is a tiny seeded OpenBAForConditionalGeneration folder (config.json in OpenBA's key names,
model.safetensors with the published tensor names) plus expected.safetensors from openba_reference.py:

  input_ids        F32 [batch, srcLen]          encoder token ids (exact in fp32)
  labels           F32 [batch, tgtLen]          decoder labels, -100 where not scored
  logits           F32 [batch, tgtLen, vocab]   float64 forward, rounded once
  grad.<name>      F32, shape of <name>         d mean-loss / d weight at the stored weights
  __metadata__     loss64, torch

openba_nonuniform/ also holds pytorch_model.bin: the same weights written by torch.save as a state dict, with the
stacks' references to the shared embedding (encoder.embed_tokens.weight, decoder.embed_tokens.weight) that
OpenBAForConditionalGeneration.state_dict() contains, sharing one storage; the Java test loads it in place of
model.safetensors and expects the same weights.

Weights are large (embedding std 1, LayerNorm weights 1 + N(0, 0.2) and biases N(0, 0.2), attention at
std 1.2/sqrt(dim), q/k/v/o biases of std 0.5, an LM-head bias of std 1) so that each plausible mistake moves the
logits far beyond the test's tolerance; main() prints by how much: rotary pairs interleaved instead of
rotate_half, no rotary, no 1/sqrt(kv_channels), the SwiGLU halves swapped, the fused q/k/v read as three
stacked blocks instead of per-head [q|k|v], the biases left out, RMSNorm in place of LayerNorm.

Run with Debian's interpreter (it has python3-torch):  /usr/bin/python3 tools/torch_reference/make_openba_fixtures.py
CI never runs this; the outputs are committed.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openba_reference as ref  # noqa: E402
from fixture_io import empty_folder, folder_sizes, gradients, randn, seq2seq_ids, sizes_text, write_config, write_model  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "core", "src", "test", "resources", "torchref-openba"))
BATCH, SRC, TGT = 2, 11, 9


def openba_config(dim, kv_channels, heads, ffn_hidden_size, layers, decoder_layers, vocab, bias, tied, shapes=None):
    """The keys of OpenNLG/OpenBA's published model_config.json, with tiny values."""
    c = {"architectures": ["OpenBAForConditionalGeneration"], "model_type": "openba", "hidden_size": dim,
         "kv_channels": kv_channels, "num_heads": heads, "ffn_hidden_size": ffn_hidden_size, "num_layers": layers,
         "num_decoder_layers": decoder_layers, "vocab_size": vocab, "add_qkv_bias": bias, "add_ffn_bias": False,
         "add_lm_head_bias": bias, "attention_dropout": 0.0, "hidden_dropout": 0.0, "max_seq_length": 16,
         "decoder_max_seq_length": 12, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1,
         "initializer_factor": 1.0, "is_encoder_decoder": True, "tie_word_embeddings": tied, "use_cache": True,
         "torch_dtype": "float32"}
    if shapes:
        c["shears_layer_shapes"] = shapes
    return c


def random_weights(cfg, gen):
    d, hd = cfg.dim, cfg.head_dim

    def norm(p):
        w[p + ".weight"] = (1 + randn(gen, d, std=0.2)).to(torch.float32)
        w[p + ".bias"] = randn(gen, d, std=0.2)

    def linear(p, out, inp, std, bias):
        w[p + ".weight"] = randn(gen, out, inp, std=std / inp ** 0.5)
        if bias:
            w[p + ".bias"] = randn(gen, out, std=0.5)

    w = {"shared_embedding.weight": randn(gen, cfg.vocab_size, d, std=1.0)}
    for stack, layers in (("encoder", cfg.encoder), ("decoder", cfg.decoder)):
        for l, (heads, cross_heads, ff) in enumerate(layers):
            p = "%s.block.%d." % (stack, l)
            norm(p + "input_layernorm")
            linear(p + "self_attn.qkv", 3 * heads * hd, d, 1.2, cfg.qkv_bias)
            linear(p + "self_attn.o", d, heads * hd, 1.0, cfg.qkv_bias)
            norm(p + "post_attn_layernorm")
            if stack == "decoder":
                linear(p + "inter_attn.q", cross_heads * hd, d, 1.2, cfg.qkv_bias)
                linear(p + "inter_attn.kv", 2 * cross_heads * hd, d, 1.2, cfg.qkv_bias)
                linear(p + "inter_attn.o", d, cross_heads * hd, 1.0, cfg.qkv_bias)
                norm(p + "post_inter_attn_layernorm")
            linear(p + "mlp.fc_in", 2 * ff, d, 1.5, False)
            linear(p + "mlp.fc_out", d, ff, 1.0, False)
        norm(stack + ".final_layernorm")
    if not cfg.tied:
        w["lm_head.weight"] = randn(gen, cfg.vocab_size, d, std=1.5 / d ** 0.5)
    if cfg.lm_head_bias:
        w["lm_head.bias"] = randn(gen, cfg.vocab_size, std=1.0)
    return w


FIXTURES = [
    # the published 15B's switches: q/k/v/o and LM-head biases, untied; asymmetric depth; heads * kv_channels != hidden;
    # ffn_hidden_size 100 -> int(66.7) = 66 -> SwiGLU width 256
    ("openba_bias_asym", 31, openba_config(12, 6, 3, 100, 1, 3, 37, True, False)),
    # no biases, tied head (scaled by hidden^-1/2), 2 / 2 layers; ffn_hidden_size 300 -> 200 -> SwiGLU width 256
    ("openba_nobias_tied", 32, openba_config(8, 4, 4, 300, 2, 2, 29, False, True)),
    # pruned shapes: per-layer heads (self and cross) and SwiGLU widths, biases on, untied
    ("openba_nonuniform", 33, openba_config(12, 4, 4, 100, 2, 3, 31, True, False, shapes={
        "encoder": [{"num_heads": 4, "ffn_width": 24}, {"num_heads": 2, "ffn_width": 12}],
        "decoder": [{"num_heads": 3, "num_cross_heads": 2, "ffn_width": 16}, {"num_heads": 4, "num_cross_heads": 4, "ffn_width": 8},
                    {"num_heads": 1, "num_cross_heads": 3, "ffn_width": 20}]}), True),
]


def sensitivity(cfg, weights, ids, labels, logits):
    """Largest logit change, relative to max |logit|, of each plausible mistake (the test tolerance is 2e-5)."""
    w = {n: t.to(torch.float64) for n, t in weights.items()}
    scale = float(logits.abs().max())
    out = {}
    saved = ref.apply_rotary, ref.attend, ref.mlp, ref.self_attention, ref.layer_norm

    def interleaved(x, sin, cos):
        pairs = x.unflatten(-1, (-1, 2))
        x1, x2 = pairs[..., 0], pairs[..., 1]
        s, c = sin[None, :, None, :], cos[None, :, None, :]
        return torch.stack((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1).flatten(-2)
    ref.apply_rotary = interleaved
    out["interleaved-rotary"] = ref.forward(cfg, w, ids, labels)
    ref.apply_rotary = lambda x, sin, cos: x
    out["no-rotary"] = ref.forward(cfg, w, ids, labels)
    ref.apply_rotary = saved[0]

    def unscaled(c, q, k, v, causal):
        return saved[1](c, q * q.shape[-1] ** 0.5, k, v, causal)
    ref.attend = unscaled
    out["no-sqrt-d"] = ref.forward(cfg, w, ids, labels)
    ref.attend = saved[1]

    def swapped(x, ww, p):
        up, gate = torch.chunk(x @ ww[p + "fc_in.weight"].t(), 2, dim=-1)
        return (F.silu(gate) * up) @ ww[p + "fc_out.weight"].t()
    ref.mlp = swapped
    out["gate-halves-swapped"] = ref.forward(cfg, w, ids, labels)
    ref.mlp = saved[2]

    def stacked(c, x, ww, p, heads, causal):
        # [all q | all k | all v] rows read as if they were per-head [q|k|v]: permute the fused rows to that reading
        hd = c.head_dim
        per_head = torch.arange(3 * heads * hd).view(heads, 3, hd).transpose(0, 1).reshape(-1)
        ww = dict(ww)
        ww[p + "qkv.weight"] = ww[p + "qkv.weight"][per_head]
        if c.qkv_bias:
            ww[p + "qkv.bias"] = ww[p + "qkv.bias"][per_head]
        return saved[3](c, x, ww, p, heads, causal)
    ref.self_attention = stacked
    out["qkv-not-per-head"] = ref.forward(cfg, w, ids, labels)
    ref.self_attention = saved[3]

    ref.layer_norm = lambda x, ww, p: ww[p + ".weight"] * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + ref.EPS)
    out["rms-norm"] = ref.forward(cfg, w, ids, labels)
    ref.layer_norm = saved[4]

    if cfg.qkv_bias:
        out["no-biases"] = ref.forward(cfg, {n: (t * 0 if n.endswith(".bias") and "norm" not in n else t) for n, t in w.items()}, ids, labels)
    if cfg.tied:
        out["no-tied-rescale"] = ref.forward(cfg, w, ids, labels) * cfg.dim ** 0.5
    return {k: float((v - logits).abs().max()) / scale for k, v in out.items()}


def write_fixture(name, seed, config, torch_bin=False):
    out = empty_folder(ROOT, name)
    cfg = ref.Config(config)
    gen = torch.Generator().manual_seed(seed)
    weights = random_weights(cfg, gen)
    ids, labels = seq2seq_ids(gen, cfg.vocab_size, BATCH, SRC, TGT, ref.IGNORE)
    write_config(out, config)
    names = write_model(out, weights)

    if torch_bin:
        state = {n: weights[n] for n in names}
        state["encoder.embed_tokens.weight"] = state["decoder.embed_tokens.weight"] = state["shared_embedding.weight"]
        torch.save(state, os.path.join(out, "pytorch_model.bin"))

    r = ref.reference(cfg, weights, ids, labels)
    expected = [("input_ids", ids.to(torch.float32)), ("labels", labels.to(torch.float32)),
                ("logits", r["logits"].to(torch.float32))]
    write_safetensors(os.path.join(out, "expected.safetensors"), expected + gradients(r, names), "F32",
                      {"loss64": repr(r["loss64"]), "torch": torch.__version__})
    sizes = folder_sizes(out)
    print("%-20s loss %.6f logits |max| %.2f  %s" % (name, r["loss64"], float(r["logits"].abs().max()), sizes_text(sizes)))
    print("   mistakes move the logits by (relative):",
          " ".join("%s %.1e" % kv for kv in sensitivity(cfg, weights, ids, labels, r["logits"]).items()))
    return sum(sizes.values())


def main():
    torch.use_deterministic_algorithms(True)
    os.makedirs(ROOT, exist_ok=True)
    assert ref.swiglu_width(16384) == 11008, "the published 15B's SwiGLU width"
    total = sum(write_fixture(*f) for f in FIXTURES)
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
