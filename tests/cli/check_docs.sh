#!/bin/sh
# Checks documents against the code they describe, and prints one line per
# stale word, DOC:LINE: what is wrong; exits 1 when there is any.
#
#   check_docs.sh BUILD_DIR SOURCE_DIR DOC.md...    (DOC relative to SOURCE_DIR)
#
# - identifiers: every zoo_* / ZOO_* word is declared in libzoo's public
#   headers (core/include/zoo/*.h); or in a host header when its paragraph
#   names a host/ path (the document says it is the host's); or in a file its
#   paragraph names; or it is a build option (CMake files) or an environment
#   variable that the host or libzoo reads;
# - quoted code: a fenced block whose info string names a file
#   (```c tests/llama/llama.c) is that file's text, line for line and in
#   order, indentation aside, a line `...` standing for lines left out; a
#   c, cmake or make block must name the file it quotes;
# - paths: every repository path written in backticks, a link or a shell
#   block exists (NAME and PLUGIN stand for any name, build/ is the build
#   tree, zoo/X.h a public header), and every #anchor is a heading;
# - commands: every `zoo COMMAND` in backticks or a shell or text block is a
#   command `zoo --help` lists;
# - the host contract: the rows of a table after <!-- check: hparams -->
#   are exactly the hyperparameter names the host reads or sets (host/*.c),
#   each file a row cites using it; after <!-- check: capabilities --> one
#   row per capability flag of zoo/plugin.h, with exactly its operations,
#   each host file the last column cites using the flag or an operation;
#   after <!-- check: objectives --> one row per objective.
set -u
export LC_ALL=C # one sort order and one regex dialect everywhere
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
shift 2
docs="$*"
here=$(cd "$(dirname "$0")" && pwd)
facts=$(mktemp -d "${TMPDIR:-/tmp}/zoo-docs.XXXXXX")
trap 'rm -rf "$facts"' EXIT
cd "$src" || exit 2

words() { grep -ohE '(zoo|ZOO)_[A-Za-z0-9_]*[A-Za-z0-9]' "$@" | sort -u; }
words core/include/zoo/*.h >"$facts/public"
words $(find host -name '*.h') >"$facts/host"
words $(find . \( -name .git -o -name 'build*' \) -prune -o \
    \( -name CMakeLists.txt -o -name '*.cmake' \) -print) >"$facts/build"
grep -rhoE 'getenv\("[A-Za-z0-9_]+"\)' host core | sed -E 's/getenv\("(.*)"\)/\1/' | sort -u >"$facts/env"
"$build/zoo" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' \
    >"$facts/commands"
[ -s "$facts/commands" ] || { echo "check_docs: $build/zoo --help lists no commands" >&2; exit 2; }
plugin_h=core/include/zoo/plugin.h
grep -oE '\(\*[a-z_]+\)\(' "$plugin_h" | tr -d '(*)' | sort -u >"$facts/ops"
grep -oE 'ZOO_OBJ_[A-Z_]+ *=' "$plugin_h" | tr -d ' =' | sort -u >"$facts/objectives"
# "ZOO_CAP_DECODE cache_new cache_free decode_step ...": the flag and the words of its comment
sed -nE 's/^ *(ZOO_CAP_[A-Z_]+) *=[^/]*\/\*(.*)\*\/.*/\1 \2/p' "$plugin_h" | tr -d ',:()' >"$facts/caps"
# the hyperparameter names the host reads or sets: zoo_hparams_*(..., "NAME")
# and the conformance suite's strcmp(spec->name, "NAME")
grep -rhoE '(zoo_hparams_[a-z_]+\([^;"]*|strcmp\(spec->name, *)"[A-Za-z0-9_]+"' host --include='*.c' |
    sed -E 's/.*"([A-Za-z0-9_]+)"$/\1/' | sort -u >"$facts/hparams"

awk -v src="$src" -v facts="$facts" -f "$here/check_docs.awk" "$@" >"$facts/report"

# the paths the scanner could not settle alone: globs and the build tree
tab=$(printf '\t')
while IFS=$tab read -r at written path; do
    case $path in
    @build/*) path=$build/${path#@build/} ;;
    *) path=$src/$path ;;
    esac
    # shellcheck disable=SC2086 # the path is a glob on purpose
    set -- $path
    [ -e "$1" ] || echo "$at: '$written' names ${path#"$src"/}, which does not exist" >>"$facts/report"
done <"$facts/paths"

if [ -s "$facts/report" ]; then
    sort -t: -k1,1 -k2,2n -k3 "$facts/report"
    echo "check_docs: $(wc -l <"$facts/report") stale word(s) in $docs" >&2
    exit 1
fi
echo "check_docs: $docs agree with the code"
