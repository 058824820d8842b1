#!/usr/bin/python3
"""Fails when a file includes from a layer above its own (STYLE.md: dependencies go one way).

Includes of project headers are written from src/ ("runtime/kv_cache.h") or from the repo
root for apps/tools ("apps/cli/common.h"), so the first path component names the layer."""
import pathlib
import re
import sys

ALLOWED = {
    "base": {"base"},
    "tensor": {"base", "tensor"},
    "format": {"base", "tensor", "format"},
    "tokenizer": {"base", "tokenizer"},
    "kernels": {"base", "tensor", "kernels"},
    "threading": {"base", "threading"},
    "model": {"base", "tensor", "format", "kernels", "threading", "model"},
    "runtime": {"base", "tensor", "format", "kernels", "threading", "model", "runtime"},
    "train": {"base", "tensor", "format", "kernels", "threading", "model", "tokenizer", "train"},
    "api": {"base", "tensor", "format", "kernels", "threading", "model", "runtime", "tokenizer", "train", "api"},
}
PUBLIC = {"omnicoder"}  # include/omnicoder: status.h and types.h (plain data) from anywhere, the rest from api and above
root = pathlib.Path(__file__).resolve().parent.parent
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
errors = []
for path in sorted(root.glob("src/**/*")) + sorted(root.glob("apps/**/*")):
    if path.suffix not in (".h", ".cc", ".cpp"):
        continue
    rel = path.relative_to(root)
    top = rel.parts[0]
    layer = rel.parts[1] if top == "src" else "apps"
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = inc.match(line)
        if not m:
            continue
        target = m.group(1)
        first = target.split("/")[0]
        if target in ("omnicoder/status.h", "omnicoder/types.h"):
            continue
        if layer == "apps":
            ok = first == "omnicoder" or target.startswith("apps/")
        elif first == "omnicoder":
            ok = layer == "api"
        else:
            ok = first in ALLOWED.get(layer, set())
        if not ok:
            errors.append(f"{rel}:{n}: layer '{layer}' must not include \"{target}\"")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("layer check: ok")
