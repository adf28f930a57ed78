#!/usr/bin/python3
"""Runs llama.cpp's own convert_hf_to_gguf.py with Debian's Python (issue 13's interop profile,
docs/interop.md): the real reader of Hugging Face model folders that llama.cpp users take.

Usage: convert_hf_to_gguf.py LLAMA_CPP_SOURCE MODEL_DIR --outfile OUT.gguf --outtype f32 --no-lazy

Needs python3-torch, python3-numpy and python3-sentencepiece (apt). Three shims, all outside what is
checked (how the converter reads a folder's config.json, block_configs and tensor names):
- Debian bookworm's torch 1.13 predates torch.float8_e4m3fn / float8_e5m2, which the converter
  names in its table of safetensors dtypes at import; they are aliased to uint8 (no fp8 tensor is read).
- DeciLM's vocabulary path calls transformers' AutoTokenizer (transformers is not packaged by Debian,
  and PyPI is out of reach here); the converter's own SentencePiece path reads the exported
  tokenizer.model instead, as it does for Llama folders.
- The `safetensors` package is not packaged by Debian either: a minimal `safe_open` (keys, get_tensor)
  reads the file by its published layout (8-byte header length, JSON header, little-endian data);
  hence --no-lazy, which asks only for those two.
"""
import importlib.util
import json
import sys
import types

import torch

for name in ("float8_e4m3fn", "float8_e5m2"):
    if not hasattr(torch, name):
        setattr(torch, name, torch.uint8)


class SafeOpen:
    DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32, "I64": torch.int64}

    def __init__(self, path, framework="pt", device="cpu"):
        with open(path, "rb") as f:
            data = f.read()
        n = int.from_bytes(data[:8], "little")
        self.header = json.loads(data[8:8 + n])
        self.header.pop("__metadata__", None)
        self.data = memoryview(data)[8 + n:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self.header)

    def get_tensor(self, name):
        entry = self.header[name]
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(self.data[begin:end]), dtype=self.DTYPES[entry["dtype"]])
        return flat.reshape(entry["shape"])


if "safetensors" not in sys.modules:
    try:
        import safetensors  # noqa: F401 (the real one, where installed)
    except ImportError:
        sys.modules["safetensors"] = types.SimpleNamespace(safe_open=SafeOpen)
source = sys.argv[1]
sys.path.insert(0, source + "/gguf-py")
spec = importlib.util.spec_from_file_location("convert_hf_to_gguf", source + "/convert_hf_to_gguf.py")
convert = importlib.util.module_from_spec(spec)
sys.modules["convert_hf_to_gguf"] = convert
spec.loader.exec_module(convert)
convert.DeciModel.set_vocab = lambda self: self._set_vocab_sentencepiece()
sys.argv = ["convert_hf_to_gguf.py"] + sys.argv[2:]
convert.main()
