"""A minimal safetensors reader and writer (huggingface/safetensors format): an 8-byte little-endian
header length, a JSON header of {name: {dtype, shape, data_offsets}} and optional __metadata__
strings, then the raw little-endian data. Debian has no python3-safetensors, and the format is small.
"""
import json
import struct

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def tensor_bytes(t, dtype_name):
    t = t.detach().to(DTYPES[dtype_name]).contiguous()
    if dtype_name == "F32":
        return t.numpy().astype("<f4").tobytes()
    # 16-bit types: reinterpret the bits (numpy has no bfloat16)
    return t.view(torch.int16).numpy().astype("<i2").tobytes()


def write_safetensors(path, tensors, dtype_name="F32", metadata=None):
    """tensors: ordered (name, tensor); all stored as dtype_name. Header padded to 8 bytes as the reference writer does."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors:
        b = tensor_bytes(t, dtype_name)
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """(tensors as fp32 in file order, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        raw = bytearray(body[begin:end])
        if e["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        else:
            t = torch.frombuffer(raw, dtype=torch.int16).view(DTYPES[e["dtype"]]).to(torch.float32)
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta
