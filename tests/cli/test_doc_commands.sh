#!/bin/sh
# Every command README.md, docs/*.md and plugins/*/README.md show, run as
# they show it. doc_commands.awk extracts them (a ```sh block's lines, a
# ```text block's "$ COMMAND" lines with the output under them);
# tests/cli/doc_commands.txt classifies each one:
#   run       run it; it must exit 0
#   sample    run it; its output (stdout and stderr) must be the lines shown
#   usage     a synopsis: it must be a usage line of `zoo COMMAND --help`
#   skip WHY  not run (a package install, a long comparison, ...)
# before which `with OLD => NEW` (a substitution), `add ARGS` (appended,
# e.g. fewer steps), `first COMMAND` (run before it, e.g. to make a run an
# earlier document made) and `needs PATH` (skipped, said so, when PATH is
# absent) say how. A command the table does not classify, an entry no
# document shows any more, a command that fails, a sample that differs and
# a whole run past its budget all fail the test. So does a timing (a number
# of seconds, tokens/s, ...) in a section that names no CPU it was measured
# on (doc_timings.awk). Last, the test runs itself on a stale document
# (tests/fixtures/docs/commands.md and its table, commands.txt) and requires
# each of its faults to be caught, so that the check itself can fail.
#
# Each document runs in its own scratch copy of the project root, in the
# document's order: configs/ copied, build/ the build tree, plugins/ the
# sources (their fixtures), data/kjv.txt derived by configs/kjv.sh (`bible`)
# or copied from ../shared/data/corpus/kjv.txt (the same derivation), and
# ../shared the project's ../shared when it exists; `zoo` is build/zoo.
#   test_doc_commands.sh BUILD_DIR SOURCE_DIR [--table FILE DOC...]
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
shift 2
table_name=tests/cli/doc_commands.txt self_test=1
if [ "${1:-}" = --table ]; then table_name=$2 self_test=0; shift 2; fi
here=$(cd "$(dirname "$0")" && pwd)
budget=${ZOO_DOC_BUDGET:-120} # seconds for the whole; about a minute on 2 CPUs
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-doc-commands.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
start=$(date +%s)

cd "$src" || exit 2
if [ $# = 0 ]; then set -- README.md docs/*.md plugins/*/README.md; fi
mkdir "$tmp/samples" "$tmp/bin"
ln -s "$build/zoo" "$tmp/bin/zoo"
awk -v SAMPLES="$tmp/samples" -v TABLENAME="$table_name" -f "$here/doc_commands.awk" TABLE=1 "$table_name" TABLE=0 "$@" \
    >"$tmp/plan" || exit 2
awk -f "$here/doc_timings.awk" "$@" >"$tmp/timings"
while read -r line; do fail "$line"; done <"$tmp/timings"

# the corpus, once
mkdir -p "$tmp/base/configs"
cp -r "$src"/configs/* "$tmp/base/configs/"
if command -v bible >/dev/null && "$tmp/base/configs/kjv.sh" >"$tmp/kjv.log" 2>&1; then
    :
elif [ -f "$src/../shared/data/corpus/kjv.txt" ]; then
    mkdir -p "$tmp/base/data" && cp "$src/../shared/data/corpus/kjv.txt" "$tmp/base/data/"
else
    echo "doc-commands: no 'bible' and no ../shared/data: commands that need data/kjv.txt are skipped"
fi
[ -d "$src/../shared" ] || echo "doc-commands: no ../shared: commands that need ../shared/data are skipped"

# scratch DOC: a fresh copy of the project root for DOC, in $root
scratch() {
    n=$((n + 1))
    root=$tmp/doc$n/zoo
    mkdir -p "$root"
    cp -r "$tmp/base/configs" "$root/"
    [ -d "$tmp/base/data" ] && ln -s "$tmp/base/data" "$root/data"
    ln -s "$build" "$root/build"
    ln -s "$src/plugins" "$root/plugins"
    [ -d "$src/../shared" ] && ln -s "$(cd "$src/../shared" && pwd)" "$tmp/doc$n/shared"
}

# runs CMD in $root, output in $tmp/out; 0 when it exits 0 within a minute
run_in_root() {
    (cd "$root" && PATH="$tmp/bin:$PATH" timeout 60 sh -c "$1" </dev/null >"$tmp/out" 2>&1)
}

n=0 doc="" firsts="" missing="" ran=0 skipped=0
tab=$(printf '\t')
while IFS=$tab read -r where line action text; do
    if [ "$where" != "$doc" ] && [ "$where" != "$table_name" ]; then doc=$where; scratch; fi
    at="$where:$line"
    case $action in
    error) fail "$at: $text" ;;
    needs) [ -e "$root/$text" ] || missing="$missing $text" ;;
    first) firsts="$firsts$text$tab" ;;
    skip)
        echo "skip $at: $text"
        skipped=$((skipped + 1)) firsts="" missing="" ;;
    run | sample | usage) verdict=$action ;;
    cmd)
        if [ -n "$missing" ]; then
            echo "skip $at: no$missing here: $text"
            skipped=$((skipped + 1)) firsts="" missing=""
            continue
        fi
        ok=1
        while [ -n "$firsts" ]; do
            c=${firsts%%"$tab"*} firsts=${firsts#*"$tab"}
            run_in_root "$c" || { fail "$at: the set-up command failed: $c"; cat "$tmp/out" >&2; ok=0; }
        done
        [ $ok = 1 ] || continue
        t0=$(date +%s)
        case $verdict in
        run)
            run_in_root "$text" || { fail "$at: exit $?: $text"; tail -20 "$tmp/out" >&2; } ;;
        sample)
            run_in_root "$text"
            sample=$tmp/samples/$(echo "$where-$line" | tr / -)
            if ! diff "$sample" "$tmp/out" >"$tmp/diff"; then
                fail "$at: the output of '$text' is not what the document shows (<) but (>):"
                cat "$tmp/diff" >&2
            fi ;;
        usage)
            # the usage lines of zoo COMMAND --help, "usage: " and the indent dropped
            cmd=$(echo "$text" | awk '{ print $2 }')
            "$build/zoo" "$cmd" --help 2>&1 | sed -nE 's/^(usage: |       )(zoo .*)/\2/p' >"$tmp/usage"
            grep -qxF "$text" "$tmp/usage" ||
                { fail "$at: '$text' is not a usage line of zoo $cmd --help:"; cat "$tmp/usage" >&2; } ;;
        esac
        echo "ran  $at ($(($(date +%s) - t0)) s): $text"
        ran=$((ran + 1)) firsts="" missing="" ;;
    esac
done <"$tmp/plan"

if [ $self_test = 1 ]; then
    # the check itself can fail: a stale document, each fault caught by name
    "$here/test_doc_commands.sh" "$build" "$src" --table tests/fixtures/docs/commands.txt \
        tests/fixtures/docs/commands.md >"$tmp/self.out" 2>"$tmp/self.err"
    code=$?
    doc=tests/fixtures/docs/commands.md table=tests/fixtures/docs/commands.txt
    grep '^FAIL' "$tmp/self.err" | sed 's/^FAIL: //' | sort >"$tmp/self.got"
    sort >"$tmp/self.expected" <<EOF
$doc:10: 'zoo not-a-command' is not classified: add it to $table
$doc:11: exit 1: zoo info no-such-plugin
$doc:15: the output of 'zoo call bigram.argmax_next 5' is not what the document shows (<) but (>):
$doc:22: 'zoo train CONFIG.json [--bogus]' is not a usage line of zoo train --help:
$doc:27: '2.5 s' is a timing, but its section ('## Timings') names no CPU it was measured on
$table:11: 'tests/fixtures/docs/commands.md: zoo list --gone' is not a command any document shows (any longer)
EOF
    if [ "$code" != 1 ] || ! diff "$tmp/self.expected" "$tmp/self.got" >"$tmp/self.diff"; then
        fail "on the stale document (exit $code, expected 1), expected (<) and got (>):"
        cat "$tmp/self.diff" "$tmp/self.err" >&2
    fi
fi

took=$(($(date +%s) - start))
[ "$took" -le "$budget" ] ||
    fail "the documents' commands took $took s, past the budget of $budget s: shorten the slowest (add) or skip them"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "doc-commands: $ran commands ran as the documents show them, $skipped skipped, in $took s"
