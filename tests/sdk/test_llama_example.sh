#!/bin/sh
# The proof that a new architecture is a drop-in: the llama example
# (tests/llama) built out of tree against an installed zoo, twice (pkg-config
# with its Makefile, find_package with its CMakeLists.txt), its own suite run,
# then dropped with its manifest into a ZOO_PLUGIN_PATH directory and driven
# by the installed host: listed and checked, its info and the conformance
# suite printed as docs/plugin-guide.md shows them, 300
# training steps with its own tokenizer type and a falling loss, and
# generation through its key/value cache.
#
#   test_llama_example.sh BUILD_DIR EXAMPLE_DIR [SHARED_DATA_DIR]
#
# Set ZOO_SDK_KEEP=1 to keep the temporary directory for inspection.
set -eu

build=$(cd "$1" && pwd)
example=$(cd "$2" && pwd)
shared=${3:-}
extra=${ZOO_EXAMPLE_CFLAGS:-} # the sanitizer build's flags: its libzoo needs them in the test binary

label=llama
. "$(dirname "$0")/sdk_steps.sh"

install_prefix "$build"
cp -r "$example" "$tmp/src"

begin "build the example and its suite with pkg-config (Makefile)"
PKG_CONFIG_PATH=$pc make -s -C "$tmp/src" CC="$cc" \
    CFLAGS="-O3 -Wall -Wextra -Werror $extra" >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; fail "make"; }
nm -D --defined-only "$tmp/src/llama.so" | awk '{print $NF}' >"$tmp/symbols"
[ "$(cat "$tmp/symbols")" = zoo_plugin_entry ] ||
    { cat "$tmp/symbols" >&2; fail "llama.so exports more than zoo_plugin_entry"; }
if readelf -d "$tmp/src/llama.so" | grep -q 'NEEDED.*openblas'; then fail "llama.so links OpenBLAS"; fi

begin "its own suite passes (make check)"
PKG_CONFIG_PATH=$pc make -s -C "$tmp/src" check CFLAGS="-O3 -Wall -Wextra -Werror $extra" \
    >"$tmp/check.log" 2>&1 ||
    { cat "$tmp/check.log" >&2; fail "make check"; }
grep -q "100%: Checks: 4" "$tmp/check.log" || { cat "$tmp/check.log" >&2; fail "the suite did not run its 4 tests"; }

begin "build and test it again with find_package(zoo) (CMakeLists.txt)"
if ! { "$cmake" -S "$tmp/src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="-Werror $extra" &&
    "$cmake" --build "$tmp/cmake-build" && ctest --test-dir "$tmp/cmake-build" --output-on-failure; } \
    >"$tmp/cmake.log" 2>&1; then
    cat "$tmp/cmake.log" >&2
    fail "cmake build and ctest against the installed package"
fi

cp "$tmp/src/llama.so" "$tmp/src/llama.json" "$tmp/plugins/"

begin "zoo list --check lists the drop-in with its tokenizer type"
zoo list --check >"$tmp/list"
grep -A1 '^llama ' "$tmp/list" | grep -q '^  ok: library loads' ||
    { cat "$tmp/list" >&2; fail "llama is not listed as a library that loads"; }
zoo list --json | grep -q '"llama_bytes"' || fail "the llama_bytes tokenizer type is not listed"

# sample CMD: the output docs/plugin-guide.md shows under "$ CMD" (a ```text
# block's lines up to the next "$ " or the block's end)
guide=$example/../../docs/plugin-guide.md
sample() {
    awk -v cmd="\$ $1" '/^```/ { on = 0 } on && /^\$ / { on = 0 } on { print } $0 == cmd { on = 1 }' "$guide"
}
# as_guide CMD OUT: OUT is what the guide shows under "$ CMD", the drop-in
# directory written /tmp/plugins as the guide has it. The gradient check's and
# the decode check's worst differences are not compared: they are float
# rounding, which the sanitizer build's -O0 libzoo rounds otherwise (the
# guide's are the Release build's).
as_guide() {
    rounding='s/(worst \|(error|difference)\| )[0-9][0-9.e+-]*/\1N/'
    sample "$1" | sed -E "$rounding" >"$tmp/sample"
    [ -s "$tmp/sample" ] || fail "docs/plugin-guide.md shows no output of '$1'"
    sed -E "s|$tmp/plugins|/tmp/plugins|g; $rounding" "$2" | diff "$tmp/sample" - >"$tmp/sample.diff" ||
        { cat "$tmp/sample.diff" >&2; fail "docs/plugin-guide.md's output of '$1' (<) is not the real one (>)"; }
}

begin "zoo info llama: as docs/plugin-guide.md shows it"
zoo info llama >"$tmp/info"
as_guide "zoo info llama" "$tmp/info"

begin "zoo check-plugin llama: the conformance suite, as docs/plugin-guide.md shows it"
zoo check-plugin llama >"$tmp/conformance"
as_guide "zoo check-plugin llama" "$tmp/conformance"
grep -q '^PASS gradients' "$tmp/conformance" || fail "no gradient check passed"
grep -q '^PASS decode' "$tmp/conformance" || fail "no decode check passed"
grep -q '^PASS threads-gradients' "$tmp/conformance" || fail "no thread check passed"

begin "300 training steps with its own tokenizer type; the loss falls"
corpus="$example/data/tiny.txt"
if [ -n "$shared" ] && [ -f "$shared/corpus/tinyshakespeare.txt" ]; then
    corpus="$shared/corpus/tinyshakespeare.txt"
else
    echo "llama: SKIP tinyshakespeare (no ../shared/data): training on the committed data/tiny.txt"
fi
cat >"$tmp/train.json" <<JSON
{"model": {"plugin": "llama", "n_layer": 2, "n_head": 4, "n_embd": 64},
 "data": {"train": "$corpus", "tokenizer": {"type": "llama_bytes"}, "seq_len": 64},
 "train": {"steps": 300, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.003},
           "schedule": {"name": "cosine", "warmup": 20, "min_lr": 0.0003},
           "eval_every": 100, "eval_batches": 4, "checkpoint_every": 300}}
JSON
zoo train "$tmp/train.json" --out "$tmp/run" --quiet >/dev/null
first=$(grep '"loss"' "$tmp/run/metrics.jsonl" | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
last=$(grep '"loss"' "$tmp/run/metrics.jsonl" | tail -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
echo "llama: training loss $first -> $last"
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < 0.6 * f) }' || fail "loss $first -> $last did not fall by 40%"

begin "zoo generate through its cache"
zoo generate "$tmp/run" --prompt "The " --max-new-tokens 40 --seed 1 --json >"$tmp/gen"
n=$(sed 's/.*"ids": \[\([^]]*\)\].*/\1/' "$tmp/gen" | tr ',' '\n' | wc -l)
[ "$n" = 44 ] || { cat "$tmp/gen" >&2; fail "not 4 + 40 ids"; }

echo "llama: all steps passed"
