#!/usr/bin/env python3
"""Float64 reference for core/distill/divergence (test_divergence_reference).

Written from the definitions in Divergence.h / GKD, independently of the C++ code: probabilities are
built with explicit exp / sum over the unmasked ids, divergences are plain sums over outcomes with
Python-level case analysis, top-k supports are built per row. Gradients w.r.t. the student logits come
from float64 autograd of  sum_t w_t * D_t + sum_t u_t * log q_t(y_t)  for fixed random weights w, u.

Usage: make_fixtures.py OUT.json   (deterministic; needs Debian's python3-torch only)
"""
import json
import math
import sys

import torch

torch.manual_seed(20260125)
DT = torch.float64


def bf16_round(x):
    return x.to(torch.bfloat16).to(DT)


def probs(logits, mask, temperature):
    """Softmax over unmasked ids, written out: exp(z - max) / sum."""
    z = logits / temperature
    keep = ~mask
    zmax = torch.where(keep, z, torch.full_like(z, -1e300)).max(dim=1, keepdim=True).values
    e = torch.where(keep, torch.exp(z - zmax), torch.zeros_like(z))
    return e / e.sum(dim=1, keepdim=True)


def kl(a, b):
    """KL(a || b) per row over outcomes where a > 0 (0 log 0 = 0)."""
    out = []
    for i in range(a.shape[0]):
        s = a.new_zeros(())
        for j in range(a.shape[1]):
            if a[i, j] > 0:
                s = s + a[i, j] * (torch.log(a[i, j]) - torch.log(b[i, j]))
        out.append(s)
    return torch.stack(out)


def divergence(p, q, kind, beta):
    """p = teacher, q = student, rows of outcome probabilities."""
    if kind == "jsd" and beta == 0.0:
        kind = "forward_kl"
    if kind == "jsd" and beta == 1.0:
        kind = "reverse_kl"
    if kind == "forward_kl":
        return kl(p, q)
    if kind == "reverse_kl":
        return kl(q, p)
    m = beta * p + (1.0 - beta) * q
    return beta * kl(p, m) + (1.0 - beta) * kl(q, m)


def topk_support(teacher, mask, k):
    z = torch.where(mask, torch.full_like(teacher, -math.inf), teacher)
    rows = []
    for i in range(z.shape[0]):
        order = sorted(range(z.shape[1]), key=lambda j: (-float(z[i, j]), j))
        rows.append(order[:k])
    return rows


def compute(student, teacher, mask, ids, case):
    T = case["temperature"]
    q = probs(student, mask, T)
    p = probs(teacher, mask, T)
    k = case["topk"]
    if k == 0:
        d = divergence(p, q, case["kind"], case["beta"])
    else:
        support = case["support"]
        qs, ps = [], []
        for i, row in enumerate(support):
            qi = torch.stack([q[i, j] for j in row])
            pi = torch.stack([p[i, j] for j in row])
            if case["mode"] == "renorm":
                qi, pi = qi / qi.sum(), pi / pi.sum()
            else:
                valid = int((~mask).sum())
                if k < valid:
                    tail = [j for j in range(q.shape[1]) if j not in row and not mask[j]]
                    qi = torch.cat([qi, torch.stack([q[i, j] for j in tail]).sum().reshape(1)])
                    pi = torch.cat([pi, torch.stack([p[i, j] for j in tail]).sum().reshape(1)])
            qs.append(qi)
            ps.append(pi)
        d = divergence(torch.stack(ps), torch.stack(qs), case["kind"], case["beta"])
    lq = torch.stack([torch.log(q[i, ids[i]]) for i in range(len(ids))])
    lp = torch.stack([torch.log(p[i, ids[i]]) for i in range(len(ids))])
    ent = torch.stack([-sum(q[i, j] * torch.log(q[i, j]) for j in range(q.shape[1]) if q[i, j] > 0)
                       for i in range(q.shape[0])])
    return d, lq, lp, ent


def main():
    out_path = sys.argv[1]
    N, V = 6, 37
    inputs = []
    for name, rounding, masked in [("fp32", False, False), ("fp32_masked", False, True),
                                   ("bf16", True, False), ("bf16_masked", True, True)]:
        student = torch.randn(N, V, dtype=DT) * 2.0
        teacher = student * 0.5 + torch.randn(N, V, dtype=DT) * 1.5
        # Round to what the C++ side will hold (fp32 or bf16) so both start from identical values.
        student = bf16_round(student) if rounding else student.to(torch.float32).to(DT)
        teacher = bf16_round(teacher) if rounding else teacher.to(torch.float32).to(DT)
        mask = torch.zeros(V, dtype=torch.bool)
        if masked:
            mask[[3, 17, 30, 35, 36]] = True
        ids = [int(torch.randint(0, V, ()).item()) for _ in range(N)]
        ids = [j if not mask[j] else (j + 1) % 3 for j in ids]  # sampled ids are never masked
        w = torch.rand(N, dtype=DT) + 0.5
        u = torch.randn(N, dtype=DT)
        cases = []
        for kind, beta in [("forward_kl", 0.5), ("reverse_kl", 0.5), ("jsd", 0.1), ("jsd", 0.5),
                           ("jsd", 0.9), ("jsd", 0.0), ("jsd", 1.0)]:
            for topk, mode in [(0, "full"), (5, "renorm"), (5, "tail"), (int((~mask).sum()), "tail")]:
                for temperature in ([1.0, 0.7] if topk == 0 else [1.0]):
                    if topk == int((~mask).sum()) and kind == "jsd" and beta != 0.5:
                        continue
                    case = {"kind": kind, "beta": beta, "topk": topk, "mode": mode,
                            "temperature": temperature}
                    if topk:
                        case["support"] = topk_support(teacher, mask, topk)
                    s = student.clone().requires_grad_(True)
                    d, lq, lp, ent = compute(s, teacher, mask, ids, case)
                    (w * d + u * lq).sum().backward()
                    case.update({"divergence": d.tolist(), "student_logprob": lq.tolist(),
                                 "teacher_logprob": lp.tolist(), "entropy": ent.tolist(),
                                 "grad": s.grad.tolist()})
                    cases.append(case)
        inputs.append({"name": name, "dtype": "bf16" if rounding else "fp32", "student": student.tolist(),
                       "teacher": teacher.tolist(), "mask": mask.tolist(), "ids": ids,
                       "w": w.tolist(), "u": u.tolist(), "cases": cases})
    with open(out_path, "w") as f:
        json.dump({"generator": "tests/reference/divergence/make_fixtures.py", "N": N, "V": V,
                   "inputs": inputs}, f)


if __name__ == "__main__":
    main()
