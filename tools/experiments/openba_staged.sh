#!/usr/bin/env bash
# Issue 14, experiment 1 (OpenBA-V2, METHODS.md §3): staged vs direct layer + width + vocabulary pruning of
# stories260K at equal total healing steps, over several seeds; docs/experiments/openba-v2-staged.md.
#   staged-restart    depth (5→4), heal 100, depth (4→3), heal 100, width (FFN −25%, heads −50%), heal 300, vocabulary −25%:
#                     each heal warms up and decays on its own (the repository's examples/openba-v2.yaml)
#   staged-continuing the same stages, the three heals following one schedule of 500 steps (scheduleStart/scheduleSteps)
#   direct            one prune to the same shape (layers 5→3, FFN −25%, heads −50%), heal 500, vocabulary −25%
# Data: tinystories_split.sh (90% trains and calibrates, the last 10% is the held-out text the final evaluation scores).
# Usage: tools/experiments/openba_staged.sh [WORK_DIR] [SEEDS]   (from the repository root; SEEDS like 1,2,3)
set -euo pipefail
W=${1:-/tmp/openba-staged}
SEEDS=${2:-1,2,3}
S=${SHEARS:-./shears}   # SHEARS=... runs a fixed build (e.g. a copied jar) while the tree changes
TOK=../shared/data/models/stories260K/tok512.bin
. "$(dirname "$0")/tinystories_split.sh"
ROOT=$(pwd)
write() { # name stages-yaml
  { echo "model: $ROOT/../shared/data/models/stories260K/hf"; echo "tokenizer: $ROOT/$TOK"; echo "stages:"; cat; } > "$W/$1.yaml"
}
CAL="calibration: $W/train.txt"
HEAL="data: [{path: $W/data, weight: 1}], batchSize: 8, seqLen: 128, lr: 1.0e-3, minLr: 1.0e-4, evalInterval: 50, decay: COSINE"
VOCAB="  - name: vocabulary
    prune: {vocab: 0.25, vocabCorpus: $W/train.txt, $CAL}
  - name: eval
    eval: {tasks: [tinystories], dataDir: $W/eval}"
write staged-restart <<Y
  - name: depth-1
    prune: {layers: 0.2, layerImportance: block-influence, $CAL}
  - name: heal-1
    train: {$HEAL, steps: 100, warmupSteps: 10}
  - name: depth-2
    prune: {target: "layers=3", layerImportance: block-influence, $CAL}
  - name: heal-2
    train: {$HEAL, steps: 100, warmupSteps: 10}
  - name: width
    prune: {ffn: 0.25, heads: 0.5, headMode: PER_GROUP, importance: activation, $CAL}
  - name: heal-3
    train: {$HEAL, steps: 300, warmupSteps: 20}
$VOCAB
Y
write staged-continuing <<Y
  - name: depth-1
    prune: {layers: 0.2, layerImportance: block-influence, $CAL}
  - name: heal-1
    train: {$HEAL, steps: 100, warmupSteps: 20, scheduleStart: 0, scheduleSteps: 500}
  - name: depth-2
    prune: {target: "layers=3", layerImportance: block-influence, $CAL}
  - name: heal-2
    train: {$HEAL, steps: 100, warmupSteps: 20, scheduleStart: 100, scheduleSteps: 500}
  - name: width
    prune: {ffn: 0.25, heads: 0.5, headMode: PER_GROUP, importance: activation, $CAL}
  - name: heal-3
    train: {$HEAL, steps: 300, warmupSteps: 20, scheduleStart: 200, scheduleSteps: 500}
$VOCAB
Y
write direct <<Y
  - name: all-at-once
    prune: {layers: 0.4, ffn: 0.25, heads: 0.5, headMode: PER_GROUP, importance: activation, layerImportance: block-influence, $CAL}
  - name: heal
    train: {$HEAL, steps: 500, warmupSteps: 20}
$VOCAB
Y
for arm in staged-restart staged-continuing direct; do
  $S pipeline check "$W/$arm.yaml" | tail -1
  if [ -f "$W/$arm/seeds.json" ]; then continue; fi
  resume=""; [ -d "$W/$arm" ] && resume="--resume"
  $S pipeline run "$W/$arm.yaml" --out "$W/$arm" --seeds "$SEEDS" $resume > "$W/$arm.md"
done
python3 tools/experiments/seeds_chart.py docs/img/openba-v2-staged.svg "Held-out TinyStories bits per byte (lower is better), 3 seeds" \
  "* tinystories bits_per_byte" direct="$W/direct" staged-restart="$W/staged-restart" staged-continuing="$W/staged-continuing"
echo "done: $W/{staged-restart,staged-continuing,direct}/seeds.md, docs/img/openba-v2-staged.svg"
