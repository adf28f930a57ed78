#!/usr/bin/python3
"""Checks llama_reference.py itself against two other implementations on the real stories260K model:
the float64 NumPy reference's top-5 last-position logits (reference_outputs.json) and every logit
of llama2.c run.c (golden-runc/stories260K_logits.txt), read from the HF folder in ../shared/data.

  /usr/bin/python3 tools/torch_reference/check_stories260k.py [path/to/shared/data]
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as ref  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
    d = os.path.join(data, "models", "stories260K")
    with open(os.path.join(d, "hf", "config.json")) as f:
        cfg = ref.Config(json.load(f))
    weights, _ = read_safetensors(os.path.join(d, "hf", "model.safetensors"))
    w = {n: t.to(torch.float64) for n, t in weights.items()}
    with open(os.path.join(d, "reference_outputs.json")) as f:
        cases = json.load(f)["cases"]
    worst = 0.0
    for c in cases:
        logits = ref.forward(cfg, w, torch.tensor([c["prompt_ids"]]))[0, -1]
        for top in c["last_position_top5"]:
            worst = max(worst, abs(logits[top["id"]].item() - top["logit"]))
    print("NumPy reference top-5 logits: max |err| %.2e over %d prompts" % (worst, len(cases)))
    tokens, rows = None, []
    with open(os.path.join(d, "golden-runc", "stories260K_logits.txt")) as f:
        for line in f:
            if line.startswith("# tokens:"):
                tokens = [int(t) for t in line[9:].split()]
            if line.startswith("#") or not line.strip():
                continue
            rows.append([float(x) for x in line.split()[2:]])
    logits = ref.forward(cfg, w, torch.tensor([tokens]))[0]
    err = (logits - torch.tensor(rows, dtype=torch.float64)).abs().max().item()
    print("llama2.c run.c logits: max |err| %.2e over %d positions" % (err, len(tokens)))
    ok = worst < 1e-4 and err < 1e-4
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
