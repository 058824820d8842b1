#!/usr/bin/python3
"""Generate text with OmniCoder from Python (ctypes; Debian's python3, no pip).

    examples/python/generate.py -m model.gguf -p "def fib(n):" -n 64 [--lib path/libomnicoder.so]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from omnicoder_ctypes import Library, OmniCoderError  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-p", "--prompt", default="def fibonacci(n):")
    ap.add_argument("-n", "--n-predict", type=int, default=64)
    ap.add_argument("--temp", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-t", "--threads", type=int, default=0)
    ap.add_argument("--raw", action="store_true", help="print only the continuation's bytes (as `omnicoder run`)")
    ap.add_argument("--lib", help="libomnicoder.so (default: $OMNICODER_LIB, then the system's)")
    a = ap.parse_args()
    try:
        lib = Library(a.lib)
        with lib.engine(n_threads=a.threads) as engine, engine.load(a.model) as model:
            out = model.generate_bytes(a.prompt, max_tokens=a.n_predict, temperature=a.temp, seed=a.seed)
    except (OmniCoderError, OSError) as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 1
    if a.raw:
        sys.stdout.buffer.write(out)
    else:
        sys.stdout.write(a.prompt + out.decode("utf-8", "replace") + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
