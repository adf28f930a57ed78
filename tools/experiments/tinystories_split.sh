# Sourced by the experiment scripts: TinyStories' validation head split by whole stories (blank-line
# separated). The first 90% trains and calibrates ($W/train.txt, prepared into $W/data with its own 5%
# held-out split for losses during training); the last 10% ($W/eval/tinystories/tinystories_val_head.txt)
# is what the final `tinystories` evaluation scores, never trained, calibrated or tuned on.
# Needs W, S (the shears launcher) and TOK (the tokenizer).
SRC=../shared/data/eval/tinystories/tinystories_val_head.txt
mkdir -p "$W/eval/tinystories"
if [ ! -f "$W/train.txt" ]; then
  awk -v RS= -v ORS='\n\n' -v train="$W/train.txt" -v held="$W/eval/tinystories/tinystories_val_head.txt" \
    '{ s[NR] = $0 } END { cut = int(NR * 0.9); for (i = 1; i <= NR; i++) print s[i] > (i <= cut ? train : held) }' "$SRC"
fi
[ -d "$W/data" ] || $S data prepare --tokenizer "$TOK" --out "$W/data" "$W/train.txt"
