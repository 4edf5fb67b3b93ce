#!/bin/sh
# The drop-in example against a shipped model of the same size: tests/llama
# (built out of tree against an install of BUILD_DIR, dropped in through
# ZOO_PLUGIN_PATH) and gpt, with the same parameter count and FLOPs per
# token, trained alternately in one run on the same data, tokenizer (the
# example's llama_bytes), batch, window and threads. Each round trains both
# for STEPS steps; a model's figure is the median step time over its steps
# after the first 5 (from metrics.jsonl's tokens_per_s). Prints each round
# and the medians over rounds, with llama's speed relative to gpt's.
#
#   compare_llama_gpt.sh BUILD_DIR [--rounds N] [--steps N] [--corpus FILE]
#
# Sizes: 4 layers, 4 heads, width 192, window 128, batch 12; gpt without
# biases, llama's SwiGLU width 512 = 8 x 192 / 3, so both have 12 x 192^2
# weights per layer (FLOPs per token equal); gpt has 128 x 192 learned
# position weights more (1.3% of its parameters).
set -eu
build=$(cd "$1" && pwd)
shift
rounds=3 steps=40
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${ZOO_SHARED_DATA:-$root/../shared/data}/corpus/tinyshakespeare.txt
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    --corpus) corpus=$2; shift ;;
    esac
    shift
done
[ -f "$corpus" ] || corpus=$root/tests/llama/data/tiny.txt
export OMP_WAIT_POLICY=PASSIVE
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-llama-gpt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(dirname "$(find "$tmp/prefix" -name zoo.pc | head -n 1)")
cp -r "$root/tests/llama" "$tmp/src"
PKG_CONFIG_PATH=$pc make -s -C "$tmp/src" llama.so >/dev/null
mkdir "$tmp/plugins" && cp "$tmp/src/llama.so" "$tmp/src/llama.json" "$tmp/plugins/"
zoo() { ZOO_PLUGIN_PATH="$tmp/plugins" "$tmp/prefix/bin/zoo" "$@"; }

common='"data": {"train": "'$corpus'", "tokenizer": {"type": "llama_bytes"}, "seq_len": 128},
 "train": {"steps": '$steps', "batch_size": 12, "threads": 2, "eval_every": 0, "eval_batches": 1,
           "checkpoint_every": 0, "optimizer": {"name": "adamw", "lr": 0.001}}'
echo '{"model": {"plugin": "gpt", "n_layer": 4, "n_head": 4, "n_embd": 192, "bias": false}, '"$common"'}' >"$tmp/gpt.json"
echo '{"model": {"plugin": "llama", "n_layer": 4, "n_head": 4, "n_embd": 192, "ffn_hidden": 512}, '"$common"'}' >"$tmp/llama.json"
for m in gpt llama; do
    echo "$m: $(zoo train "$tmp/$m.json" --dry-run | grep '^parameters')"
done

# median step time in ms over the steps after the first 5
step_ms() {
    grep '"tokens_per_s"' "$1" | sed -E 's/.*"step":([0-9]+).*"tokens_per_s":([0-9.e+-]+).*/\1 \2/' |
        awk -v tokens=$((12 * 128)) '$1 > 5 { print 1000 * tokens / $2 }' | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
: >"$tmp/rounds"
for r in $(seq 1 "$rounds"); do
    for m in gpt llama; do
        rm -rf "$tmp/run-$m"
        zoo train "$tmp/$m.json" --out "$tmp/run-$m" --quiet >/dev/null
    done
    g=$(step_ms "$tmp/run-gpt/metrics.jsonl") l=$(step_ms "$tmp/run-llama/metrics.jsonl")
    echo "$g $l" >>"$tmp/rounds"
    echo "round $r: step gpt $g ms, llama $l ms (llama $(awk -v g="$g" -v l="$l" 'BEGIN { printf "%.3f", g / l }')x gpt's speed)"
done
sort -n -k1 "$tmp/rounds" | awk '{ print $1 }' >"$tmp/g" && sort -n -k2 "$tmp/rounds" | awk '{ print $2 }' >"$tmp/l"
mg=$(awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$tmp/g")
ml=$(awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$tmp/l")
echo "median over $rounds rounds: gpt $mg ms, llama $ml ms per step: llama runs at $(awk -v g="$mg" -v l="$ml" 'BEGIN { printf "%.3f", g / l }')x gpt's speed"
