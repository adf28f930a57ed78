#!/usr/bin/env bash
# Issue 14, experiment 2 (Jha et al. 2023, "How to train your (compressed) LLM"), on a parent trained here from scratch:
#   parent        stories260K's shape (5 layers, dim 64, FFN 172) from scratch, 2,000 steps of 8 × 128 tokens (2.05M tokens), seed 1
#   cpt           drop 2 of 5 layers (every-k, no data), continue pretraining 500 steps
#   distill       the same drop, distillation from the parent at matched compute: 321 steps (a distillation step also runs
#                 the 5-layer teacher forward: (3·3 + 5) / (3·3) ≈ 1.56 student steps of layer FLOPs; 500 / 1.56 ≈ 321)
#   scratch-equal the child's shape from scratch on the 500 steps the compressed models heal with (the repository's control)
#   scratch-full  the child's shape from scratch on the parent's whole budget, 2,000 steps: Jha et al.'s upper bound
# Evaluation: rolling windows of 128 tokens, the context every model here trained at (the configs say 512, the
# positions 128-511 are never trained, and scoring there would measure extrapolation).
# Data: tinystories_split.sh. Seeds vary the children (batch order, initialisation of the scratch runs); the parent is one run.
# Usage: tools/experiments/jha_compressed.sh [WORK_DIR] [SEEDS]   (from the repository root)
set -euo pipefail
W=${1:-/tmp/jha}
SEEDS=${2:-1,2,3}
S=${SHEARS:-./shears}   # SHEARS=... runs a fixed build (e.g. a copied jar) while the tree changes
TOK=../shared/data/models/stories260K/tok512.bin
. "$(dirname "$0")/tinystories_split.sh"
ROOT=$(pwd)
python3 - "$ROOT/../shared/data/models/stories260K/hf/config.json" "$W" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
json.dump(c, open(sys.argv[2] + "/parent-config.json", "w"), indent=1)
c["num_hidden_layers"] = 3
json.dump(c, open(sys.argv[2] + "/child-config.json", "w"), indent=1)
PY
TRAIN="data: [{path: $W/data, weight: 1}], batchSize: 8, seqLen: 128, lr: 1.0e-3, minLr: 1.0e-4, evalInterval: 100, decay: COSINE"
EVAL="  - name: eval
    eval: {tasks: [tinystories], dataDir: $W/eval, context: 128}"
write() { # name [model]: stages from stdin
  { [ -n "${2:-}" ] && echo "model: $2"; echo "tokenizer: $ROOT/$TOK"; echo "stages:"; cat; } > "$W/$1.yaml"
}
write parent <<Y
  - name: pretrain
    train: {init: $W/parent-config.json, $TRAIN, steps: 2000, warmupSteps: 100, seed: 1}
$EVAL
Y
if [ ! -f "$W/parent/02-eval/stage.json" ]; then
  resume=""; [ -d "$W/parent" ] && resume="--resume"
  $S pipeline run "$W/parent.yaml" --out "$W/parent" $resume > "$W/parent.md"
fi
PARENT=$W/parent/01-pretrain
DROP="  - name: drop
    prune: {layers: 0.4, layerImportance: every-k}"
write cpt "$PARENT" <<Y
$DROP
  - name: continue
    train: {$TRAIN, steps: 500, warmupSteps: 20}
$EVAL
Y
write distill "$PARENT" <<Y
$DROP
  - name: distill
    distill: {$TRAIN, steps: 321, warmupSteps: 20}
$EVAL
Y
write scratch-equal <<Y
  - name: scratch
    train: {init: $W/child-config.json, $TRAIN, steps: 500, warmupSteps: 20}
$EVAL
Y
write scratch-full <<Y
  - name: scratch
    train: {init: $W/child-config.json, $TRAIN, steps: 2000, warmupSteps: 100}
$EVAL
Y
for arm in cpt distill scratch-equal scratch-full; do
  if [ -f "$W/$arm/seeds.json" ]; then continue; fi
  resume=""; [ -d "$W/$arm" ] && resume="--resume"
  $S pipeline run "$W/$arm.yaml" --out "$W/$arm" --seeds "$SEEDS" $resume > "$W/$arm.md"
done
python3 tools/experiments/seeds_chart.py docs/img/jha-compressed.svg "Held-out TinyStories bits per byte (lower is better), 3 seeds" \
  "* tinystories bits_per_byte" cpt="$W/cpt" distill="$W/distill" scratch-equal="$W/scratch-equal" scratch-full="$W/scratch-full"
echo "done: $W/{parent.md,cpt,distill,scratch-equal,scratch-full}/seeds.md, docs/img/jha-compressed.svg"
