#!/bin/sh
# The SDK end to end: install the build tree into a temporary prefix, build
# the bigram plugin (tests/sdk_plugin) out of tree against it with nothing but
# pkg-config (and again with find_package(zoo)), drop it with its manifest
# into a ZOO_PLUGIN_PATH directory, and drive it with the installed host.
#
#   test_sdk.sh BUILD_DIR PLUGIN_SOURCE_DIR
#
# Set ZOO_SDK_KEEP=1 to keep the temporary directory for inspection.
set -eu

build=$(cd "$1" && pwd)
plugin_src=$(cd "$2" && pwd)
label=sdk
. "$(dirname "$0")/sdk_steps.sh"

# Exactly the entry point and the two declared extras are exported, and the
# plugin needs libzoo but never OpenBLAS.
check_library() {
    so=$1
    nm -D --defined-only "$so" | awk '{print $NF}' | sort >"$tmp/symbols"
    printf '%s\n' bigram_argmax_next bigram_logit zoo_plugin_entry >"$tmp/symbols.expected"
    if ! cmp -s "$tmp/symbols" "$tmp/symbols.expected"; then
        diff "$tmp/symbols.expected" "$tmp/symbols" >&2 || true
        fail "$so exports other symbols than the entry point and its extras"
    fi
    readelf -d "$so" >"$tmp/dynamic"
    grep -q 'NEEDED.*\[libzoo\.so' "$tmp/dynamic" || fail "$so does not need libzoo"
    if grep -q 'NEEDED.*openblas' "$tmp/dynamic"; then fail "$so links OpenBLAS"; fi
}

install_prefix "$build"
for h in plugin.h hparams.h ops.h tensor.h params.h zoo.h; do
    [ -f "$prefix/include/zoo/$h" ] || fail "header zoo/$h not installed"
done

begin "build the plugin out of tree with pkg-config"
mkdir -p "$tmp/src"
cp "$plugin_src/../../plugins/bigram/bigram.c" "$plugin_src/../../plugins/bigram/bigram.json" "$plugin_src/Makefile" \
    "$plugin_src/CMakeLists.txt" "$tmp/src/"
PKG_CONFIG_PATH=$pc make -s -C "$tmp/src" CC="$cc" \
    CFLAGS="-O2 -Wall -Wextra -Werror" >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; fail "make"; }
check_library "$tmp/src/bigram.so"

begin "build the plugin out of tree with find_package(zoo)"
if ! { "$cmake" -S "$tmp/src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="-Werror" &&
    "$cmake" --build "$tmp/cmake-build"; } >"$tmp/cmake.log" 2>&1; then
    cat "$tmp/cmake.log" >&2
    fail "cmake build against the installed package"
fi
check_library "$tmp/cmake-build/bigram.so"

begin "installed host finds the installed libzoo"
[ -x "$prefix/bin/zoo" ] || fail "no installed host at $prefix/bin/zoo"
libzoo=$(ldd "$prefix/bin/zoo" | awk '/libzoo\.so/ {print $3}')
case $libzoo in
"$prefix"/*) ;;
*) fail "installed host resolves libzoo to '$libzoo', not under $prefix" ;;
esac

cp "$tmp/src/bigram.so" "$tmp/src/bigram.json" "$tmp/plugins/"

begin "zoo list shows the drop-in plugin"
zoo list >"$tmp/list"
grep -qw bigram "$tmp/list" ||
    { cat "$tmp/list" >&2; fail "bigram not listed"; }

begin "zoo info bigram shows its hyperparameters"
zoo info bigram >"$tmp/info"
if ! { grep -q vocab_size "$tmp/info" && grep -q init_std "$tmp/info"; }; then
    cat "$tmp/info" >&2
    fail "hyperparameters missing"
fi

begin "zoo forward bigram writes logits [B,T,V]"
printf '1 2 3\n4 5 6\n' >"$tmp/ids.txt"
zoo forward bigram --ids "$tmp/ids.txt" --out "$tmp/logits.npy" >/dev/null
[ -f "$tmp/logits.npy" ] || fail "no logits written"
head -c 256 "$tmp/logits.npy" | grep -aqE "'shape': *\(2, *3, *256,? *\)" ||
    fail "logits.npy does not have shape (2, 3, 256)"

begin "zoo call bigram.argmax_next"
zoo call bigram.argmax_next 5 >"$tmp/next"
next=$(tr -d '[:space:]' <"$tmp/next")
case $next in
'' | *[!0-9]*) fail "argmax_next printed '$next', not a token id" ;;
esac
[ "$next" -lt 256 ] || fail "argmax_next printed $next, outside the vocabulary"

begin "zoo call bigram.logit"
zoo call bigram.logit 5 "$next" >"$tmp/logit"
logit=$(tr -d '[:space:]' <"$tmp/logit")
case $logit in
'' | *[!0-9eE.+-]*) fail "logit printed '$logit', not a number" ;;
esac

begin "zoo check-plugin bigram: the drop-in plugin passes the conformance suite"
zoo check-plugin bigram >"$tmp/conformance"
grep -q "^PASS gradients: " "$tmp/conformance" && grep -q "^PASS decode: " "$tmp/conformance" ||
    { cat "$tmp/conformance" >&2; fail "gradients or decode did not pass"; }

begin "the installed host trains the drop-in plugin a few steps, and its loss falls"
awk 'BEGIN { for (i = 0; i < 400; i++) print "in the beginning was the word and the word was with god" }' >"$tmp/corpus.txt"
cat >"$tmp/train.json" <<JSON
{"model": {"plugin": "bigram"}, "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 16},
 "train": {"steps": 30, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.1}, "eval_batches": 2}}
JSON
zoo train "$tmp/train.json" --out "$tmp/run" --quiet >/dev/null
first=$(grep '"loss"' "$tmp/run/metrics.jsonl" | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
last=$(grep '"loss"' "$tmp/run/metrics.jsonl" | tail -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < f / 2) }' || fail "loss $first -> $last did not halve"
zoo call bigram.argmax_next --model "$tmp/run" 0 >/dev/null

echo "sdk: all steps passed"
