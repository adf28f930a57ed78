#!/usr/bin/env python3
"""Writes docs/experiment-openba-v2.md and its charts from the work folder of tools/experiments/openba_encdec.sh:
every number in the document is read from the runs' files (seeds.json, stage.json, metrics.jsonl, eval JSON,
index.json, config.json), none is typed in.

Usage: python3 tools/experiments/openba_encdec_report.py WORK OUT.md IMG_DIR
"""
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from seeds_chart import bar_chart  # noqa: E402

ARMS = ['staged', 'staged-continuing', 'direct']
COLORS = {'staged': '#4c78a8', 'staged-continuing': '#54a24b', 'direct': '#f58518'}
BATCH, SEQ = 8, 128  # the heals' and the parent's batch: sequences × raw tokens (openba_encdec.sh)


def load(path):
    with open(path) as f:
        return json.load(f)


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def fmt(values, digits=4):
    if len(values) == 1:
        return f'{values[0]:.{digits}f}'
    return f'{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}'


def seed_dirs(work, arm):
    return sorted(glob.glob(f'{work}/{arm}/seed-*'), key=lambda d: int(d.rsplit('-', 1)[1]))


def stages(seed_dir):
    """The seed's stage folders in order, with their stage.json."""
    out = []
    for d in sorted(glob.glob(f'{seed_dir}/[0-9][0-9]-*')):
        if os.path.isfile(f'{d}/stage.json'):
            out.append((os.path.basename(d), load(f'{d}/stage.json')))
    return out


def eval_metric(seed_dir, metric):
    for _, s in stages(seed_dir):
        if s['kind'] == 'eval':
            return next(iter(s['metrics'].values()))[metric]
    raise SystemExit(f'{seed_dir}: no eval stage')


def final_losses(seed_dir):
    """Held-out loss per denoiser at the end of the seed's last training stage."""
    trained = [(n, s) for n, s in stages(seed_dir) if s['kind'] == 'train']
    return trained[-1][1]['heldOutLoss']


def curve(seed_dir):
    """(cumulative heal step, mean held-out loss over denoisers, stage name) at each evaluation of each heal."""
    points, offset = [], 0
    for name, s in stages(seed_dir):
        if s['kind'] != 'train':
            continue
        for l in lines(f'{seed_dir}/{name}/metrics.jsonl'):
            if l['type'] == 'eval':
                points.append((offset + l['step'], statistics.fmean(l['heldOutLoss'].values()), name))
        offset += s['steps']
    return points


def dropped_layers(seed_dir, parent_cfg):
    """The parent's encoder and decoder layers the seed's prune stages dropped, in the parent's numbering."""
    alive = {'encoder': list(range(parent_cfg['num_layers'])), 'decoder': list(range(parent_cfg['num_decoder_layers']))}
    for name, s in stages(seed_dir):
        if s['kind'] == 'prune':
            plan = load(f'{seed_dir}/{name}/pruning-plan.json')
            for stack in alive:
                alive[stack] = [i for i, layer in zip(alive[stack], plan[stack]) if layer['kept']]
    return {stack: sorted(set(range(parent_cfg['num_layers' if stack == 'encoder' else 'num_decoder_layers'])) - set(kept))
            for stack, kept in alive.items()}


def heal_ends(seed_dir):
    """Per training stage: (name, mean steering held-out loss at its step 0, i.e. right after the prune before it, and at its end)."""
    out = []
    for name, s in stages(seed_dir):
        if s['kind'] == 'train':
            evals = [l for l in lines(f'{seed_dir}/{name}/metrics.jsonl') if l['type'] == 'eval']
            out.append((name.split('-', 1)[1], statistics.fmean(evals[0]['heldOutLoss'].values()), statistics.fmean(evals[-1]['heldOutLoss'].values())))
    return out


def line_chart(path, title, series, x_label, y_label, marks=(), width=720, height=360):
    """series: [(label, color, [(x, y)...])]; marks: [(x, text)] vertical dashed lines."""
    xs = [x for _, _, pts in series for x, _ in pts]
    ys = [y for _, _, pts in series for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or 1
    y0, y1 = y0 - pad, y1 + pad
    left, right, top, bottom = 60, 170, 36, 44
    X = lambda v: left + (v - x0) / ((x1 - x0) or 1) * (width - left - right)
    Y = lambda v: top + (y1 - v) / (y1 - y0) * (height - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" fill="#555">{v:.2f}</text>')
    for k in range(5):
        v = x0 + (x1 - x0) * k / 4
        out.append(f'<text x="{X(v):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#555">{v:.0f}</text>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 8}" text-anchor="middle">{x_label}</text>')
    out.append(f'<text x="14" y="{(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 {(top + height - bottom) / 2})">{y_label}</text>')
    for x, text in marks:
        out.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{top}" y2="{height - bottom}" stroke="#999" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{X(x) + 3:.1f}" y="{top + 12}" fill="#777" font-size="10">{text}</text>')
    for i, (label, color, pts) in enumerate(series):
        path_d = ' '.join(f'{"M" if j == 0 else "L"}{X(x):.1f},{Y(y):.1f}' for j, (x, y) in enumerate(pts))
        out.append(f'<path d="{path_d}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        out.append(f'<line x1="{width - right + 12}" x2="{width - right + 30}" y1="{top + 14 + 18 * i}" y2="{top + 14 + 18 * i}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{width - right + 36}" y="{top + 18 + 18 * i}">{label}</text>')
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def mean_curve(dirs):
    """The seeds' curves averaged point by point (every seed evaluates at the same steps)."""
    curves = [curve(d) for d in dirs]
    return [(pts[0][0], statistics.fmean(p[1] for p in pts), pts[0][2]) for pts in zip(*curves)]


def main(work, out_md, img_dir):
    os.makedirs(img_dir, exist_ok=True)
    dirs = {arm: seed_dirs(work, arm) for arm in ARMS}
    seeds = [int(d.rsplit('-', 1)[1]) for d in dirs['staged']]
    parent_cfg = load(f'{work}/parent/config.json')
    parent_eval = load(f'{work}/parent-eval.json')['models'][0]
    parent_res = parent_eval['results']['tinystories']
    parent_metrics = lines(f'{work}/parent/metrics.jsonl')
    parent_final = [l for l in parent_metrics if l['type'] == 'final'][-1]
    parent_steps = parent_final['step']
    data_index = load(f'{work}/data-parent/index.json')
    train_tokens = data_index['splits']['train']['tokens']
    held_tokens = data_index['splits']['heldout']['tokens']
    first = {arm: stages(dirs[arm][0]) for arm in ARMS}
    heal_steps = {arm: sum(s['steps'] for _, s in first[arm] if s['kind'] == 'train') for arm in ARMS}
    steps_of = lambda arm, heal: next(st['steps'] for n, st in first[arm] if n.split('-', 1)[1] == heal)
    child = [s for _, s in first['staged'] if s['kind'] == 'prune'][-1]
    bpb = {arm: [eval_metric(d, 'bits_per_byte') for d in dirs[arm]] for arm in ARMS}
    tppl = {arm: [eval_metric(d, 'token_perplexity') for d in dirs[arm]] for arm in ARMS}
    wppl = {arm: [eval_metric(d, 'word_perplexity') for d in dirs[arm]] for arm in ARMS}
    losses = {arm: [final_losses(d) for d in dirs[arm]] for arm in ARMS}
    denoisers = list(losses['staged'][0])
    mean_loss = {arm: [statistics.fmean(l.values()) for l in losses[arm]] for arm in ARMS}
    paired_mean = [s - t for s, t in zip(mean_loss['staged'], mean_loss['direct'])]

    better, worse = sorted(['staged', 'direct'], key=lambda a: statistics.fmean(bpb[a]))
    gap = statistics.fmean(bpb[worse]) - statistics.fmean(bpb[better])
    separated = max(bpb[better]) < min(bpb[worse])
    paired_bpb = [s - d for s, d in zip(bpb['staged'], bpb['direct'])]
    paired_cont = [s - d for s, d in zip(bpb['staged-continuing'], bpb['direct'])]
    if better == 'staged':
        verdict = 'reproduced' if separated else 'not clearly reproduced: the staged arm is lower on average, but the seeds overlap'
    else:
        verdict = 'not reproduced: the direct compression ends better' + (
            ', every direct seed below every staged seed' if separated else ' on average, though the seeds overlap')

    bar_chart(f'{img_dir}/openba-v2-encdec.svg', f'Held-out TinyStories bits per byte (lower is better), {len(seeds)} seeds',
              ARMS, [bpb[a] for a in ARMS], [COLORS[a] for a in ARMS])
    curves = {a: mean_curve(dirs[a]) for a in ARMS}
    staged_curve = curves['staged']
    marks, seen = [], set()
    for x, _, name in staged_curve:
        if name not in seen:
            seen.add(name)
            marks.append((x, name))
    line_chart(f'{img_dir}/openba-v2-encdec-heal.svg', 'Held-out loss during healing, mean over the denoisers and seeds',
               [(a, COLORS[a], [(x, y) for x, y, _ in curves[a]]) for a in ARMS],
               'healing step (all heals of an arm in order)', 'loss (nats/token)', marks)
    heal_metrics = lines(glob.glob(f'{dirs["staged"][0]}/*-heal-4/metrics.jsonl')[0])
    weights = [l for l in heal_metrics if l['type'] == 'eval']
    palette = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d']
    line_chart(f'{img_dir}/openba-v2-encdec-weights.svg', 'Dynamic-UL2: denoiser weights in the staged arm\'s width heal (seed ' + str(seeds[0]) + ')',
               [(d, palette[i % len(palette)], [(l['step'], l['domainWeights'][d]) for l in weights]) for i, d in enumerate(denoisers)],
               'step', 'weight')

    md = []
    md.append('# OpenBA-V2 on an encoder–decoder: staged or direct compression, at equal healing tokens\n')
    md.append('*Written by `tools/experiments/openba_encdec_report.py` from the runs of `tools/experiments/openba_encdec.sh`; '
              'every number below is read from those runs\' files.*\n')
    md.append('**Claim tested** (OpenBA-V2, METHODS.md §3): compressing an encoder–decoder in stages — depth in three small steps, '
              'then width, then vocabulary, each followed by continued pretraining with Dynamic-UL2 — keeps more of the parent '
              'than pruning to the same shape at once and healing for the same number of tokens (the paper: loss 2.69 when pruned '
              'straight to the final depth, about 1.8 when staged).\n')
    md.append(f'**Result, {len(seeds)} seeds: {verdict}.** Held-out TinyStories bits per byte: staged {fmt(bpb["staged"])}, '
              f'direct {fmt(bpb["direct"])} (parent {parent_res["bits_per_byte"]:.4f}); {better} is lower by {gap:.4f} '
              f'(staged − direct seed by seed: {fmt(paired_bpb)}). Per seed: '
              + '; '.join(f'{a} ' + ', '.join(f'{v:.4f}' for v in bpb[a]) for a in ARMS) + '. The held-out denoising losses '
              f'agree: staged − direct, averaged over the seven denoisers, is {fmt(paired_mean)} nats per token. With the heals '
              f'following one learning-rate schedule instead of each re-warming (staged-continuing): {fmt(bpb["staged-continuing"])} bits per '
              f'byte, {fmt(paired_cont)} above direct seed by seed.\n')
    md.append('## Setup\n')
    md.append(f'Run by `tools/experiments/openba_encdec.sh WORK {",".join(map(str, seeds))} {parent_steps} {steps_of("staged", "heal-1")}` '
              '(work folder, seeds, the parent\'s steps, one heal\'s steps) from the repository root.\n')
    md.append(f'- **Parent**, pretrained here: OpenBA (`modeling_openba.py`\'s architecture: LayerNorm with bias, rotary q/k, '
              f'fused QKV and SwiGLU, q/k/v/o and LM-head biases, untied head), {parent_cfg["num_layers"]} encoder / '
              f'{parent_cfg["num_decoder_layers"]} decoder layers (OpenBA\'s 1 : 3), d_model {parent_cfg["hidden_size"]}, '
              f'{parent_cfg["num_heads"]} heads × {parent_cfg["kv_channels"]}, vocabulary {parent_cfg["vocab_size"]:,} '
              f'({parent_eval["parameters"]:,} parameters). Shape from `examples/openba-v2-encdec-parent.json` (`shears init`, seed 1); '
              'T5\'s SentencePiece vocabulary cut to its 4,096 most frequent pieces on the training text (`shears prune --vocab-size`, '
              'specials and the 100 sentinels kept); pretrained on OpenBA-V2\'s seven UL2 denoisers (R, S and X with their mode '
              f'tokens, the published mixture weights) for {parent_steps:,} steps of {BATCH} × {SEQ} raw tokens '
              f'({parent_steps * BATCH * SEQ:,} tokens), AdamW lr 2e-3 → 1e-4 (cosine, warm-up 100).\n')
    md.append(f'- **Data**: TinyStories\' validation head split by whole stories (the first 90% trains and calibrates; the last 10% '
              f'is only scored) and the RedPajama sample\'s English prose (c4-rp, book, wiki), prepared with the parent\'s '
              f'tokenizer: {train_tokens:,} training tokens, {held_tokens:,} held out for the losses during training. '
              'Calibration and vocabulary counts read the training text only.\n')
    md.append(f'- **Child, every arm**: {child["shape"]}, {child["params"]:,} parameters '
              f'({100 * child["params"] / parent_eval["parameters"]:.1f}% of the parent).\n')
    md.append(f'- **Arms**, each healing {heal_steps["staged"]} steps ({heal_steps["staged"] * BATCH * SEQ:,} tokens) with '
              'Dynamic-UL2 (`objective: openba-v2, dynamic: true`), AdamW lr 1e-3 → 1e-4 (warm-up 10, cosine) in each heal unless said otherwise:\n'
              '  - *staged* (OpenBA-V2\'s order): depth 3/9 → 2/8 → 2/7 → 2/6 encoder/decoder layers (block influence), a heal after each; '
              'width (d_model −37.5%, FFN −37.5%, heads −50%; activation importance), a heal twice as long; vocabulary −25% (by '
              'frequency), a last heal;\n'
              '  - *staged-continuing*: the same stages, the heals following one learning-rate schedule over all '
              f'{heal_steps["staged-continuing"]} steps (warm-up once, one cosine decay; `scheduleStart`/`scheduleSteps`), which '
              'removes the re-warming the separate heals add;\n'
              '  - *direct*: one prune to the same depth and width, one heal as long as the staged arm\'s four, then the same '
              'vocabulary step and last heal.\n')
    md.append(f'- **Seeds** {", ".join(map(str, seeds))} (`pipeline run --seeds`): batch order, the denoisers\' draws and the '
              'criteria\'s seed; the evaluation items are the same for every run. ± is the sample standard deviation over the seeds.\n')
    md.append('- **Evaluation**: `shears eval --tasks tinystories` on the held-out 10%: rolling perplexity as lm-evaluation-harness '
              'scores a seq2seq model (each window\'s preceding token through the encoder, the window as decoder labels), so bits '
              'per byte compare across vocabularies.\n')
    md.append('## Results\n')
    md.append('Final evaluation on the held-out TinyStories text (lower is better):\n')
    md.append('| model | bits per byte | token perplexity | word perplexity |\n|---|---:|---:|---:|')
    md.append(f'| parent | {parent_res["bits_per_byte"]:.4f} | {parent_res["token_perplexity"]:.2f} | {parent_res["word_perplexity"]:.1f} |')
    for a in ARMS:
        md.append(f'| {a} | {fmt(bpb[a])} | {fmt(tppl[a], 2)} | {fmt(wppl[a], 1)} |')
    md.append('')
    md.append('![bits per byte by arm: bars are means, whiskers ± one standard deviation, dots the seeds](img/openba-v2-encdec.svg)\n')
    md.append('Held-out loss per denoiser (nats per target token) at the end of the last heal, same vocabulary and the same held-out '
              'batches in every run (the reported half of the held-out split, which Dynamic-UL2 never steered by); the last columns are '
              'the differences seed by seed:\n')
    staged_arms = [a for a in ARMS if a != 'direct']
    md.append('| denoiser | ' + ' | '.join(ARMS) + ' | ' + ' | '.join(f'{a} − direct, paired' for a in staged_arms)
              + ' |\n|---|' + '---:|' * (len(ARMS) + len(staged_arms)))
    for d in denoisers:
        paired = [fmt([s[d] - t[d] for s, t in zip(losses[a], losses['direct'])]) for a in staged_arms]
        md.append(f'| {d} | ' + ' | '.join(fmt([l[d] for l in losses[a]]) for a in ARMS) + ' | ' + ' | '.join(paired) + ' |')
    md.append('| mean | ' + ' | '.join(fmt(mean_loss[a]) for a in ARMS)
              + ' | ' + ' | '.join(fmt([s - t for s, t in zip(mean_loss[a], mean_loss['direct'])]) for a in staged_arms) + ' |')
    md.append('')
    md.append('![held-out loss during healing; dashed lines mark where each staged heal begins](img/openba-v2-encdec-heal.svg)\n')
    md.append('What each prune cost and each heal won back: the held-out loss (mean over the denoisers) when a heal starts, right '
              'after the prune before it, and when it ends, on the steering half of the held-out split (the evaluations during a heal); '
              'means over the seeds. Every heal before the vocabulary step reads the same held-out batches, so a start compares '
              'with the previous end; the vocabulary heal reads the text tokenized anew.\n')
    md.append('| arm | heal | loss at its start | at its end |\n|---|---|---:|---:|')
    for a in ARMS:
        per_seed = [heal_ends(d) for d in dirs[a]]
        for i, (name, _, _) in enumerate(per_seed[0]):
            md.append(f'| {a} | {name} | {fmt([h[i][1] for h in per_seed])} | {fmt([h[i][2] for h in per_seed])} |')
    md.append('')
    staged_heals = [heal_ends(d) for d in dirs['staged']]
    depth_cost = statistics.fmean(sum(h[i][1] - h[i - 1][2] for i in (1, 2)) for h in staged_heals)
    depth_heal = statistics.fmean(sum(h[i][2] - h[i][1] for i in (0, 1, 2)) for h in staged_heals)
    width_cost = statistics.fmean(h[3][1] - h[2][2] for h in staged_heals)
    md.append(f'Reading it: in the staged arm the second and third depth prunes raised the loss by {depth_cost:+.4f} together, and the '
              f'three depth heals changed it by {depth_heal:+.4f} (each heal re-warms the learning rate to 1e-3 from the parent\'s '
              f'final 1e-4); the width prune raised it by {width_cost:+.4f} and had {steps_of("staged", "heal-4")} of the arm\'s '
              f'{heal_steps["staged"]} steps to heal it, where the direct arm spent {steps_of("direct", "heal")} '
              'on the whole depth-and-width cut.\n')
    md.append('The parent\'s layers each run dropped (block influence; numbered from 0 in the parent, encoder / decoder):\n')
    md.append('| arm | ' + ' | '.join(f'seed {n}' for n in seeds) + ' |\n|---|' + '---|' * len(seeds))
    for a in ARMS:
        cells = []
        for d in dirs[a]:
            dl = dropped_layers(d, parent_cfg)
            cells.append(f'{dl["encoder"]} / {dl["decoder"]}')
        md.append(f'| {a} | ' + ' | '.join(cells) + ' |')
    md.append('')
    md.append('Stages of the first seed (parameters after each stage):\n')
    md.append('| arm | stage | shape | parameters | seconds |\n|---|---|---|---:|---:|')
    for a in ARMS:
        for name, s in first[a]:
            md.append(f'| {a} | {name} | {s["shape"]} | {s["params"]:,} | {s["seconds"]:.0f} |')
    md.append('')
    md.append('Dynamic-UL2 moves the mixture toward the denoisers whose held-out loss is furthest above its reference '
              '(the model\'s own loss before the heal\'s first step):\n')
    md.append('![denoiser weights during a heal](img/openba-v2-encdec-weights.svg)\n')
    md.append('## Caveats\n')
    below = [a for a in ARMS if statistics.fmean(bpb[a]) < parent_res['bits_per_byte']]
    if below:
        md.append(f'- {", ".join(below)} ends below its parent ({parent_res["bits_per_byte"]:.4f}): the parent saw only '
                  f'{parent_steps * BATCH * SEQ:,} tokens, so the heals\' further training on the same data still improves on it. The '
                  'comparison that counts is between the arms, at equal tokens.')
    md.append(f'- One small parent pretrained here for {parent_steps * BATCH * SEQ:,} tokens, not OpenBA\'s 15B: the direction of the result, not its '
              'size, is what carries over, and it may not.\n'
              '- The layers dropped are chosen by block influence in every arm, where OpenBA-V2 hand-picked far-apart middle layers; '
              'width kept by activation importance where OpenBA-V2 kept random units.\n'
              '- In *staged* and *direct* each heal restarts its warm-up and decay, as the paper\'s separate stages do; *staged-continuing* '
              'shows what that costs the staged recipe. The direct arm re-warms once, for its vocabulary heal.\n'
              '- The denoising losses are on the prepared training data\'s own held-out split (RedPajama prose and TinyStories), the '
              'bits per byte on TinyStories text no run trained, calibrated or steered on.\n')
    with open(out_md, 'w') as f:
        f.write('\n'.join(md))


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
