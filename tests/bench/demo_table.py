#!/usr/bin/python3
"""The paper's Table 1 in miniature, on the demo kit: teacher and untrained student, then X-OPD,
SFT, offline KD and GKD each trained with the same budget (steps) from the same student, all
scored on the kit's held-out voices with speech input (S) and text input (T).

  tests/bench/demo_table.py BUILD_DIR [--steps N] [--kit DIR] [--work DIR] [--methods x-opd,sft,...]

Prints a markdown table: S %, T %, the relative drops against the teacher's text score
(method.md §11), the share of the student's speech-vs-teacher gap each method closed, the change
of the student's text accuracy, and the training wall time; then each method's mean step time
split into rollout, teacher scoring and update (from its run's metrics.sqlite). Uses only the
`xopd` CLI and the run folders it writes.
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time


def xopd(build, *args):
    exe = os.path.join(build, "app", "cli", "xopd")
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"xopd {' '.join(args)} failed ({r.returncode}):\n{r.stderr}{r.stdout[-2000:]}")
    return r.stdout


def evaluate(build, flag, path, prompts):
    row = json.loads(xopd(build, "eval", flag, path, "--prompts", prompts, "--json"))["rows"][0]
    return row["speech"], row["text"]


def machine():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build")
    p.add_argument("--steps", type=int, default=0, help="optimizer steps per method (0: the demo config's)")
    p.add_argument("--kit", default=os.environ.get("XOPD_DEMO_KIT", "resources/demo-kit"))
    p.add_argument("--work", default="build/demo-table")
    p.add_argument("--methods", default="x-opd,sft,offline-kd,gkd")
    a = p.parse_args()
    prompts = os.path.join(a.kit, "prompts", "eval.jsonl")
    env_kit = os.path.abspath(a.kit)
    os.environ["XOPD_DEMO_KIT"] = env_kit
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    teacher_s, teacher_t = evaluate(a.build, "--model", os.path.join(a.kit, "teacher"), prompts)
    base_s, base_t = evaluate(a.build, "--model", os.path.join(a.kit, "student"), prompts)
    rows = [("teacher (text LLM)", None, teacher_t, None), ("student, untrained", base_s, base_t, None)]
    for method in a.methods.split(","):
        run_dir = os.path.join(a.work, method)
        args = ["distill", "--demo", "--method", method, "--run-dir", run_dir]
        if a.steps:
            args += ["--max-steps", str(a.steps)]
        t0 = time.time()
        xopd(a.build, *args)
        wall = time.time() - t0
        s, t = evaluate(a.build, "--run", run_dir, prompts)
        rows.append((f"student + {method}", s, t, wall))

    def cell(v):
        return "–" if v is None else f"{v:.1f}"

    def drop(v):
        return "–" if v is None else f"{100.0 * (teacher_t - v) / teacher_t:.1f}"

    gap = teacher_t - base_s
    print(f"Demo kit `{a.kit}`, held-out voices (`{prompts}`); machine: {machine()}, {os.cpu_count()} cores.\n")
    print("| model | S % | T % | ΔS % | ΔT % | gap closed | Δ text (points) | train time |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s, t, wall in rows:
        closed = "–" if wall is None or gap <= 0 else f"{100.0 * (s - base_s) / gap:.0f} %"
        dtext = "–" if wall is None else f"{t - base_t:+.1f}"
        print(f"| {name} | {cell(s)} | {cell(t)} | {drop(s)} | {drop(t)} | {closed} | {dtext} | "
              f"{'–' if wall is None else f'{wall:.0f} s'} |")


    print("\n| method | rollout s | teacher s | update s | step s | rollout share | tokens/s |")
    print("|---|---|---|---|---|---|---|")
    for method in a.methods.split(","):
        db = sqlite3.connect(os.path.join(a.work, method, "metrics.sqlite"))
        r = db.execute('SELECT avg("time/rollout_s"), avg("time/teacher_s"), avg("time/update_s"), '
                       'avg("time/step_s"), avg(tokens_per_s) FROM steps').fetchone()
        db.close()
        if r[3] is None:
            continue
        cells = " | ".join("–" if v is None else f"{v:.3f}" for v in r[:4])
        share = "–" if r[0] is None else f"{100.0 * r[0] / r[3]:.0f} %"
        print(f"| {method} | {cells} | {share} | {'–' if r[4] is None else f'{r[4]:.0f}'} |")


if __name__ == "__main__":
    main()
