#!/usr/bin/env python3
"""Tables and SVG charts for docs/experiment-sheared-llama.md from the runs of sheared_llama.sh.

Usage: python3 tools/experiments/sheared_llama_report.py WORK_DIR [IMG_DIR]
Prints markdown tables on stdout; writes small hand-made SVG line charts to IMG_DIR
(default docs/img). Only reads metrics.jsonl / config.json files; nothing in the build needs it.
"""
import json, os, sys

W = sys.argv[1] if len(sys.argv) > 1 else '/tmp/shx'
IMG = sys.argv[2] if len(sys.argv) > 2 else 'docs/img'
DOMAINS = ['arxiv', 'book', 'c4-rp', 'cc', 'github', 'stackexchange', 'wiki']
STARTS = {'a': '(a) sheared', 'b': '(b) one-shot pruned', 'c': '(c) from scratch'}
COLORS = {'a': '#1f77b4', 'b': '#ff7f0e', 'c': '#2ca02c'}
DCOL = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2']


def evals(run):
    out = []
    with open(os.path.join(W, run, 'metrics.jsonl')) as f:
        for line in f:
            j = json.loads(line)
            if j.get('type') == 'eval':
                out.append(j)
    return out


def avg(losses):
    return sum(losses[d] for d in DOMAINS) / len(DOMAINS)


def last_eval(run):
    return evals(run)[-1]['heldOutLoss']


def params(run):
    c = json.load(open(os.path.join(W, run, 'config.json')))
    d, L, H, K, F, V = (c['hidden_size'], c['num_hidden_layers'], c['num_attention_heads'],
                        c['num_key_value_heads'], c['intermediate_size'], c['vocab_size'])
    hd = c.get('head_dim') or d // H
    per_layer = d * H * hd * 2 + d * K * hd * 2 + 3 * d * F + 2 * d
    emb = V * d * (1 if c.get('tie_word_embeddings') else 2)
    return L * per_layer + emb + d, f'dim {d}, {L} layers, {H} heads / {K} KV, FFN {F}'


ref = last_eval('parent')                      # = the DBL reference (same windows, seq, count)
tok_per_step = None
runs = {}
for s in STARTS:
    for m in ('static', 'dbl'):
        name = f'cont-{s}-{m}'
        if os.path.exists(os.path.join(W, name, 'model.safetensors')):
            runs[(s, m)] = evals(name)
            if tok_per_step is None:
                tc = json.load(open(os.path.join(W, name, 'train-config.json')))
                tok_per_step = tc['batchSize'] * tc['seqLen'] * tc['gradAccumulation']
before = {}
for s in STARTS:
    p = os.path.join(W, f'probe-{s}', 'metrics.jsonl')
    if os.path.exists(p):
        before[s] = last_eval(f'probe-{s}')

# ---------------------------------------------------------------- tables
print('### Shapes\n')
print('| model | shape | parameters |\n|---|---|---:|')
for run, label in (('parent', 'parent'), ('a-sheared', '(a) sheared'), ('b-pruned', '(b) one-shot pruned'),
                   ('cont-c-static', '(c) from scratch')):
    if os.path.exists(os.path.join(W, run, 'config.json')):
        n, shape = params(run)
        print(f'| {label} | {shape} | {n:,} |')

print('\n### Final held-out loss per domain\n')
print('| model | ' + ' | '.join(DOMAINS) + ' | average | worst excess over parent |')
print('|---|' + '---:|' * (len(DOMAINS) + 2))


def row(label, l):
    ex = {d: l[d] - ref[d] for d in DOMAINS}
    worst = max(ex, key=ex.get)
    print(f'| {label} | ' + ' | '.join(f'{l[d]:.3f}' for d in DOMAINS) + f' | **{avg(l):.3f}** | {ex[worst]:+.3f} ({worst}) |')


row('parent (= DBL reference)', ref)
for s in STARTS:
    if s in before:
        row(f'{STARTS[s]}, before continued training', before[s])
for s in STARTS:
    for m in ('static', 'dbl'):
        if (s, m) in runs:
            row(f'{STARTS[s]} + {"DBL" if m == "dbl" else "uniform"}', runs[(s, m)][-1]['heldOutLoss'])

print('\n### Worst-domain excess loss (ℓ − ℓ_parent), final and mean over the last 4 evaluations\n')
print('| start | uniform: final | DBL: final | uniform: last-4 mean | DBL: last-4 mean | uniform: average loss | DBL: average loss |')
print('|---|---:|---:|---:|---:|---:|---:|')
for s in STARTS:
    if (s, 'static') in runs and (s, 'dbl') in runs:
        def worst(e): return max(e['heldOutLoss'][d] - ref[d] for d in DOMAINS)
        st, db = runs[(s, 'static')], runs[(s, 'dbl')]
        m4 = lambda r: sum(worst(e) for e in r[-4:]) / len(r[-4:])
        print(f'| {STARTS[s]} | {worst(st[-1]):+.3f} | {worst(db[-1]):+.3f} | {m4(st):+.3f} | {m4(db):+.3f} '
              f'| {avg(st[-1]["heldOutLoss"]):.3f} | {avg(db[-1]["heldOutLoss"]):.3f} |')

print('\n### Domain weights at the end of the DBL runs\n')
print('| run | ' + ' | '.join(DOMAINS) + ' |\n|---|' + '---:|' * len(DOMAINS))
for s in STARTS:
    if (s, 'dbl') in runs:
        w = runs[(s, 'dbl')][-1]['domainWeights']
        t = sum(w.values())
        print(f'| {STARTS[s]} + DBL | ' + ' | '.join(f'{w[d] / t:.3f}' for d in DOMAINS) + ' |')

print('\n### Average held-out loss along continued training\n')
steps = [e['step'] for e in next(iter(runs.values()))]
print('| run | ' + ' | '.join(str(x) for x in steps) + ' |\n|---|' + '---:|' * len(steps))
for (s, m), r in runs.items():
    print(f'| {STARTS[s]} + {"DBL" if m == "dbl" else "uniform"} | ' + ' | '.join(f'{avg(e["heldOutLoss"]):.3f}' for e in r) + ' |')

# ---------------------------------------------------------------- SVG
def chart(x0, y0, w, h, series, title, xmax, ymin, ymax, hline=None, xlabel=None, ticks=4):
    """series: list of (points [(x, y)], color, dashed). Returns SVG elements as a string."""
    sx = lambda x: x0 + 40 + (w - 50) * x / xmax
    sy = lambda y: y0 + 18 + (h - 40) * (1 - (y - ymin) / (ymax - ymin))
    o = [f'<text x="{x0 + w / 2:.0f}" y="{y0 + 12}" text-anchor="middle" font-weight="bold">{title}</text>',
         f'<rect x="{sx(0):.1f}" y="{sy(ymax):.1f}" width="{sx(xmax) - sx(0):.1f}" height="{sy(ymin) - sy(ymax):.1f}" fill="none" stroke="#999"/>']
    for i in range(ticks + 1):
        y = ymin + (ymax - ymin) * i / ticks
        o.append(f'<text x="{sx(0) - 3:.1f}" y="{sy(y) + 3:.1f}" text-anchor="end">{y:.2f}</text>')
        o.append(f'<line x1="{sx(0):.1f}" x2="{sx(xmax):.1f}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#eee"/>')
    for i in range(3):
        x = xmax * i / 2
        o.append(f'<text x="{sx(x):.1f}" y="{sy(ymin) + 11:.1f}" text-anchor="middle">{x / 1000:.0f}k</text>')
    if xlabel:
        o.append(f'<text x="{x0 + w / 2:.0f}" y="{y0 + h + 2}" text-anchor="middle">{xlabel}</text>')
    if hline is not None:
        o.append(f'<line x1="{sx(0):.1f}" x2="{sx(xmax):.1f}" y1="{sy(hline):.1f}" y2="{sy(hline):.1f}" stroke="#000" stroke-dasharray="1,2"/>')
    for pts, col, dashed in series:
        d = ' '.join(f'{sx(x):.1f},{sy(min(max(y, ymin), ymax)):.1f}' for x, y in pts)
        o.append(f'<polyline points="{d}" fill="none" stroke="{col}" stroke-width="1.4"'
                 + (' stroke-dasharray="4,2"' if dashed else '') + '/>')
    return '\n'.join(o)


def svg(path, width, height, body):
    os.makedirs(IMG, exist_ok=True)
    with open(os.path.join(IMG, path), 'w') as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'font-family="sans-serif" font-size="9">\n<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')


def legend(x, y):
    o = []
    for i, (s, m) in enumerate((s, m) for s in STARTS for m in ('static', 'dbl')):
        yy = y + 12 * i
        o.append(f'<line x1="{x}" x2="{x + 20}" y1="{yy}" y2="{yy}" stroke="{COLORS[s]}" stroke-width="1.4"'
                 + (' stroke-dasharray="4,2"' if m == 'dbl' else '') + '/>')
        o.append(f'<text x="{x + 24}" y="{yy + 3}">{STARTS[s]} + {"DBL" if m == "dbl" else "uniform"}</text>')
    o.append(f'<line x1="{x}" x2="{x + 20}" y1="{y + 74}" y2="{y + 74}" stroke="#000" stroke-dasharray="1,2"/>')
    o.append(f'<text x="{x + 24}" y="{y + 77}">parent (reference)</text>')
    return '\n'.join(o)


if runs:
    xmax = max(e['step'] for r in runs.values() for e in r) * tok_per_step

    def pts(r, f):
        start = [(0, f(before[r[0]]))] if r[0] in before else []
        return start + [(e['step'] * tok_per_step, f(e['heldOutLoss'])) for e in runs[r]]

    # 1. average
    ser = [(pts(k, avg), COLORS[k[0]], k[1] == 'dbl') for k in runs]
    ys = [y for p, _, _ in ser for _, y in p]
    top = max(y for (p, _, _), k in zip(ser, runs) if k[0] != 'c' for _, y in p) + 0.1   # (c) starts far above: clipped
    body = chart(0, 0, 420, 260, ser, 'Average held-out loss (7 domains) vs continued-training tokens',
                 xmax, min(min(ys), avg(ref)) - 0.05, top, hline=avg(ref), xlabel='tokens')
    svg('sheared-llama-average.svg', 600, 270, body + '\n' + legend(430, 40))

    # 2. per domain, small multiples
    parts = []
    for i, d in enumerate(DOMAINS):
        f = lambda l, d=d: l[d]
        ser = [(pts(k, f), COLORS[k[0]], k[1] == 'dbl') for k in runs]
        ys = [y for p, _, _ in ser for _, y in p]
        lo = min(min(ys), ref[d]) - 0.05
        hi = max(y for (p, _, _), k in zip(ser, runs) if k[0] != 'c' for _, y in p) + 0.1
        parts.append(chart(200 * (i % 4), 150 * (i // 4), 195, 140, ser, d, xmax, lo, hi, hline=ref[d]))
    parts.append(legend(610, 175))
    svg('sheared-llama-domains.svg', 800, 300, '\n'.join(parts))

    # 3. worst-domain excess
    def worst(l): return max(l[d] - ref[d] for d in DOMAINS)
    ser = [(pts(k, worst), COLORS[k[0]], k[1] == 'dbl') for k in runs]
    ys = [y for (p, _, _), k in zip(ser, runs) for x, y in p if not (k[0] == 'c' and x == 0)]   # (c) at 0: clipped
    body = chart(0, 0, 420, 260, ser, 'Worst domain\'s excess loss over the parent', xmax,
                 min(ys) - 0.05, max(ys) + 0.05, hline=0.0, xlabel='tokens')
    svg('sheared-llama-worst-excess.svg', 600, 270, body + '\n' + legend(430, 40))

    # 4. domain weights of the DBL runs
    parts = []
    for i, s in enumerate(s for s in STARTS if (s, 'dbl') in runs):
        r = runs[(s, 'dbl')]
        ser = []
        for j, d in enumerate(DOMAINS):
            p = [(0, 1 / len(DOMAINS))] + [(e['step'] * tok_per_step, e['domainWeights'][d] / sum(e['domainWeights'].values())) for e in r]
            ser.append((p, DCOL[j], False))
        parts.append(chart(260 * i, 0, 255, 200, ser, f'{STARTS[s]} + DBL: domain weights', xmax, 0,
                           max(y for p, _, _ in ser for _, y in p) + 0.02, xlabel='tokens'))
    for j, d in enumerate(DOMAINS):
        parts.append(f'<line x1="{10 + 100 * j}" x2="{28 + 100 * j}" y1="215" y2="215" stroke="{DCOL[j]}" stroke-width="1.4"/>'
                     f'<text x="{31 + 100 * j}" y="218">{d}</text>')
    svg('sheared-llama-weights.svg', 780, 225, '\n'.join(parts))
