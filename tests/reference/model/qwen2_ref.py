#!/usr/bin/env python3
"""Float64 numerical reference for the model runtime, written from spec model-formats.md
(§2 Qwen2 decoder, §3.2 Qwen2-Audio tower + projector, §4 Qwen2.5-Omni audio encoder, §3.4 splice),
and for Qwen3 / Qwen3-MoE from transformers' modeling_qwen3.py / modeling_qwen3_moe.py (q/k norms;
the sparse MoE block computed token by token, expert by expert).
Independent of the C++ code: plain torch ops on float64 copies of the weights; every sequence is
computed alone (no padding, no cache), attention over the full causal window.

usage: qwen2_ref.py MODEL_DIR INPUTS.safetensors OUTPUTS.safetensors

Inputs (safetensors, int64 / float32):
  text mode:   ids.0, ids.1, ...       [T_b] token ids, one sequence each
  speech mode: ids [T] (placeholders already expanded), mel.0, mel.1, ... [n_mels, F], mel_len [K]
Outputs (F64):
  logits.b [T_b, V], hidden.b.i [T_b, H] (HF convention: embeddings, layer outputs 1..N-1, final norm)
  speech mode also: audio [N_audio_tokens, H] (projected audio embeddings), counts [K] (int64)
  Qwen3-MoE also: experts.b.i [T_b, k] int64, the experts chosen for each token at layer i (sparse
  layers only), ascending

Needs only python3 + torch (Debian python3-torch) + the standard library.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16,
          "I64": torch.int64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    base = 8 + n
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dt = DTYPES[e["dtype"]]
        raw = bytearray(data[base + b: base + end])
        t = torch.frombuffer(raw, dtype=dt) if end > b else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def load_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    w = {}
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        for fn in files:
            w.update(read_safetensors(os.path.join(folder, fn)))
    else:
        w = read_safetensors(os.path.join(folder, "model.safetensors"))
    return {k: v.double() for k, v in w.items()}


# ---------------------------------------------------------------- configuration (§2.5, §3.1, §4)

def parse_config(folder):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    mt = c.get("model_type")
    if mt in ("qwen2", "qwen3", "qwen3_moe"):
        return "text", c, None, "", {}
    if mt == "qwen2_audio":
        return "qwen2_audio", c["text_config"], c["audio_config"], "language_model.", \
            {"audio": c.get("audio_token_index", 151646)}
    if mt == "qwen3_omni_moe":
        t = c["thinker_config"]
        return "omni3", t["text_config"], t["audio_config"], "thinker.", {"audio": t.get("audio_token_id", 151646)}
    if mt in ("qwen2_5_omni", "qwen2_5_omni_thinker"):
        t = c["thinker_config"] if mt == "qwen2_5_omni" else c
        return "omni", t["text_config"], t["audio_config"], ("thinker." if mt == "qwen2_5_omni" else ""), \
            {"audio": t.get("audio_token_index", 151646)}
    raise SystemExit(f"unsupported model_type {mt}")


def text_shapes(t):
    h, nh = t["hidden_size"], t["num_attention_heads"]
    nkv = t["num_key_value_heads"] if "num_key_value_heads" in t else 32
    if nkv is None:
        nkv = nh
    qwen3 = t.get("model_type") in ("qwen3", "qwen3_moe", "qwen3_omni_moe_text")
    # Qwen3Config: head_dim defaults to 128 whatever the width; Qwen2 and Qwen3MoeAttention
    # (getattr(config, "head_dim", hidden_size // heads)): hidden_size // heads.
    d = t.get("head_dim") or (128 if t.get("model_type") == "qwen3" else h // nh)
    # Qwen2: q/k/v always have biases, o never; Qwen3: all four per attention_bias (default False),
    # and an RMSNorm over each head of q and k (q_norm, k_norm) before RoPE.
    qkv_bias = t.get("attention_bias", False) if qwen3 else True
    o_bias = t.get("attention_bias", False) if qwen3 else False
    theta = t.get("rope_theta", (t.get("rope_parameters") or {}).get("rope_theta", 10000.0))
    moe = None
    if t.get("model_type") in ("qwen3_moe", "qwen3_omni_moe_text"):
        # Qwen3MoeConfig defaults; Qwen3MoeDecoderLayer: sparse when the layer is not in mlp_only_layers,
        # num_experts > 0 and (layer + 1) % decoder_sparse_step == 0.
        n_exp = t.get("num_experts", 128)
        step = t.get("decoder_sparse_step", 1)
        dense = set(t.get("mlp_only_layers") or [])
        # norm_topk_prob: Qwen3MoeConfig defaults to False, Qwen3OmniMoeTextConfig to True.
        norm_default = t.get("model_type") == "qwen3_omni_moe_text"
        moe = dict(E=n_exp, k=t.get("num_experts_per_tok", 8), norm=t.get("norm_topk_prob", norm_default),
                   sparse=[i not in dense and n_exp > 0 and (i + 1) % step == 0
                           for i in range(t["num_hidden_layers"])])
    return dict(H=h, nH=nh, nKV=nkv, D=d, L=t["num_hidden_layers"], eps=t.get("rms_norm_eps", 1e-6),
                theta=theta, act=t.get("hidden_act", "silu"), tie=t.get("tie_word_embeddings", False),
                qkv_bias=qkv_bias, o_bias=o_bias, qk_norm=qwen3, moe=moe,
                mrope=(t.get("rope_scaling") or {}).get("mrope_section"))


# ---------------------------------------------------------------- Qwen2 decoder (§2.1, §2.2)

def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def act(x, name):
    if name == "silu":
        return x * torch.sigmoid(x)
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if name == "gelu_pytorch_tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    raise SystemExit(f"unknown activation {name}")


def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat([-x[..., d:], x[..., :d]], -1)


def embed_table(w, prefix):
    for body in (prefix + "model.", "model.language_model."):
        if body + "embed_tokens.weight" in w:
            return w[body + "embed_tokens.weight"]
    raise SystemExit("no embed_tokens.weight")


def swiglu(h, w, p, act_name):
    return (act(h @ w[p + "gate_proj.weight"].T, act_name) * (h @ w[p + "up_proj.weight"].T)) @ w[p + "down_proj.weight"].T


def sparse_moe(h, w, p, s):
    """Qwen3MoeSparseMoeBlock, one token at a time: softmax over all experts, top-k, renormalised
    when norm_topk_prob, the weighted sum of the chosen experts' SwiGLU outputs.
    Returns (output [T, H], chosen experts [T, k] ascending)."""
    m = s["moe"]
    probs = torch.softmax(h @ w[p + "mlp.gate.weight"].T, -1)
    out = torch.zeros_like(h)
    chosen = torch.zeros((h.shape[0], m["k"]), dtype=torch.int64)
    for t in range(h.shape[0]):
        top_w, top_e = torch.topk(probs[t], m["k"])
        if m["norm"]:
            top_w = top_w / top_w.sum()
        for j in sorted(range(m["k"]), key=lambda j: int(top_e[j])):  # HF adds experts in ascending order
            e = int(top_e[j])
            out[t] += top_w[j] * swiglu(h[t:t + 1], w, f"{p}mlp.experts.{e}.", s["act"])[0]
        chosen[t] = top_e.sort().values
    return out, chosen


def decoder(w, s, prefix, embeds, routing=None):
    """embeds [T, H] float64 -> (logits [T, V], hidden states list). Sparse layers' chosen experts
    go into `routing` (layer -> [T, k]) when given."""
    body = prefix + "model."
    if body + "embed_tokens.weight" not in w and prefix == "language_model.":
        body = "model.language_model."
    T = embeds.shape[0]
    H, nH, nKV, D = s["H"], s["nH"], s["nKV"], s["D"]
    # §2.2 / §11: the RoPE tables are computed in fp32 (inv_freq from arange(0, D, 2, int64).float() / D),
    # then used in the activation dtype (here float64).
    pos = torch.arange(T, dtype=torch.int64).float()
    inv = 1.0 / (s["theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    freqs = pos[:, None] * inv[None, :]
    if s.get("mrope"):
        # Qwen3-Omni's interleaved M-RoPE (Qwen3OmniMoeThinkerTextRotaryEmbedding): three position
        # rows (t, h, w); for an audio + text prompt get_rope_index gives each of them 0..T-1. Slots
        # 1, 4, 7, ... (< 3·h) take the h row, 2, 5, 8, ... (< 3·w) the w row, the rest the t row.
        rows = [pos, pos, pos]
        per_row = [r[:, None] * inv[None, :] for r in rows]
        freqs = per_row[0].clone()
        for dim in (1, 2):
            length = s["mrope"][dim] * 3
            freqs[:, dim:length:3] = per_row[dim][:, dim:length:3]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos().double(), emb.sin().double()
    causal = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    x = embeds
    hidden = []
    for i in range(s["L"]):
        p = f"{body}layers.{i}."
        hidden.append(x)
        h = rmsnorm(x, w[p + "input_layernorm.weight"], s["eps"])
        def proj(x_, name, bias):
            y = x_ @ w[p + name + ".weight"].T
            return y + w[p + name + ".bias"] if bias else y
        q = proj(h, "self_attn.q_proj", s["qkv_bias"]).view(T, nH, D)
        k = proj(h, "self_attn.k_proj", s["qkv_bias"]).view(T, nKV, D)
        v = proj(h, "self_attn.v_proj", s["qkv_bias"]).view(T, nKV, D).transpose(0, 1)
        if s["qk_norm"]:
            q = rmsnorm(q, w[p + "self_attn.q_norm.weight"], s["eps"])
            k = rmsnorm(k, w[p + "self_attn.k_norm.weight"], s["eps"])
        q, k = q.transpose(0, 1), k.transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nH // nKV
        k = k.repeat_interleave(rep, dim=0)   # head j uses kv head j // rep
        v = v.repeat_interleave(rep, dim=0)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D) + causal, -1) @ v
        x = x + proj(a.transpose(0, 1).reshape(T, nH * D), "self_attn.o_proj", s["o_bias"])
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"], s["eps"])
        if s["moe"] and s["moe"]["sparse"][i]:
            y, chosen = sparse_moe(h, w, p, s)
            x = x + y
            if routing is not None:
                routing[i] = chosen
        else:
            x = x + swiglu(h, w, p + "mlp.", s["act"])
    x = rmsnorm(x, w[body + "norm.weight"], s["eps"])
    hidden.append(x)
    head = w.get(prefix + "lm_head.weight", w.get("lm_head.weight", w[body + "embed_tokens.weight"]))
    return x @ head.T, hidden, w[body + "embed_tokens.weight"]


# ---------------------------------------------------------------- Whisper layers (§3.2, §4)

def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def whisper_layer(w, p, x, mask, heads):
    """x [T, d]; mask additive [T, T]."""
    T, d = x.shape
    D = d // heads
    h = layer_norm(x, w[p + "self_attn_layer_norm.weight"], w[p + "self_attn_layer_norm.bias"])
    q = (h @ w[p + "self_attn.q_proj.weight"].T + w[p + "self_attn.q_proj.bias"]) * D ** -0.5
    k = h @ w[p + "self_attn.k_proj.weight"].T
    if p + "self_attn.k_proj.bias" in w:   # Qwen3-Omni's AuT has key biases; Whisper's towers do not
        k = k + w[p + "self_attn.k_proj.bias"]
    v = h @ w[p + "self_attn.v_proj.weight"].T + w[p + "self_attn.v_proj.bias"]
    q, k, v = (t.view(T, heads, D).transpose(0, 1) for t in (q, k, v))
    a = torch.softmax(q @ k.transpose(1, 2) + mask, -1) @ v
    x = x + a.transpose(0, 1).reshape(T, d) @ w[p + "self_attn.out_proj.weight"].T + w[p + "self_attn.out_proj.bias"]
    h = layer_norm(x, w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"])
    h = gelu(h @ w[p + "fc1.weight"].T + w[p + "fc1.bias"])
    return x + h @ w[p + "fc2.weight"].T + w[p + "fc2.bias"]


def aut_token_count(L, chunk=100):
    """_get_feat_extract_output_lengths of Qwen3-Omni: 13 per full chunk + 3 halvings of the rest."""
    def halve3(n):
        for _ in range(3):
            n = (n - 1) // 2 + 1
        return n
    rest = L % chunk
    return (L // chunk) * halve3(chunk) + (halve3(rest) if rest else 0)


def aut_audio_tower(w, a, prefix, mels, lens):
    """Qwen3OmniMoeAudioEncoder.forward on every clip of one call (docs/models/qwen3-omni.md §3):
    chunks of 2·n_window frames padded to the longest chunk of the call, three unmasked stride-2
    conv2d + GELU, conv_out on the channel-major flatten, sinusoids restarting per chunk, valid
    outputs kept, attention within windows of one clip, ln_post, proj1, GELU, proj2."""
    p = prefix + "audio_tower."
    d = a["d_model"]
    W = 2 * a["n_window"]
    chunks, clip_of = [], []
    for k, (mel, L) in enumerate(zip(mels, lens)):
        for s0 in range(0, L, W):
            chunks.append(mel[:, s0:min(L, s0 + W)])
            clip_of.append(k)
    tmax = max(c.shape[1] for c in chunks)
    x = torch.zeros((len(chunks), 1, mel.shape[0], tmax), dtype=torch.float64)
    for i, c in enumerate(chunks):
        x[i, 0, :, :c.shape[1]] = c
    for i in (1, 2, 3):
        x = gelu(F.conv2d(x, w[f"{p}conv2d{i}.weight"], w[f"{p}conv2d{i}.bias"], stride=2, padding=1))
    n, ch, fr, tt = x.shape
    x = x.permute(0, 3, 1, 2).reshape(n, tt, ch * fr) @ w[p + "conv_out.weight"].T
    half = d // 2
    inc = math.log(10000.0) / (half - 1)
    inv = torch.exp(-inc * torch.arange(half).float())  # fp32 sinusoid table, as transformers
    t = torch.arange(tt)[:, None] * inv[None, :]
    x = x + torch.cat([t.sin(), t.cos()], 1).double()[None]
    per_clip = [[] for _ in mels]
    for i, c in enumerate(chunks):
        per_clip[clip_of[i]].append(x[i, :aut_token_count(c.shape[1], W)])
    def halve3(v):
        for _ in range(3):
            v = (v - 1) // 2 + 1
        return v
    window = halve3(tmax) * (a["n_window_infer"] // W)
    out = []
    for parts in per_clip:
        h = torch.cat(parts, 0)
        pieces = []
        for s0 in range(0, h.shape[0], window):   # bidirectional attention within each window
            y = h[s0:s0 + window]
            mask = torch.zeros((y.shape[0], y.shape[0]), dtype=torch.float64)
            for i in range(a["encoder_layers"]):
                y = whisper_layer(w, f"{p}layers.{i}.", y, mask, a["encoder_attention_heads"])
            pieces.append(y)
        h = layer_norm(torch.cat(pieces, 0), w[p + "ln_post.weight"], w[p + "ln_post.bias"])
        out.append(gelu(h @ w[p + "proj1.weight"].T + w[p + "proj1.bias"]) @ w[p + "proj2.weight"].T + w[p + "proj2.bias"])
    return out


def token_count(L):
    t1 = (L - 1) // 2 + 1
    return (t1 - 2) // 2 + 1


def qwen2_audio_tower(w, a, mel, L):
    """§3.2: mel [n_mels, 2*max_source_positions], L valid frames -> [n, H]."""
    p = "audio_tower." if "audio_tower.conv1.weight" in w else "model.audio_tower."
    E = 2 * a["max_source_positions"]
    assert mel.shape[1] == E, f"features must have {E} frames"
    x = gelu(F.conv1d(mel[None], w[p + "conv1.weight"], w[p + "conv1.bias"], stride=1, padding=1))
    x = gelu(F.conv1d(x, w[p + "conv2.weight"], w[p + "conv2.bias"], stride=2, padding=1))[0].T
    x = x + w[p + "embed_positions.weight"]
    P = x.shape[0]
    t1 = (L - 1) // 2 + 1
    mask = torch.zeros(P, P, dtype=torch.float64)
    mask[:, t1:] = float("-inf")          # only keys are masked
    for i in range(a["encoder_layers"]):
        x = whisper_layer(w, f"{p}layers.{i}.", x, mask, a["encoder_attention_heads"])
    x = 0.5 * (x[0:2 * (P // 2):2] + x[1:2 * (P // 2):2])   # avgpool(2)
    x = layer_norm(x, w[p + "layer_norm.weight"], w[p + "layer_norm.bias"])
    pp = "multi_modal_projector." if "multi_modal_projector.linear.weight" in w else "model.multi_modal_projector."
    y = x @ w[pp + "linear.weight"].T + w[pp + "linear.bias"]
    return y[:token_count(L)]


def omni_audio_tower(w, a, prefix, mel, L):
    """§4, literally: chunks of 2*n_window valid frames, conv with frame mask, sinusoids restarting per
    chunk, ONE concatenated sequence with a block-diagonal mask, avgpool, ln_post, proj."""
    p = prefix + "audio_tower."
    d = a["d_model"]
    W = 2 * a["n_window"]
    feats = mel[:, :L]
    lens = []
    s = 0
    while s < L:
        lens.append(min(W, L - s))
        s += W
    half = d // 2
    inc = math.log(10000.0) / (half - 1)
    inv = torch.exp(-inc * torch.arange(half).float())    # the sinusoid table is fp32 (as in transformers)
    rows = []
    s = 0
    for n in lens:
        c = feats[:, s:s + n]
        s += n
        x = gelu(F.conv1d(c[None], w[p + "conv1.weight"], w[p + "conv1.bias"], stride=1, padding=1))
        x = gelu(F.conv1d(x, w[p + "conv2.weight"], w[p + "conv2.bias"], stride=2, padding=1))[0].T
        t = torch.arange(x.shape[0])[:, None] * inv[None, :]
        rows.append(x + torch.cat([t.sin(), t.cos()], 1).double())
    x = torch.cat(rows, 0)
    T = x.shape[0]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64)
    s = 0
    for r in rows:
        mask[s:s + r.shape[0], s:s + r.shape[0]] = 0
        s += r.shape[0]
    for i in range(a["encoder_layers"]):
        x = whisper_layer_omni(w, f"{p}layers.{i}.", x, mask, a["encoder_attention_heads"])
    n = T // 2
    x = 0.5 * (x[0:2 * n:2] + x[1:2 * n:2])
    x = layer_norm(x, w[p + "ln_post.weight"], w[p + "ln_post.bias"])
    return x @ w[p + "proj.weight"].T + w[p + "proj.bias"]


def whisper_layer_omni(w, p, x, mask, heads):
    return whisper_layer(w, p, x, mask, heads)   # same math in float64 (scaling q or q·k is equal)


def main():
    folder, inputs, outputs = sys.argv[1:4]
    kind, tcfg, acfg, prefix, ids = parse_config(folder)
    w = load_weights(folder)
    s = text_shapes(tcfg)
    inp = read_safetensors(inputs)
    out = {}
    if "ids" in inp:   # speech mode
        tok = inp["ids"].long()
        mel_len = inp["mel_len"].long().tolist()
        audio = []
        if kind == "omni3":
            audio = aut_audio_tower(w, acfg, prefix, [inp[f"mel.{k}"].double() for k in range(len(mel_len))], mel_len)
        for k, L in enumerate(mel_len if kind != "omni3" else []):
            mel = inp[f"mel.{k}"].double()
            if kind == "qwen2_audio":
                audio.append(qwen2_audio_tower(w, acfg, mel, L))
            else:
                audio.append(omni_audio_tower(w, acfg, prefix, mel, L))
        audio = torch.cat(audio, 0)
        embeds = embed_table(w, prefix)[tok].clone()
        pos = (tok == ids["audio"]).nonzero().flatten()
        if pos.numel() != audio.shape[0]:
            raise SystemExit(f"placeholders {pos.numel()} != audio tokens {audio.shape[0]}")
        embeds[pos] = audio
        logits, hidden, _ = decoder(w, s, prefix, embeds)
        out["audio"] = audio
        count = (lambda L: aut_token_count(L, 2 * acfg["n_window"])) if kind == "omni3" else token_count
        out["counts"] = torch.tensor([count(L) for L in mel_len], dtype=torch.int64)
        out["logits.0"] = logits
        for i, h in enumerate(hidden):
            out[f"hidden.0.{i}"] = h
    else:
        b = 0
        while f"ids.{b}" in inp:
            tok = inp[f"ids.{b}"].long()
            routing = {}
            logits, hidden, _ = decoder(w, s, prefix, embed_table(w, prefix)[tok], routing)
            out[f"logits.{b}"] = logits
            for i, h in enumerate(hidden):
                out[f"hidden.{b}.{i}"] = h
            for i, chosen in routing.items():
                out[f"experts.{b}.{i}"] = chosen
            b += 1
    write_safetensors(outputs, out)


if __name__ == "__main__":
    main()
