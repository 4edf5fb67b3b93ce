#!/bin/sh
# The documents against the code they describe (check_docs.sh): the plugin
# guide, the ABI policy, the core library's page, the probe's page and the
# README agree with it, and a stale document (tests/fixtures/docs/stale.md)
# is caught word by word, each stale word named with its line, so the check
# itself can fail.
#   test_docs.sh BUILD_DIR SOURCE_DIR
set -u
build=$1 src=$2
check=$(dirname "$0")/check_docs.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-test-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

"$check" "$build" "$src" docs/plugin-guide.md docs/abi.md docs/core.md docs/probe.md docs/security.md docs/quantization.md docs/benchmarks.md docs/distributed.md README.md ||
    { echo "FAIL: the documents above disagree with the code" >&2; failures=$((failures + 1)); }

"$check" "$build" "$src" tests/fixtures/docs/stale.md >"$tmp/out" 2>"$tmp/err"
code=$?
[ "$code" = 1 ] || { echo "FAIL: check_docs.sh exited $code on the stale document, expected 1" >&2; failures=$((failures + 1)); }
doc=tests/fixtures/docs/stale.md
cat >"$tmp/expected" <<EOF
$doc:9: 'zoo_tensor_frobnicate' is not declared in core/include/zoo/*.h (nor is it a build option or an environment variable zoo reads)
$doc:11: 'zoo_registry_load' is the host's (a host header declares it), but its paragraph names no host/ path
$doc:15: 'core/src/ops/nothing.c' names core/src/ops/nothing.c, which does not exist
$doc:17: link to '#no-such-heading': $doc has no heading with that anchor
$doc:19: 'zoo serve': the built zoo has no command 'serve' (zoo --help lists them)
$doc:24: the quote of plugins/bigram/bigram.c differs from it: 'return;' is not the next line there
$doc:28: a c block must name the file it quotes (\`\`\`c path/to/file)
$doc:32: the host reads or sets hyperparameter 'block_size', which the table does not list
$doc:36: hyperparameter 'n_layer': the host never reads or sets it (host/*.c)
$doc:38: zoo/plugin.h defines ZOO_CAP_EXPORT, which the table does not list
$doc:38: zoo/plugin.h defines ZOO_CAP_IMPORT, which the table does not list
$doc:38: zoo/plugin.h defines ZOO_CAP_IMPORT_TOKENIZER, which the table does not list
$doc:38: zoo/plugin.h defines ZOO_CAP_SELF_UPDATE, which the table does not list
$doc:38: zoo/plugin.h defines ZOO_CAP_TOKENIZER, which the table does not list
$doc:41: 'fill_mask' is not an operation of ZOO_CAP_DECODE (zoo/plugin.h)
$doc:41: ZOO_CAP_DECODE has the operation 'decode_step' (zoo/plugin.h), which the row does not list
$doc:42: ZOO_CAP_FILL_MASK: host/commands/cmd_export.c uses neither the flag nor its operations
$doc:44: zoo/plugin.h defines ZOO_OBJ_BIDIRECTIONAL_LM, which the table does not list
$doc:44: zoo/plugin.h defines ZOO_OBJ_MASKED_LM, which the table does not list
$doc:44: zoo/plugin.h defines ZOO_OBJ_WORD_VECTORS, which the table does not list
$doc:48: 'ZOO_OBJ_TRANSLATION' is not an objective of zoo/plugin.h
$doc:48: 'ZOO_OBJ_TRANSLATION' is not declared in core/include/zoo/*.h (nor is it a build option or an environment variable zoo reads)
EOF
if ! diff "$tmp/expected" "$tmp/out" >"$tmp/diff"; then
    echo "FAIL: check_docs.sh on the stale document: expected (<) and got (>):" >&2
    cat "$tmp/diff" >&2
    failures=$((failures + 1))
fi
grep -q "22 stale word(s) in $doc" "$tmp/err" ||
    { echo "FAIL: no count of the stale words on stderr:" >&2; cat "$tmp/err" >&2; failures=$((failures + 1)); }

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "docs: the documents agree with the code, and a stale one is caught"
