#!/usr/bin/python3
"""Size rules from STYLE.md for src/, apps/, tools/ and include/: files <= 1000 lines,
functions (top-level definitions and member functions defined at namespace scope) <= 60
lines, and no function declared or defined with more than 6 parameters (use a struct)."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
head = re.compile(r"^[A-Za-z_][^;{}]*\)\s*(const)?\s*(override)?\s*(noexcept)?\s*\{\s*$")
start = re.compile(r'^\s*(?:template\s*<[^>]*>\s*)?(?:(?:static|inline|constexpr|virtual|explicit|extern|friend)\s+)*'
                   r'(?P<ret>[A-Za-z_][\w:<>,\s\*&]*?[\s\*&]+)(?P<name>~?[A-Za-z_]\w*(?:::~?\w+)*)\s*\(')
KW = {'return','if','for','while','switch','else','case','new','delete','throw','sizeof','using','typedef','goto','co_return'}
def split_top(s):
    parts, depth, cur = [], 0, ''
    for ch in s:
        if ch in '(<[{': depth += 1
        elif ch in ')>]}': depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
        else: cur += ch
    if cur.strip(): parts.append(cur)
    return [p.strip() for p in parts]
def strip_templates(p):
    out, depth = '', 0
    for ch in p:
        if ch == '<': depth += 1
        elif ch == '>': depth -= 1
        elif depth == 0: out += ch
    return out
def is_param(p):
    p = strip_templates(p.split('=')[0].strip())
    if not p: return False
    if '(' in p and not re.search(r'\(\s*\*\s*\w*\s*\)', p): return False   # calls, unless function pointer
    if '.' in p or '->' in p or '"' in p: return False
    return True
def looks_declared(p):
    p = p.split('=')[0].strip()
    return bool(re.search(r'[\w>\*&]\s*[\*&]?\s*\w+$', p)) and len(re.findall(r'[A-Za-z_]\w*', p)) >= 2
def too_many_params(path):
    text = path.read_text(errors='replace')
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        m = start.match(line)
        if not m: continue
        ret = m.group('ret').strip().split()
        if any(w in KW for w in ret) or m.group('name') in KW: continue
        # gather to matching paren
        buf = line[m.end():]; k = i
        depth = 1; j = 0; body = ''
        while True:
            while j < len(buf):
                ch = buf[j]
                if ch == '(': depth += 1
                elif ch == ')':
                    depth -= 1
                    if depth == 0: break
                body += ch; j += 1
            if depth == 0 or k + 1 >= len(lines) or k - i > 12: break
            k += 1; buf = lines[k]; j = 0; body += ' '
        if depth != 0: continue
        parts = split_top(body)
        if len(parts) <= MAX_PARAMS: continue
        if not all(is_param(p) for p in parts): continue
        if not any(looks_declared(p) for p in parts): continue
        out.append((i + 1, m.group('name'), len(parts)))
    return out

MAX_PARAMS = 6
errors = []
for p in sorted(root.glob("include/**/*.h")):
    for ln, name, n in too_many_params(p):
        errors.append(f"{p.relative_to(root)}:{ln}: {name} takes {n} parameters (limit {MAX_PARAMS}: use a struct)")
for folder in ("src", "apps", "tools"):
    for p in sorted((root / folder).rglob("*")):
        if p.suffix not in (".h", ".cc"):
            continue
        lines = p.read_text(errors="replace").splitlines()
        rel = p.relative_to(root)
        for ln, name, n in too_many_params(p):
            errors.append(f"{rel}:{ln}: {name} takes {n} parameters (limit {MAX_PARAMS}: use a struct)")
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
