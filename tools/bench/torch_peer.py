"""The PyTorch peer for `shears bench forward` and `shears bench train`, run on the same machine.

Uses the independent reference model of tools/torch_reference (plain torch, fp32 here) on the
PEERS.md training config: dim 512, 8 layers, 8 heads, FFN 1376, vocab 4096, seq 512, batch 1.
Prints the median tokens/s of forward passes (no grad) and of whole training steps (forward,
cross-entropy, backward, clip, AdamW) for 1 and 2 threads.

    /usr/bin/python3 tools/bench/torch_peer.py [--layers 8] [--iterations 5]
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "torch_reference"))
import llama_reference as ref  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--ffn", type=int, default=1376)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--iterations", type=int, default=5)
    a = p.parse_args()
    cfg = ref.Config({"architectures": ["LlamaForCausalLM"], "hidden_size": a.dim, "num_hidden_layers": a.layers,
                      "num_attention_heads": a.heads, "intermediate_size": a.ffn, "vocab_size": a.vocab,
                      "rms_norm_eps": 1e-5, "tie_word_embeddings": False})
    torch.manual_seed(0)
    hd = a.dim // a.heads
    w = {"model.embed_tokens.weight": torch.randn(a.vocab, a.dim) * 0.02, "model.norm.weight": torch.ones(a.dim),
         "lm_head.weight": torch.randn(a.vocab, a.dim) * 0.02}
    for l in range(a.layers):
        pre = f"model.layers.{l}."
        w[pre + "input_layernorm.weight"] = torch.ones(a.dim)
        w[pre + "post_attention_layernorm.weight"] = torch.ones(a.dim)
        for name, shape in [("self_attn.q_proj", (a.heads * hd, a.dim)), ("self_attn.k_proj", (a.heads * hd, a.dim)),
                            ("self_attn.v_proj", (a.heads * hd, a.dim)), ("self_attn.o_proj", (a.dim, a.heads * hd)),
                            ("mlp.gate_proj", (a.ffn, a.dim)), ("mlp.up_proj", (a.ffn, a.dim)), ("mlp.down_proj", (a.dim, a.ffn))]:
            w[pre + name + ".weight"] = torch.randn(*shape) * 0.02
    params = [t.requires_grad_() for t in w.values()]
    ids = torch.randint(0, a.vocab, (1, a.seq))
    targets = torch.randint(0, a.vocab, (1, a.seq))
    opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)

    def forward():
        with torch.no_grad():
            ref.forward(cfg, w, ids)

    def train():
        opt.zero_grad()
        logits = ref.forward(cfg, w, ids)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, a.vocab), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    print(f"torch {torch.__version__}, {sum(t.numel() for t in params):,} params, seq {a.seq}", flush=True)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, fn in (("forward", forward), ("train", train)):
            fn()
            times = []
            for _ in range(a.iterations):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            med = statistics.median(times)
            print(f"{name:8s} {threads} thread(s): {a.seq / med:8.1f} tokens/s  ({med * 1000:.0f} ms median of {a.iterations})", flush=True)


if __name__ == "__main__":
    main()
