#!/bin/sh
# The malformed-file corpus (tests/malformed/, made by make.py): every row of
# expected.tsv is run from that folder. Each must exit with the status given,
# within a minute, and write exactly one line to standard error, which matches
# the row's regex (grep -E): the file, the field, what is wrong (for zoo
# list --check, which reports on standard output, the one line there that
# says "error:"). A crash (status 128 or more), a hang (timeout's 124), a
# sanitizer report or a second line fails the row.
# In the Release build each command runs under a 4 GiB address-space limit, so
# a parser that allocates what the file claims instead of checking it first
# fails too (the sanitizer build reserves more than that for its shadow).
#   test_malformed.sh BUILD_DIR SOURCE_DIR NPY_READ SANITIZE(ON|OFF)
set -u
build=$(cd "$1" && pwd)
corpus=$(cd "$2/tests/malformed" && pwd)
npy_read=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
sanitize=$4
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-malformed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH ZOO_MEMORY_LIMIT
# a sanitizer's report exits 134, never 1 (the status of an ordinary error)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=134"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=134"
case "$sanitize" in ON | on | 1 | TRUE | true) limit=unlimited ;; *) limit=4194304 ;; esac
failures=0 n=0
tab=$(printf '\t')
cd "$corpus" || exit 1

while IFS="$tab" read -r file command code regex; do
    case "$file" in '#'* | '') continue ;; esac
    n=$((n + 1))
    [ -e "$file" ] || { echo "FAIL: $file: not in the corpus (run make.py)" >&2; failures=$((failures + 1)); continue; }
    set -f
    # shellcheck disable=SC2086 # the command's words, as the manifest writes them
    set -- $command
    set +f
    case "$1" in
        zoo) shift; set -- "$zoo" "$@" ;;
        npy_read) shift; set -- "$npy_read" "$@" ;;
        *) echo "FAIL: $file: unknown program in '$command'" >&2; failures=$((failures + 1)); continue ;;
    esac
    # shellcheck disable=SC3045 # dash and bash both have ulimit -v
    (ulimit -v "$limit" 2>/dev/null; exec timeout 60 "$@") </dev/null >"$tmp/out" 2>"$tmp/err"
    got=$?
    # zoo list --check reports a registry's errors in its listing, each on
    # a line of its own that says "error:"
    if [ ! -s "$tmp/err" ] && [ "$got" = 1 ]; then sed -n 's/^ *error: /error: /p' "$tmp/out" >"$tmp/err"; fi
    lines=$(grep -c . "$tmp/err")
    why=""
    if [ "$got" -ge 124 ]; then
        why="crashed or timed out (exit $got)"
    elif grep -q 'Sanitizer\|runtime error' "$tmp/err"; then
        why="sanitizer report"
    elif [ "$got" != "$code" ]; then
        why="exit $got, expected $code"
    elif [ "$code" != 0 ] && [ "$lines" != 1 ]; then
        why="$lines lines on standard error, expected one"
    elif ! grep -Eq -- "$regex" "$tmp/err"; then
        why="message does not match /$regex/"
    fi
    if [ -n "$why" ]; then
        echo "FAIL: $command: $why" >&2
        sed 's/^/  | /' "$tmp/err" | head -20 >&2
        failures=$((failures + 1))
    fi
done <"$corpus/expected.tsv"

if [ "$n" -lt 100 ]; then
    echo "FAIL: only $n cases read from expected.tsv" >&2
    failures=$((failures + 1))
fi
if [ "$failures" -gt 0 ]; then
    echo "$failures of $n malformed-file case(s) failed" >&2
    exit 1
fi
echo "all $n malformed-file cases answered as expected"
