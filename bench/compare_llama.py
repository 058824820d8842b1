#!/usr/bin/python3
"""OmniCoder vs llama.cpp on the same GGUF files, in the same run (llama-bench method:
pp = prompt tokens/s, tg = generated tokens/s; depth d = tokens already in the context).

Models (written by our generator if missing, UNTRAINED synthetic weights, real shapes):
  dense     TinyLlama-shaped 1.1B Q4_0  (22 layers, dim 2048, 32 heads / 4 KV, ffn 5632)
  q4km      the same, llama-quantize's Q4_K_M of our F16 file (q5km, q6k, q8_0, q4_1, q5_0,
            q5_1: its other types; f16: that F16 file)
  moe       Mixtral-shaped 16L, 8 experts top-2, Q4_0
  dsv2lite  DeepSeek-V2-Lite-shaped 8L (MLA, 64 experts top-6 + 2 shared), Q4_K mix
  gptoss    gpt-oss-20b-shaped 6L (32 experts top-4, MXFP4 experts)
Each row: llama.cpp and OmniCoder, ratios, and tg as a fraction of the bandwidth roofline
(bytes a token reads at that depth / read bandwidth, as `omnicoder bench` measures it).

  bench/compare_llama.py [--threads 2] [--reps 3] [--rounds 3] [--models dense,moe,q4km]
                         [--depths 0,8192,16384] [--peer prebuilt|prebuilt-haswell|prebuilt-icelake]
                         [--isa auto|avx2] [--pp 128] [--tg 32] [--pp-at-depth]
Depth rows measure tg only (-p 0), as the depth targets are about generation, unless
--pp-at-depth (then pp too: a prompt of --pp tokens after `depth` tokens). The engines
take turns, `rounds` times (each run `reps` repetitions), and each figure is the median of
its rounds: on a shared machine the speed drifts by tens of percent within minutes, and
back-to-back blocks would charge that drift to one engine.
Needs ../shared/peers built (llama-bench); our binaries in build/bin. MODELS_DIR (default
models/bench) holds the files."""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
PEERS = os.path.expanduser(os.environ.get("PEERS_DIR", "~/.cache/omnicoder-peers"))
MODELS_DIR = os.environ.get("MODELS_DIR", os.path.join(ROOT, "models", "bench"))
MODELS = {
    "dense": ("tinyllama-1b", "tinyllama-1b-q4_0.gguf", "TinyLlama-shaped 1.1B Q4_0"),
    "moe": ("mixtral-16l", "mixtral-16l-q4_0.gguf", "Mixtral-shaped MoE 16L 8x top-2 Q4_0"),
    # made by llama-quantize from our F16 file: the mix users download most
    "q4km": ("tinyllama-1b", "tinyllama-1b-q4_k_m.gguf", "TinyLlama-shaped 1.1B Q4_K_M"),
    # the other llama-quantize types of the same F16 file (decode of every weight format)
    "q5km": ("tinyllama-1b", "tinyllama-1b-q5_k_m.gguf", "TinyLlama-shaped 1.1B Q5_K_M"),
    "q6k": ("tinyllama-1b", "tinyllama-1b-q6_k.gguf", "TinyLlama-shaped 1.1B Q6_K"),
    "q8_0": ("tinyllama-1b", "tinyllama-1b-q8_0.gguf", "TinyLlama-shaped 1.1B Q8_0"),
    "q4_1": ("tinyllama-1b", "tinyllama-1b-q4_1.gguf", "TinyLlama-shaped 1.1B Q4_1"),
    "q5_0": ("tinyllama-1b", "tinyllama-1b-q5_0.gguf", "TinyLlama-shaped 1.1B Q5_0"),
    "q5_1": ("tinyllama-1b", "tinyllama-1b-q5_1.gguf", "TinyLlama-shaped 1.1B Q5_1"),
    # the F16 file itself (float-weight prefill and decode)
    "f16": ("tinyllama-1b", "tinyllama-1b-f16.gguf", "TinyLlama-shaped 1.1B F16"),
    "dsv2lite": ("deepseek-v2-lite-8l", "dsv2lite-8l-q4k.gguf", "DeepSeek-V2-Lite-shaped 8L Q4_K"),
    "gptoss": ("gpt-oss-20b-6l", "gptoss20b-6l.gguf", "gpt-oss-20b-shaped 6L MXFP4"),
}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def ensure_model(preset, name, peer):
    full = os.path.join(MODELS_DIR, name)
    if os.path.exists(full):
        return full
    os.makedirs(MODELS_DIR, exist_ok=True)
    print(f"generating {full} ...", file=sys.stderr)
    threads = str(os.cpu_count() or 2)
    quant = name.rsplit("-", 1)[-1].removesuffix(".gguf")
    if name.startswith("tinyllama-1b-") and quant != "q4_0":  # llama-quantize of our F16 file
        f16 = full.replace(quant, "f16")
        if not os.path.exists(f16):
            run([os.path.join(BIN, "omnicoder-make-model"), preset, f16, "--type", "F16", "--output-type", "F16",
                 "--embd-type", "F16", "-t", threads])
        if quant != "f16":
            run([os.path.join(peer, "llama-quantize"), f16, full, quant.upper(), threads])
    else:
        run([os.path.join(BIN, "omnicoder-make-model"), preset, full, "-t", threads])
    return full


def ours(path, o, depth):
    pp = 0 if depth and not o.pp_at_depth else o.pp
    out = run([os.path.join(BIN, "omnicoder"), "bench", "-m", path, "-p", str(pp), "-n", str(o.tg), "-d", str(depth),
               "-t", str(o.threads), "-r", str(o.reps), "--isa", o.isa, "--json"])
    return json.loads(out)


def llama(path, o, depth, peer):
    pp = 0 if depth and not o.pp_at_depth else o.pp
    out = run([os.path.join(peer, "llama-bench"), "-m", path, "-p", str(pp), "-n", str(o.tg), "-d", str(depth), "-t",
               str(o.threads), "-r", str(o.reps), "-o", "json"])
    res = {"pp": 0.0, "tg": 0.0}
    for rec in json.loads(out):
        if rec.get("n_prompt", 0) > 0 and rec.get("n_gen", 0) == 0:
            res["pp"] = rec["avg_ts"]
        if rec.get("n_gen", 0) > 0 and rec.get("n_prompt", 0) == 0:
            res["tg"] = rec["avg_ts"]
    return res


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def row(label, depth, lm, om):
    roof = om["tg_roofline_tps"]
    test = f"d{depth}" if depth else "d0"
    lpp = f"{lm['pp']:.1f}" if lm["pp"] else "-"
    opp = f"{om['pp_tps']:.1f}" if om["pp_tps"] else "-"
    ppr = f"{om['pp_tps'] / lm['pp']:.2f}" if lm["pp"] and om["pp_tps"] else "-"
    print(f"| {label} | {test} | llama.cpp | {lpp} | {lm['tg']:.1f} | 1.00 | 1.00 | {lm['tg'] / roof:.0%} |")
    print(f"| {label} | {test} | OmniCoder | {opp} | {om['tg_tps']:.1f} | {ppr} | {om['tg_tps'] / lm['tg']:.2f} | "
          f"{om['tg_tps'] / roof:.0%} |")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3, help="alternating runs of both engines; medians")
    p.add_argument("--models", default="dense,moe,q4km")
    p.add_argument("--depths", default="0")
    p.add_argument("--peer", default="prebuilt", help="llama.cpp build under PEERS_DIR")
    p.add_argument("--isa", default="auto", help="our kernels (avx2 to compare with prebuilt-haswell)")
    p.add_argument("--pp", type=int, default=128)
    p.add_argument("--tg", type=int, default=32)
    p.add_argument("--pp-at-depth", action="store_true", help="depth rows measure pp too")
    o = p.parse_args()
    peer = os.path.join(PEERS, o.peer)
    first = True
    for key in o.models.split(","):
        preset, name, label = MODELS[key]
        path = ensure_model(preset, name, peer)
        for depth in [int(d) for d in o.depths.split(",")]:
            lms, oms = [], []
            for _ in range(o.rounds):
                lms.append(llama(path, o, depth, peer))
                oms.append(ours(path, o, depth))
            lm = {k: median([m[k] for m in lms]) for k in ("pp", "tg")}
            om = dict(oms[-1])
            for k in ("pp_tps", "tg_tps", "tg_roofline_tps"):
                om[k] = median([m[k] for m in oms])
            if first:
                print(f"cpu: {om['cpu']}\nflags: {om['cpu_features']}\nllama.cpp: {o.peer}; OmniCoder: --isa "
                      f"{o.isa} -> {om['isa']}; {o.threads} threads; read bandwidth {om['read_bw_gbs']:.1f} GB/s\n")
                print(f"| model | depth | engine | pp{o.pp} t/s | tg{o.tg} t/s | pp ratio | tg ratio | tg roofline |")
                print("|---|---|---|---|---|---|---|---|")
                first = False
            row(label, depth, lm, om)


if __name__ == "__main__":
    main()
