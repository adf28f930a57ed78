"""An independent LLaMA-family decoder in plain PyTorch, the oracle for Shears' Java model.

Written from the Hugging Face modeling code's semantics (LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM), not imported from it: RMSNorm, rotate-half RoPE (default, linear and llama3
frequency scaling), grouped-query attention, SwiGLU, optional q/k/v biases, tied or untied LM head,
and an explicit head_dim. Everything is computed in the dtype of the weights handed in; the fixture
generator passes float64 copies of fp32 weights so that the reference is more accurate than the
Java fp32 code it checks.

Weights are a dict keyed by the Hugging Face tensor names (model.layers.0.self_attn.q_proj.weight, ...).
"""
import math

import torch
import torch.nn.functional as F


class Config:
    """The fields of a Hugging Face config.json that the math needs."""

    def __init__(self, d):
        self.raw = d
        self.architecture = d["architectures"][0]
        self.dim = d["hidden_size"]
        self.num_layers = d["num_hidden_layers"]
        self.num_heads = d["num_attention_heads"]
        self.num_kv_heads = d.get("num_key_value_heads") or self.num_heads
        self.head_dim = d.get("head_dim") or self.dim // self.num_heads
        self.ffn_dim = d["intermediate_size"]
        self.vocab_size = d["vocab_size"]
        self.norm_eps = d.get("rms_norm_eps", 1e-6)
        self.rope_theta = d.get("rope_theta", 10000.0)
        self.rope_scaling = d.get("rope_scaling")
        self.tied = d.get("tie_word_embeddings", False)
        self.bias = self.architecture == "Qwen2ForCausalLM" or d.get("attention_bias", False)


def inverse_frequencies(cfg, dtype=torch.float64):
    """theta^(-2i/head_dim) for each rotary pair, scaled as transformers.modeling_rope_utils does.

    llama3 follows _compute_llama3_parameters line for line: long wavelengths divided by factor,
    short ones kept, the band between interpolated with smooth_factor.
    """
    hd = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).to(dtype) / hd))
    s = cfg.rope_scaling
    if not s:
        return inv
    kind = s.get("rope_type", s.get("type"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        factor = s["factor"]
        low_freq_factor = s["low_freq_factor"]
        high_freq_factor = s["high_freq_factor"]
        old_context_len = s["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv / factor, inv)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    raise ValueError("unsupported rope_scaling type " + str(kind))


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    """x [batch, heads, seq, head_dim]; cos/sin [seq, head_dim]."""
    return x * cos + rotate_half(x) * sin


def linear(x, w, b=None):
    y = x @ w.t()
    return y if b is None else y + b


def forward(cfg, w, ids):
    """Logits [batch, seq, vocab] of token ids [batch, seq] (LongTensor) with causal attention."""
    dtype = w["model.embed_tokens.weight"].dtype
    bsz, seq = ids.shape
    hd, nh, nkv = cfg.head_dim, cfg.num_heads, cfg.num_kv_heads
    inv = inverse_frequencies(cfg, torch.float64)
    angles = torch.arange(seq, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
    mask = torch.full((seq, seq), float("-inf"), dtype=dtype).triu(1)

    x = w["model.embed_tokens.weight"][ids]
    for l in range(cfg.num_layers):
        p = "model.layers.%d." % l
        h = rms_norm(x, w[p + "input_layernorm.weight"], cfg.norm_eps)
        q = linear(h, w[p + "self_attn.q_proj.weight"], w.get(p + "self_attn.q_proj.bias") if cfg.bias else None)
        k = linear(h, w[p + "self_attn.k_proj.weight"], w.get(p + "self_attn.k_proj.bias") if cfg.bias else None)
        v = linear(h, w[p + "self_attn.v_proj.weight"], w.get(p + "self_attn.v_proj.bias") if cfg.bias else None)
        q = q.view(bsz, seq, nh, hd).transpose(1, 2)
        k = k.view(bsz, seq, nkv, hd).transpose(1, 2)
        v = v.view(bsz, seq, nkv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        group = nh // nkv
        k = k.repeat_interleave(group, dim=1)   # query head j reads key/value head j // group
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + mask
        ctx = torch.softmax(scores, dim=-1) @ v
        ctx = ctx.transpose(1, 2).reshape(bsz, seq, nh * hd)
        x = x + linear(ctx, w[p + "self_attn.o_proj.weight"])

        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], cfg.norm_eps)
        gate = linear(h, w[p + "mlp.gate_proj.weight"])
        up = linear(h, w[p + "mlp.up_proj.weight"])
        x = x + linear(F.silu(gate) * up, w[p + "mlp.down_proj.weight"])

    x = rms_norm(x, w["model.norm.weight"], cfg.norm_eps)
    head = w["model.embed_tokens.weight"] if cfg.tied else w["lm_head.weight"]
    return linear(x, head)


def loss_of(logits, targets):
    """Mean next-token cross-entropy; targets of -1 are not scored."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)


def next_token_targets(ids):
    """targets[b, t] = ids[b, t + 1]; the last position of each sequence is not scored."""
    t = torch.full_like(ids, -1)
    t[:, :-1] = ids[:, 1:]
    return t


def reference(cfg, weights_fp32, ids, train_steps=3, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, clip=1.0):
    """Everything a fixture holds, from fp32 weights (already rounded to the stored dtype).

    Returns a dict: logits (float64), loss64, loss32 (the same forward in fp32), grads (float64, of
    the loss at the initial weights), after (float64 weights after train_steps AdamW steps on the
    same batch, with global-norm clipping at `clip` and weight decay on 2-D tensors only, as
    dev.shears.train.AdamW decides), step_losses.
    """
    targets = next_token_targets(ids)
    names = list(weights_fp32)
    w64 = {n: weights_fp32[n].to(torch.float64).clone().requires_grad_(True) for n in names}
    logits = forward(cfg, w64, ids)
    loss = loss_of(logits, targets)
    loss.backward()
    grads = {n: w64[n].grad.detach().clone() for n in names}

    with torch.no_grad():
        w32 = {n: weights_fp32[n].to(torch.float32) for n in names}
        loss32 = loss_of(forward(cfg, w32, ids), targets).item()

    params = {n: weights_fp32[n].to(torch.float64).clone().requires_grad_(True) for n in names}
    decay = [params[n] for n in names if params[n].dim() == 2]
    no_decay = [params[n] for n in names if params[n].dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas, eps=eps)
    step_losses = []
    for _ in range(train_steps):
        opt.zero_grad()
        step_loss = loss_of(forward(cfg, params, ids), targets)
        step_loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_([params[n] for n in names], clip)
        opt.step()
        step_losses.append(step_loss.item())
    after = {n: params[n].detach().clone() for n in names}
    return {"targets": targets, "logits": logits.detach(), "loss64": loss.item(), "loss32": loss32,
            "grads": grads, "after": after, "step_losses": step_losses}
