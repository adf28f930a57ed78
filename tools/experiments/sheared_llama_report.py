#!/usr/bin/env python3
"""Tables and SVG charts for docs/experiments/sheared-llama.md from the runs of sheared_llama.sh.

Usage: python3 tools/experiments/sheared_llama_report.py WORK_DIR [IMG_DIR]
Prints markdown tables on stdout; writes bar charts to IMG_DIR (default docs/img). Reads only the
seeds.json, pipeline.json and metrics.jsonl files the runs wrote; nothing in the build needs it.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeds_chart import bar_chart  # noqa: E402

W = sys.argv[1] if len(sys.argv) > 1 else '/tmp/shx'
IMG = sys.argv[2] if len(sys.argv) > 2 else 'docs/img'
DOMAINS = ['arxiv', 'book', 'c4-rp', 'cc', 'github', 'stackexchange', 'wiki']
ARMS = [  # (folder stem, label)
    ('learned', 'learned masks'),
    ('oneshot-{}-continued', 'one-shot, equal continued'),
    ('oneshot-{}-total', 'one-shot, equal total'),
    ('scratch-{}-continued', 'scratch, equal continued'),
    ('scratch-{}-total', 'scratch, equal total'),
]
MODES = [('static', 'static'), ('dbl', 'DBL')]


def folder(stem, mode):
    return stem.format(mode) if '{}' in stem else f'{stem}-{mode}'


def seeds(arm):
    return json.load(open(f'{W}/{arm}/seeds.json'))


def last_stage(arm):
    return list(seeds(arm)['stages'])[-1]


def per_domain(arm, stage=None):
    """{domain: per-seed held-out losses} of a stage (default the last)."""
    st = seeds(arm)['stages'][stage or last_stage(arm)]
    return {d: st[f'heldOutLoss {d}']['values'] for d in DOMAINS}


def final_line(path):
    for line in open(path):
        j = json.loads(line)
        if j.get('type') == 'final':
            last = j
    return last


def fmt(values, digits=4):
    m = statistics.fmean(values)
    s = statistics.stdev(values) if len(values) > 1 else float('nan')
    return f'{m:.{digits}f} ± {s:.{digits}f}'


def tokens(arm):
    """(continued tokens, total tokens after the parent) of seed 1's stages."""
    stages = json.load(open(f'{W}/{arm}/seed-1/pipeline.json'))
    cont = total = 0
    for s in stages:
        t = s['settings'].get('train', s['settings']) if s['kind'] == 'shear' else s['settings']
        if s['kind'] in ('train', 'shear'):
            n = t['steps'] * t['batchSize'] * t['seqLen']
            total += n
            if s['kind'] == 'train':
                cont += n
    return cont, total


parent = final_line(f'{W}/parent/01-pretrain/metrics.jsonl')['heldOutLoss']
n_seeds = len(seeds('learned-static')['seeds'])
rows = []  # (label, mode label, arm, mean-over-domains per seed, worst excess per seed)
for stem, label in ARMS:
    for mode, mlabel in MODES:
        arm = folder(stem, mode)
        dom = per_domain(arm)
        mean = [statistics.fmean(dom[d][i] for d in DOMAINS) for i in range(n_seeds)]
        worst = [max(dom[d][i] - parent[d] for d in DOMAINS) for i in range(n_seeds)]
        rows.append((label, mlabel, arm, mean, worst, dom))

print(f'Parent held-out loss (final half) per domain: '
      + ', '.join(f'{d} {parent[d]:.4f}' for d in DOMAINS)
      + f'; mean {statistics.fmean(parent.values()):.4f}\n')
print(f'| arm | continued tokens | total tokens | data | mean held-out loss | worst domain excess over the parent |')
print('|---|---:|---:|---|---:|---:|')
for label, mlabel, arm, mean, worst, _ in rows:
    cont, total = tokens(arm)
    print(f'| {label} | {cont:,} | {total:,} | {mlabel} | {fmt(mean)} | {fmt(worst)} |')

print('\nFinal held-out loss per domain (mean ± std over the seeds):\n')
print('| arm | data | ' + ' | '.join(DOMAINS) + ' |')
print('|---|---|' + '---:|' * len(DOMAINS))
print('| parent | – | ' + ' | '.join(f'{parent[d]:.4f}' for d in DOMAINS) + ' |')
for label, mlabel, arm, _, _, dom in rows:
    print(f'| {label} | {mlabel} | ' + ' | '.join(fmt(dom[d], 3) for d in DOMAINS) + ' |')

print('\nLearned masks right after shearing (finalised, before continued pretraining):\n')
print('| data | mean | ' + ' | '.join(DOMAINS) + ' |')
print('|---|---:|' + '---:|' * len(DOMAINS))
for mode, mlabel in MODES:
    dom = per_domain(f'learned-{mode}', '01-shear')
    mean = [statistics.fmean(dom[d][i] for d in DOMAINS) for i in range(n_seeds)]
    print(f'| {mlabel} | {fmt(mean)} | ' + ' | '.join(fmt(dom[d], 3) for d in DOMAINS) + ' |')

print('\nEpochs read per domain in the last stage (seed 1), and DBL\'s final domain weights (seed 1):\n')
print('| arm | data | ' + ' | '.join(DOMAINS) + ' |')
print('|---|---|' + '---:|' * len(DOMAINS))
for label, mlabel, arm, _, _, _ in rows:
    f = final_line(f'{W}/{arm}/seed-1/{last_stage(arm)}/metrics.jsonl')
    print(f'| {label} | {mlabel} epochs | ' + ' | '.join(f'{f["epochs"][d]:.2f}' for d in DOMAINS) + ' |')
for stem in ('learned-dbl', 'oneshot-dbl-continued', 'scratch-dbl-continued'):
    evals = [json.loads(l) for l in open(f'{W}/{stem}/seed-1/{last_stage(stem)}/metrics.jsonl')]
    w = [e for e in evals if e.get('type') == 'eval'][-1]['domainWeights']
    print(f'| {stem} | final weights | ' + ' | '.join(f'{w[d]:.3f}' for d in DOMAINS) + ' |')

labels = [f'{label} ({mlabel})' for label, mlabel, *_ in rows]
colors = ['#4c78a8' if r[1] == 'static' else '#f58518' for r in rows]
os.makedirs(IMG, exist_ok=True)
bar_chart(f'{IMG}/sheared-llama-mean.svg', f'Mean held-out loss over 7 domains (lower is better), {n_seeds} seeds',
          labels, [r[3] for r in rows], colors)
bar_chart(f'{IMG}/sheared-llama-worst-excess.svg', f'Worst domain\'s excess loss over the parent (lower is better), {n_seeds} seeds',
          labels, [r[4] for r in rows], colors)
