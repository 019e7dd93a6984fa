#!/usr/bin/env python3
"""Parameter counts from a config.json, independent of the C++ code (python3 standard library only).

Counts every nn.Parameter that Hugging Face `transformers` creates for the text decoder (and, for the
Omni thinkers, the audio encoder), module by module, as the modeling files define them. Sources read
(see docs/models/qwen3-moe.md and docs/models/qwen3-omni.md for the commits):
  models/qwen2/modeling_qwen2.py, models/qwen3/modeling_qwen3.py, models/qwen3_moe/modeling_qwen3_moe.py,
  models/qwen2_5_omni/modeling_qwen2_5_omni.py, models/qwen3_omni_moe/modeling_qwen3_omni_moe.py.

usage: param_count.py CONFIG.json|MODEL_DIR [--indent N]

Prints JSON:
  {"model_type", "total", "active", "active_non_embedding", "embedding", "lm_head", "tied",
   "per_part": {...}, "not_counted": [...]}
- total: every counted parameter (thinker text + audio encoder for the Omni models).
- active: parameters used for one text token: everything in the text decoder except the experts
  a token is not routed to (router, attention, norms and the shared dense layers always count), plus
  the input embedding matrix and lm_head counted whole. This is the convention of the Qwen model
  cards ("30.5B in total and 3.3B activated", "non-embedding 29.9B"). The audio encoder is not part of
  a text token's path and is left out of `active`.
- active_non_embedding: active minus embedding and (untied) lm_head.
- embedding: the input embedding matrix (vocab_size x hidden_size).
Buffers (rotary inv_freq, the audio encoder's sinusoidal table) are not parameters and not counted.
"""
import json
import os
import sys


def _get(cfg, key, default):
    """A key that is absent or null takes the default, as the HF config classes do for these keys."""
    value = cfg.get(key)
    return default if value is None else value


# ---------------------------------------------------------------------------------------------
# Text decoders
# ---------------------------------------------------------------------------------------------

def text_decoder(cfg, family):
    """Counts for one text decoder config. family: qwen2 | qwen3 | qwen3_moe.

    Returns (parts, active_parts) where both are dicts name -> count.
    """
    V = cfg["vocab_size"]
    H = cfg["hidden_size"]
    L = cfg["num_hidden_layers"]
    nH = cfg["num_attention_heads"]
    # Qwen2Config / Qwen3Config __post_init__: num_key_value_heads None -> num_attention_heads.
    nKV = _get(cfg, "num_key_value_heads", nH)
    if family == "qwen3":
        # Qwen3Config declares head_dim with class default 128 (independent of H / nH).
        D = _get(cfg, "head_dim", 128)
    else:
        # Qwen2Attention / Qwen3MoeAttention / Qwen3OmniMoeThinkerTextAttention.__init__:
        # getattr(config, "head_dim", hidden_size // num_attention_heads). Qwen3MoeConfig and
        # Qwen3OmniMoeTextConfig declare no head_dim; the real files carry it explicitly.
        D = _get(cfg, "head_dim", H // nH)

    # Attention biases.
    #   Qwen2Attention.__init__: q_proj, k_proj, v_proj bias=True; o_proj bias=False.
    #   Qwen3Attention / Qwen3MoeAttention / Qwen3OmniMoeThinkerTextAttention.__init__:
    #     all four with bias=config.attention_bias (default False).
    if family == "qwen2":
        qkv_bias, o_bias, qk_norm = True, False, False
    else:
        ab = bool(_get(cfg, "attention_bias", False))
        qkv_bias, o_bias, qk_norm = ab, ab, True

    attn = H * nH * D + H * nKV * D * 2 + nH * D * H  # q, k, v, o weights (nn.Linear [out, in])
    if qkv_bias:
        attn += nH * D + 2 * nKV * D
    if o_bias:
        attn += H
    if qk_norm:
        # Qwen3Attention.__init__: q_norm, k_norm = RMSNorm(head_dim): one weight [D] each.
        attn += 2 * D
    # Qwen*DecoderLayer.__init__: input_layernorm, post_attention_layernorm = RMSNorm(hidden_size).
    layer_norms = 2 * H

    I_dense = _get(cfg, "intermediate_size", 0)
    # Qwen2MLP / Qwen3MLP / Qwen3MoeMLP.__init__: gate_proj [I, H], up_proj [I, H], down_proj [H, I],
    # all bias=False.
    dense_mlp = 3 * H * I_dense

    parts = {"attention": 0, "layer_norms": 0, "dense_mlp": 0, "router": 0, "experts": 0}
    active = dict(parts)
    n_sparse = 0
    if family == "qwen3_moe":
        E = _get(cfg, "num_experts", 128)
        k = _get(cfg, "num_experts_per_tok", 8)
        I_moe = _get(cfg, "moe_intermediate_size", 768)
        step = _get(cfg, "decoder_sparse_step", 1)
        mlp_only = set(_get(cfg, "mlp_only_layers", []))
        if k > E:
            raise ValueError("num_experts_per_tok %d > num_experts %d" % (k, E))
        # Qwen3MoeSparseMoeBlock.__init__: gate = Linear(H, E, bias=False) (v5: Qwen3MoeTopKRouter
        # weight [E, H]); experts = E x Qwen3MoeMLP(intermediate_size=moe_intermediate_size)
        # (v5: Qwen3MoeExperts gate_up_proj [E, 2*I_moe, H] + down_proj [E, H, I_moe]: same count).
        router = E * H
        expert = 3 * H * I_moe
    for i in range(L):
        parts["attention"] += attn
        parts["layer_norms"] += layer_norms
        active["attention"] += attn
        active["layer_norms"] += layer_norms
        # Qwen3MoeDecoderLayer.__init__ (and Qwen3OmniMoeThinkerTextDecoderLayer.__init__):
        #   sparse iff (i not in mlp_only_layers) and num_experts > 0 and (i + 1) % decoder_sparse_step == 0
        sparse = (family == "qwen3_moe" and i not in mlp_only and E > 0 and (i + 1) % step == 0)
        if sparse:
            n_sparse += 1
            parts["router"] += router
            parts["experts"] += E * expert
            active["router"] += router
            active["experts"] += k * expert
        else:
            parts["dense_mlp"] += dense_mlp
            active["dense_mlp"] += dense_mlp
    # Qwen*Model.__init__: embed_tokens = Embedding(V, H); norm = RMSNorm(H).
    embedding = V * H
    parts["final_norm"] = H
    active["final_norm"] = H
    shape = {"vocab_size": V, "hidden_size": H, "layers": L, "heads": nH, "kv_heads": nKV,
             "head_dim": D, "sparse_layers": n_sparse}
    return parts, active, embedding, shape


def summed(d):
    return sum(v for v in d.values() if isinstance(v, int))


# ---------------------------------------------------------------------------------------------
# Audio encoders
# ---------------------------------------------------------------------------------------------

def _encoder_layers(d, ffn, n_layers, k_bias):
    """Whisper-style encoder layers (Qwen2_5OmniAudioEncoderLayer / Qwen3OmniMoeAudioEncoderLayer):
    self_attn.{q,k,v,out}_proj [d, d] (+bias; Qwen2.5-Omni's k_proj has none), self_attn_layer_norm
    and final_layer_norm (LayerNorm: weight + bias), fc1 [ffn, d] + bias, fc2 [d, ffn] + bias."""
    attn = 4 * d * d + 3 * d + (d if k_bias else 0)
    norms = 2 * 2 * d
    mlp = d * ffn + ffn + ffn * d + d
    return n_layers * (attn + norms + mlp)


def qwen3_omni_audio(acfg):
    """Qwen3OmniMoeAudioEncoder.__init__ (modeling_qwen3_omni_moe.py)."""
    mel = _get(acfg, "num_mel_bins", 128)
    d = _get(acfg, "d_model", 1280)
    ffn = _get(acfg, "encoder_ffn_dim", 5120)
    n = _get(acfg, "encoder_layers", 32)
    c = _get(acfg, "downsample_hidden_size", 480)
    out = _get(acfg, "output_dim", 3584)
    # conv2d1 = Conv2d(1, c, 3, stride 2, padding 1); conv2d2, conv2d3 = Conv2d(c, c, 3, 2, padding 1);
    # all with bias (nn.Conv2d default).
    convs = (1 * c * 9 + c) + 2 * (c * c * 9 + c)
    # conv_out = Linear(c * freq_after_3_convs, d, bias=False), freq = (((mel + 1)//2 + 1)//2 + 1)//2.
    freq = (((mel + 1) // 2 + 1) // 2 + 1) // 2
    conv_out = c * freq * d
    layers = _encoder_layers(d, ffn, n, k_bias=True)
    ln_post = 2 * d  # LayerNorm(d_model)
    proj1 = d * d + d  # Linear(d_model, d_model)
    proj2 = d * out + out  # Linear(d_model, output_dim)
    # positional_embedding: SinusoidsPositionEmbedding buffer (persistent=False): not a parameter.
    return {"conv2d": convs, "conv_out": conv_out, "layers": layers, "ln_post": ln_post,
            "proj1": proj1, "proj2": proj2}


def qwen2_5_omni_audio(acfg, text_hidden):
    """Qwen2_5OmniAudioEncoder.__init__ (modeling_qwen2_5_omni.py)."""
    mel = _get(acfg, "num_mel_bins", 128)
    d = _get(acfg, "d_model", 1280)
    ffn = _get(acfg, "encoder_ffn_dim", 5120)
    n = _get(acfg, "encoder_layers", 32)
    out = _get(acfg, "output_dim", 3584)
    # conv1 = Conv1d(num_mel_bins, d, kernel 3, padding 1); conv2 = Conv1d(d, d, 3, stride 2, padding 1).
    convs = (mel * d * 3 + d) + (d * d * 3 + d)
    layers = _encoder_layers(d, ffn, n, k_bias=False)
    ln_post = 2 * d
    proj = d * out + out  # proj = Linear(d_model, output_dim)
    # audio_bos_eos_token = Embedding(2, output_dim): a parameter the forward does not use.
    bos_eos = 2 * out
    return {"conv1d": convs, "layers": layers, "ln_post": ln_post, "proj": proj,
            "audio_bos_eos_token": bos_eos}


# ---------------------------------------------------------------------------------------------
# Whole configs
# ---------------------------------------------------------------------------------------------

def count(cfg):
    model_type = cfg.get("model_type")
    not_counted = []
    audio = None
    if model_type in ("qwen2", "qwen3", "qwen3_moe"):
        text = cfg
        family = model_type
        tied = bool(_get(cfg, "tie_word_embeddings", False))
    elif model_type == "qwen2_5_omni":
        thinker = cfg["thinker_config"]
        text = thinker["text_config"]
        family = "qwen2"  # Qwen2_5OmniThinkerTextModel: Qwen2 decoder (q/k/v bias, M-RoPE)
        # Qwen2_5OmniThinkerForConditionalGeneration: lm_head = Linear(H, V, bias=False); the
        # checkpoint stores thinker.lm_head.weight. The class defaults disagree on tying
        # (spec model-formats.md §4); the thinker's own key is the one read here.
        tied = bool(_get(thinker, "tie_word_embeddings", False))
        audio = qwen2_5_omni_audio(thinker.get("audio_config", {}), text["hidden_size"])
        not_counted = ["thinker.visual", "talker", "token2wav"]
    elif model_type == "qwen3_omni_moe":
        thinker = cfg["thinker_config"]
        text = thinker["text_config"]
        family = "qwen3_moe"  # Qwen3OmniMoeThinkerTextModel: Qwen3-MoE decoder with M-RoPE
        # Qwen3OmniMoeThinkerForConditionalGeneration.__init__: lm_head = Linear(H, V, bias=False);
        # thinker_config.tie_word_embeddings (class default False) decides tying.
        tied = bool(_get(thinker, "tie_word_embeddings", False))
        audio = qwen3_omni_audio(thinker.get("audio_config", {}))
        not_counted = ["thinker.visual", "talker", "code2wav"]
    elif model_type in ("qwen3_omni_moe_thinker", "qwen2_5_omni_thinker"):
        return count({"model_type": model_type[: -len("_thinker")], "thinker_config": cfg})
    else:
        raise SystemExit("param_count.py: model_type %r is not one this script knows" % model_type)

    parts, active_parts, embedding, shape = text_decoder(text, family)
    lm_head = 0 if tied else text["vocab_size"] * text["hidden_size"]
    text_body = summed(parts)
    text_active_body = summed(active_parts)

    per_part = {"text": dict(parts, embedding=embedding, lm_head=lm_head,
                             total=text_body + embedding + lm_head)}
    total = text_body + embedding + lm_head
    if audio is not None:
        audio_total = summed(audio)
        per_part["audio_encoder"] = dict(audio, total=audio_total)
        total += audio_total
    active = text_active_body + embedding + lm_head
    return {
        "model_type": model_type,
        "total": total,
        "active": active,
        "active_non_embedding": text_active_body,
        "embedding": embedding,
        "lm_head": lm_head,
        "tied": tied,
        "shape": shape,
        "per_part": per_part,
        "active_per_part": active_parts,
        "not_counted": not_counted,
    }


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    path = argv[1]
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    indent = 2
    if "--indent" in argv:
        indent = int(argv[argv.index("--indent") + 1])
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    print(json.dumps(count(cfg), indent=indent if indent > 0 else None, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
