#!/usr/bin/env bash
# Issue 16 (OpenBA-V2, METHODS.md §3) on its own architecture: an OpenBA-shaped encoder–decoder pretrained here with UL2,
# then compressed by OpenBA-V2's stages against a direct compression at equal healing tokens, over several seeds;
# writes docs/experiment-openba-v2.md and its charts (tools/experiments/openba_encdec_report.py).
#   parent   examples/openba-v2-encdec-parent.json (3 encoder / 9 decoder layers, d_model 64, 4 heads × 16, SwiGLU 256)
#            made by `shears init` with T5's tokenizer, its vocabulary cut to the 4,096 most frequent pieces of the training
#            text (`shears prune --vocab-size`), then pretrained with OpenBA-V2's seven UL2 denoisers for PARENT_STEPS steps
#   staged   OpenBA-V2's order: depth in three stages (3/9 → 2/8 → 2/7 → 2/6 encoder/decoder layers, block influence),
#            then width (d_model −37.5%, FFN −37.5%, heads −50%, activation importance), then vocabulary (−25%, by
#            frequency), each followed by Dynamic-UL2 continued pretraining
#   staged-continuing  the same stages, the heals following one learning-rate schedule (warm-up once, one cosine decay)
#            instead of each re-warming and decaying on its own
#   direct   one prune to the same depth and width, one heal as long as the staged arm's heals before the vocabulary
#            step together, then the same vocabulary step and heal
# Data: TinyStories' validation head split by whole stories (tinystories_split.sh: the last 10% is held out and only scored)
# and the RedPajama sample's English prose (c4-rp, book, wiki). Usage (from the repository root; SEEDS like 1,2,3):
#   tools/experiments/openba_encdec.sh [WORK_DIR] [SEEDS] [PARENT_STEPS] [HEAL_STEPS]
set -euo pipefail
W=${1:-/tmp/openba-encdec}
SEEDS=${2:-1,2,3}
PARENT_STEPS=${3:-1500}
H=${4:-80}                # one heal; the width heal is 2H, so each arm heals 6H steps in all
S=${SHEARS:-./shears}     # SHEARS=... runs a fixed build (e.g. a copied jar) while the tree changes
ROOT=$(pwd)
T5=$ROOT/../shared/data/tokenizers/t5
RP=$ROOT/../shared/data/pretrain/redpajama_sample
mkdir -p "$W"
TOK=$T5/tokenizer.json
. "$(dirname "$0")/tinystories_split.sh"     # $W/train.txt, $W/eval/tinystories (held out); $W/data is T5-tokenized and unused
[ -f "$W/corpus.txt" ] || { cat "$W/train.txt"; for d in c4-rp book wiki; do jq -r '.text' "$RP"/$d/*.jsonl; done; } > "$W/corpus.txt"
# the same documents as one JSONL file: a heal after the vocabulary step tokenizes it with the pruned tokenizer
[ -f "$W/corpus.jsonl" ] || { jq -Rs -c 'split("\n\n")[] | select(length > 0) | {text: .}' "$W/train.txt"; for d in c4-rp book wiki; do jq -c '{text}' "$RP"/$d/*.jsonl; done; } > "$W/corpus.jsonl"
[ -d "$W/init-full" ] || $S init --config examples/openba-v2-encdec-parent.json --tokenizer "$T5" --dtype f32 --seed 1 --out "$W/init-full"
[ -d "$W/init" ] || $S prune "$W/init-full" --vocab-size 4096 --vocab-corpus "$W/corpus.txt" --out "$W/init"
[ -d "$W/data-parent" ] || $S data prepare --tokenizer "$W/init" --out "$W/data-parent" "$W/train.txt" "$RP"/c4-rp/*.jsonl "$RP"/book/*.jsonl "$RP"/wiki/*.jsonl
if [ ! -f "$W/parent/config.json" ]; then
  resume=""; [ -d "$W/parent" ] && resume="--resume"
  $S train --model "$W/init" --data "$W/data-parent" --objective openba-v2 --steps "$PARENT_STEPS" --batch 8 --lr 2e-3 \
    --set seqLen=128 --set warmupSteps=100 --set evalInterval=250 --set checkpointInterval=250 --out "$W/parent" $resume > "$W/parent.log" 2>&1
fi
[ -f "$W/parent-eval.json" ] || $S eval "$W/parent" --tasks tinystories --data-dir "$W/eval" --json "$W/parent-eval.json" > "$W/parent-eval.md"

write() { # name stages-yaml
  { echo "model: $W/parent"; echo "stages:"; cat; } > "$W/$1.yaml"
}
CAL="calibration: $W/corpus.txt"
HEAL="objective: openba-v2, dynamic: true, data: [{path: $W/data-parent, weight: 1}], batchSize: 8, seqLen: 128, lr: 1.0e-3, minLr: 1.0e-4, warmupSteps: 10, evalInterval: 40, decay: COSINE"
WIDTH="hidden: 0.375, ffn: 0.375, heads: 0.5, importance: activation"
vocab_tail() { # the vocabulary step, its heal (given text: tokenized with the pruned tokenizer) and the evaluation; $1: extra heal keys
  echo "  - name: vocabulary
    prune: {vocab: 0.25, vocabCorpus: $W/corpus.txt}
  - name: heal-vocab
    train: {${HEAL/data-parent/corpus.jsonl}, steps: $H$1}
  - name: eval
    eval: {tasks: [tinystories], dataDir: $W/eval, limit: 0}"
}
staged() { # OpenBA-V2's stages; $1 = continuing: the heals follow one schedule of 6H steps instead of each its own
  at() { [ "$1" = continuing ] && echo ", scheduleStart: $2, scheduleSteps: $((6 * H))"; }
  cat <<Y
  - name: depth-1
    prune: {encLayers: 2, decLayers: 8, layerImportance: block-influence, $CAL}
  - name: heal-1
    train: {$HEAL, steps: $H$(at "$1" 0)}
  - name: depth-2
    prune: {decLayers: 7, layerImportance: block-influence, $CAL}
  - name: heal-2
    train: {$HEAL, steps: $H$(at "$1" $H)}
  - name: depth-3
    prune: {decLayers: 6, layerImportance: block-influence, $CAL}
  - name: heal-3
    train: {$HEAL, steps: $H$(at "$1" $((2 * H)))}
  - name: width
    prune: {$WIDTH, $CAL}
  - name: heal-4
    train: {$HEAL, steps: $((2 * H))$(at "$1" $((3 * H)))}
$(vocab_tail "$(at "$1" $((5 * H)))")
Y
}
staged restart | write staged
staged continuing | write staged-continuing
write direct <<Y
  - name: all-at-once
    prune: {encLayers: 2, decLayers: 6, $WIDTH, layerImportance: block-influence, $CAL}
  - name: heal
    train: {$HEAL, steps: $((5 * H))}
$(vocab_tail "")
Y
for arm in staged staged-continuing direct; do
  $S pipeline check "$W/$arm.yaml" | tail -1
  if [ -f "$W/$arm/seeds.json" ]; then continue; fi
  resume=""; [ -d "$W/$arm" ] && resume="--resume"
  $S pipeline run "$W/$arm.yaml" --out "$W/$arm" --seeds "$SEEDS" $resume > "$W/$arm.md"
done
python3 tools/experiments/openba_encdec_report.py "$W" docs/experiment-openba-v2.md docs/img
echo "done: docs/experiment-openba-v2.md from $W"
