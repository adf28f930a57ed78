#!/usr/bin/env bash
# The crash-safety matrix (issue 13, docs/reliability.md): train (also checkpointing after every step),
# shear and a pipeline are killed with
# SIGKILL at seeded random moments (which fall during and between checkpoint writes, and after the final
# one), resumed with --resume until they finish, and their outputs compared byte for byte with a run that
# was never interrupted. Prints one line per trial and a summary; exits 1 if any output differs.
#   tools/crash-matrix.sh WORK [TRIALS]      (WORK: an empty scratch folder; TRIALS per command, default 6)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:?usage: tools/crash-matrix.sh WORK [TRIALS]}"
trials="${2:-6}"
. "$root/bin/find-jdk.sh"
shears_find_jdk
jar="$root/cli/target/shears.jar"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -DskipTests -pl core,cli -am package)
# exec: in the subshell each call runs in, java takes its PID, so kill -9 $! kills the JVM itself
shears() { exec "$JAVA_HOME/bin/java" @"$root/cli/target/jvm.args" -Xmx2g -jar "$jar" "$@"; }
shared="$root/../shared/data"
model="$shared/models/stories260K/hf"
tok="$shared/models/stories260K/tok512.bin"
mkdir -p "$work"
[ -d "$work/data" ] || ( shears data prepare --tokenizer "$tok" --out "$work/data" "$shared/eval/tinystories/tinystories_val_head.txt" ) >/dev/null 2>&1
cat > "$work/p.yaml" <<EOF
model: $model
tokenizer: $tok
stages:
  - name: cut
    prune: {ffn: 0.5, importance: magnitude}
  - name: heal
    train: {data: [{path: $work/data, weight: 1}], steps: 120, batchSize: 4, seqLen: 64, evalInterval: 10, checkpointInterval: 10, evalWindows: 2}
EOF
train_args=(train --model "$model" --tokenizer "$tok" --data "$work/data" --steps 120 --batch 4 --seq 64 --set checkpointInterval=10 --set evalInterval=10 --set evalWindows=2)
# a checkpoint after every step: a kill then almost always lands inside or right around a checkpoint write
dense_args=(train --model "$model" --tokenizer "$tok" --data "$work/data" --steps 60 --batch 4 --seq 64 --set checkpointInterval=1 --set evalInterval=20 --set evalWindows=2)
shear_args=(shear "$model" --tokenizer "$tok" --target layers=4,ffn=86 --data "$work/data" --steps 120 --batch 4 --seq 64 --set checkpointInterval=10 --set evalInterval=10 --set evalWindows=2)

run() { # kind out [--resume]: the command of that kind into out
  local kind=$1 out=$2; shift 2
  case $kind in
    train) shears "${train_args[@]}" --out "$out" "$@" ;;
    train-checkpoint-every-step) shears "${dense_args[@]}" --out "$out" "$@" ;;
    shear) shears "${shear_args[@]}" --out "$out" "$@" ;;
    pipeline) shears pipeline run "$work/p.yaml" --out "$out" "$@" ;;
  esac
}
final() { # the files that must be byte-identical
  case $1 in
    pipeline) echo "02-heal/model.safetensors 02-heal/config.json 01-cut/model.safetensors" ;;
    shear) echo "model.safetensors config.json gates.json pruning-plan.json" ;;
    *) echo "model.safetensors config.json" ;;
  esac
}

RANDOM=20261203
failed=0
for kind in train train-checkpoint-every-step shear pipeline; do
  ref="$work/$kind-straight"
  [ -d "$ref" ] || ( run "$kind" "$ref" ) >/dev/null 2>&1
  for t in $(seq 1 "$trials"); do
    out="$work/$kind-$t"
    rm -rf "$out"
    kills=0
    delay_ms=$((800 + RANDOM % 9000))
    delay0=$delay_ms
    ( run "$kind" "$out" ) >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then kills=1; fi
    wait "$pid" 2>/dev/null || true
    at=$(find "$out" -path '*checkpoints/step-*' -maxdepth 3 -type d 2>/dev/null | wc -l)
    # a second kill during the resume, then resume to the end
    delay_ms=$((500 + RANDOM % 4000))
    ( run "$kind" "$out" --resume ) >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null || true
    if ! ( run "$kind" "$out" --resume ) >/dev/null 2>"$work/$kind-$t.err"; then
      echo "$kind trial $t: the final --resume failed: $(head -1 "$work/$kind-$t.err")"; failed=$((failed + 1)); continue
    fi
    same=yes
    for f in $(final "$kind"); do cmp -s "$ref/$f" "$out/$f" || same="no ($f differs)"; done
    debris=$(find "$out" -name '.*tmp-*' -o -name '.*partial-*' | wc -l)
    echo "$kind trial $t: $kills kill(s) (first after ${delay0} ms, $at checkpoint(s) on disk), resumed: identical $same, debris $debris"
    [ "$same" = yes ] && [ "$debris" = 0 ] || failed=$((failed + 1))
  done
done
echo "crash matrix: $((4 * trials)) trials, $failed failed"
[ "$failed" = 0 ]
