#!/usr/bin/python3
"""Float64 reference of the X-OPD / GKD / SFT losses (independent of the C++ code).

Usage: objectives_ref.py INPUT.json  -> prints {"loss": float, "grad": [N][L][V]} (gradient of the
loss with respect to the student's logits). Written from spec/method.md §3, §6, §12 directly, with
explicit per-row loops so it shares no vectorisation tricks with the C++ implementation.
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)


def masked_log_softmax(logits, comparable, temperature):
    x = logits / temperature
    x = x.masked_fill(~comparable, float("-inf"))
    return torch.log_softmax(x, dim=-1)


def shape_advantage(a, d):
    t = d["reward_transform"]
    c = d["reward_bound"]
    if t == "tanh":
        a = c * math.tanh(a / c)
    elif t == "clip":
        a = max(-c, min(c, a))
    if d["advantage_clip"] > 0:
        a = max(-d["advantage_clip"], min(d["advantage_clip"], a))
    return a * d["reward_scale"]


def cord_weights(adv_row, d):
    """adv_row: list of shaped advantages of the row's valid tokens, in order."""
    T = len(adv_row)
    w = [1.0] * T
    if d["cord_topk"] > 0 and d["cord_alpha"] != 1.0:
        order = sorted(range(T), key=lambda i: -(-adv_row[i]))  # largest divergence −A first
        for i in order[: d["cord_topk"]]:
            w[i] *= d["cord_alpha"]
    beta = d["pos_decay_beta"]
    if beta != 1.0:
        for i in range(T):
            frac = i / (T - 1) if T > 1 else 0.0
            w[i] *= beta - (beta - 1.0) * frac
    return w


def kl(p_log, q_log):
    p = p_log.exp()
    return sum(float(0) if p[j] == 0 else p[j] * (p_log[j] - q_log[j]) for j in range(len(p)))


def divergence(s_log, t_log, kind, beta):
    if kind == "forward_kl" or (kind == "jsd" and beta == 0.0):
        return kl(t_log, s_log)
    if kind == "reverse_kl" or (kind == "jsd" and beta == 1.0):
        return kl(s_log, t_log)
    m = beta * t_log.exp() + (1 - beta) * s_log.exp()
    m_log = m.log()
    return beta * kl(t_log, m_log) + (1 - beta) * kl(s_log, m_log)


def main():
    d = json.load(open(sys.argv[1]))
    logits = torch.tensor(d["logits"], requires_grad=True)
    comparable = torch.tensor(d["comparable"], dtype=torch.bool)
    tokens = d["tokens"]
    mask = d["mask"]
    stream = d["stream"]
    lam = d["lambda"]
    T = d["loss_temperature"]
    N = len(tokens)
    L = len(tokens[0])
    logp = masked_log_softmax(logits, comparable, T)
    per_stream = {0: [], 1: []}  # 0 = text (weight λ), 1 = speech (weight 1 − λ)
    tok_count = {0: 0, 1: 0}
    for n in range(N):
        valid = [t for t in range(L) if mask[n][t] > 0]
        if d["mode"] == "pg":
            lp_old = d["lp_old"][n]
            lp_t = d["lp_teacher"][n]
            adv = [shape_advantage(lp_t[t] - lp_old[t], d) for t in valid]
            w = cord_weights(adv, d)
            terms = []
            for i, t in enumerate(valid):
                lp_new = logp[n, t, tokens[n][t]]
                ratio = torch.exp(lp_new - lp_old[t])
                s = ratio * adv[i]
                if d["clip_eps"] > 0:
                    e = d["clip_eps"]
                    s = torch.minimum(s, torch.clamp(ratio, 1 - e, 1 + e) * adv[i])
                terms.append(w[i] * s)
            total = sum(terms) if terms else torch.tensor(0.0)
            if d["agg"] == "token_mean":
                per_stream[stream[n]].append(total)
                tok_count[stream[n]] += len(valid)
            else:
                per_stream[stream[n]].append(total / max(1, len(valid)))
        elif d["mode"] == "gkd":
            t_logp = masked_log_softmax(torch.tensor(d["teacher_logits"]), comparable, T)
            ids = [j for j in range(len(d["comparable"])) if d["comparable"][j]]
            terms = []
            for t in valid:
                s_row = logp[n, t, ids]
                t_row = t_logp[n, t, ids]
                k = d["topk"]
                if 0 < k < len(ids):
                    top = sorted(range(len(ids)), key=lambda j: -float(t_row[j]))[:k]
                    s_row = torch.log_softmax(s_row[top], -1)
                    t_row = torch.log_softmax(t_row[top], -1)
                terms.append(divergence(s_row, t_row, d["divergence"], d["jsd_beta"]))
            per_stream[stream[n]].append((sum(terms) if terms else torch.tensor(0.0)) / max(1, len(valid)))
        else:  # "ce"
            terms = [-logp[n, t, tokens[n][t]] for t in valid]
            per_stream[stream[n]].append((sum(terms) if terms else torch.tensor(0.0)) / max(1, len(valid)))

    def stream_mean(s):
        if not per_stream[s]:
            return torch.tensor(0.0)
        if d["mode"] == "pg" and d["agg"] == "token_mean":
            return sum(per_stream[s]) / max(1, tok_count[s])
        return sum(per_stream[s]) / len(per_stream[s])

    obj = lam * stream_mean(0) + (1 - lam) * stream_mean(1)
    loss = -obj if d["mode"] == "pg" else obj
    loss.backward()
    json.dump({"loss": float(loss), "grad": logits.grad.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
