#!/usr/bin/python3
"""Writes the T5 PyTorch reference fixtures under core/src/test/resources/torchref-t5/.

Each fixture <name>/ is a tiny seeded Hugging Face T5ForConditionalGeneration folder (config.json +
model.safetensors) plus expected.safetensors from t5_reference.py:

  input_ids        F32 [batch, srcLen]          encoder token ids (exact in fp32), pad_token_id where padded
  attention_mask   F32 [batch, srcLen]          1 for tokens, 0 for padding (all ones in t5_relu_tied)
  labels           F32 [batch, tgtLen]          decoder labels, -100 where not scored
  logits           F32 [batch, tgtLen, vocab]   float64 forward, rounded once
  buckets.encoder  F32 [srcLen, srcLen]         relative position bucket of (key - query), bidirectional
  buckets.decoder  F32 [tgtLen, tgtLen]         the same, causal
  grad.<name>      F32, shape of <name>         d mean-loss / d weight at the stored weights
  __metadata__     loss64, torch

t5_tiny_random/expected.safetensors holds input_ids, labels, logits and loss64 for the real tiny T5 in
../shared/data/models/t5-tiny-random (its pytorch_model.bin, read here with torch.load), which is not copied.
buckets.safetensors holds bucket tables of relative positions -300..300 (F32 [601]) for a few
(num_buckets, max_distance) pairs in both directions: "<buckets>_<max_distance>_<bi|uni>", and "relative_position".

Weights are large (embedding and bias tables of std 1, attention at std 1.2/sqrt(dim)), the sequences
longer than the exact-bucket range and the bias tables non-uniform, so that a wrong bucket, a missing
d_model^-0.5, a scaled attention or erf-GELU in place of gelu_new each move the logits far beyond the
test's tolerance (main() prints by how much).

Run with Debian's interpreter (it has python3-torch):  /usr/bin/python3 tools/torch_reference/make_t5_fixtures.py
CI never runs this; the outputs are committed.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_reference as ref  # noqa: E402
from fixture_io import empty_folder, folder_sizes, gradients, randn, seq2seq_ids, sizes_text, write_config, write_model  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "core", "src", "test", "resources", "torchref-t5"))
TINY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "models", "t5-tiny-random"))
BATCH, SRC, TGT = 2, 13, 10


def t5_config(dim, d_kv, heads, d_ff, layers, decoder_layers, vocab, ffn, tied, buckets=8, max_distance=20, shapes=None):
    c = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": dim, "d_kv": d_kv,
         "num_heads": heads, "d_ff": d_ff, "num_layers": layers, "num_decoder_layers": decoder_layers,
         "vocab_size": vocab, "relative_attention_num_buckets": buckets, "relative_attention_max_distance": max_distance,
         "layer_norm_epsilon": 1e-6, "feed_forward_proj": ffn, "dense_act_fn": "gelu_new" if ffn == "gated-gelu" else "relu",
         "is_gated_act": ffn.startswith("gated-"), "tie_word_embeddings": tied, "decoder_start_token_id": 0,
         "pad_token_id": 0, "eos_token_id": 1, "is_encoder_decoder": True, "dropout_rate": 0.0, "torch_dtype": "float32"}
    if shapes:
        c["shears_layer_shapes"] = shapes
    return c


def random_weights(cfg, gen):
    def norm_weight():
        return (1 + randn(gen, cfg.dim, std=0.2)).to(torch.float32)

    d, hd = cfg.dim, cfg.head_dim

    def attention(p, heads):
        w[p + "q.weight"] = randn(gen, heads * hd, d, std=1.2 / d ** 0.5)
        w[p + "k.weight"] = randn(gen, heads * hd, d, std=1.2 / d ** 0.5)
        w[p + "v.weight"] = randn(gen, heads * hd, d, std=1.0 / d ** 0.5)
        w[p + "o.weight"] = randn(gen, d, heads * hd, std=1.0 / (heads * hd) ** 0.5)

    def feed_forward(p, ff):
        for n in (["wi_0", "wi_1"] if cfg.gated else ["wi"]):
            w[p + n + ".weight"] = randn(gen, ff, d, std=1.5 / d ** 0.5)
        w[p + "wo.weight"] = randn(gen, d, ff, std=1.0 / ff ** 0.5)

    w = {"shared.weight": randn(gen, cfg.vocab_size, d, std=1.0)}
    for stack, layers in (("encoder", cfg.encoder), ("decoder", cfg.decoder)):
        w[stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = randn(gen, cfg.num_buckets, cfg.num_heads, std=1.0)
        for l, (heads, cross_heads, ff, _) in enumerate(layers):
            p = "%s.block.%d.layer." % (stack, l)
            w[p + "0.layer_norm.weight"] = norm_weight()
            attention(p + "0.SelfAttention.", heads)
            if stack == "decoder":
                w[p + "1.layer_norm.weight"] = norm_weight()
                attention(p + "1.EncDecAttention.", cross_heads)
            f = "2." if stack == "decoder" else "1."
            w[p + f + "layer_norm.weight"] = norm_weight()
            feed_forward(p + f + "DenseReluDense.", ff)
        w[stack + ".final_layer_norm.weight"] = norm_weight()
    if not cfg.tied:
        w["lm_head.weight"] = randn(gen, cfg.vocab_size, d, std=1.5 / d ** 0.5)
    return w


def random_inputs(cfg, gen, src, tgt, padding=(0, 0)):
    """ids, labels and attention_mask; padding[b] encoder positions at the end of sequence b are padding."""
    ids, labels = seq2seq_ids(gen, cfg.vocab_size, BATCH, src, tgt, ref.IGNORE)
    mask = torch.ones_like(ids)
    for b, n in enumerate(padding):
        if n:
            mask[b, src - n:] = 0
            ids[b, src - n:] = cfg.pad
    return ids, labels, mask


# name, seed, config, encoder padding per sequence
FIXTURES = [
    # v1.0: relu, tied head, d_kv * heads != d_model
    ("t5_relu_tied", 21, t5_config(16, 6, 3, 24, 2, 2, 53, "relu", True), (0, 0)),
    # v1.1 / Flan: gated-gelu, untied lm_head, 1 encoder and 3 decoder layers; the second input padded
    ("t5_gated_untied", 22, t5_config(16, 5, 4, 20, 1, 3, 47, "gated-gelu", False), (0, 3)),
    # pruned shapes: per-layer heads (self and cross), FFN widths and the bias columns of the heads kept, tied
    ("t5_nonuniform", 23, t5_config(16, 4, 4, 24, 2, 3, 41, "gated-gelu", True, shapes={
        "encoder": [{"num_heads": 4, "d_ff": 24}, {"num_heads": 2, "d_ff": 12, "bias_heads": [1, 3]}],
        "decoder": [{"num_heads": 3, "num_cross_heads": 2, "d_ff": 16, "bias_heads": [0, 2, 3]},
                    {"num_heads": 4, "num_cross_heads": 4, "d_ff": 8},
                    {"num_heads": 1, "num_cross_heads": 3, "d_ff": 20, "bias_heads": [2]}]}), (5, 0)),
]


def sensitivity(cfg, weights, ids, labels, mask, logits):
    """Largest logit change, relative to max |logit|, of each plausible mistake (the test tolerance is 2e-5)."""
    w = {n: t.to(torch.float64) for n, t in weights.items()}
    scale = float(logits.abs().max())
    out = {}
    if not bool(mask.all()):
        out["padding-not-masked"] = ref.forward(cfg, w, ids, labels)
    if any(list(cols) != list(range(h)) for h, _, _, cols in cfg.encoder + cfg.decoder):
        kept = cfg.encoder, cfg.decoder
        cfg.encoder = [(h, x, f, list(range(h))) for h, x, f, _ in kept[0]]
        cfg.decoder = [(h, x, f, list(range(h))) for h, x, f, _ in kept[1]]
        out["first-bias-columns"] = ref.forward(cfg, w, ids, labels, mask)
        cfg.encoder, cfg.decoder = kept
    saved = ref.gelu_new, ref.relative_position_bucket, ref.attention, cfg.tied
    ref.gelu_new = lambda x: F.gelu(x)
    out["erf-gelu"] = ref.forward(cfg, w, ids, labels, mask)
    ref.gelu_new = saved[0]
    ref.relative_position_bucket = lambda r, bi, nb, md: saved[1](r, True, nb, md)
    out["bidirectional-decoder-bucket"] = ref.forward(cfg, w, ids, labels, mask)
    ref.relative_position_bucket = lambda r, bi, nb, md: saved[1](r, bi, nb, 10 ** 6)
    out["wrong-max-distance"] = ref.forward(cfg, w, ids, labels, mask)
    ref.relative_position_bucket = saved[1]

    def scaled(c, x, kv, ww, p, heads, bias, key_mask):
        ww = dict(ww)
        ww[p + "q.weight"] = ww[p + "q.weight"] / math.sqrt(c.head_dim)
        return saved[2](c, x, kv, ww, p, heads, bias, key_mask)
    ref.attention = scaled
    out["scaled-attention"] = ref.forward(cfg, w, ids, labels, mask)
    ref.attention = saved[2]
    if cfg.tied:
        out["no-tied-rescale"] = ref.forward(cfg, w, ids, labels, mask) * cfg.dim ** 0.5
    return {k: float((v - logits).abs().max()) / scale for k, v in out.items()}


def write_fixture(name, seed, config, padding):
    out = empty_folder(ROOT, name)
    cfg = ref.Config(config)
    gen = torch.Generator().manual_seed(seed)
    weights = random_weights(cfg, gen)
    ids, labels, mask = random_inputs(cfg, gen, SRC, TGT, padding)
    write_config(out, config)
    names = write_model(out, weights)

    r = ref.reference(cfg, weights, ids, labels, mask)
    expected = [("input_ids", ids.to(torch.float32)), ("attention_mask", mask.to(torch.float32)), ("labels", labels.to(torch.float32)),
                ("logits", r["logits"].to(torch.float32)),
                ("buckets.encoder", ref.buckets(cfg, SRC, SRC, True).to(torch.float32)),
                ("buckets.decoder", ref.buckets(cfg, TGT, TGT, False).to(torch.float32))]
    write_safetensors(os.path.join(out, "expected.safetensors"), expected + gradients(r, names), "F32",
                      {"loss64": repr(r["loss64"]), "torch": torch.__version__})
    sizes = folder_sizes(out)
    print("%-16s loss %.6f logits |max| %.2f  %s" % (name, r["loss64"], float(r["logits"].abs().max()), sizes_text(sizes)))
    print("   mistakes move the logits by (relative):",
          " ".join("%s %.1e" % kv for kv in sensitivity(cfg, weights, ids, labels, mask, r["logits"]).items()))
    return sum(sizes.values())


def write_tiny_random():
    """The real tiny T5's logits and loss for a fixed batch (its weights stay in ../shared/data)."""
    out = os.path.join(ROOT, "t5_tiny_random")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(TINY, "config.json")) as f:
        cfg = ref.Config(json.load(f))
    state = torch.load(os.path.join(TINY, "pytorch_model.bin"), weights_only=True)
    weights = {n: t.to(torch.float32) for n, t in state.items()}
    gen = torch.Generator().manual_seed(24)
    ids, labels, _ = random_inputs(cfg, gen, 9, 7)
    with torch.no_grad():
        w64 = {n: t.to(torch.float64) for n, t in weights.items()}
        logits = ref.forward(cfg, w64, ids, labels)
        loss = ref.loss_of(logits, labels).item()
    path = os.path.join(out, "expected.safetensors")
    write_safetensors(path, [("input_ids", ids.to(torch.float32)), ("labels", labels.to(torch.float32)),
                             ("logits", logits.to(torch.float32))], "F32", {"loss64": repr(loss), "torch": torch.__version__})
    print("%-16s loss %.9f logits |max| %.3e  expected.safetensors=%d" % ("t5_tiny_random", loss, float(logits.abs().max()),
                                                                           os.path.getsize(path)))
    return os.path.getsize(path)


def write_buckets():
    rel = torch.arange(-300, 301, dtype=torch.long)
    tensors = [("relative_position", rel.to(torch.float32))]
    for nb, md in ((32, 128), (8, 20), (16, 50), (6, 7)):
        for bi in (True, False):
            tensors.append(("%d_%d_%s" % (nb, md, "bi" if bi else "uni"),
                            ref.relative_position_bucket(rel, bi, nb, md).to(torch.float32)))
    path = os.path.join(ROOT, "buckets.safetensors")
    write_safetensors(path, tensors, "F32", {"torch": torch.__version__})
    return os.path.getsize(path)


def main():
    torch.use_deterministic_algorithms(True)
    os.makedirs(ROOT, exist_ok=True)
    total = sum(write_fixture(*f) for f in FIXTURES) + write_tiny_random() + write_buckets()
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
