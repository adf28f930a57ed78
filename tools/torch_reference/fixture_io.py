"""What the fixture generators (make_fixtures.py, make_t5_fixtures.py, make_openba_fixtures.py) share: the seeded
draws of weights and encoder-decoder inputs, an emptied fixture folder with its config.json and model.safetensors,
the gradients of expected.safetensors, and the line of file sizes they print.
"""
import json
import os

import torch

from safetensors_io import write_safetensors


def randn(gen, *shape, std):
    """N(0, std^2) drawn in float64 from gen, rounded once to fp32."""
    return torch.randn(*shape, generator=gen, dtype=torch.float64).mul(std).to(torch.float32)


def seq2seq_ids(gen, vocab_size, batch, src, tgt, ignore):
    """Encoder ids [batch, src] and decoder labels [batch, tgt] from 2.. (0 and 1 are pad and eos), with an ignored
    label inside the first sequence (it becomes pad in the decoder input) and two at the end of the second."""
    ids = torch.randint(2, vocab_size, (batch, src), generator=gen, dtype=torch.int64)
    labels = torch.randint(2, vocab_size, (batch, tgt), generator=gen, dtype=torch.int64)
    labels[0, tgt // 2] = ignore
    labels[1, tgt - 2:] = ignore
    return ids, labels


def empty_folder(root, name):
    """root/name, created or emptied."""
    out = os.path.join(root, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    return out


def write_config(out, config):
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def write_model(out, weights, dtype_name="F32"):
    """model.safetensors with the weights in name order; returns the names."""
    names = sorted(weights)
    write_safetensors(os.path.join(out, "model.safetensors"), [(n, weights[n]) for n in names], dtype_name, {"format": "pt"})
    return names


def gradients(result, names):
    """expected.safetensors' grad.<name> tensors of a reference result, in name order."""
    return [("grad." + n, result["grads"][n].to(torch.float32)) for n in names]


def folder_sizes(out):
    """{file: bytes} of a fixture folder, in name order."""
    return {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))}


def sizes_text(sizes):
    return " ".join("%s=%d" % kv for kv in sizes.items())
