#!/bin/sh
# Models too big for the machine are refused before they are allocated, with
# the estimate and the limit in the message (issue 16), and building a model
# is linear in its parameter count. ZOO_MEMORY_LIMIT stands in for a small
# machine.
#   test_memory_bounds.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-bounds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH ZOO_MEMORY_LIMIT
failures=0
. "$src/tests/cli/expect.sh"

awk 'BEGIN { for (i = 0; i < 200; i++) print "the quick brown fox jumps over the lazy dog" }' >"$tmp/corpus.txt"
cat >"$tmp/gpt.json" <<JSON
{"model": {"plugin": "gpt", "n_layer": 2, "n_head": 1, "n_embd": 8},
 "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 8},
 "train": {"steps": 2, "batch_size": 2, "eval_every": 0, "checkpoint_every": 0}}
JSON

# widths and depths no machine holds: refused from gpt's estimate, at once
expect 1 "gpt: 2 layers of width 10000000 needs .* PiB of parameters: more than this machine's available memory (" \
    timeout 5 "$zoo" train "$tmp/gpt.json" --dry-run --set model.n_embd=10000000
expect 1 "gpt: 100000 layers of width 4096 needs .* of parameters: more than this machine's" \
    timeout 5 "$zoo" train "$tmp/gpt.json" --dry-run --set model.n_layer=100000 --set model.n_embd=4096
# a small "machine": the estimate and the limit are named
expect 1 "needs .*MiB of parameters: more than ZOO_MEMORY_LIMIT (1.0 MiB)" \
    env ZOO_MEMORY_LIMIT=1M "$zoo" train "$tmp/gpt.json" --dry-run --set model.n_layer=100000

# gpt's up-front estimate is its exact size (with and without biases, pre- and
# post-LN): a limit of exactly that builds, one byte less is refused up front
for set in "model.bias=true" "model.bias=false" "model.layer_norm_position=post"; do
    expect 0 "^parameters: " "$zoo" train "$tmp/gpt.json" --dry-run --set "$set"
    bytes=$(($(sed -n 's/^parameters: \([0-9]*\)$/\1/p' "$tmp/out") * 4))
    expect 0 "^parameters: " env ZOO_MEMORY_LIMIT=$bytes "$zoo" train "$tmp/gpt.json" --dry-run --set "$set"
    expect 1 "gpt: 2 layers of width 8 needs .* of parameters: more than ZOO_MEMORY_LIMIT" \
        env ZOO_MEMORY_LIMIT=$((bytes - 1)) "$zoo" train "$tmp/gpt.json" --dry-run --set "$set"
done

# the parameters fit, training (gradients, optimizer state: 4 times) does not:
# refused before the run directory is made; a dry run is still answered
expect 0 "^parameters: " "$zoo" train "$tmp/gpt.json" --dry-run
params=$(sed -n 's/^parameters: \([0-9]*\)$/\1/p' "$tmp/out")
limit=$((params * 4 * 2))
expect 0 "^parameters: $params\$" env ZOO_MEMORY_LIMIT=$limit "$zoo" train "$tmp/gpt.json" --dry-run
expect 1 "training this model needs about .*(its $params parameters take .*): more than ZOO_MEMORY_LIMIT" \
    env ZOO_MEMORY_LIMIT=$limit "$zoo" train "$tmp/gpt.json" --out "$tmp/run" --quiet
[ ! -e "$tmp/run" ] || fail "a refused run made its run directory"
expect 0 "" env ZOO_MEMORY_LIMIT=$((params * 4 * 5)) "$zoo" train "$tmp/gpt.json" --out "$tmp/run" --quiet

# 2,000 layers: 24,000 names, registered in linear time (quadratic took 1 s
# here and 17 s at 8,000 layers); 10 s is a generous bound for a loaded machine
expect 0 "^parameters: " timeout 10 "$zoo" train "$tmp/gpt.json" --dry-run --set model.n_layer=2000

[ "$failures" -eq 0 ] && echo "all memory-bound tests passed"
exit "$failures"
