#!/usr/bin/python3
"""Expert pager benchmark: a Mixtral-shaped Q4_0 MoE (2.49 GiB) under memory-cgroup limits,
OmniCoder (--mem-budget auto) vs llama.cpp (mmap, --repack 0), same run, 2 threads.

For each limit it reports decode tokens/s of both (page cache dropped first), OmniCoder's
expert-read throughput against the machine's direct-I/O bandwidth measured in the same
run (build/bin/diobw), its demand-miss bytes against Belady's MIN on the routing trace it
recorded (omnicoder pager-sim, same slot count), OOM kills, and -- in a second run with
an explicit --mem-budget under a looser cgroup, so no reclaim hides usage -- the exact
peak of resident set + page cache against the budget. Then hit rates on a synthetic
trace with realistic locality (Zipf popularity + temporal stickiness).

  bench/pager_bench.py [--limits 1G,1.5G] [--tokens 33] [--skip-llama]
Needs root (cgroups), ../shared/peers built, build/bin."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
PEER = os.path.expanduser(os.environ.get("PEERS_DIR", "~/.cache/omnicoder-peers")) + "/prebuilt"
MODEL = os.path.join(ROOT, "models/bench/mixtral-16l-q4_0.gguf")
CG = os.path.join(ROOT, "bench", "cgroup_run.sh")


def size(text):
    m = re.fullmatch(r"([\d.]+)([KMG]?)", text)
    return int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def cgroup(limit, cmd, drop=True):
    rc, out, err = run([CG] + (["--drop-caches"] if drop else []) + [str(limit)] + cmd)
    info = json.loads([l for l in err.splitlines() if l.startswith('{"limit"')][-1])
    return info, out, err


def ours(limit, tokens, trace, budget=None, cg_limit=None):
    cmd = [os.path.join(BIN, "omnicoder"), "run", "-m", MODEL, "-p", "the", "-n", str(tokens), "--temp", "0", "-t", "2",
           "--pager-stats", "--mem-budget", budget or "auto", "--routing-trace", trace]
    info, out, err = cgroup(cg_limit or limit, cmd)
    r = {"cg": info}
    m = re.search(r"generate: (\d+) tokens in ([\d.]+) s \(([\d.]+) tok/s\)", err)
    r["tg"] = float(m.group(3)) if m else 0.0
    m = re.search(r"expert pool\s+(\d+) slots x ([\d.]+) MiB", err)
    r["slots"] = int(m.group(1)) if m else 0
    r["slot_mib"] = float(m.group(2)) if m else 0.0
    m = re.search(r"misses (\d+)", err)
    r["misses"] = int(m.group(1)) if m else 0
    m = re.search(r"read ([\d.]+) GiB in ([\d.]+) s \(([\d.]+) GB/s\)", err)
    r["read_gbs"] = float(m.group(3)) if m else 0.0
    m = re.search(r"hit rate ([\d.]+)%", err)
    r["hit"] = float(m.group(1)) if m else 0.0
    m = re.search(r"precision ([\d.]+)%, recall ([\d.]+)%", err)
    r["precision"], r["recall"] = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    r["stderr"] = err
    return r


def llama(limit, tokens):
    info, out, err = cgroup(limit, [os.path.join(PEER, "llama_peer"), "-m", MODEL, "-p", "the", "-n", str(tokens),
                                     "-t", "2", "--repack", "0"])
    m = re.search(r"tg ([\d.]+) tok/s", out + err)
    return {"cg": info, "tg": float(m.group(1)) if m else 0.0}


def sim(trace, slots, expert_bytes):
    _, out, _ = run([os.path.join(BIN, "omnicoder"), "pager-sim", "--trace", trace, "--slots", str(slots),
                     "--expert-bytes", str(expert_bytes)])
    res = {}
    for line in out.splitlines():
        cols = [c.strip() for c in line.strip("|").split("|")]
        if len(cols) == 6 and cols[0] in ("lru", "lru2", "lfu", "min"):
            res[cols[0]] = {"misses": int(cols[2]), "hit": cols[3]}
    return res


def dio_bandwidth():
    best = 0.0
    for threads in (1, 2, 4):
        _, out, _ = run([os.path.join(BIN, "diobw"), MODEL, str(threads), "2", "2"])
        best = max(best, json.loads(out)["gbs"])
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limits", default="1G,1.5G")
    ap.add_argument("--tokens", type=int, default=33)
    ap.add_argument("--skip-llama", action="store_true")
    o = ap.parse_args()
    if not os.path.exists(MODEL):
        subprocess.run([os.path.join(BIN, "omnicoder-make-model"), "mixtral-16l", MODEL, "-t", "2"], check=True)
    dio = dio_bandwidth()
    print(f"direct-I/O read bandwidth of this disk (best of 1/2/4 readers, 2 MiB reads): {dio:.2f} GB/s")
    print("| limit | llama.cpp tg t/s | OmniCoder tg t/s | speed-up | slots | served without a demand read | predictor prec./recall "
          "| expert reads GB/s (vs disk) | demand misses (MIN) | peak / budget (explicit budget run) | OOM kills |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    tmp = tempfile.mkdtemp()
    for text in o.limits.split(","):
        limit = size(text)
        trace = os.path.join(tmp, f"trace-{text}.txt")
        r = ours(limit, o.tokens, trace)
        lt = {"tg": float("nan"), "cg": {"oom_kills": 0}} if o.skip_llama else llama(limit, o.tokens)
        s = sim(trace, r["slots"], int(r["slot_mib"] * (1 << 20)))
        strict = ours(limit, o.tokens, trace + ".2", budget=text, cg_limit=int(limit * 1.5))
        peak = strict["cg"]["peak"]
        ratio = r["tg"] / lt["tg"] if lt["tg"] == lt["tg"] and lt["tg"] > 0 else float("nan")
        print(f"| {text} | {lt['tg']:.2f} | {r['tg']:.2f} | {ratio:.1f}x | {r['slots']} | {r['hit']:.1f}% "
              f"| {r['precision']:.0f}% / {r['recall']:.0f}% | {r['read_gbs']:.2f} ({r['read_gbs'] / dio:.2f}) "
              f"| {r['misses']} ({s.get('min', {}).get('misses', 0)}; lru {s.get('lru', {}).get('misses', 0)}, "
              f"lru2 {s.get('lru2', {}).get('misses', 0)}, lfu {s.get('lfu', {}).get('misses', 0)}) | {peak / limit:.3f} "
              f"| {r['cg']['oom_kills'] + lt['cg']['oom_kills']} |")
        sys.stdout.flush()
    synth = os.path.join(tmp, "zipf.txt")
    _, out, _ = run([os.path.join(BIN, "omnicoder"), "pager-sim", "--trace", synth, "--slots", "41", "--synthetic",
                     "2000", "--layers", "16", "--experts", "8", "--k", "2", "--zipf", "1.0", "--stickiness", "0.3",
                     "--expert-bytes", str(int(r["slot_mib"] * (1 << 20)))])
    print("\nSynthetic trace with locality (2000 tokens, 16 layers, 8 experts, top-2, Zipf s=1.0, stickiness 0.3), "
          "41 slots:\n")
    print("\n".join(l for l in out.splitlines() if l.startswith("|")))


if __name__ == "__main__":
    main()
