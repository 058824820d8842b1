#!/usr/bin/python3
"""OmniCoder vs llama.cpp on the same GGUF files, in the same run (llama-bench method:
pp = prompt tokens/s, tg = generated tokens/s, median of repetitions).

Models (written by our generator if missing, UNTRAINED synthetic weights):
  TinyLlama-shaped dense 1.1B Q4_0   (22 layers, dim 2048, 32 heads / 4 KV, ffn 5632)
  Mixtral-shaped MoE Q4_0            (16 layers, dim 2048, 8 experts top-2, ffn 5632)
Reports each ratio against llama.cpp and the fraction of the memory-bandwidth roofline
reached in generation (bytes a token must read / measured read bandwidth).

  bench/compare_llama.py [--threads 2] [--reps 3] [--models dense,moe,q4km]
Needs ../shared/peers built (llama-bench); our binaries in build/bin."""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
PEER = os.path.expanduser(os.environ.get("PEERS_DIR", "~/.cache/omnicoder-peers")) + "/prebuilt"
MODELS = {
    "dense": ("tinyllama-1b", "models/bench/tinyllama-1b-q4_0.gguf", "TinyLlama-shaped 1.1B Q4_0"),
    "moe": ("mixtral-16l", "models/bench/mixtral-16l-q4_0.gguf", "Mixtral-shaped MoE 16L 8x top-2 Q4_0"),
    # made by llama-quantize from our F16 file: the mix users download most
    "q4km": ("tinyllama-1b", "models/bench/tinyllama-1b-q4_k_m.gguf", "TinyLlama-shaped 1.1B Q4_K_M"),
}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def ensure_model(preset, path):
    full = os.path.join(ROOT, path)
    if os.path.exists(full):
        return full
    os.makedirs(os.path.dirname(full), exist_ok=True)
    print(f"generating {path} ...", file=sys.stderr)
    threads = str(os.cpu_count() or 2)
    if path.endswith("q4_k_m.gguf"):
        f16 = full.replace("q4_k_m", "f16")
        if not os.path.exists(f16):
            run([os.path.join(BIN, "omnicoder-make-model"), preset, f16, "--type", "F16", "--output-type", "F16",
                 "--embd-type", "F16", "-t", threads])
        run([os.path.join(PEER, "llama-quantize"), f16, full, "Q4_K_M", threads])
    else:
        run([os.path.join(BIN, "omnicoder-make-model"), preset, full, "-t", threads])
    return full


def bytes_per_token(path):
    """Weight bytes one decode step reads: all non-expert weights except the embedding
    table (one row), plus the active fraction of the experts."""
    info = run([os.path.join(BIN, "omnicoder"), "inspect", path])
    non_expert = expert = embd = 0.0
    active = total = 0
    units = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
    for line in info.splitlines():
        parts = line.split()
        if line.startswith("  non-expert weights"):
            non_expert = float(parts[2]) * units[parts[3]]
        elif line.startswith("  expert weights"):
            expert = float(parts[2]) * units[parts[3]]
        elif line.strip().startswith("token_embd.weight"):
            embd = float(parts[-2]) * units[parts[-1]]
        elif line.startswith("moe:"):
            total = int(parts[1])
            active = int(parts[3])
    per_token = non_expert - embd + (expert * active / total if total else 0.0)
    return per_token


def ours(path, threads, reps):
    out = run([os.path.join(BIN, "omnicoder"), "bench", "-m", path, "-p", "128", "-n", "32", "-t", str(threads),
               "-r", str(reps), "--json"])
    j = json.loads(out)
    return j["pp_tps"], j["tg_tps"]


def llama(path, threads, reps):
    out = run([os.path.join(PEER, "llama-bench"), "-m", path, "-p", "128", "-n", "32", "-t", str(threads), "-r",
               str(reps), "-o", "json"])
    pp = tg = 0.0
    for rec in json.loads(out):
        if rec.get("n_prompt", 0) > 0 and rec.get("n_gen", 0) == 0:
            pp = rec["avg_ts"]
        if rec.get("n_gen", 0) > 0 and rec.get("n_prompt", 0) == 0:
            tg = rec["avg_ts"]
    return pp, tg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--models", default="dense,moe,q4km")
    o = p.parse_args()
    bw = json.loads(run([os.path.join(BIN, "membw"), "1", str(o.threads), "10"]))["best_gbs"]
    print(f"memory read bandwidth ({o.threads} threads): {bw:.1f} GB/s")
    print("| model | engine | pp128 t/s | tg32 t/s | pp ratio | tg ratio | tg roofline |")
    print("|---|---|---|---|---|---|---|")
    for key in o.models.split(","):
        preset, rel, label = MODELS[key]
        path = ensure_model(preset, rel)
        bpt = bytes_per_token(path)
        lpp, ltg = llama(path, o.threads, o.reps)
        opp, otg = ours(path, o.threads, o.reps)
        roof = bw * 1e9 / bpt
        print(f"| {label} | llama.cpp | {lpp:.1f} | {ltg:.1f} | 1.00 | 1.00 | {ltg / roof:.0%} |")
        print(f"| {label} | OmniCoder | {opp:.1f} | {otg:.1f} | {opp / lpp:.2f} | {otg / ltg:.2f} | {otg / roof:.0%} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
