"""An independent T5 encoder-decoder in plain PyTorch, the oracle for Shears' Java T5 (dev.shears.seq2seq).

Written from the semantics of Hugging Face's T5ForConditionalGeneration (transformers
models/t5/modeling_t5.py), not imported from it: T5LayerNorm (RMS, no mean, no bias), attention without
the 1/sqrt(d) scaling and with a relative position bias (bucketed as _relative_position_bucket does,
bidirectional in the encoder, causal in the decoder, computed once per stack from block 0's table and
added in every self-attention layer of that stack; none in cross-attention), the feed-forward of
feed_forward_proj (relu: wo(relu(wi x)); gated-gelu: wo(gelu_new(wi_0 x) * wi_1 x)), the shared
embedding, the decoder output scaled by d_model^-0.5 before a tied LM head, labels shifted right behind
decoder_start_token_id (-100 becomes pad_token_id) and the mean cross-entropy over labels != -100. An
encoder attention_mask (0 for padding) hides padded keys from the encoder's self-attention and from
cross-attention, by the dtype's lowest value added to the scores.

Shears' per-layer shapes (a pruned model): config key shears_layer_shapes = {"encoder": [{"num_heads",
"d_ff", "bias_heads"}, ...], "decoder": [{"num_heads", "num_cross_heads", "d_ff", "bias_heads"}, ...]}; the
stock num_heads is the width of each stack's relative bias table, and self-attention head h of a layer
reads column bias_heads[h] of it (h when bias_heads is absent).

Weights are a dict keyed by the Hugging Face tensor names (encoder.block.0.layer.0.SelfAttention.q.weight, ...).
"""
import math

import torch
import torch.nn.functional as F

IGNORE = -100


class Config:
    """The fields of a T5 config.json that the math needs."""

    def __init__(self, d):
        self.raw = d
        self.dim = d["d_model"]
        self.head_dim = d["d_kv"]
        self.num_heads = d["num_heads"]
        self.vocab_size = d["vocab_size"]
        self.num_buckets = d.get("relative_attention_num_buckets", 32)
        self.max_distance = d.get("relative_attention_max_distance", 128)
        self.eps = d.get("layer_norm_epsilon", 1e-6)
        self.ffn = d.get("feed_forward_proj", "relu")
        self.gated = self.ffn.startswith("gated-")
        self.tied = d.get("tie_word_embeddings", True)
        self.start = d["decoder_start_token_id"]
        self.pad = d.get("pad_token_id", 0)
        n_enc = d["num_layers"]
        n_dec = d.get("num_decoder_layers") or n_enc
        shapes = d.get("shears_layer_shapes")
        # per layer: (self-attention heads, cross-attention heads, d_ff, bias table column of each head)
        if shapes:
            self.encoder = [(s["num_heads"], 0, s["d_ff"], s.get("bias_heads", list(range(s["num_heads"])))) for s in shapes["encoder"]]
            self.decoder = [(s["num_heads"], s["num_cross_heads"], s["d_ff"], s.get("bias_heads", list(range(s["num_heads"]))))
                            for s in shapes["decoder"]]
        else:
            self.encoder = [(self.num_heads, 0, d["d_ff"], list(range(self.num_heads)))] * n_enc
            self.decoder = [(self.num_heads, self.num_heads, d["d_ff"], list(range(self.num_heads)))] * n_dec


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """Bucket of key position minus query position, as T5Attention._relative_position_bucket: exact below
    max_exact, logarithmic up to max_distance, in float32 like the original."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
                            * (num_buckets - max_exact)).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return buckets + torch.where(is_small, relative_position, if_large)


def buckets(cfg, q_len, k_len, bidirectional):
    """[q_len, k_len] bucket of (key position - query position)."""
    rel = torch.arange(k_len, dtype=torch.long)[None, :] - torch.arange(q_len, dtype=torch.long)[:, None]
    return relative_position_bucket(rel, bidirectional, cfg.num_buckets, cfg.max_distance)


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def attention(cfg, x, kv, w, p, heads, bias, key_mask):
    """x [batch, q_len, dim] queries, kv [batch, k_len, dim]; bias [heads, q_len, k_len] or None; key_mask
    [batch, 1, 1, k_len] added to the scores (0, or the dtype's lowest value where a key is padding). No 1/sqrt(d)."""
    bsz, q_len, _ = x.shape
    k_len = kv.shape[1]
    hd = cfg.head_dim
    q = (x @ w[p + "q.weight"].t()).view(bsz, q_len, heads, hd).transpose(1, 2)
    k = (kv @ w[p + "k.weight"].t()).view(bsz, k_len, heads, hd).transpose(1, 2)
    v = (kv @ w[p + "v.weight"].t()).view(bsz, k_len, heads, hd).transpose(1, 2)
    scores = q @ k.transpose(-1, -2)
    if bias is not None:
        scores = scores + bias[None]
    scores = scores + key_mask
    ctx = torch.softmax(scores, dim=-1) @ v
    return ctx.transpose(1, 2).reshape(bsz, q_len, heads * hd) @ w[p + "o.weight"].t()


def feed_forward(cfg, x, w, p):
    if cfg.gated:
        act = gelu_new if cfg.ffn == "gated-gelu" else F.relu
        h = act(x @ w[p + "wi_0.weight"].t()) * (x @ w[p + "wi_1.weight"].t())
    else:
        h = F.relu(x @ w[p + "wi.weight"].t())
    return h @ w[p + "wo.weight"].t()


def stack_bias(cfg, w, stack, q_len, k_len, bidirectional):
    """[num_heads, q_len, k_len] from block 0's table [num_buckets, num_heads]; -inf above the diagonal when causal."""
    table = w[stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    bias = table[buckets(cfg, q_len, k_len, bidirectional)].permute(2, 0, 1)
    if not bidirectional:
        bias = bias + torch.full((q_len, k_len), float("-inf"), dtype=bias.dtype).triu(1)
    return bias


def shift_right(cfg, labels):
    ids = torch.full_like(labels, cfg.start)
    ids[:, 1:] = labels[:, :-1]
    return ids.masked_fill(ids == IGNORE, cfg.pad)


def extended_mask(attention_mask, dtype):
    """[batch, 1, 1, src_len]: 0 where attention_mask is 1, the dtype's lowest value where it is 0, as
    ModuleUtilsMixin.get_extended_attention_mask does for the encoder and the cross-attention."""
    return (1.0 - attention_mask.to(dtype))[:, None, None, :] * torch.finfo(dtype).min


def forward(cfg, w, input_ids, labels, attention_mask=None):
    """Logits [batch, tgt_len, vocab] of encoder inputs [batch, src_len] (attention_mask: 1 for tokens, 0 for
    padding; all ones when not given) and labels [batch, tgt_len]. The decoder has no padding mask (HF's
    default decoder_attention_mask), only the causal one."""
    shared = w["shared.weight"]
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    key_mask = extended_mask(attention_mask, shared.dtype)
    no_mask = torch.zeros((), dtype=shared.dtype)
    x = shared[input_ids]
    bias = stack_bias(cfg, w, "encoder", input_ids.shape[1], input_ids.shape[1], True)
    for l, (heads, _, _, columns) in enumerate(cfg.encoder):
        p = "encoder.block.%d.layer." % l
        h = rms_norm(x, w[p + "0.layer_norm.weight"], cfg.eps)
        x = x + attention(cfg, h, h, w, p + "0.SelfAttention.", heads, bias[columns], key_mask)
        x = x + feed_forward(cfg, rms_norm(x, w[p + "1.layer_norm.weight"], cfg.eps), w, p + "1.DenseReluDense.")
    enc = rms_norm(x, w["encoder.final_layer_norm.weight"], cfg.eps)

    dec_ids = shift_right(cfg, labels)
    x = shared[dec_ids]
    bias = stack_bias(cfg, w, "decoder", dec_ids.shape[1], dec_ids.shape[1], False)
    for l, (heads, cross_heads, _, columns) in enumerate(cfg.decoder):
        p = "decoder.block.%d.layer." % l
        h = rms_norm(x, w[p + "0.layer_norm.weight"], cfg.eps)
        x = x + attention(cfg, h, h, w, p + "0.SelfAttention.", heads, bias[columns], no_mask)
        x = x + attention(cfg, rms_norm(x, w[p + "1.layer_norm.weight"], cfg.eps), enc, w, p + "1.EncDecAttention.", cross_heads, None, key_mask)
        x = x + feed_forward(cfg, rms_norm(x, w[p + "2.layer_norm.weight"], cfg.eps), w, p + "2.DenseReluDense.")
    out = rms_norm(x, w["decoder.final_layer_norm.weight"], cfg.eps)
    if cfg.tied:
        return (out * cfg.dim ** -0.5) @ shared.t()
    return out @ w["lm_head.weight"].t()


def loss_of(logits, labels):
    """Mean cross-entropy over the labels that are not -100."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)


def reference(cfg, weights_fp32, input_ids, labels, attention_mask=None):
    """logits (float64), loss64, and the float64 gradient of the loss w.r.t. every weight."""
    names = list(weights_fp32)
    w64 = {n: weights_fp32[n].to(torch.float64).clone().requires_grad_(True) for n in names}
    logits = forward(cfg, w64, input_ids, labels, attention_mask)
    loss = loss_of(logits, labels)
    loss.backward()
    grads = {n: w64[n].grad.detach().clone() if w64[n].grad is not None else torch.zeros_like(w64[n]) for n in names}
    return {"logits": logits.detach(), "loss64": loss.item(), "grads": grads}
