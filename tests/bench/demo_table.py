#!/usr/bin/python3
"""The paper's three tables in miniature, on the demo kit (version 3), from real runs of the
`xopd` CLI.

  tests/bench/demo_table.py BUILD_DIR [--kit DIR] [--out DIR] [--work DIR] [--steps N]
                            [--seeds N] [--lrs A,B,C] [--jobs N] [--methods x-opd,sft,...]

What it does, in order (every number is from an `xopd distill` run and `xopd eval` of its
checkpoint; nothing is estimated):
 1. Learning rate per method, chosen on the *validation* questions (held-out voices; eval.jsonl
    split "dev"), never on test: each method (X-OPD, SFT, offline KD, GKD) trained with each lr of
    the grid for the same number of optimizer steps (seed 0); the lr with the best mean of speech
    and text accuracy on validation wins.
 2. Table 1: each method at its lr, 3 seeds (seed 0 is the grid's run), scored on the *test*
    questions and on the held-out *category* (never trained), both in held-out voices: S, T, the
    paper's ΔS % and ΔT % (relative drop against the teacher's text accuracy, averaged over the two
    benchmarks: the paper's Avg. Drop), and the share of the speech-vs-teacher gap closed on test.
    Then the baselines again with the *same wall time* as X-OPD (more steps: X-OPD's measured
    seconds per step over theirs), 3 seeds.
 3. Table 2: X-OPD with λ = 0 (speech only), 0.5 (default), 1 (text only), and with the kit's
    larger teacher (λ = 0.5), 3 seeds each, at X-OPD's lr.
 4. Table 3: the beep-count probe (prompts/probe.jsonl: a skill the student learned in its build
    and nobody trains) before and after each run; and the grid's largest-lr runs (seed 0) on
    test, category and probe, to show what a larger step does.
Writes DIR/demo-table.md and DIR/demo-table.json (each atomically: a temporary file renamed into
place) and prints the markdown. Runs go `--jobs` at a time, each with one LibTorch thread
(XOPD_THREADS=1), so the wall times of one table are comparable with each other.
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

KIT_VERSION = 3
METHOD_NAMES = {"x-opd": "X-OPD", "sft": "SFT", "offline-kd": "Offline KD", "gkd": "GKD (forward KL)"}

# The paper's numbers (spec/method.md §11), for the README and the JSON.
PAPER = {
    "table1": {"student": (11.29, 5.51), "sft": (22.76, 17.49), "offline-kd": (19.62, 15.02),
               "gkd": (20.23, 15.81), "x-opd": (3.43, 0.97)},
    "table2": {"x-opd": (3.43, 0.97), "large-teacher": (5.55, 2.23), "lambda-1": (6.91, 2.43),
               "lambda-0": (5.08, 2.52)},
    "table3": {"student": 71.3, "sft": 60.3, "offline-kd": 59.9, "gkd": 60.0, "lambda-0": 69.8,
               "x-opd": 69.3, "lambda-1": 70.7},
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Xopd:
    def __init__(self, build):
        self.exe = os.path.join(build, "app", "cli", "xopd")
        self.env = dict(os.environ, XOPD_THREADS="1")

    def __call__(self, *args):
        r = subprocess.run([self.exe, *args], capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            raise RuntimeError(f"xopd {' '.join(args)} failed ({r.returncode}):\n{r.stderr}{r.stdout[-2000:]}")
        return r.stdout

    def evaluate(self, flag, path, manifest):
        row = json.loads(self(*["eval", flag, path, "--prompts", manifest, "--json"]))["rows"][0]
        return {"speech": row.get("speech"), "text": row.get("text")}


def machine():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-" + os.path.basename(path))
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def split_manifests(kit, work, held_out_category):
    """validation / test / category manifests (absolute audio paths) cut from the kit's eval.jsonl."""
    base = os.path.join(kit, "prompts")
    sets = {"validation": [], "test": [], "category": []}
    for line in open(os.path.join(base, "eval.jsonl")):
        if not line.strip():
            continue
        row = json.loads(line)
        row["audio"] = os.path.join(base, row["audio"])
        if row.get("category") == held_out_category:
            sets["category"].append(row)
        elif row["split"] == "dev":
            sets["validation"].append(row)
        elif row["split"] == "test":
            sets["test"].append(row)
    out = {}
    for name, rows in sets.items():
        if not rows:
            sys.exit(f"{kit}: eval.jsonl has no {name} rows")
        out[name] = os.path.join(work, f"{name}.jsonl")
        write_atomic(out[name], "".join(json.dumps(r) + "\n" for r in rows))
    out["probe"] = os.path.join(base, "probe.jsonl")
    return out


def run_config(kit, method, lr, seed, steps, lam=None, teacher="teacher"):
    loss = {"method": method}
    if lam is not None:
        loss["lambda"] = lam
    return {
        "student": {"kind": "hf", "path": os.path.join(kit, "student")},
        "teacher": {"kind": "hf", "path": os.path.join(kit, teacher)},
        "data": {"manifest": os.path.join(kit, "prompts", "train.jsonl")},
        # The CPU demo config (demoDistillConfig): m = 4, 8 response tokens, 16 prompts per step.
        "rollout": {"rollouts_per_prompt": 4, "max_new_tokens": 8},
        "loss": loss,
        "train": {"batch_size": 16, "lr": lr, "max_steps": steps, "seed": seed, "checkpoint_every": 0,
                  "keep_checkpoints": 1, "log_token_samples": 0, "log_topk": 0, "modality_gap": False},
    }


class Runner:
    def __init__(self, xopd, kit, work, sets):
        self.xopd, self.kit, self.work, self.sets = xopd, kit, work, sets

    def run(self, name, config, evals):
        """Trains one run (unless its folder is complete) and evaluates its checkpoint on `evals`."""
        run_dir = os.path.join(self.work, "runs", name)
        result_file = run_dir + ".json"
        if os.path.exists(result_file):
            res = json.load(open(result_file))
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
            os.makedirs(os.path.dirname(run_dir), exist_ok=True)
            cfg = run_dir + ".config.json"
            write_atomic(cfg, json.dumps(config, indent=1))
            t0 = time.time()
            self.xopd("distill", "--config", cfg, "--run-dir", run_dir)
            wall = time.time() - t0
            db = sqlite3.connect(os.path.join(run_dir, "metrics.sqlite"))
            step_s, steps = db.execute('SELECT avg("time/step_s"), count(*) FROM steps').fetchone()
            db.close()
            res = {"name": name, "config": config, "wall_s": wall, "step_s": step_s, "steps": steps, "scores": {}}
        for e in evals:
            if e not in res["scores"]:
                res["scores"][e] = self.xopd.evaluate("--run", run_dir, self.sets[e])
        write_atomic(result_file, json.dumps(res, indent=1))
        log(f"  {name}: {res['steps']} steps, {res['wall_s']:.0f} s, " +
            ", ".join(f"{k} S {v['speech']:.1f} T {v['text']:.1f}" for k, v in res["scores"].items()))
        return res


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def pm(values, digits=1):
    m, s = mean_std(values)
    return "–" if m is None else f"{m:.{digits}f} ± {s:.{digits}f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build")
    p.add_argument("--kit", default=os.environ.get("XOPD_DEMO_KIT", "resources/demo-kit"))
    p.add_argument("--out", default="build/demo-table", help="folder of demo-table.md / demo-table.json")
    p.add_argument("--work", default="", help="run folders (default OUT/work); finished runs are reused")
    p.add_argument("--steps", type=int, default=150, help="optimizer steps of every equal-steps run")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--lrs", default="3e-5,1e-4,3e-4", help="learning-rate grid (chosen on validation)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (each one LibTorch thread)")
    p.add_argument("--methods", default="x-opd,sft,offline-kd,gkd")
    p.add_argument("--no-equal-time", action="store_true", help="skip the same-wall-time runs of the baselines")
    a = p.parse_args()
    t_start = time.time()

    kit = os.path.abspath(a.kit)
    kit_json = os.path.join(kit, "kit.json")
    if not os.path.exists(kit_json):
        sys.exit(f"{kit}: no kit.json (build the kit: xopd demo-kit build --out {a.kit})")
    info = json.load(open(kit_json))
    if info.get("version") != KIT_VERSION:
        sys.exit(f"{kit_json}: kit version {info.get('version')}, the tables need version {KIT_VERSION} "
                 f"(rebuild: xopd demo-kit build --out {a.kit})")
    if not os.path.isdir(os.path.join(kit, "teacher-large")):
        sys.exit(f"{kit}: no teacher-large/ (a kit built with --large-teacher-steps 0); rebuild it with the defaults")
    out = os.path.abspath(a.out)
    work = os.path.abspath(a.work or os.path.join(out, "work"))
    os.makedirs(work, exist_ok=True)
    sets = split_manifests(kit, work, info["task"]["held_out_category"])
    xopd = Xopd(a.build)
    runner = Runner(xopd, kit, work, sets)
    methods = a.methods.split(",")
    lrs = [float(x) for x in a.lrs.split(",")]
    seeds = list(range(a.seeds))
    pool = ThreadPoolExecutor(max_workers=a.jobs)
    final_evals = ["test", "category", "probe"]

    # 0. Reference models.
    log("reference models")
    ref = {}
    for name, folder in (("teacher", "teacher"), ("large-teacher", "teacher-large"), ("student", "student")):
        f = os.path.join(kit, folder)
        ref[name] = dict(pool.map(lambda e: (e, xopd.evaluate("--model", f, sets[e])),
                                  ["validation"] + final_evals if name == "student" else ["validation", "test", "category"]))

    # 1. Learning rate per method on validation (seed 0, equal steps).
    log(f"learning-rate grid {lrs} on validation, {a.steps} steps each")
    grid_jobs = {(m, lr): pool.submit(runner.run, f"{m}-lr{lr:g}-s0", run_config(kit, m, lr, 0, a.steps), ["validation"])
                 for m in methods for lr in lrs}
    grid = {k: f.result() for k, f in grid_jobs.items()}

    def val_score(r):
        v = r["scores"]["validation"]
        return (v["speech"] + v["text"]) / 2

    best_lr = {m: max(lrs, key=lambda lr: (val_score(grid[(m, lr)]), -lr)) for m in methods}
    log("chosen: " + ", ".join(f"{m} {best_lr[m]:g}" for m in methods))

    # 2. Table 1 (equal steps), Table 2, then equal wall time.
    jobs = {}
    for m in methods:
        for s in seeds:
            jobs[(m, s)] = pool.submit(runner.run, f"{m}-lr{best_lr[m]:g}-s{s}", run_config(kit, m, best_lr[m], s, a.steps),
                                       (["validation"] if s == 0 else []) + final_evals)
    xlr = best_lr.get("x-opd", 1e-4)
    variants = {"lambda-0": dict(lam=0.0), "lambda-1": dict(lam=1.0), "large-teacher": dict(teacher="teacher-large")}
    for v, kw in variants.items():
        for s in seeds:
            jobs[(v, s)] = pool.submit(runner.run, f"x-opd-{v}-lr{xlr:g}-s{s}",
                                       run_config(kit, "x-opd", xlr, s, a.steps, **kw), final_evals)
    res = {k: f.result() for k, f in jobs.items()}

    # The grid's largest-lr runs (seed 0) on test, category and probe too: what a larger step does.
    top_lr = max(lrs)
    top = dict(zip(methods, pool.map(lambda m: runner.run(f"{m}-lr{top_lr:g}-s0", run_config(kit, m, top_lr, 0, a.steps),
                                                          ["validation"] + final_evals), methods)))

    equal_time = {}
    if "x-opd" in methods and not a.no_equal_time:
        x_step = statistics.mean(res[("x-opd", s)]["step_s"] for s in seeds)
        ejobs = {}
        for m in methods:
            if m == "x-opd":
                continue
            m_step = statistics.mean(res[(m, s)]["step_s"] for s in seeds)
            steps = max(a.steps, round(a.steps * x_step / m_step))
            for s in seeds:
                ejobs[(m, s)] = pool.submit(runner.run, f"{m}-lr{best_lr[m]:g}-s{s}-steps{steps}",
                                            run_config(kit, m, best_lr[m], s, steps), final_evals)
        equal_time = {k: f.result() for k, f in ejobs.items()}
    pool.shutdown()

    # Tables.
    tT = ref["teacher"]["test"]["text"]
    cT = ref["teacher"]["category"]["text"]
    s0 = ref["student"]

    def rel(v, base):
        return None if v is None else 100.0 * (base - v) / base

    def row_stats(runs):
        """Per-seed values of one row (a list of run results; a reference row is one dict of scores)."""
        out = {k: [] for k in ("testS", "testT", "catS", "catT", "dS", "dT", "closed", "dtext", "probe", "wall", "steps")}
        for r in runs:
            sc = r["scores"] if "scores" in r else r
            ts, tt = sc["test"]["speech"], sc["test"]["text"]
            cs, ct = sc["category"]["speech"], sc["category"]["text"]
            out["testS"].append(ts)
            out["testT"].append(tt)
            out["catS"].append(cs)
            out["catT"].append(ct)
            out["dS"].append((rel(ts, tT) + rel(cs, cT)) / 2)
            out["dT"].append((rel(tt, tT) + rel(ct, cT)) / 2)
            gap = tT - s0["test"]["speech"]
            out["closed"].append(100.0 * (ts - s0["test"]["speech"]) / gap if gap > 0 else None)
            out["dtext"].append(tt - s0["test"]["text"])
            out["probe"].append(sc["probe"]["speech"] if "probe" in sc else None)
            out["wall"].append(r.get("wall_s"))
            out["steps"].append(r.get("steps"))
        return out

    def runs_of(key):
        return [res[(key, s)] for s in seeds]

    rows1 = [("Student (before training)", row_stats([s0]), None)]
    for m in ("sft", "offline-kd", "gkd", "x-opd"):
        if m in methods:
            rows1.append((f"+ {METHOD_NAMES[m]}", row_stats(runs_of(m)), m))
    rows_eq = [(f"+ {METHOD_NAMES[m]}", row_stats([equal_time[(m, s)] for s in seeds]), m)
               for m in ("sft", "offline-kd", "gkd") if (m, 0) in equal_time]
    rows2 = [("Student (before training)", row_stats([s0]), None)]
    if "x-opd" in methods:
        rows2.append(("X-OPD (default, λ = 0.5)", row_stats(runs_of("x-opd")), "x-opd"))
    rows2 += [("w/ larger teacher", row_stats(runs_of("large-teacher")), "large-teacher"),
              ("λ = 1.0 (text-only OPD)", row_stats(runs_of("lambda-1")), "lambda-1"),
              ("λ = 0.0 (speech-only OPD)", row_stats(runs_of("lambda-0")), "lambda-0")]

    md = []
    w = md.append
    load = os.getloadavg()
    w(f"Demo kit v{KIT_VERSION} `{kit}`; machine: {machine()}, {os.cpu_count()} cores, load average at the end "
      f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; {a.jobs} runs at a time, one LibTorch thread each; "
      f"total {(time.time() - t_start) / 60:.1f} min.\n")
    w(f"Teacher (text) accuracy: test {tT:.1f} %, held-out category {cT:.1f} %; larger teacher: test "
      f"{ref['large-teacher']['test']['text']:.1f} %, category {ref['large-teacher']['category']['text']:.1f} %. "
      f"Test = {len(open(sets['test']).readlines())} clips (held-out questions × held-out voices), category = "
      f"{len(open(sets['category']).readlines())} clips ('{info['task']['held_out_category']}', never trained), "
      f"probe = {len(open(sets['probe']).readlines())} beep clips. Mean ± std over {len(seeds)} seeds; "
      f"ΔS/ΔT = relative drop against the teacher's T, averaged over test and category (the paper's Avg. Drop); "
      f"gap closed = share of (teacher T − student S) on test closed.\n")
    w(f"Learning rate chosen on validation (mean of S and T) from {', '.join(f'{x:g}' for x in lrs)}: " +
      ", ".join(f"{METHOD_NAMES[m]} {best_lr[m]:g}" for m in methods) + ".\n")
    w("| validation S / T (seed 0) | " + " | ".join(f"lr {x:g}" for x in lrs) + " |")
    w("|---|" + "---|" * len(lrs))
    for m in methods:
        w(f"| {METHOD_NAMES[m]} | " + " | ".join(
            f"{grid[(m, x)]['scores']['validation']['speech']:.1f} / {grid[(m, x)]['scores']['validation']['text']:.1f}"
            for x in lrs) + " |")

    def table(title, rows, extra_probe=False):
        w(f"\n**{title}**\n")
        w("| Model | test S | test T | category S | category T | ΔS % | ΔT % | gap closed (test) | Δ test T (points) | steps | wall s |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, st, key in rows:
            steps = "–" if st["steps"][0] is None else f"{st['steps'][0]}"
            wall = pm(st["wall"], 0) if st["wall"][0] is not None else "–"
            closed = "–" if key is None else pm(st["closed"], 0)
            dtext = "–" if key is None else pm(st["dtext"])
            w(f"| {name} | {pm(st['testS'])} | {pm(st['testT'])} | {pm(st['catS'])} | {pm(st['catT'])} | "
              f"{pm(st['dS'])} | {pm(st['dT'])} | {closed} | {dtext} | {steps} | {wall} |")

    table(f"Table 1 — equal optimizer steps ({a.steps})", rows1)
    if rows_eq:
        table("Table 1b — the baselines with X-OPD's wall time (more steps)", rows_eq)
    table("Table 2 — ablations (X-OPD's lr; larger teacher: teacher-large/)", rows2)
    w("\n**Table 3 — forgetting probe (beep count, never trained after the kit's build)**\n")
    w("| Method | probe accuracy % | drop (points) |")
    w("|---|---|---|")
    p0 = s0["probe"]["speech"]
    w(f"| Original model | {p0:.1f} | – |")
    t3 = [(f"{METHOD_NAMES[m]}", m) for m in ("sft", "offline-kd", "gkd") if m in methods]
    t3 += [("X-OPD (λ = 0)", "lambda-0"), ("X-OPD (λ = 0.5)", "x-opd"), ("X-OPD (λ = 1)", "lambda-1"),
           ("X-OPD, larger teacher", "large-teacher")]
    for name, key in t3:
        if (key, 0) not in res:
            continue
        probes = [r["scores"]["probe"]["speech"] for r in runs_of(key)]
        w(f"| {name} | {pm(probes)} | {pm([v - p0 for v in probes])} |")
    for name, key in [(f"{METHOD_NAMES[m]}, X-OPD's wall time", m) for m in ("sft", "offline-kd", "gkd")]:
        if (key, 0) in equal_time:
            probes = [equal_time[(key, s)]["scores"]["probe"]["speech"] for s in seeds]
            w(f"| {name} | {pm(probes)} | {pm([v - p0 for v in probes])} |")
    w(f"\n**At the grid's largest lr ({top_lr:g}, seed 0; not chosen on validation): test, category and probe**\n")
    w("| Method | test S | test T | category S | category T | probe % | probe drop (points) |")
    w("|---|---|---|---|---|---|---|")
    for m in methods:
        sc = top[m]["scores"]
        w(f"| {METHOD_NAMES[m]} | {sc['test']['speech']:.1f} | {sc['test']['text']:.1f} | {sc['category']['speech']:.1f} | "
          f"{sc['category']['text']:.1f} | {sc['probe']['speech']:.1f} | {sc['probe']['speech'] - p0:+.1f} |")
    text = "\n".join(md) + "\n"

    def jrows(rows):
        return [{"name": n, "key": k, **{f: st[f] for f in st}} for n, st, k in rows]

    doc = {"kit": kit, "kit_json": info, "machine": machine(), "cores": os.cpu_count(), "jobs": a.jobs,
           "load_average_end": load, "minutes": (time.time() - t_start) / 60, "steps": a.steps, "seeds": seeds,
           "lr_grid": lrs, "lr_chosen": best_lr,
           "grid_validation": {f"{m} {lr:g}": grid[(m, lr)]["scores"]["validation"] for m in methods for lr in lrs},
           "reference": ref, "largest_lr_seed0": {m: top[m]["scores"] for m in methods}, "table1": jrows(rows1), "table1_equal_time": jrows(rows_eq), "table2": jrows(rows2),
           "paper": PAPER}
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "demo-table.md"), text)
    write_atomic(os.path.join(out, "demo-table.json"), json.dumps(doc, indent=1))
    print(text)
    log(f"wrote {out}/demo-table.md and demo-table.json")


if __name__ == "__main__":
    main()
