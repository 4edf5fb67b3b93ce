#!/bin/sh
# zoo bench as a user runs it: the Markdown table and the JSON document, the
# routing of --set, a plugin that fails (a row, exit 1), an unknown plugin.
# Small sizes throughout (host/runs/bench.h says what is measured; the
# counts themselves are held to closed forms in tests/test_bench.c).
#   test_bench.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
zoo="$build/zoo"
fixtures="$build/tests/fixtures"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"
small="--sgemm 0 --threads 1" # no yardstick: it warms up for half a second

# --- the JSON document: one object, every field, one entry per plugin
expect 0 "" "$zoo" bench bigram --repeat 2 --json --sgemm 64 --threads 1
json="$tmp/bigram.json"
cp "$tmp/out" "$json"
for field in '"cpu":[[:space:]]*"' '"threads":[[:space:]]*1,' '"blas":[[:space:]]*"OpenBLAS' \
    '"openblas_coretype":' '"batch":[[:space:]]*8,' '"seq_len":[[:space:]]*128,' \
    '"repeat":[[:space:]]*2,' '"warmup":[[:space:]]*2,' '"sgemm":' '"n":[[:space:]]*64' \
    '"plugin":[[:space:]]*"bigram"' '"error":[[:space:]]*null' '"parameters":[[:space:]]*65536,' \
    '"config":[[:space:]]*"vocab_size=256 init_std=0.02"' '"forward":' '"training":' \
    '"tokens_per_s":' '"gflops":' '"percent_of_sgemm":' '"mean":' '"sd":'; do
    grep -q -- "$field" "$json" || fail "bench --json: no $field"
done
# two timed passes of 8 x 128 tokens in each phase, and of the sgemm
[ "$(grep -c '"tokens":[[:space:]]*\[1024, 1024\]' "$json")" = 2 ] || fail "bench --json: tokens of each pass"
grep -q '"flops":[[:space:]]*\[524288, 524288\]' "$json" || fail "bench --json: the sgemm's 2 x 64^3 operations"
expect 0 '"sgemm":[[:space:]]*null' "$zoo" bench bigram --repeat 1 --json $small
[ "$(head -c 1 "$json")" = "{" ] && [ "$(tail -n 1 "$json")" = "}" ] || fail "bench --json: not one object"
grep -q "zoo bench: bigram: training" "$tmp/err" || fail "bench: no progress on stderr"

# --- --int8: the int8 forward of a plugin with linear weights, why not of one without
expect 0 "" "$zoo" bench gpt bigram --int8 --repeat 2 --warmup 1 --batch 2 --seq-len 16 --json $small \
    --set gpt.n_layer=1 --set gpt.n_embd=32 --set gpt.n_head=2
grep -q '"forward_int8":' "$tmp/out" || fail "bench --int8 --json: no forward_int8 for gpt"
grep -q '"int8_error":[[:space:]]*"plugin .bigram. has no linear weights to quantize' "$tmp/out" ||
    fail "bench --int8 --json: no int8_error for bigram"
[ "$(grep -c '"tokens":[[:space:]]*\[32, 32\]' "$tmp/out")" = 5 ] || fail "bench --int8 --json: tokens of each pass"
expect 0 "^| gpt (int8) | .* | 2 × 16 | [0-9.]* ± [0-9.]* | — |" \
    "$zoo" bench gpt --int8 --repeat 1 --batch 2 --seq-len 16 $small --set gpt.n_layer=1 --set gpt.n_embd=32 --set gpt.n_head=2
grep -q "zoo bench: gpt: int8 forward" "$tmp/err" || fail "bench --int8: no progress for the int8 forward"

# --- the Markdown table: its header, and a row per plugin
expect 0 "^| model | params | batch × len | forward tok/s | training tok/s | forward GFLOP/s | training GFLOP/s | forward % sgemm | training % sgemm |$" \
    "$zoo" bench bigram --repeat 1 --batch 2 --seq-len 16 $small
expect 0 "^| --- | ---: |" "$zoo" bench bigram --repeat 1 --batch 2 --seq-len 16 $small
expect 0 "^| bigram | 65.54 k | 2 × 16 | [0-9.]* ± 0[.0-9]* | [0-9.]* ± 0[.0-9]* | — | — | — | — |$" \
    "$zoo" bench bigram --repeat 1 --batch 2 --seq-len 16 $small
expect 0 "^CPU: .*; threads: 1; BLAS: OpenBLAS" "$zoo" bench bigram --repeat 1 --batch 2 --seq-len 16 $small
expect 0 "^sgemm 64 × 64 × 64 (zoo_matmul, after the plugins): [0-9.]* ± [0-9.]* GFLOP/s; each figure" \
    "$zoo" bench bigram --repeat 1 --batch 2 --seq-len 16 --sgemm 64 --threads 1

# --- --set: model.KEY for every plugin that has KEY, PLUGIN.KEY for one
expect 0 "^| bigram | 10.00 k | " "$zoo" bench bigram --set bigram.vocab_size=100 --repeat 1 $small
expect 0 "^| bigram | 10.00 k | " "$zoo" bench bigram --set model.vocab_size=100 --repeat 1 $small
expect 2 "^zoo bench: --set vocab_size=100: expected model.KEY=VALUE or PLUGIN.KEY=VALUE$" \
    "$zoo" bench bigram --set vocab_size=100
expect 2 "^zoo bench: --set gpt.n_layer=2: 'gpt' is not a plugin being measured (nor model)$" \
    "$zoo" bench bigram --set gpt.n_layer=2
expect 2 "^zoo bench: --set model.n_layr=2: no plugin measured has a hyperparameter 'n_layr'$" \
    "$zoo" bench bigram gpt --set model.n_layr=2
# a value the plugin refuses: that plugin's row says why, the others run, exit 1
expect 1 "^| bigram | error: --set vocab_size=1: " "$zoo" bench bigram --set bigram.vocab_size=1 --repeat 1 $small
expect 1 "^| gpt | error: --set block_size=8 is shorter than --seq-len 16 |" \
    "$zoo" bench gpt bigram --set gpt.block_size=8 --set gpt.vocab_size=64 --seq-len 16 --repeat 1 $small
grep -q "^| bigram | 65.54 k | 8 × 16 |" "$tmp/out" || fail "bench: the plugin after a failing one did not run"

# --- every objective's batches: masked LM with sentence pairs (bert), token
# bytes (elmo), the causal LM with block_size from --seq-len (gpt), a
# self-updating plugin on its Zipf corpus (word2vec, B·T words a chunk)
expect 0 "^| word2vec | [0-9.]* [kM] | 1 × 64 | .* | — | — | — | — |$" \
    "$zoo" bench bert elmo gpt word2vec --batch 2 --seq-len 32 --repeat 1 --warmup 1 $small \
    --set bert.vocab_size=64 --set elmo.vocab_size=64 --set gpt.vocab_size=64 \
    --set bert.num_hidden_layers=1 --set gpt.n_layer=1 \
    --set elmo.filters=1:8,2:8 --set elmo.dim=32 --set elmo.sampled_softmax=0 --set model.dim=16
for p in bert elmo gpt; do
    grep -q "^| $p | [0-9.]* [kM] | 2 × 32 | .* | [0-9.]* ± [0-9.]* | — | — |$" "$tmp/out" ||
        fail "bench: no row for $p"
done

# --- a plugin whose model cannot be created: a row with the error
cat >"$tmp/fails.json" <<JSON
{"format": 1, "plugins": [{"name": "create_fails", "version": "1.0.0", "summary": "fails",
  "library": "$fixtures/create_fails.so", "abi": "1.3"}]}
JSON
expect 1 "^| create_fails | error: plugin 'create_fails' could not create a model: vocab_size 16 is too large for this fixture | — |" \
    "$zoo" bench bigram create_fails --registry "$tmp/fails.json" --repeat 1 $small
grep -q "^| bigram | 65.54 k |" "$tmp/out" || fail "bench: bigram's row is missing beside a failing plugin"

# --- unknown plugins and bad options
expect 1 "^zoo bench: no plugin named 'bigrm' (did you mean 'bigram'?)" "$zoo" bench bigrm
expect 2 "^zoo bench: --repeat: expected an integer from 1 to 100, got '0'$" "$zoo" bench bigram --repeat 0
expect 0 "^usage: zoo bench" "$zoo" bench --help

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all bench CLI tests passed"
