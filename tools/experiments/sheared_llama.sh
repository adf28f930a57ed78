#!/usr/bin/env bash
# Sheared-LLaMA at toy scale on the RedPajama sample (7 domains): docs/experiment-sheared-llama.md.
# parent from scratch -> (a) shears shear, (b) shears prune one-shot, (c) same shape from scratch
# -> continued training of each, with and without dynamic batch loading (6 runs).
# Every stage is skipped when its output already exists, so the script can be re-run after a stop.
# Usage: tools/experiments/sheared_llama.sh [WORK_DIR]   (run from the repository root)
set -euo pipefail
W=${1:-/tmp/shx}
RP=${RP:-../shared/data/pretrain/redpajama_sample}
MIX_CHARS=${MIX_CHARS:-40000}          # characters per domain in the tokenizer-training mixture
PARENT_STEPS=${PARENT_STEPS:-500}      # parent: steps of BATCH x SEQ tokens
PARENT_LR=${PARENT_LR:-3e-3}
SHEAR_STEPS=${SHEAR_STEPS:-200}
SHEAR_LR=${SHEAR_LR:-1e-3}
CONT_STEPS=${CONT_STEPS:-300}          # continued training, identical for all 6 runs
CONT_LR=${CONT_LR:-1e-3}
BATCH=${BATCH:-16}
SEQ=${SEQ:-128}
EVAL_INTERVAL=${EVAL_INTERVAL:-25}
EVAL_WINDOWS=${EVAL_WINDOWS:-16}
TARGET=${TARGET:-layers=4,hidden=160,heads=4,kv-heads=2,ffn=480}
DOMAINS="arxiv book c4-rp cc github stackexchange wiki"
S=./shears
mkdir -p "$W"
log() { echo "[$(date +%T)] $*" | tee -a "$W/times.log"; }

# 1. A 512-entry BPE tokenizer trained (by `shears demo`, the only BPE trainer the CLI exposes) on an
#    equal-character mixture of the 7 domains; the demo's 10-step parent is thrown away.
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
  $S demo --data "$W/mix" --steps 10 --out "$W/tokdemo"  # the fewest steps demo accepts
  cp "$W/tokdemo/tokenizer.bin" "$W/tokenizer.bin"
fi

# 2. One prepared folder per domain (5% held out).
for d in $DOMAINS; do
  [ -d "$W/data/$d" ] || $S data prepare --tokenizer "$W/tokenizer.bin" --out "$W/data/$d" "$RP/$d"/*.jsonl
done
DATA=""; for d in $DOMAINS; do DATA="$DATA --data $W/data/$d"; done
EV="--set evalInterval=$EVAL_INTERVAL --set evalWindows=$EVAL_WINDOWS"

# 3. The parent: dim 192, 6 layers, 6 heads over 2 KV groups, FFN 512, vocab 512, tied.
cat > "$W/parent-config.json" <<'JSON'
{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":192,"intermediate_size":512,
 "num_hidden_layers":6,"num_attention_heads":6,"num_key_value_heads":2,"head_dim":32,"vocab_size":512,
 "max_position_embeddings":128,"rms_norm_eps":1e-5,"rope_theta":10000.0,"hidden_act":"silu",
 "tie_word_embeddings":true,"attention_bias":false,"mlp_bias":false,"bos_token_id":1,"eos_token_id":2,
 "torch_dtype":"float32"}
JSON
if [ ! -f "$W/parent/model.safetensors" ]; then
  log "parent start"
  $S train --init "$W/parent-config.json" $DATA --out "$W/parent" --steps "$PARENT_STEPS" \
    --batch "$BATCH" --seq "$SEQ" --lr "$PARENT_LR" --set warmupSteps=50 --set evalInterval=100 \
    --set evalWindows=$EVAL_WINDOWS --tokenizer "$W/tokenizer.bin"
  log "parent done"
fi

# 4a. Learned hard-concrete masks to the exact target (published gate/λ rates, warm-up 0.2).
if [ ! -f "$W/a-sheared/model.safetensors" ]; then
  log "shear start"
  $S shear "$W/parent" --target "$TARGET" $DATA --steps "$SHEAR_STEPS" --lr "$SHEAR_LR" \
    --batch "$BATCH" --seq "$SEQ" $EV --out "$W/a-sheared"
  log "shear done"
fi

# 4b. One-shot to the same shape: activation for widths, block influence for layers (docs/pruning.md),
#     calibrated on an equal mixture of the domains (the tokenizer mixture text).
if [ ! -f "$W/b-pruned/model.safetensors" ]; then
  log "prune start"
  $S prune "$W/parent" --target "$TARGET" --importance activation --layer-importance block-influence \
    --calibration "$W/mix/mix.txt" --samples 64 --seq-len "$SEQ" --out "$W/b-pruned"
  log "prune done"
fi

# 4c. Same shape from scratch: the pruned model's config (untrained weights are drawn by --init).
cp "$W/b-pruned/config.json" "$W/c-scratch-config.json"

# The `shears train` arguments that load start a, b or c (steps 4d and 6).
start_args() {
  case $1 in
    a) echo "--model $W/a-sheared" ;;
    b) echo "--model $W/b-pruned" ;;
    c) echo "--init $W/c-scratch-config.json --tokenizer $W/tokenizer.bin" ;;
  esac
}

# 4d. The "before continued training" points: one step at a vanishing learning rate (lr must be > 0)
#     so that `shears train` evaluates the start model on the same held-out windows as the runs below.
for start in a b c; do
  SRC=$(start_args $start)
  [ -f "$W/probe-$start/model.safetensors" ] || $S train $SRC $DATA --out "$W/probe-$start" --steps 1 \
    --batch 1 --seq "$SEQ" --set lr=1e-30 --set minLr=1e-30 --set warmupSteps=0 --set evalWindows=$EVAL_WINDOWS
done

# 5. Reference losses for dynamic batch loading: the parent's held-out loss per domain.
# 6. Continued training: 3 starts x {static uniform weights, dynamic batch loading}, same tokens.
for start in a b c; do
  SRC=$(start_args $start)
  for mode in static dbl; do
    out="$W/cont-$start-$mode"
    [ -f "$out/model.safetensors" ] && continue
    extra=""; [ $mode = dbl ] && extra="--dynamic-batch-loading --reference-model $W/parent"
    log "cont $start $mode start"
    $S train $SRC $DATA --out "$out" --steps "$CONT_STEPS" --batch "$BATCH" --seq "$SEQ" \
      --lr "$CONT_LR" --set warmupSteps=20 $EV $extra
    log "cont $start $mode done"
  done
done
log "all done"
# 7. Tables (stdout) and SVG charts (docs/img) for docs/experiment-sheared-llama.md.
python3 tools/experiments/sheared_llama_report.py "$W" docs/img > "$W/tables.md"
