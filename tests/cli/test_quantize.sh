#!/bin/sh
# int8 models as users make and use them (docs/quantization.md): zoo
# quantize on a run, a fine-tuned run and HuggingFace directories; every
# inference command on the file, the same bits as --quantize int8 at load
# time and close to float32; training, fine-tuning and export refused; a
# hostile quantized file refused with its tensor named.
#   test_quantize.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
gpt2="$source_dir/plugins/gpt/tests/fixtures/gpt2-tiny"
elmo="$source_dir/plugins/elmo/tests/fixtures/elmo-tiny-a"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-quantize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH ZOO_INT8_KERNEL
failures=0
. "$(dirname "$0")/expect.sh"

# cosines A.npy B.npy: the smallest and the mean cosine of their rows (last axis)
cosines() {
    for f in "$1" "$2"; do
        n=$(od -An -tu2 -j8 -N2 "$f" | tr -d ' ')
        tail -c +$((11 + n)) "$f" | od -An -v -tf4 -w4 | tr -d ' ' >"$f.txt"
    done
    width=$(npy_shape "$1" | tr -d '()' | awk -F', *' '{ print $NF }')
    paste "$1.txt" "$2.txt" | awk -v w="$width" '
        { ab += $1 * $2; aa += $1 * $1; bb += $2 * $2 }
        NR % w == 0 { c = ab / sqrt(aa * bb); sum += c; n++; if (n == 1 || c < min) min = c; ab = aa = bb = 0 }
        END { printf "%.6f %.6f\n", min, sum / n }'
}
# same_file WHAT A B: byte for byte
same_file() { cmp -s "$2" "$3" || fail "$1: $2 and $3 differ"; }

# --- a small GPT trained here: quantize, then eval, generate and forward
word_corpus 2000 >"$tmp/train.txt"
word_corpus 300 >"$tmp/val.txt"
cat >"$tmp/gpt.json" <<JSON
{"model": {"plugin": "gpt", "n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 64},
 "data": {"train": "train.txt", "val": "val.txt", "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 60, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.01}}}
JSON
expect 0 "" "$zoo" train "$tmp/gpt.json" --out "$tmp/gpt" --quiet
expect 0 "q.safetensors: 9 of 28 parameters quantized (int8); values .*, [23][0-9]% of float32's" \
    "$zoo" quantize "$tmp/gpt" --out "$tmp/q.safetensors"
head -c 200000 "$tmp/q.safetensors" | grep -aq '"zoo.quantization":"int8"' || fail "no zoo.quantization in the metadata"
head -c 200000 "$tmp/q.safetensors" | grep -aq '"h.0.mlp.c_fc.weight":{"dtype":"I8","shape":\[64,256\]' ||
    fail "h.0.mlp.c_fc.weight is not I8 [64,256]"
head -c 200000 "$tmp/q.safetensors" | grep -aq '"h.0.mlp.c_fc.weight_scale":{"dtype":"F32","shape":\[1,256\]' ||
    fail "the scales of h.0.mlp.c_fc.weight ([in,out]) are not F32 [1,256]"
head -c 200000 "$tmp/q.safetensors" | grep -aq '"wte.weight_scale":{"dtype":"F32","shape":\[[0-9]*,1\]' ||
    fail "the tied head wte.weight is not quantized per row"

# the round trip: the quantized file loaded and written again is the same file
expect 0 "" "$zoo" quantize "$tmp/q.safetensors" --out "$tmp/q2.safetensors"
same_file "a quantized checkpoint quantized again" "$tmp/q.safetensors" "$tmp/q2.safetensors"

"$zoo" eval "$tmp/gpt" --json >"$tmp/e32" || fail "eval float32"
expect 0 "" "$zoo" eval "$tmp/q.safetensors" --json
mv "$tmp/out" "$tmp/e8"
expect 0 "" "$zoo" eval "$tmp/gpt" --quantize int8 --json
same_file "eval of the quantized file and of --quantize int8" "$tmp/e8" "$tmp/out"
ZOO_INT8_KERNEL=portable "$zoo" eval "$tmp/q.safetensors" --json >"$tmp/e8p" || fail "eval, portable kernel"
same_file "eval with the portable kernel" "$tmp/e8" "$tmp/e8p"
awk -v a="$(grep -o '"loss": [0-9.]*' "$tmp/e32" | cut -d' ' -f2)" \
    -v b="$(grep -o '"loss": [0-9.]*' "$tmp/e8" | cut -d' ' -f2)" \
    'BEGIN { d = (b - a) / a; if (d < 0) d = -d; exit !(a > 0 && d < 0.01) }' ||
    fail "int8 held-out loss not within 1% of float32: $(cat "$tmp/e32" "$tmp/e8")"

for cmd in "$tmp/q.safetensors" "$tmp/gpt --quantize int8"; do
    # shellcheck disable=SC2086
    "$zoo" generate $cmd --prompt "the " --temperature 0 --max-new-tokens 20 >>"$tmp/gen" ||
        fail "generate $cmd"
done
[ "$(sort -u "$tmp/gen" | wc -l)" = 1 ] || fail "generate: the file and --quantize int8 differ: $(cat "$tmp/gen")"
printf '1 2 3 4 5\n5 4 3 2 1\n' >"$tmp/ids.txt"
expect 0 "" "$zoo" forward "$tmp/q.safetensors" --ids "$tmp/ids.txt" --out "$tmp/f8.npy" --hidden "$tmp/h8.npy"
expect 0 "" "$zoo" forward "$tmp/gpt" --quantize int8 --ids "$tmp/ids.txt" --out "$tmp/f8b.npy"
expect 0 "" "$zoo" forward "$tmp/gpt" --ids "$tmp/ids.txt" --out "$tmp/f32.npy" --hidden "$tmp/h32.npy"
same_file "forward of the file and of --quantize int8" "$tmp/f8.npy" "$tmp/f8b.npy"
set -- $(cosines "$tmp/h32.npy" "$tmp/h8.npy")
awk -v m="$2" 'BEGIN { exit !(m >= 0.99) }' || fail "forward: hidden states' mean cosine to float32 $2 < 0.99"

# --- BERT (HuggingFace directory): embed, fill-mask, and a fine-tuned classifier
expect 0 "quantized (int8)" "$zoo" quantize "$bert" --out "$tmp/bert-q.safetensors"
expect 0 "" "$zoo" embed "$tmp/bert-q.safetensors" --text "the cat sat" --out "$tmp/b8.npy"
expect 0 "" "$zoo" embed "$bert" --quantize int8 --text "the cat sat" --out "$tmp/b8b.npy"
expect 0 "" "$zoo" embed "$bert" --text "the cat sat" --out "$tmp/b32.npy"
same_file "bert embed of the file and of --quantize int8" "$tmp/b8.npy" "$tmp/b8b.npy"
set -- $(cosines "$tmp/b32.npy" "$tmp/b8.npy")
awk -v m="$2" 'BEGIN { exit !(m >= 0.99) }' || fail "bert embed: mean cosine to float32 $2 < 0.99"
expect 0 "" "$zoo" fill-mask "$tmp/bert-q.safetensors" --text "the [MASK] sat" --json
cp "$tmp/out" "$tmp/m8"
expect 0 "" "$zoo" fill-mask "$bert" --quantize int8 --text "the [MASK] sat" --json
same_file "fill-mask of the file and of --quantize int8" "$tmp/m8" "$tmp/out"

sentiment_corpus >"$tmp/ft-train.txt"
cat >"$tmp/ft.json" <<JSON
{"finetune": {"base": "$bert", "train": "ft-train.txt", "format": "sst"},
 "data": {"seq_len": 8}, "train": {"steps": 10, "batch_size": 8, "optimizer": {"lr": 0.01}}}
JSON
expect 0 "" "$zoo" finetune "$tmp/ft.json" --out "$tmp/ft" --quiet
mkdir "$tmp/ftq"
expect 0 "quantized (int8)" "$zoo" quantize "$tmp/ft" --out "$tmp/ftq/q.safetensors"
[ "$(cat "$tmp/ftq/labels.txt")" = "$(cat "$tmp/ft/labels.txt")" ] || fail "quantize: labels.txt not beside the file"
expect 0 "" "$zoo" classify "$tmp/ftq/q.safetensors" --text "god said unto lord" --json
cp "$tmp/out" "$tmp/c8"
expect 0 "" "$zoo" classify "$tmp/ft" --quantize int8 --text "god said unto lord" --json
same_file "classify of the file and of --quantize int8" "$tmp/c8" "$tmp/out"
grep -q '"label": "\(pos\|neg\)"' "$tmp/c8" || fail "classify: no label: $(cat "$tmp/c8")"

# --- ELMo (its published format): its LSTMs and projection int8, embed close to float32
expect 0 "13 of 29 parameters quantized" "$zoo" quantize "$elmo" --out "$tmp/elmo-q.safetensors"
expect 0 "" "$zoo" embed "$tmp/elmo-q.safetensors" --text "the bank" --out "$tmp/l8.npy"
expect 0 "" "$zoo" embed "$elmo" --quantize int8 --text "the bank" --out "$tmp/l8b.npy"
expect 0 "" "$zoo" embed "$elmo" --text "the bank" --out "$tmp/l32.npy"
same_file "elmo embed of the file and of --quantize int8" "$tmp/l8.npy" "$tmp/l8b.npy"
set -- $(cosines "$tmp/l32.npy" "$tmp/l8.npy")
awk -v m="$1" 'BEGIN { exit !(m >= 0.99) }' || fail "elmo embed: smallest cosine to float32 $1 < 0.99"

# --- a GPT-2 HuggingFace directory, through --tokenizer-free commands
expect 0 "quantized (int8)" "$zoo" quantize "$gpt2" --out "$tmp/gpt2-q.safetensors"
head -1 "$gpt2/ids.txt" >"$tmp/gpt2-ids.txt"
expect 0 "" "$zoo" forward "$tmp/gpt2-q.safetensors" --ids "$tmp/gpt2-ids.txt" --out "$tmp/g8.npy"
expect 0 "" "$zoo" forward "$gpt2" --quantize int8 --ids "$tmp/gpt2-ids.txt" --out "$tmp/g8b.npy"
same_file "gpt2 forward of the file and of --quantize int8" "$tmp/g8.npy" "$tmp/g8b.npy"

# --- what refuses a quantized model
cat >"$tmp/init.json" <<JSON
{"model": {"plugin": "gpt", "n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 64},
 "data": {"train": "train.txt", "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 2, "batch_size": 8, "init": "q.safetensors"}}
JSON
expect 1 "q.safetensors: a quantized (int8) checkpoint is for inference; train from the float32" \
    "$zoo" train "$tmp/init.json" --out "$tmp/init"
sed "s|\"base\": \"[^\"]*\"|\"base\": \"ftq/q.safetensors\"|" "$tmp/ft.json" >"$tmp/ftq.json"
expect 1 "a quantized (int8) checkpoint is for inference" "$zoo" finetune "$tmp/ftq.json" --out "$tmp/ft2"
expect 1 "a quantized (int8) checkpoint cannot be exported" \
    "$zoo" export "$tmp/bert-q.safetensors" --format hf --out "$tmp/hf"
[ -e "$tmp/hf" ] && fail "export wrote something for a quantized checkpoint"
expect 2 "--quantize" "$zoo" train "$tmp/gpt.json" --quantize int8 --out "$tmp/x"
expect 2 "int8" "$zoo" eval "$tmp/gpt" --quantize int4
cat >"$tmp/bigram.json" <<JSON
{"model": {"plugin": "bigram"}, "data": {"train": "train.txt", "tokenizer": {"type": "char"}, "seq_len": 16},
 "train": {"steps": 2, "batch_size": 4}}
JSON
expect 0 "" "$zoo" train "$tmp/bigram.json" --out "$tmp/bigram" --quiet
expect 1 "plugin 'bigram' has no linear weights to quantize" "$zoo" quantize "$tmp/bigram" --out "$tmp/bq.safetensors"
[ -e "$tmp/bq.safetensors" ] && fail "quantize wrote a file for a model with nothing to quantize"

# --- hostile files: the header edited in place (same lengths, so the file stays well formed)
# scales of the wrong count: two weights' scales swapped
LC_ALL=C sed 's/c_attn\.weight_scale/c_xxxx.weight_scale/; s/c_proj\.weight_scale/c_attn.weight_scale/; s/c_xxxx\.weight_scale/c_proj.weight_scale/' \
    "$tmp/q.safetensors" >"$tmp/swapped.safetensors"
expect 1 "swapped.safetensors: tensor 'h.0.attn.c_attn.weight_scale' must be F32 of shape \[1,192\]" \
    "$zoo" eval "$tmp/swapped.safetensors"
# scales of the wrong dtype
LC_ALL=C sed 's/"h.0.mlp.c_fc.weight_scale":{"dtype":"F32"/"h.0.mlp.c_fc.weight_scale":{"dtype":"I32"/' \
    "$tmp/q.safetensors" >"$tmp/dtype.safetensors"
expect 1 "tensor 'h.0.mlp.c_fc.weight_scale' must be F32 .*not I32" "$zoo" eval "$tmp/dtype.safetensors"
# a weight of another 8-bit dtype
LC_ALL=C sed 's/"h.0.mlp.c_fc.weight":{"dtype":"I8"/"h.0.mlp.c_fc.weight":{"dtype":"U8"/' \
    "$tmp/q.safetensors" >"$tmp/u8.safetensors"
expect 1 "u8.safetensors.*h.0.mlp.c_fc.weight" "$zoo" eval "$tmp/u8.safetensors"
# an int8 tensor the model does not use as a linear weight
LC_ALL=C sed 's/"h.0.mlp.c_fc.weight":{"dtype":"I8"/"h.0.mlp.c_fc.weight":{"dtype":"I8"/; s/"ln_f.weight":{"dtype":"F32","shape":\[64\]/"ln_f.weight":{"dtype":"I8","shape":[256]/' \
    "$tmp/q.safetensors" >"$tmp/ln.safetensors"
expect 1 "ln.safetensors" "$zoo" eval "$tmp/ln.safetensors"
# int8 tensors in a file not marked quantized
LC_ALL=C sed 's/"zoo.quantization":"int8"/"zoo.quantizatioX":"int8"/' "$tmp/q.safetensors" >"$tmp/unmarked.safetensors"
expect 1 "unmarked.safetensors: tensor '[a-z_.0-9]*' is I8 in a checkpoint without zoo.quantization" \
    "$zoo" eval "$tmp/unmarked.safetensors"
# no scales at all
LC_ALL=C sed 's/"wte.weight_scale"/"wte.weight_scalx"/' "$tmp/q.safetensors" >"$tmp/noscale.safetensors"
expect 1 "tensor 'wte.weight' is I8 but its scales 'wte.weight_scale' are missing" \
    "$zoo" eval "$tmp/noscale.safetensors"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "quantize: all checks passed"
