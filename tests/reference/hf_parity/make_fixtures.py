#!/usr/bin/env python3
"""Hugging Face parity fixtures (issue 6): tiny random Qwen2, Qwen2-Audio and Qwen2.5-Omni models
built with `transformers` from configs written here (the §13 tester shapes of spec
model-formats.md, as in tests/data/checkpoint/tiny-*.config.json, with real-model behaviour:
silu, no sliding window), saved with `save_pretrained`, plus the outputs of fixed inputs computed
by transformers itself in float64, and WhisperFeatureExtractor features of fixed waveforms.
tests/core/model/test_hf_parity.cpp loads the folders through our loaders and compares.

Runs on the GPU machine (the development machines have no `transformers`: Debian does not package
it and no other registry is reachable there), by tests/gpu/run-gpu-checks.sh. NOT RUN on the
machine that wrote it; every model is tried on its own, and a failure is recorded in
manifest.json instead of stopping the others. Everything runs on the CPU (float64 outputs are the
reference; the GPU is not needed for this part). Output: about 5 MB.

    python3 tests/reference/hf_parity/make_fixtures.py --out tests/data/hf_parity

Layout of --out:
  manifest.json                      versions, per-model status, tolerances
  qwen2/            HF folder + parity.safetensors: ids.B [L], logits.B [L, V], hidden.B.I [L, H]
  qwen2_audio/      HF folder + parity.safetensors: mel.I [80, 60], mel_len [2], ids [L],
                    counts [2], audio [sum counts, H] (projector output), logits [L, V]
  qwen2_5_omni/     HF folder (Qwen2_5OmniForConditionalGeneration without talker, i.e. the real
                    "thinker." layout; else a thinker-only save) + parity.safetensors: mel.I
                    [20, F], mel_len, ids, counts, audio (audio tower output), logits,
                    text_ids [L], text_logits [L, V]
  whisper/          features.safetensors: wave.I [n] f32, mel80.I / mel128.I [bins, 3000] from the
                    default (torch) path, np80.I / np128.I from the numpy path, mask.I [3000] int32
"""
import argparse
import json
import math
import os
import shutil
import sys
import traceback

import torch

SEED = 20261201


def log(*a):
    print("hf_parity:", *a, flush=True)


def randomize(model, seed, std=0.2):
    """Weights ~ N(0, std) (norm scales 1 + N(0, std/2), biases N(0, std/2)), like TinyModels.cpp,
    so the outputs are far from zero and the comparison means something."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            lname = name.lower()
            if ("norm" in lname or "ln" in lname.split(".")[-2:][0]) and p.dim() == 1 and name.endswith("weight"):
                p.copy_(1.0 + noise * std / 2)
            elif name.endswith("bias"):
                p.copy_(noise * std / 2)
            else:
                p.copy_(noise * std)


def eager(model):
    for fn in ("set_attn_implementation",):
        if hasattr(model, fn):
            try:
                getattr(model, fn)("eager")
                return
            except Exception:
                pass
    try:
        model.config._attn_implementation = "eager"
    except Exception:
        pass


def build(cls, config, seed):
    torch.manual_seed(seed)
    try:
        config._attn_implementation = "eager"
    except Exception:
        pass
    model = cls(config)
    eager(model)
    randomize(model, seed)
    return model.eval().float()


def save_folder(model, folder):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    model.save_pretrained(folder)  # safetensors is the default (and only format in transformers 5)
    # Only the weights and config are needed; keep the fixture small and loader-relevant.
    files = sorted(os.listdir(folder))
    if not any(f.endswith(".safetensors") for f in files):
        raise RuntimeError(f"save_pretrained wrote no safetensors in {folder}: {files}")
    return files


def reload_diff(cls, folder, model, run):
    """max |run(reloaded) - run(model)|: save_pretrained must have kept every weight the forward uses
    (our loaders read only what it wrote). `run` maps a float64 model to a tensor."""
    try:
        again = cls.from_pretrained(folder).double().eval()
        eager(again)
        with torch.no_grad():
            return float((run(again) - run(model)).abs().max())
    except Exception as e:
        return f"reload failed: {e!r}"[:300]


def spec_reference_diff(folder, inputs, expected):
    """Runs tests/reference/model/qwen2_ref.py (the float64 reference written from the spec, which the
    C++ runtime already matches) on the saved folder and returns max |its logits - transformers'|
    per key of `expected` ({ref output key: transformers tensor}), or the error. A preview, on the
    machine that has transformers, of what test_hf_parity will find; not part of the fixtures."""
    import subprocess
    import tempfile
    from safetensors.torch import load_file, save_file
    ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model", "qwen2_ref.py")
    with tempfile.TemporaryDirectory() as tmp:
        i, o = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
        save_file({k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in inputs.items()}, i)
        r = subprocess.run([sys.executable, ref, folder, i, o], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return f"qwen2_ref.py failed: {r.stderr.strip()[-300:]}"
        out = load_file(o)
        return {k: float((out[k].double() - v.double()).abs().max()) for k, v in expected.items() if k in out}


def save_tensors(path, tensors):
    from safetensors.torch import save_file
    out = {}
    for k, v in tensors.items():
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.to(torch.float32)
        out[k] = v.contiguous()
    save_file(out, path)


def capture(model, suffix):
    """Registers a forward hook on the first module whose name ends with `suffix`; returns the list
    that receives its outputs."""
    got = []
    for name, m in model.named_modules():
        if name.endswith(suffix):
            def hook(_m, _i, o):
                got.append(o)
            m.register_forward_hook(hook)
            return got, name
    raise RuntimeError(f"no module named *{suffix}")


def first_tensor(o):
    if torch.is_tensor(o):
        return o
    if hasattr(o, "last_hidden_state") and o.last_hidden_state is not None:
        return o.last_hidden_state
    if isinstance(o, (tuple, list)):
        return o[0]
    raise RuntimeError(f"cannot read a tensor from {type(o)}")


# --------------------------------------------------------------------------------------------
def make_qwen2(out):
    from transformers import Qwen2Config, Qwen2ForCausalLM
    cfg = Qwen2Config(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=5,
                      num_attention_heads=4, num_key_value_heads=2, hidden_act="silu",
                      max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1e6,
                      use_sliding_window=False, tie_word_embeddings=False, bos_token_id=1,
                      eos_token_id=2, pad_token_id=0)
    model = build(Qwen2ForCausalLM, cfg, SEED + 1)
    folder = os.path.join(out, "qwen2")
    files = save_folder(model, folder)
    model = model.double()
    g = torch.Generator().manual_seed(SEED + 2)
    t = {}
    with torch.no_grad():
        for b, L in enumerate([9, 4, 13]):
            ids = torch.randint(0, cfg.vocab_size, (L,), generator=g)
            o = model(input_ids=ids[None], output_hidden_states=True)
            t[f"ids.{b}"] = ids
            t[f"logits.{b}"] = o.logits[0]
            for i, h in enumerate(o.hidden_states):
                t[f"hidden.{b}.{i}"] = h[0]
    save_tensors(os.path.join(folder, "parity.safetensors"), t)
    probe = t["ids.0"][None]
    diff = reload_diff(Qwen2ForCausalLM, folder, model, lambda m: m(input_ids=probe).logits)
    spec = spec_reference_diff(folder, {k: v for k, v in t.items() if k.startswith("ids.")},
                               {k: v for k, v in t.items() if k.startswith("logits.")})
    return {"files": files, "sequences": 3, "hidden_states": cfg.num_hidden_layers + 1, "reload_max_diff": diff,
            "spec_reference_max_diff": spec}


def qwen2_audio_counts(lens):
    t1 = [(L - 1) // 2 + 1 for L in lens]
    return [(x - 2) // 2 + 1 for x in t1]


def make_qwen2_audio(out):
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration
    audio = {"model_type": "qwen2_audio_encoder", "d_model": 16, "encoder_attention_heads": 4,
             "encoder_ffn_dim": 16, "encoder_layers": 2, "num_mel_bins": 80, "max_source_positions": 30}
    text = {"model_type": "qwen2", "hidden_size": 32, "intermediate_size": 36, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 99,
            "max_position_embeddings": 52, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "use_mrope": False, "eos_token_id": 2, "hidden_act": "silu", "tie_word_embeddings": False}
    A = 0
    # Both spellings of the placeholder id (audio_token_index up to transformers 4.x, audio_token_id later).
    cfg = Qwen2AudioConfig(audio_config=audio, text_config=text, audio_token_index=A, audio_token_id=A)
    model = build(Qwen2AudioForConditionalGeneration, cfg, SEED + 11)
    folder = os.path.join(out, "qwen2_audio")
    files = save_folder(model, folder)
    model = model.double()
    lens = [45, 60]
    F = 60
    g = torch.Generator().manual_seed(SEED + 12)
    mel = torch.randn(len(lens), 80, F, generator=g, dtype=torch.float64)
    fam = torch.zeros(len(lens), F, dtype=torch.long)
    for i, L in enumerate(lens):
        fam[i, :L] = 1
    tower = getattr(model, "audio_tower", None) or model.model.audio_tower
    counts = None
    if hasattr(tower, "_get_feat_extract_output_lengths"):
        _, c = tower._get_feat_extract_output_lengths(torch.tensor(lens))
        counts = [int(x) for x in c]
    formula = qwen2_audio_counts(lens)
    if counts is None:
        counts = formula
    tmpl = [7, 8, A, 9, 10, A, 11, 12]
    ids, k = [], 0
    for x in tmpl:
        if x == A:
            ids += [A] * counts[k]
            k += 1
        else:
            ids.append(x)
    ids = torch.tensor(ids)
    got, pname = capture(model, "multi_modal_projector")
    with torch.no_grad():
        o = model(input_ids=ids[None], attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                  input_features=mel, feature_attention_mask=fam, output_hidden_states=True)
    proj = first_tensor(got[-1])  # [B, T, H]
    audio = torch.cat([proj[i, :counts[i]] for i in range(len(lens))], 0)
    t = {"ids": ids, "mel_len": torch.tensor(lens), "counts": torch.tensor(counts), "audio": audio,
         "logits": o.logits[0]}
    for i in range(len(lens)):
        t[f"mel.{i}"] = mel[i]
    if o.hidden_states is not None:
        t["hidden.last"] = o.hidden_states[-1][0]
    save_tensors(os.path.join(folder, "parity.safetensors"), t)
    diff = reload_diff(Qwen2AudioForConditionalGeneration, folder, model,
                       lambda m: m(input_ids=ids[None], attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                   input_features=mel, feature_attention_mask=fam).logits)
    spec = spec_reference_diff(folder, {k: v for k, v in t.items() if k in ("ids", "mel_len") or k.startswith("mel.")},
                               {"logits.0": t["logits"], "audio": t["audio"]})
    return {"files": files, "counts": counts, "counts_formula": formula, "projector_module": pname,
            "reload_max_diff": diff, "spec_reference_max_diff": spec}


def make_omni(out):
    import transformers as tf
    audio = {"model_type": "qwen2_5_omni_audio_encoder", "d_model": 32, "encoder_attention_heads": 4,
             "encoder_ffn_dim": 32, "encoder_layers": 2, "num_mel_bins": 20, "max_source_positions": 1500,
             "n_window": 100, "output_dim": 32}
    text = {"model_type": "qwen2_5_omni_text", "vocab_size": 99, "hidden_size": 32, "intermediate_size": 37,
            "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
            "max_position_embeddings": 1024, "rms_norm_eps": 1e-6, "rope_theta": 1e6,
            "tie_word_embeddings": False,
            "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default"}}
    vision = {"depth": 2, "hidden_size": 32, "hidden_act": "quick_gelu", "intermediate_size": 24,
              "num_heads": 4, "in_channels": 3, "patch_size": 14, "spatial_merge_size": 1,
              "temporal_patch_size": 2, "out_hidden_size": 32, "fullatt_block_indexes": [0],
              "window_size": 28}
    ids_cfg = dict(audio_token_index=1, image_token_index=2, video_token_index=3, audio_start_token_id=4,
                   audio_end_token_id=5, user_token_id=6, vision_start_token_id=7, vision_end_token_id=8,
                   audio_token_id=1, image_token_id=2, video_token_id=3)  # both spellings of the ids
    thinker_cfg = tf.Qwen2_5OmniThinkerConfig(audio_config=audio, text_config=text, vision_config=vision, **ids_cfg)
    folder = os.path.join(out, "qwen2_5_omni")
    layout = None
    model = None
    # The real checkpoint layout: Qwen2_5OmniForConditionalGeneration without audio output holds
    # only the thinker, saved under "thinker.".
    try:
        cfg = tf.Qwen2_5OmniConfig(thinker_config=thinker_cfg.to_dict(), enable_audio_output=False)
        full = build(tf.Qwen2_5OmniForConditionalGeneration, cfg, SEED + 21)
        files = save_folder(full, folder)
        model = full.thinker
        layout = "Qwen2_5OmniForConditionalGeneration (thinker. prefix)"
    except Exception as e:
        log("omni: full model failed (", repr(e)[:300], "); saving the thinker alone")
        model = build(tf.Qwen2_5OmniThinkerForConditionalGeneration, thinker_cfg, SEED + 21)
        files = save_folder(model, folder)
        layout = "Qwen2_5OmniThinkerForConditionalGeneration (no prefix)"
    eager(model)
    model = model.double().eval()
    lens = [450, 131]
    F = 460
    g = torch.Generator().manual_seed(SEED + 22)
    mel = torch.randn(len(lens), 20, F, generator=g, dtype=torch.float64)
    fam = torch.zeros(len(lens), F, dtype=torch.long)
    for i, L in enumerate(lens):
        fam[i, :L] = 1
    tower = model.audio_tower if hasattr(model, "audio_tower") else model.model.audio_tower
    _, c = tower._get_feat_extract_output_lengths(torch.tensor(lens))
    counts = [int(x) for x in c]
    AS, AU, AE = 4, 1, 5
    ids = [9, 10, AS] + [AU] * counts[0] + [AE, 11, AS] + [AU] * counts[1] + [AE, 12, 13]
    ids = torch.tensor(ids)
    got, tname = capture(model, "audio_tower")
    with torch.no_grad():
        o = model(input_ids=ids[None], attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                  input_features=mel, feature_attention_mask=fam)
        gt = torch.Generator().manual_seed(SEED + 23)
        text_ids = torch.randint(9, 99, (11,), generator=gt)
        ot = model(input_ids=text_ids[None], attention_mask=torch.ones(1, 11, dtype=torch.long))
    audio = first_tensor(got[0])
    t = {"ids": ids, "mel_len": torch.tensor(lens), "counts": torch.tensor(counts), "audio": audio,
         "logits": o.logits[0], "text_ids": text_ids, "text_logits": ot.logits[0]}
    for i in range(len(lens)):
        t[f"mel.{i}"] = mel[i]
    save_tensors(os.path.join(folder, "parity.safetensors"), t)
    if layout.startswith("Qwen2_5OmniForConditionalGeneration"):
        cls, pick = tf.Qwen2_5OmniForConditionalGeneration, (lambda m: m.thinker)
    else:
        cls, pick = tf.Qwen2_5OmniThinkerForConditionalGeneration, (lambda m: m)
    diff = reload_diff(cls, folder, model, lambda m: (pick(m) if m is not model else m)(
        input_ids=text_ids[None], attention_mask=torch.ones(1, 11, dtype=torch.long)).logits)
    spec = spec_reference_diff(folder, {k: v for k, v in t.items() if k in ("ids", "mel_len") or k.startswith("mel.")},
                               {"logits.0": t["logits"], "audio": t["audio"]})
    return {"files": files, "layout": layout, "counts": counts, "audio_module": tname, "reload_max_diff": diff,
            "spec_reference_max_diff": spec}


def make_whisper(out):
    import numpy as np
    from transformers import WhisperFeatureExtractor
    folder = os.path.join(out, "whisper")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(SEED + 31)
    sr = 16000
    waves = []
    for seconds, f0 in [(1.3, 220.0), (3.7, 517.0)]:
        n = int(seconds * sr)
        t = np.arange(n) / sr
        chirp = np.sin(2 * math.pi * (f0 * t + 300.0 * t * t))
        w = 0.3 * chirp + 0.05 * rng.standard_normal(n)
        w[: n // 10] *= np.linspace(0, 1, n // 10)
        waves.append(w.astype(np.float32))
    t = {}
    info = {}
    for bins, which in [(80, [0]), (128, [0, 1])]:
        fe = WhisperFeatureExtractor(feature_size=bins)
        for i in which:
            w = waves[i]
            r = fe(w, sampling_rate=sr, return_tensors="np", return_attention_mask=True, padding="max_length")
            t[f"mel{bins}.{i}"] = torch.from_numpy(np.asarray(r["input_features"][0], dtype=np.float32))
            mask = np.asarray(r["attention_mask"][0])
            if mask.shape[0] != 3000:  # sample-level mask in some versions
                mask = mask[::160]
            t[f"mask.{i}"] = torch.from_numpy(mask.astype(np.int32))
            try:
                padded = np.zeros(480000, dtype=np.float32)
                padded[: len(w)] = w
                npf = fe._np_extract_fbank_features(padded[None], "cpu") if "device" in \
                    fe._np_extract_fbank_features.__code__.co_varnames else fe._np_extract_fbank_features(padded)
                npf = np.asarray(npf)
                if npf.ndim == 3:
                    npf = npf[0]
                t[f"np{bins}.{i}"] = torch.from_numpy(npf.astype(np.float32))
            except Exception as e:
                info[f"np{bins}.{i}"] = f"numpy path failed: {e!r}"[:300]
    for i, w in enumerate(waves):
        t[f"wave.{i}"] = torch.from_numpy(w)
    save_tensors(os.path.join(folder, "features.safetensors"), t)
    info["clips"] = [len(w) for w in waves]
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "hf_parity"))
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    import transformers
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    manifest = {"transformers": transformers.__version__, "torch": torch.__version__, "python": sys.version.split()[0],
                "reference_precision": "float64 (stored as float32)", "seed": SEED,
                "tolerance": {"atol": 1e-5, "rtol": 1e-4}, "models": {}}
    ok = True
    for name, fn in [("qwen2", make_qwen2), ("qwen2_audio", make_qwen2_audio), ("qwen2_5_omni", make_omni),
                     ("whisper", make_whisper)]:
        if args.only and name not in args.only:
            continue
        try:
            info = fn(out)
            manifest["models"][name] = {"ok": True, **info}
            log(name, "ok")
        except Exception as e:
            ok = False
            manifest["models"][name] = {"ok": False, "error": repr(e)[:2000]}
            log(name, "FAILED:", repr(e))
            traceback.print_exc()
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    for name, m in manifest["models"].items():
        log(name, {k: m[k] for k in ("ok", "error", "reload_max_diff", "spec_reference_max_diff") if k in m})
    log(f"total {total / 1e6:.2f} MB in {out}")
    if total > 10e6:
        log("WARNING: fixtures exceed 10 MB")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
