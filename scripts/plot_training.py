#!/usr/bin/python3
"""Loss curves of training runs as one SVG (no plotting library needed).

usage: scripts/plot_training.py OUT.svg LABEL=RUN_DIR [LABEL=RUN_DIR ...]

Reads RUN_DIR/train-log.tsv (written by `omnicoder train`) and draws, against hours of
training, the training loss (mean over 50 steps) and the validation losses (code, English
docs) of each run, in nats per token.
"""
import sys

W, H = 900, 520
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 30, 60
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def read_log(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != len(header):
                continue
            rows.append(dict(zip(header, parts)))
    return rows


def series(rows):
    hours = [float(r["elapsed_s"]) / 3600 for r in rows]
    loss = [float(r["loss"]) for r in rows]
    smooth = []
    for i in range(len(loss)):
        window = loss[max(0, i - 49):i + 1]
        smooth.append(sum(window) / len(window))
    val = {"code": [], "english": []}
    for h, r in zip(hours, rows):
        for key, name in (("code", "val_code_loss"), ("english", "val_english_loss")):
            if r.get(name):
                val[key].append((h, float(r[name])))
    return list(zip(hours, smooth)), val


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = []
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        runs.append((label,) + series(read_log(path + "/train-log.tsv")))
    xmax = max(p[0] for _, tr, _ in runs for p in tr) * 1.02
    ys = [p[1] for _, tr, _ in runs for p in tr[50:]] + [p[1] for _, _, v in runs for k in v for p in v[k]]
    ymin, ymax = 2.0, min(max(ys) * 1.05, 6.0)

    def X(h):
        return LEFT + (W - LEFT - RIGHT) * h / xmax

    def Y(v):
        v = min(max(v, ymin), ymax)
        return TOP + (H - TOP - BOTTOM) * (ymax - v) / (ymax - ymin)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    # Axes, grid and ticks.
    step_h = 0.5 if xmax <= 6 else 1.0
    h = 0.0
    while h <= xmax:
        svg.append(f'<line x1="{X(h):.1f}" y1="{TOP}" x2="{X(h):.1f}" y2="{H - BOTTOM}" stroke="#eee"/>')
        svg.append(f'<text x="{X(h):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{h:g}</text>')
        h += step_h
    v = ymin
    while v <= ymax + 1e-9:
        svg.append(f'<line x1="{LEFT}" y1="{Y(v):.1f}" x2="{W - RIGHT}" y2="{Y(v):.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{LEFT - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        v += 0.5
    svg.append(f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" '
               'fill="none" stroke="black"/>')
    svg.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 20}" text-anchor="middle">hours of training '
               '(2 vCPU, shared with the other run)</text>')
    svg.append(f'<text x="18" y="{(TOP + H - BOTTOM) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {(TOP + H - BOTTOM) / 2})">loss (nats per token)</text>')
    legend_y = TOP + 10
    for i, (label, train, val) in enumerate(runs):
        color = COLORS[i % len(COLORS)]
        pts = " ".join(f"{X(h):.1f},{Y(v):.1f}" for h, v in train[::2])
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2" opacity="0.6"/>')
        for key, dash in (("code", ""), ("english", "5,3")):
            if val[key]:
                pts = " ".join(f"{X(h):.1f},{Y(v):.1f}" for h, v in val[key])
                svg.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2.2" '
                           f'stroke-dasharray="{dash}"/>')
        for text, dash, width in (("train (50-step mean)", "", 1.2), ("val code", "", 2.2),
                                  ("val English docs", "5,3", 2.2)):
            lx = W - RIGHT + 12
            svg.append(f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 24}" y2="{legend_y}" stroke="{color}" '
                       f'stroke-width="{width}" stroke-dasharray="{dash}"/>')
            svg.append(f'<text x="{lx + 30}" y="{legend_y + 4}">{label}: {text}</text>')
            legend_y += 18
        legend_y += 8
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
