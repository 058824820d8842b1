#!/usr/bin/python3
"""Size rules from STYLE.md for src/, apps/ and tools/: files <= 1000 lines, functions
(top-level definitions and member functions defined at namespace scope) <= 60 lines."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
head = re.compile(r"^[A-Za-z_][^;{}]*\)\s*(const)?\s*(override)?\s*(noexcept)?\s*\{\s*$")
errors = []
for folder in ("src", "apps", "tools"):
    for p in sorted((root / folder).rglob("*")):
        if p.suffix not in (".h", ".cc"):
            continue
        lines = p.read_text(errors="replace").splitlines()
        rel = p.relative_to(root)
        if len(lines) > 1000:
            errors.append(f"{rel}: {len(lines)} lines (limit 1000)")
        i = 0
        while i < len(lines):
            line = lines[i]
            # a signature may continue over a few lines before its "{"
            sig, k = line, i
            while (re.match(r"^[A-Za-z_]", line) and "(" in sig and not sig.rstrip().endswith(("{", ";", "}"))
                   and k + 1 < len(lines) and k - i < 4):
                k += 1
                sig += " " + lines[k].strip()
            if head.match(sig) and not line.startswith(("namespace", "struct", "class", "enum", "union")):
                depth, j = 0, i
                while j < len(lines):
                    depth += lines[j].count("{") - lines[j].count("}")
                    if depth <= 0 and j > i or (depth == 0 and j == i and "}" in lines[j]):
                        break
                    j += 1
                n = j - i + 1
                if n > 60:
                    errors.append(f"{rel}:{i + 1}: function is {n} lines (limit 60): {line.strip()[:60]}")
                i = j + 1
                continue
            i += 1
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("style check: ok")
