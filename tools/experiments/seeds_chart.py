#!/usr/bin/env python3
"""A bar chart (mean, with ± one sample standard deviation and every seed's value as a dot) of one number
from the seeds.json files that `shears pipeline run --seeds` writes; a small hand-made SVG, no libraries.

Usage: python3 tools/experiments/seeds_chart.py OUT.svg TITLE "STAGE NUMBER" LABEL=WORK/ARM ...
  e.g. seeds_chart.py docs/img/jha.svg "bits per byte" "03-eval tinystories bits_per_byte" cpt=/tmp/jha/cpt ...
  STAGE may be '*': the arm's last stage that has NUMBER.
Importable: bar_chart(path, title, labels, values_per_label) draws lists of per-seed values.
"""
import json
import statistics
import sys


def seed_values(arm_dir, stage, number):
    stages = json.load(open(f'{arm_dir}/seeds.json'))['stages']
    if stage == '*':
        stage = [s for s in stages if number in stages[s]][-1]
    return stages[stage][number]['values']


def bar_chart(path, title, labels, values, colors=None, width=720, bar_h=26):
    """Horizontal bars: one per label, its length the mean of values[i], whiskers ± std, dots the seeds."""
    means = [statistics.fmean(v) for v in values]
    stds = [statistics.stdev(v) if len(v) > 1 else 0 for v in values]
    lo = min(min(v) for v in values)
    hi = max(max(v) for v in values)
    pad = (hi - lo) * 0.15 or abs(hi) * 0.01 or 1
    lo, hi = lo - pad, hi + pad  # bars start at lo: differences, not absolute sizes, are what is compared
    left, right, top = max(120, 7 * max(len(l) for l in labels) + 16), 130, 40
    plot_w = width - left - right
    x = lambda v: left + (v - lo) / (hi - lo) * plot_w
    height = top + bar_h * len(labels) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for i, (label, m, s, vs) in enumerate(zip(labels, means, stds, values)):
        y = top + i * bar_h
        color = colors[i] if colors else '#4c78a8'
        out.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{x(m) - left:.1f}" height="{bar_h - 8}" fill="{color}" opacity="0.75"/>')
        out.append(f'<line x1="{x(m - s):.1f}" x2="{x(m + s):.1f}" y1="{y + bar_h / 2}" y2="{y + bar_h / 2}" stroke="black"/>')
        for v in vs:
            out.append(f'<circle cx="{x(v):.1f}" cy="{y + bar_h / 2}" r="2.5" fill="black"/>')
        out.append(f'<text x="{x(hi) + 6}" y="{y + bar_h / 2 + 4}">{m:.4f} ± {s:.4f}</text>')
    axis_y = top + bar_h * len(labels) + 6
    out.append(f'<line x1="{left}" x2="{x(hi):.1f}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append(f'<text x="{x(v):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#555">{v:.3f}</text>')
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    out, title, key = sys.argv[1:4]
    stage, number = key.split(' ', 1)
    arms = [a.split('=', 1) for a in sys.argv[4:]]
    bar_chart(out, title, [a[0] for a in arms], [seed_values(a[1], stage, number) for a in arms])
