#!/usr/bin/env python3
"""Independent safetensors reader/writer (struct + json + numpy) used as a reference by the C++ tests.

Written from the format description (huggingface/safetensors README "Format" and the reference
writer's layout rules), not from the C++ code:

  read PATH   check the layout the reference writer produces and print a JSON document with the
              header size, metadata, entry order and every tensor's values as float64.
  write PATH  write a small file in the reference layout (F32, BF16, F16; {"format":"pt"}) and print
              the values it wrote as JSON.

Exit status 1 with a message on stderr when the file breaks a rule.
"""
import json
import struct
import sys

import numpy as np

# Declaration order of the reference implementation's Dtype enum; the writer sorts by it, descending.
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16",
               "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
NUMPY = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2",
         "I8": "i1", "U8": "u1", "BOOL": "u1"}
SIZE = {"BF16": 2, "F32": 4, "F16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def fail(msg):
    sys.stderr.write("safetensors_ref: " + msg + "\n")
    sys.exit(1)


def decode(dtype, raw, shape):
    if dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        values = bits.view(np.float32).astype(np.float64)
    else:
        values = np.frombuffer(raw, dtype=NUMPY[dtype]).astype(np.float64)
    return values.reshape(shape)


def read(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        fail("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        fail("bad header length %d" % n)
    raw_header = data[8:8 + n]
    if n % 8 != 0:
        fail("header length %d is not a multiple of 8" % n)
    text = raw_header.decode("utf-8")
    stripped = text.rstrip(" ")
    if not stripped.endswith("}") or len(text) - len(stripped) > 7:
        fail("header padding is not 0-7 trailing spaces")
    pairs = json.loads(stripped, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        fail("duplicate keys")
    header = dict(pairs)
    metadata = dict(header.pop("__metadata__", []))
    names = [k for k in keys if k != "__metadata__"]
    buffer = data[8 + n:]
    expected = 0
    out = {}
    for name in names:  # the reference writer lays data out in header order
        entry = dict(header[name])
        begin, end = entry["data_offsets"]
        if begin != expected:
            fail("tensor %s begins at %d, expected %d" % (name, begin, expected))
        shape = list(entry["shape"])
        numel = int(np.prod(shape)) if shape else 1
        if end - begin != numel * SIZE[entry["dtype"]]:
            fail("tensor %s: size mismatch" % name)
        out[name] = {"dtype": entry["dtype"], "shape": shape,
                     "values": decode(entry["dtype"], buffer[begin:end], shape).reshape(-1).tolist()}
        expected = end
    if expected != len(buffer):
        fail("data buffer is %d bytes, tensors cover %d" % (len(buffer), expected))
    ranks = [(-DTYPE_ORDER.index(out[k]["dtype"]), k) for k in names]
    if ranks != sorted(ranks):
        fail("entries are not sorted by descending dtype, then name")
    print(json.dumps({"header_size": n, "metadata": metadata, "order": names, "tensors": out}))


def to_bf16_bits(values):
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
    return (rounded >> 16).astype("<u2")


def write(path):
    tensors = {
        "model.norm.weight": ("F32", [2, 3], np.arange(6, dtype=np.float64) * 0.25 - 1.0),
        "model.embed_tokens.weight": ("BF16", [4], np.array([1.0, -2.5, 3.140625, 1e-3])),
        "lm_head.weight": ("F16", [3, 2], np.array([0.5, -0.125, 2.0, 65504.0, -1.0, 1e-4])),
        "z.scalar": ("F32", [], np.array([42.5])),
        "a.empty": ("F16", [0, 4], np.zeros(0)),
    }
    order = sorted(tensors, key=lambda k: (-DTYPE_ORDER.index(tensors[k][0]), k))
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    reported = {}
    for name in order:
        dtype, shape, values = tensors[name]
        if dtype == "BF16":
            blob = to_bf16_bits(values).tobytes()
            stored = decode("BF16", blob, shape)
        else:
            blob = np.asarray(values).astype(NUMPY[dtype]).tobytes()
            stored = decode(dtype, blob, shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
        reported[name] = {"dtype": dtype, "shape": shape, "values": stored.reshape(-1).tolist()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    print(json.dumps({"tensors": reported}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "write"):
        fail("usage: safetensors_ref.py read|write PATH")
    (read if sys.argv[1] == "read" else write)(sys.argv[2])
