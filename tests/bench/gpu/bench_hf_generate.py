#!/usr/bin/env python3
"""Hugging Face `transformers` `generate` on the same shapes as bench_gpu_rollout (Qwen2.5-0.5B- and
Qwen2.5-7B-shaped Qwen2ForCausalLM, random bf16 weights made on the GPU), same prompt length,
same number of new tokens sampled at temperature 1 with no stop: the baseline of the rollout
benchmark. Prints a markdown table like bench_gpu_rollout's.

Runs on the GPU machine (tests/gpu/run-gpu-checks.sh); NOT RUN on the machine that wrote it (no
GPU, no transformers there).

    python3 tests/bench/gpu/bench_hf_generate.py --shapes 0.5b 7b --batch 1 64 --prompt 64 --new 64
"""
import argparse
import time

import torch

SHAPES = {
    "0.5b": dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, tie_word_embeddings=True),
    "7b": dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
               num_attention_heads=28, num_key_value_heads=4, tie_word_embeddings=False),
}


def copy_bandwidth(nbytes=4 << 30):
    src = torch.empty(nbytes // 4, device="cuda").uniform_()
    dst = torch.empty_like(src)
    dst.copy_(src)
    torch.cuda.synchronize()
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            dst.copy_(src)
        torch.cuda.synchronize()
        best = max(best, 2.0 * src.numel() * 4 * 10 / (time.perf_counter() - t0))
    del src, dst
    return best


def build(shape):
    from transformers import Qwen2Config, Qwen2ForCausalLM
    cfg = Qwen2Config(**SHAPES[shape], hidden_act="silu", max_position_embeddings=32768, rms_norm_eps=1e-6,
                      rope_theta=1e6, use_sliding_window=False, bos_token_id=None, eos_token_id=None,
                      pad_token_id=0)
    torch.manual_seed(7)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("cuda"):
            model = Qwen2ForCausalLM(cfg)
    finally:
        torch.set_default_dtype(old)
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.02 * torch.randn_like(p))
            else:
                p.normal_(0.0, 0.02)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", nargs="+", default=["0.5b", "7b"])
    ap.add_argument("--batch", nargs="+", type=int, default=[1, 64])
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--new", type=int, default=64)
    args = ap.parse_args()
    import transformers
    bw = copy_bandwidth()
    print(f"Device copy bandwidth (read + write): {bw / 1e9:.0f} GB/s; bf16 weights; prompt {args.prompt} tokens, "
          f"{args.new} new tokens (do_sample, temperature 1, top_k 0, min_new_tokens = max_new_tokens); "
          f"transformers {transformers.__version__}, torch {torch.__version__}\n")
    print("| shape | params | batch | attention | prefill tok/s | decode tok/s | decode ms/step | floor ms/step "
          "| step / floor | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape in args.shapes:
        try:
            model = build(shape)
        except Exception as e:  # keep the other shapes
            print(f"| {shape} | error: {e!r} | | | | | | | | |")
            continue
        n = sum(p.numel() for p in model.parameters())
        wbytes = n * 2
        floor = wbytes / bw
        attn = getattr(model.config, "_attn_implementation", "?")
        for B in args.batch:
            g = torch.Generator(device="cpu").manual_seed(B)
            ids = torch.randint(0, model.config.vocab_size, (B, args.prompt), generator=g).cuda()
            mask = torch.ones_like(ids)
            kw = dict(attention_mask=mask, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                      max_new_tokens=args.new, min_new_tokens=args.new, pad_token_id=0)
            with torch.no_grad():
                model.generate(ids, **{**kw, "max_new_tokens": 2, "min_new_tokens": 2})  # warm-up
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                t0 = time.perf_counter()
                model(input_ids=ids, attention_mask=mask, logits_to_keep=1)
                torch.cuda.synchronize()
                prefill = time.perf_counter() - t0
                t0 = time.perf_counter()
                out = model.generate(ids, **kw)
                torch.cuda.synchronize()
                total = time.perf_counter() - t0
            produced = (out.shape[1] - args.prompt) * B
            decode = max(total - prefill, 1e-9)
            step = decode / max(args.new - 1, 1)
            ratio = f"{step / floor:.2f}" if B == 1 else "-"
            print(f"| {shape} | {n / 1e9:.2f} B | {B} | {attn} | {B * args.prompt / prefill:.0f} | {produced / decode:.1f} "
                  f"| {step * 1e3:.2f} | {floor * 1e3:.2f} | {ratio} | {torch.cuda.max_memory_allocated() / 1e9:.2f} GB |",
                  flush=True)
        del model
        torch.cuda.empty_cache()
    print("\nSame definitions as the xopd table: decode tok/s = new tokens / (generate - prefill); "
          "floor = weight bytes / copy bandwidth.")


if __name__ == "__main__":
    main()
