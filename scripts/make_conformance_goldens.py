#!/usr/bin/python3
"""Writes tests/golden/conformance/<arch>-<type>.txt: llama.cpp's top-10 log-probabilities
after token sequences of length 1, 7 and 40, on each tiny model our generator writes.

llama.cpp runs its reference CPU path: `--fa off --kv f32` (no F16 attention rounding, see
../shared/peers/README.md) and `--repack 0` (its repacked AMX/AVX-512 kernels round
differently: they differ from llama.cpp's own reference path by up to ~0.1 in log-prob on
these models). The test evaluates with an f32 KV cache. Each golden records
the FNV-1a 64 hash of the model file so the test can prove it regenerated the same bytes.
Sequences are chosen so llama.cpp's top-1/top-2 gap is clear (> 0.1 logit) when possible.

  scripts/make_conformance_goldens.py [build/bin] [--archs llama,...] [--types F32,...]
Needs ../shared/peers built (build_peer_tools.sh). Not run by the tests."""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

ARCHS = ["llama", "mixtral", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "olmoe"]
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
PEER = os.path.expanduser(os.environ.get("PEERS_DIR", "~/.cache/omnicoder-peers")) + "/prebuilt/llama_peer"


def fnv64(path):
    h = 0xcbf29ce484222325
    data = open(path, "rb").read()
    arr = np.frombuffer(data, dtype=np.uint8)
    for b in arr.tolist():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def tokens_for(n, seed):
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(3 + (x >> 8) % 500)
    return out


def peer_logits(model, toks, tmp):
    dump = os.path.join(tmp, "r.f32")
    subprocess.run([PEER, "-m", model, "--tokens", ",".join(map(str, toks)), "-n", "1", "-t", "1",
                    "--fa", "off", "--kv", "f32", "--repack", "0", "--dump", dump], check=True, capture_output=True)
    v = np.fromfile(dump, "<f4").astype(np.float64)
    m = v.max()
    return v - m - np.log(np.exp(v - m).sum()), v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bin", nargs="?", default="build/bin")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--types", default=",".join(TYPES))
    p.add_argument("--out", default="tests/golden/conformance")
    p.add_argument("--lengths", default="1,7,40", help="token sequence lengths (MoE shapes: 1,7,40,64,300,512)")
    o = p.parse_args()
    os.makedirs(o.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for arch in o.archs.split(","):
            for t in o.types.split(","):
                model = os.path.join(tmp, f"{arch}-{t}.gguf")
                subprocess.run([os.path.join(o.bin, "omnicoder-make-model"), f"tiny-{arch}", model, "--type", t,
                                "--output-type", t, "--embd-type", t], check=True)
                lines = [f"# llama.cpp top-10 log-probs (llama_peer --fa off --kv f32 --repack 0 -t 1); "
                         f"regenerate: scripts/make_conformance_goldens.py --archs {arch} --types {t}"
                         + (f" --lengths {o.lengths}" if o.lengths != "1,7,40" else ""),
                         f"model tiny-{arch} {t} fnv64 {fnv64(model):016x}"]
                for n in map(int, o.lengths.split(",")):
                    best = None
                    for seed in range(1, 40):
                        toks = tokens_for(n, seed)
                        lp, raw = peer_logits(model, toks, tmp)
                        top = np.argsort(-raw)[:2]
                        gap = raw[top[0]] - raw[top[1]]
                        if best is None or gap > best[0]:
                            best = (gap, toks, lp)
                        if gap > 0.1:
                            break
                    gap, toks, lp = best
                    top = np.argsort(-lp)[:10]
                    lines.append(f"seq {n} gap {gap:.4f} tokens {','.join(map(str, toks))}")
                    lines.append("top " + " ".join(f"{i}:{lp[i]:.6f}" for i in top))
                path = os.path.join(o.out, f"{arch}-{t}.txt")
                open(path, "w").write("\n".join(lines) + "\n")
                print(path)


if __name__ == "__main__":
    sys.exit(main())
