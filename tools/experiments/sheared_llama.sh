#!/usr/bin/env bash
# Issue 14, experiment 3 (Sheared-LLaMA, METHODS.md §2) on the 7-domain RedPajama sample, over several seeds:
# docs/experiments/sheared-llama.md. A parent trained here from scratch (one run) is cut to one target shape by
#   learned   `shear` (hard-concrete masks, one gate per layer, per-layer Lagrangian, published schedules), SHEAR_STEPS,
#             then continued pretraining for CONT_STEPS
#   oneshot   `prune` (activation importance for widths, block influence for layers, calibrated on training text),
#             then continued pretraining for CONT_STEPS (equal continued tokens) or SHEAR_STEPS + CONT_STEPS (equal total)
#   scratch   the target shape from random weights, trained for CONT_STEPS or SHEAR_STEPS + CONT_STEPS
# each with static weights (RedPajama's proportions, LLM-Shearing's pruning.sh) or dynamic batch loading started from
# them (reference: the parent's loss per domain; the published references are for the Llama 2 tokenizer).
# Every arm is a pipeline run over SEEDS (batch order, gate samples, initialisation, calibration windows).
# Held-out: each domain's prepared held-out split; DBL steers on its second half, the table reports the first.
# Every stage is skipped or resumed when its output exists, so the script can be re-run after a stop.
# Usage: tools/experiments/sheared_llama.sh [WORK_DIR] [SEEDS]   (from the repository root)
set -euo pipefail
W=${1:-/tmp/shx}
SEEDS=${2:-1,2,3}
S=${SHEARS:-./shears}   # SHEARS=... runs a fixed build (e.g. a copied jar) while the tree changes
RP=${RP:-../shared/data/pretrain/redpajama_sample}
MIX_CHARS=${MIX_CHARS:-40000}          # characters per domain in the tokenizer-training and calibration mixture
PARENT_STEPS=${PARENT_STEPS:-500}      # parent: steps of PARENT_BATCH x SEQ tokens
PARENT_BATCH=${PARENT_BATCH:-16}
SHEAR_STEPS=${SHEAR_STEPS:-200}
CONT_STEPS=${CONT_STEPS:-300}
BATCH=${BATCH:-8}                      # children: sequences per step
SEQ=${SEQ:-128}
TARGET=${TARGET:-layers=4,hidden=160,heads=4,kv-heads=2,ffn=480}
DOMAINS="arxiv book c4-rp cc github stackexchange wiki"
declare -A PROPORTION=([cc]=0.67 [github]=0.045 [book]=0.045 [stackexchange]=0.02 [wiki]=0.045 [arxiv]=0.025 [c4-rp]=0.15)
ROOT=$(pwd)
mkdir -p "$W"

# 1. A 512-entry BPE tokenizer trained (by `shears demo`, the CLI's BPE trainer) on an equal-character mixture
#    of the 7 domains (the first MIX_CHARS characters of each, all from the training splits); the demo's parent
#    is thrown away. The mixture is also the one-shot arms' calibration text.
if [ ! -f "$W/tokenizer.bin" ]; then
  mkdir -p "$W/mix"
  python3 - "$RP" "$W/mix/mix.txt" "$MIX_CHARS" <<'PY'
import json, glob, os, sys
root, out, cap = sys.argv[1], open(sys.argv[2], 'w'), int(sys.argv[3])
for d in sorted(os.listdir(root)):
    n = 0
    for f in sorted(glob.glob(f'{root}/{d}/*.jsonl')):
        for line in open(f):
            t = json.loads(line)['text'][:cap - n]
            out.write(t.strip() + '\n\n'); n += len(t)
            if n >= cap: break
        if n >= cap: break
PY
  $S demo --data "$W/mix" --steps 10 --out "$W/tokdemo" > /dev/null
  cp "$W/tokdemo/tokenizer.bin" "$W/tokenizer.bin"
fi

# 2. One prepared folder per domain (5% held out, in evenly spaced chunks). --no-bos: documents separated by EOS only,
#    the format of the runs in the doc (prepared before BOS became the default); every number is a held-out loss on
#    windows of this same format, so no model meets a token it never trained on.
for d in $DOMAINS; do
  [ -d "$W/data/$d" ] || $S data prepare --tokenizer "$W/tokenizer.bin" --no-bos --out "$W/data/$d" "$RP/$d"/*.jsonl
done
data() { # weights: uniform | redpajama
  local out="" sep="" w
  for d in $DOMAINS; do
    w=1; [ "$1" = redpajama ] && w=${PROPORTION[$d]}
    out="$out$sep{path: $W/data/$d, weight: $w}"; sep=", "
  done
  echo "[$out]"
}
write() { # name [model]: stages from stdin
  { [ -n "${2:-}" ] && echo "model: $2"; echo "tokenizer: $W/tokenizer.bin"; echo "stages:"; cat; } > "$W/$1.yaml"
}
run() { # name [seeds]: the pipeline WORK/name.yaml into WORK/name (resumed after a stop); WORK/name.done when finished
  [ -f "$W/$1.done" ] && return
  local resume="" seeds=""; [ -d "$W/$1" ] && resume="--resume"; [ -n "${2:-}" ] && seeds="--seeds $2"
  echo "[$(date +%T)] $1" >> "$W/times.log"
  $S pipeline run "$W/$1.yaml" --out "$W/$1" $seeds $resume > "$W/$1.md"
  touch "$W/$1.done"
}

# 3. The parent: dim 192, 6 layers, 6 heads over 2 KV groups, FFN 512, vocabulary 512, tied; uniform domain weights.
cat > "$W/parent-config.json" <<'JSON'
{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":192,"intermediate_size":512,
 "num_hidden_layers":6,"num_attention_heads":6,"num_key_value_heads":2,"head_dim":32,"vocab_size":512,
 "max_position_embeddings":128,"rms_norm_eps":1e-5,"rope_theta":10000.0,"hidden_act":"silu",
 "tie_word_embeddings":true,"attention_bias":false,"mlp_bias":false,"bos_token_id":1,"eos_token_id":2,
 "torch_dtype":"float32"}
JSON
EVAL="evalInterval: 25, evalWindows: 16"
write parent <<Y
  - name: pretrain
    train: {init: $W/parent-config.json, data: $(data uniform), batchSize: $PARENT_BATCH, seqLen: $SEQ, steps: $PARENT_STEPS,
            lr: 3.0e-3, minLr: 3.0e-4, warmupSteps: 50, evalInterval: 100, evalWindows: 16, seed: 1}
Y
run parent
PARENT=$W/parent/01-pretrain

# 4. The target shape from scratch: the target's config (what `prune --target` writes for this parent).
python3 - "$W/parent-config.json" "$W/child-config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(hidden_size=160, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, intermediate_size=480)
json.dump(c, open(sys.argv[2], 'w'), indent=1)
PY

# 5. The arms. Learning rates: shear's model rate 1e-3 with the published gate/λ rates and schedule (warm-up 10%,
#    cosine to 0.1×); continued pretraining 1e-3 → 1e-4 cosine with warm-up 20 steps (scratch: 10% of its steps).
for mode in static dbl; do
  DBL=""; [ $mode = dbl ] && DBL=", dynamicBatchLoading: {enabled: true, referenceModel: $PARENT}"
  T="data: $(data redpajama), batchSize: $BATCH, seqLen: $SEQ, lr: 1.0e-3, minLr: 1.0e-4, $EVAL$DBL"
  write learned-$mode "$PARENT" <<Y
  - name: shear
    shear: {target: "$TARGET", train: {$T, steps: $SHEAR_STEPS, warmupSteps: $((SHEAR_STEPS / 10))}}
  - name: continue
    train: {$T, steps: $CONT_STEPS, warmupSteps: 20}
Y
  for budget in continued total; do
    steps=$CONT_STEPS; [ $budget = total ] && steps=$((SHEAR_STEPS + CONT_STEPS))
    write oneshot-$mode-$budget "$PARENT" <<Y
  - name: prune
    prune: {target: "$TARGET", importance: activation, layerImportance: block-influence, calibration: $W/mix/mix.txt,
            samples: 64, seqLen: $SEQ}
  - name: continue
    train: {$T, steps: $steps, warmupSteps: 20}
Y
    write scratch-$mode-$budget <<Y
  - name: scratch
    train: {init: $W/child-config.json, $T, steps: $steps, warmupSteps: $((steps / 10))}
Y
  done
done
for arm in learned-static learned-dbl oneshot-static-continued oneshot-dbl-continued oneshot-static-total oneshot-dbl-total \
           scratch-static-continued scratch-dbl-continued scratch-static-total scratch-dbl-total; do
  run $arm "$SEEDS"
done
echo "[$(date +%T)] all done" >> "$W/times.log"
# 6. Tables (stdout) and SVG charts for the doc.
python3 tools/experiments/sheared_llama_report.py "$W" docs/img > "$W/tables.md"
