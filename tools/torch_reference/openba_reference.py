"""An independent OpenBA encoder-decoder in plain PyTorch, the oracle for Shears' Java OpenBA (dev.shears.seq2seq).

Written from OpenNLG/OpenBA's OpenBA/modeling_openba.py (OpenBAForConditionalGeneration; OpenBT5/ in the same
repository is the same code under another name), not imported from it, and following it line by line:

- OpenBABlock: pre-LayerNorm sub-layers (nn.LayerNorm(hidden_size): a bias, the default eps 1e-5, which the
  published code never reads from the config): x + SelfAttn(input_layernorm x), then in the decoder
  x + CrossAttn(post_attn_layernorm x, enc) and x + MLP(post_inter_attn_layernorm x); in the encoder
  x + MLP(post_attn_layernorm x). Each stack ends with its own final_layernorm.
- OpenBAAttention 'self': qkv = Linear(hidden, 3 * heads * kv_channels) viewed as [.., heads, 3 * kv_channels]
  and chunked, so each head's rows of the fused weight are [q | k | v] blocks of kv_channels; rotary embeddings
  on all kv_channels of q and k (rotate_half layout, the sin and cos tables of create_sinusoidal_positions each
  repeated over both halves), positions 0.. in both stacks.
- OpenBAAttention 'cross': q = Linear(hidden, heads * kv_channels), kv = Linear(hidden, 2 * heads * kv_channels)
  viewed as [.., heads, 2 * kv_channels]: per head [k | v]; no rotary.
- scores = q k^T / sqrt(kv_channels); masked positions (the decoder's causal mask) are set to -10000 with
  masked_fill (not added); softmax; o = Linear(heads * kv_channels, hidden). q/k/v/o biases when add_qkv_bias.
- SwiGLUMLP: width f = 256 * ceil(int(2 * ffn_hidden_size / 3) / 256); fc_in = Linear(hidden, 2 f) chunked in
  two: silu(first half) * second half; fc_out = Linear(f, hidden); biases when add_ffn_bias (not supported
  here: the published model has none).
- the shared embedding (shared_embedding.weight, not scaled); tied: the decoder output times hidden_size^-0.5
  before lm_head, whose weight is then the embedding; lm_head bias when add_lm_head_bias.
- labels shifted right behind decoder_start_token_id (-100 becomes pad_token_id); mean cross-entropy over the
  labels that are not -100.

Deliberate differences: everything runs in float64 (the published code forms the rotary table in float32 and
casts q and k to float32), dropout is off (eval mode), no padding masks (every position of every sequence is
real, as the published code assumes when attention_mask is None).

Shears' per-layer shapes (a pruned model): config key shears_layer_shapes = {"encoder": [{"num_heads",
"ffn_width"}, ...], "decoder": [{"num_heads", "num_cross_heads", "ffn_width"}, ...]}, where ffn_width is the
SwiGLU width f itself (fc_out's input), since ffn_hidden_size -> f is not invertible.

Weights are a dict keyed by the published tensor names (encoder.block.0.self_attn.qkv.weight, ...).
"""
import torch
import torch.nn.functional as F

IGNORE = -100
EPS = 1e-5          # nn.LayerNorm's default; modeling_openba.py passes no eps
MASKED = -10000.0   # OpenBAAttention: attn_scores.masked_fill_(attention_mask, -10000.0)
MULTIPLE_OF = 256   # SwiGLUMLP: multiple_of


def swiglu_width(ffn_hidden_size):
    """SwiGLUMLP's width: int(2 * ffn_hidden_size / 3) rounded up to a multiple of 256."""
    f = int(2 * ffn_hidden_size / 3)
    return MULTIPLE_OF * ((f + MULTIPLE_OF - 1) // MULTIPLE_OF)


class Config:
    """The fields of an OpenBA config.json that the math needs, with OpenBAConfig's defaults."""

    def __init__(self, d):
        self.raw = d
        self.dim = d["hidden_size"]
        self.head_dim = d["kv_channels"]
        self.num_heads = d["num_heads"]
        self.vocab_size = d["vocab_size"]
        self.qkv_bias = d.get("add_qkv_bias", False)
        self.lm_head_bias = d.get("add_lm_head_bias", False)
        assert not d.get("add_ffn_bias", False), "add_ffn_bias is not supported"
        self.tied = d.get("tie_word_embeddings", True)
        self.start = d.get("decoder_start_token_id", 0)
        self.pad = d.get("pad_token_id", 0)
        self.max_len = d.get("max_seq_length", 1024)
        self.decoder_max_len = d.get("decoder_max_seq_length", 256)
        n_enc = d["num_layers"]
        n_dec = d.get("num_decoder_layers") or n_enc
        shapes = d.get("shears_layer_shapes")
        if shapes:
            self.encoder = [(s["num_heads"], 0, s["ffn_width"]) for s in shapes["encoder"]]
            self.decoder = [(s["num_heads"], s["num_cross_heads"], s["ffn_width"]) for s in shapes["decoder"]]
        else:
            f = swiglu_width(d["ffn_hidden_size"])
            self.encoder = [(self.num_heads, 0, f)] * n_enc
            self.decoder = [(self.num_heads, self.num_heads, f)] * n_dec


def layer_norm(x, w, p):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], EPS)


def linear(x, w, p, bias):
    y = x @ w[p + ".weight"].t()
    return y + w[p + ".bias"] if bias else y


def sinusoidal_positions(num_pos, dim):
    """create_sinusoidal_positions in float64: [num_pos, dim] = cat(sin, cos) of position * inv_freq."""
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    angles = torch.arange(num_pos, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return torch.cat((torch.sin(angles), torch.cos(angles)), dim=1)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x, sin, cos):
    """x [batch, len, heads, kv_channels]; sin, cos [len, kv_channels / 2], each repeated over both halves."""
    sin = torch.cat((sin, sin), dim=-1)[None, :, None, :]
    cos = torch.cat((cos, cos), dim=-1)[None, :, None, :]
    return x * cos + rotate_half(x) * sin


def attend(cfg, q, k, v, causal):
    """q [batch, q_len, heads, hd], k and v [batch, k_len, heads, hd] -> [batch, q_len, heads * hd]."""
    bsz, q_len, heads, hd = q.shape
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / torch.sqrt(torch.tensor(float(hd), dtype=torch.float64))
    if causal:
        k_len = k.shape[2]
        masked = torch.ones(q_len, k_len, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(masked, MASKED)
    ctx = torch.softmax(scores, dim=-1) @ v
    return ctx.transpose(1, 2).reshape(bsz, q_len, heads * hd)


def self_attention(cfg, x, w, p, heads, causal):
    bsz, length, _ = x.shape
    hd = cfg.head_dim
    mixed = linear(x, w, p + "qkv", cfg.qkv_bias).view(bsz, length, heads, 3 * hd)
    q, k, v = torch.chunk(mixed, 3, dim=-1)
    sin, cos = torch.chunk(sinusoidal_positions(length, hd), 2, dim=-1)
    q = apply_rotary(q, sin, cos)
    k = apply_rotary(k, sin, cos)
    return linear(attend(cfg, q, k, v, causal), w, p + "o", cfg.qkv_bias)


def cross_attention(cfg, x, enc, w, p, heads):
    bsz, q_len, _ = x.shape
    hd = cfg.head_dim
    q = linear(x, w, p + "q", cfg.qkv_bias).view(bsz, q_len, heads, hd)
    k, v = torch.chunk(linear(enc, w, p + "kv", cfg.qkv_bias).view(bsz, enc.shape[1], heads, 2 * hd), 2, dim=-1)
    return linear(attend(cfg, q, k, v, False), w, p + "o", cfg.qkv_bias)


def mlp(x, w, p):
    gate, up = torch.chunk(x @ w[p + "fc_in.weight"].t(), 2, dim=-1)
    return (F.silu(gate) * up) @ w[p + "fc_out.weight"].t()


def shift_right(cfg, labels):
    ids = torch.full_like(labels, cfg.start)
    ids[:, 1:] = labels[:, :-1]
    return ids.masked_fill(ids == IGNORE, cfg.pad)


def forward(cfg, w, input_ids, labels):
    """Logits [batch, tgt_len, vocab] of encoder inputs [batch, src_len] and labels [batch, tgt_len]."""
    assert input_ids.shape[1] <= cfg.max_len and labels.shape[1] <= cfg.decoder_max_len
    shared = w["shared_embedding.weight"]
    x = shared[input_ids]
    for l, (heads, _, _) in enumerate(cfg.encoder):
        p = "encoder.block.%d." % l
        x = x + self_attention(cfg, layer_norm(x, w, p + "input_layernorm"), w, p + "self_attn.", heads, False)
        x = x + mlp(layer_norm(x, w, p + "post_attn_layernorm"), w, p + "mlp.")
    enc = layer_norm(x, w, "encoder.final_layernorm")

    x = shared[shift_right(cfg, labels)]
    for l, (heads, cross_heads, _) in enumerate(cfg.decoder):
        p = "decoder.block.%d." % l
        x = x + self_attention(cfg, layer_norm(x, w, p + "input_layernorm"), w, p + "self_attn.", heads, True)
        x = x + cross_attention(cfg, layer_norm(x, w, p + "post_attn_layernorm"), enc, w, p + "inter_attn.", cross_heads)
        x = x + mlp(layer_norm(x, w, p + "post_inter_attn_layernorm"), w, p + "mlp.")
    out = layer_norm(x, w, "decoder.final_layernorm")
    if cfg.tied:
        out = out * cfg.dim ** -0.5
    head = shared if cfg.tied else w["lm_head.weight"]
    logits = out @ head.t()
    return logits + w["lm_head.bias"] if cfg.lm_head_bias else logits


def loss_of(logits, labels):
    """Mean cross-entropy over the labels that are not -100 (nn.CrossEntropyLoss(ignore_index=-100))."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)


def reference(cfg, weights_fp32, input_ids, labels):
    """logits (float64), loss64, and the float64 gradient of the loss w.r.t. every weight."""
    names = list(weights_fp32)
    w64 = {n: weights_fp32[n].to(torch.float64).clone().requires_grad_(True) for n in names}
    logits = forward(cfg, w64, input_ids, labels)
    loss = loss_of(logits, labels)
    loss.backward()
    grads = {n: w64[n].grad.detach().clone() if w64[n].grad is not None else torch.zeros_like(w64[n]) for n in names}
    return {"logits": logits.detach(), "loss64": loss.item(), "grads": grads}
