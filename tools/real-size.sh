#!/usr/bin/env bash
# The real-size measurements of docs/benchmarks.md ("Real sizes"): random-weight checkpoints of
# published shapes made with `shears init`, each command under /usr/bin/time -v (wall time and peak
# RSS, heap and touched mapped pages included). Needs ~70 GB of disk in WORK and hours on 2 cores.
#   tools/real-size.sh [WORK] [STEP...]      steps: 7b (default), taylor, 13b, tinyllama
#   LLAMA_CPP=/path/to/llama.cpp/build/bin tools/real-size.sh /tmp/rs tinyllama   # with the peer
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/shears-real-size}"; shift || true
steps=("${@:-7b}")
shears="$root/shears"
data="$root/../shared/data"
tokenizer="$data/tokenizers/llama2/tokenizer.model"
mkdir -p "$work"
head -c 3000 "$data/eval/wikitext-2/wiki.test.raw" > "$work/wiki.txt"
head -c 60000 "$data/eval/wikitext-2/wiki.test.raw" | tail -c 40000 > "$work/calibration.txt"
t() {
  local name=$1; shift
  /usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.err"
  echo "$name rc=$? wall=$(grep 'Elapsed (wall' "$work/$name.err" | awk '{print $NF}') maxrss_kb=$(grep 'Maximum resident' "$work/$name.err" | awk '{print $NF}')" | tee -a "$work/summary.txt"
}
model() { [ -d "$work/$1" ] || t "init-$1" "$shears" init --shape "$1" --dtype bf16 --tokenizer "$tokenizer" --out "$work/$1" --json; }
for step in "${steps[@]}"; do
  case "$step" in
    7b)
      model llama-2-7b
      t info "$shears" info "$work/llama-2-7b" --json
      t perplexity "$shears" perplexity "$work/llama-2-7b" --text "$work/wiki.txt" --context 512 --json
      t generate "$shears" generate "$work/llama-2-7b" --prompt 'Once upon a time' --max-tokens 16 --json
      t prune-activation "$shears" prune "$work/llama-2-7b" --calibration "$work/calibration.txt" --samples 16 --seq-len 256 \
          --importance activation --target layers=32,hidden=2560,heads=20,ffn=6912 --out "$work/child-activation" --json
      t child-perplexity "$shears" perplexity "$work/child-activation" --text "$work/wiki.txt" --context 512 --json
      t child-gguf "$shears" export "$work/child-activation" --format gguf --out "$work/child-activation.gguf" --json ;;
    taylor)
      model llama-2-7b
      t prune-taylor "$shears" prune "$work/llama-2-7b" --calibration "$work/calibration.txt" --samples 16 --seq-len 256 \
          --importance taylor --target layers=32,hidden=2560,heads=20,ffn=6912 --out "$work/child-taylor" --json ;;
    13b)
      model llama-2-13b
      # 8 windows of 128 tokens: the resident set does not depend on them, the time does (two passes over 26 GB)
      t prune-13b "$shears" prune "$work/llama-2-13b" --calibration "$work/calibration.txt" --samples 8 --seq-len 128 --layers 0.25 \
          --layer-importance block-influence --ffn 0.25 --importance activation --out "$work/child-13b" --json ;;
    tinyllama)
      model tinyllama-1.1b
      [ -f "$work/tinyllama-f32.gguf" ] || "$shears" export "$work/tinyllama-1.1b" --format gguf --dtype f32 --out "$work/tinyllama-f32.gguf" > /dev/null
      [ -f "$work/tinyllama-bf16.gguf" ] || "$shears" export "$work/tinyllama-1.1b" --format gguf --out "$work/tinyllama-bf16.gguf" > /dev/null
      for n in 1 2; do
        echo "threads $n: shears bf16 pp256 $("$shears" --threads $n bench forward "$work/tinyllama-1.1b" --seq 256 --iterations 3 --warmup 1 --json 2>/dev/null | grep tokens_per_second)"
        echo "threads $n: shears bf16 tg16 $("$shears" --threads $n generate "$work/tinyllama-1.1b" --prompt 'Once upon a time' --max-tokens 16 --json 2>/dev/null | grep tokens_per_second)"
        if [ -n "${LLAMA_CPP:-}" ]; then
          for f in f32 bf16; do
            "$LLAMA_CPP/llama-bench" -m "$work/tinyllama-$f.gguf" -p 256 -n 0 -t $n -r 3 2>/dev/null | grep pp256
            "$LLAMA_CPP/llama-bench" -m "$work/tinyllama-$f.gguf" -p 0 -n 16 -t $n -r 3 2>/dev/null | grep tg16
          done
        fi
      done | tee -a "$work/summary.txt" ;;
    *) echo "unknown step $step (7b, taylor, 13b, tinyllama)" >&2; exit 2 ;;
  esac
done
