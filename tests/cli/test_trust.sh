#!/bin/sh
# Plugins are trusted explicitly (docs/security.md), run as a user runs zoo:
# the notice of an unpinned drop-in; --require-pinned and ZOO_REQUIRE_PINNED
# refusing what no registry pins before its code runs (a fixture whose
# constructor appends to $ZOO_TEST_MARKER proves it did not); a drop-in that
# shadows the shipped gpt marked by zoo list; libraries, registries and
# drop-in directories others could write refused with the chmod that fixes
# them; a HuggingFace directory opening only its own plugin; zoo list
# --check's exit status; zoo compare going on past a plugin failing in
# create or loss.
#   test_trust.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
zoo="$build/zoo"
fixtures="$build/tests/fixtures"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-trust.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH ZOO_REQUIRE_PINNED
failures=0
. "$src/tests/cli/expect.sh"
export ZOO_TEST_MARKER="$tmp/marker"
umask 022

manifest() { # manifest FILE NAME [EXTRA_FIELDS]
    printf '{"name": "%s", "version": "1.0.0", "summary": "a bigram table for the loader tests", "abi": "1.3"%s}\n' \
        "$2" "${3:-}" >"$1"
}
registry() { # registry FILE NAME LIBRARY [EXTRA_FIELDS]
    printf '{"format": 1, "plugins": [{"name": "%s", "version": "1.0.0", "summary": "a bigram table for the loader tests", "library": "%s", "abi": "1.3"%s}]}\n' \
        "$2" "$3" "${4:-}" >"$1"
}
ran() { [ -f "$ZOO_TEST_MARKER" ] && grep -qx "$1" "$ZOO_TEST_MARKER"; }
no_marker() { # no_marker WHAT: the constructor must not have run
    if [ -f "$ZOO_TEST_MARKER" ]; then fail "$1: the refused library's constructor ran"; fi
    rm -f "$ZOO_TEST_MARKER"
}

# --- zoo list --check: 0 when every listed plugin loads, 1 when one does not
expect 0 "ok: library loads" "$zoo" list --check
mkdir "$tmp/broken"
cp "$fixtures/wrong_major.so" "$tmp/broken/wrong_major.so"
manifest "$tmp/broken/wrong_major.json" wrong_major
ZOO_PLUGIN_PATH="$tmp/broken" expect 1 "wrong_major.so: plugin 'wrong_major' was built for ABI" "$zoo" list --check
ZOO_PLUGIN_PATH="$tmp/broken" expect 0 "^wrong_major" "$zoo" list # plain list is no verdict
registry "$tmp/missing.json" gone "$tmp/nowhere.so"
expect 1 "nowhere.so: No such file" "$zoo" list --check --registry "$tmp/missing.json"

# --- a drop-in named gpt shadows the shipped one: marked, and announced when loaded
mkdir "$tmp/drop"
cp "$fixtures/marker_gpt.so" "$tmp/drop/gpt.so"
manifest "$tmp/drop/gpt.json" gpt
export ZOO_PLUGIN_PATH="$tmp/drop"
expect 0 "^  shadows: the plugin named 'gpt' in $build/registry/registry.json (a drop-in no registry pins" "$zoo" list
expect 0 "\"shadows\":[[:space:]]*\"$build/registry/registry.json\"" "$zoo" list --json
grep -q '"dropin":[[:space:]]*true' "$tmp/out" || fail "zoo list --json: the drop-in is not marked dropin"
grep -q '"pinned":[[:space:]]*false' "$tmp/out" || fail "zoo list --json: no pinned field"
no_marker "zoo list" # listing opens nothing
expect 0 "" "$zoo" info gpt
[ "$(grep -c "^zoo: notice: loading drop-in plugin 'gpt' from $tmp/drop/gpt.so, which no registry pins; it shadows" "$tmp/err")" = 1 ] ||
    { fail "zoo info gpt: not one notice line for the unpinned drop-in"; sed 's/^/  | /' "$tmp/err" >&2; }
ran gpt || fail "zoo info gpt: the drop-in was not loaded (the marker tests could not fail)"
rm -f "$ZOO_TEST_MARKER"
expect 0 "" "$zoo" info gpt --registry "$build/registry/registry.json" # the registry's own gpt wins
[ -s "$tmp/err" ] && fail "a pinned-or-shipped plugin got a notice: $(cat "$tmp/err")"
no_marker "--registry before the drop-in"

# --- --require-pinned (and ZOO_REQUIRE_PINNED=1) refuse what no registry pins, before dlopen
expect 1 "^zoo info: $tmp/drop/gpt.json: plugin 'gpt' ($tmp/drop/gpt.so) is a drop-in that no registry pins, and --require-pinned .* refusing to open it (it would shadow the plugin of that name).*zoo registry pin FILE" \
    "$zoo" info gpt --require-pinned
no_marker "--require-pinned"
ZOO_REQUIRE_PINNED=1 expect 1 "is a drop-in that no registry pins" "$zoo" info gpt
no_marker "ZOO_REQUIRE_PINNED=1"
expect 1 "is a drop-in that no registry pins" "$zoo" --require-pinned info gpt # before the command too
no_marker "zoo --require-pinned info"
ZOO_REQUIRE_PINNED=yes expect 2 "ZOO_REQUIRE_PINNED: expected 1 or 0, got 'yes'" "$zoo" info gpt
ZOO_REQUIRE_PINNED=0 expect 0 "" "$zoo" info gpt
rm -f "$ZOO_TEST_MARKER"
expect 1 "registry.json: plugins\[[0-9]\].sha256: missing: plugin 'bigram' .* is not pinned.*pin it with zoo registry pin .*registry.json" \
    "$zoo" info bigram --require-pinned
expect 1 "is not pinned" "$zoo" list --check --require-pinned
# a sha256 in the drop-in's own manifest checks, but does not pin
sum=$(sha256sum "$tmp/drop/gpt.so" | cut -d' ' -f1)
manifest "$tmp/drop/gpt.json" gpt ", \"sha256\": \"$sum\""
expect 1 "is a drop-in that no registry pins" "$zoo" info gpt --require-pinned
no_marker "a manifest's own sha256"
# pinned in a registry file: it loads; changed afterwards: refused, unopened
registry "$tmp/pins.json" gpt "$tmp/drop/gpt.so"
expect 0 "^gpt  *[0-9a-f]\{64\}" "$zoo" registry pin "$tmp/pins.json"
expect 0 "" "$zoo" info gpt --require-pinned --registry "$tmp/pins.json"
ran gpt || fail "a pinned library was not loaded under --require-pinned"
rm -f "$ZOO_TEST_MARKER"
expect 0 "\"pinned\":[[:space:]]*true" "$zoo" list --json --registry "$tmp/pins.json"
printf 'x' >>"$tmp/drop/gpt.so"
expect 1 "pins.json: sha256 of plugin 'gpt' does not match" "$zoo" info gpt --require-pinned --registry "$tmp/pins.json"
no_marker "a changed pinned library"
cp "$fixtures/marker_gpt.so" "$tmp/drop/gpt.so"
manifest "$tmp/drop/gpt.json" gpt

# --- files others could write: refused with the chmod that fixes them
chmod g+w "$tmp/drop/gpt.so"
expect 1 "refusing the plugin library: it is writable by its group (mode 0775).*fix: chmod go-w '$tmp/drop/gpt.so'" "$zoo" info gpt
no_marker "a group-writable library"
expect 0 "error: .*refusing the plugin library" "$zoo" list
chmod g-w "$tmp/drop/gpt.so"
chmod o+w "$tmp/drop"
expect 0 "^error: $tmp/drop: refusing the drop-in directory (ZOO_PLUGIN_PATH): it is writable by everyone (mode 0757).*chmod go-w '$tmp/drop'" "$zoo" list
expect 0 "" "$zoo" info gpt # the shipped gpt: the drop-in directory is not read
no_marker "a world-writable drop-in directory"
chmod o-w "$tmp/drop"
chmod g+w "$tmp/drop/gpt.json"
expect 0 "^error: $tmp/drop/gpt.json: refusing the drop-in manifest: it is writable by its group" "$zoo" list
chmod g-w "$tmp/drop/gpt.json"
# an ancestor others can write to, without the sticky bit; with it (as /tmp has), fine
mkdir -p "$tmp/shared/inner"
mv "$tmp/drop" "$tmp/shared/inner/drop"
export ZOO_PLUGIN_PATH="$tmp/shared/inner/drop"
chmod 0777 "$tmp/shared"
expect 0 "^error: $tmp/shared/inner/drop: refusing the drop-in directory (ZOO_PLUGIN_PATH): the directory $tmp/shared is writable by everyone (mode 0777) without the sticky bit.*chmod go-w '$tmp/shared' (or chmod +t" "$zoo" list
chmod 1777 "$tmp/shared"
expect 0 "" "$zoo" info gpt
ran gpt || fail "a drop-in under a sticky world-writable directory was refused"
rm -f "$ZOO_TEST_MARKER"
chmod 0755 "$tmp/shared"
# a registry file others can write
registry "$tmp/good.json" good "$fixtures/good.so"
chmod 0666 "$tmp/good.json"
expect 1 "^zoo info: no plugin named 'good'" "$zoo" info good --registry "$tmp/good.json"
expect 0 "^error: $tmp/good.json: refusing the registry: it is writable by everyone (mode 0666).*chmod go-w" "$zoo" list --registry "$tmp/good.json"
chmod 0644 "$tmp/good.json"
expect 0 "" "$zoo" info good --registry "$tmp/good.json"
# a library owned by another user (root can give it away)
if [ "$(id -u)" = 0 ]; then
    chown 65534 "$tmp/shared/inner/drop/gpt.so"
    expect 1 "refusing the plugin library: $tmp/shared/inner/drop/gpt.so is owned by uid 65534, neither root nor you" "$zoo" info gpt
    no_marker "a library owned by another user"
    chown 0 "$tmp/shared/inner/drop/gpt.so"
fi
unset ZOO_PLUGIN_PATH

# --- a HuggingFace directory opens only the plugin that declares its model_type
mkdir "$tmp/spy"
cp "$fixtures/marker_spy.so" "$tmp/spy/spy.so"
manifest "$tmp/spy/spy.json" spy
ZOO_PLUGIN_PATH="$tmp/spy" expect 0 "" "$zoo" generate "$src/tests/fixtures/compat-0.1/gpt-hf" --prompt "the" --max-new-tokens 2
no_marker "zoo generate on a HuggingFace gpt2 directory (another plugin was opened)"
ZOO_PLUGIN_PATH="$tmp/spy" expect 0 "" "$zoo" tokenize "$src/tests/fixtures/compat-0.1/gpt-hf" --text "the"
no_marker "zoo tokenize on a HuggingFace gpt2 directory"
ZOO_PLUGIN_PATH="$tmp/spy" "$zoo" list --check >/dev/null 2>&1
ran spy || fail "zoo list --check did not open the spy (the marker test could not fail)"
rm -f "$ZOO_TEST_MARKER"
# a plugin's own format, declared by a file name
registry "$tmp/import.json" import_dir "$fixtures/import_dir.so" ', "imports": {"files": ["table.txt"]}'
mkdir "$tmp/table"
printf '16 0.25\n' >"$tmp/table/table.txt"
printf '1 2 3\n' >"$tmp/ids"
expect 0 "" "$zoo" forward "$tmp/table" --ids "$tmp/ids" --out "$tmp/t.npy" --registry "$tmp/import.json"
registry "$tmp/undeclared.json" import_dir "$fixtures/import_dir.so"
expect 1 "no plugin that imports models (bert, elmo, gpt) reads its files" \
    "$zoo" forward "$tmp/table" --ids "$tmp/ids" --out "$tmp/t.npy" --registry "$tmp/undeclared.json"
expect 1 "imports: the library imports foreign directories, but the entry declares none" \
    "$zoo" list --check --registry "$tmp/undeclared.json"
registry "$tmp/liar.json" good "$fixtures/good.so" ', "imports": {"hf_model_types": ["gpt2"]}'
expect 1 "liar.json: plugins\[0\].imports: the entry declares directories plugin 'good' imports, but the library .* has no import capability" \
    "$zoo" list --check --registry "$tmp/liar.json"

# --- a plugin failing in create or in loss: zoo compare records it in the row and goes on
for i in $(seq 200); do echo "the cat sat on the mat and the dog ran"; done >"$tmp/corpus.txt"
registry "$tmp/fail.json" fail_switch "$fixtures/fail_switch.so"
cat >"$tmp/cmp.json" <<JSON
{"name": "failing", "seed": 7, "data": {"train": "$tmp/corpus.txt"}, "budget": {"steps": 5},
 "models": [
   {"name": "broken", "config": {"model": {"plugin": "fail_switch", "fail_create": 1},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 16}, "train": {"batch_size": 4}}},
   {"name": "lossy", "config": {"model": {"plugin": "fail_switch", "fail_loss": 1},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 16}, "train": {"batch_size": 4}}},
   {"name": "bigram", "config": {"model": {"plugin": "bigram"},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 16}, "train": {"batch_size": 4}}}]}
JSON
expect 1 "2 of 3 trials failed" "$zoo" compare "$tmp/cmp.json" --out "$tmp/c" --quiet --registry "$tmp/fail.json"
grep -q '"error":[[:space:]]*".*fail_create is 1: this fixture refuses to create a model"' "$tmp/c/broken/result.json" ||
    fail "compare: the model failing in create has not its error in result.json"
grep -q '"error":[[:space:]]*".*fail_loss is 1: this fixture'"'"'s loss fails"' "$tmp/c/lossy/result.json" ||
    fail "compare: the model failing in loss has not its error in result.json"
grep -q '^broken,.*,failed,.*fail_create is 1' "$tmp/c/results.csv" || fail "compare: results.csv has not the create error in broken's row"
grep -q '"status":[[:space:]]*"ok"' "$tmp/c/bigram/result.json" || fail "compare: the model after the failing ones did not run"

[ "$failures" = 0 ] && echo "trust: all passed" && exit 0
echo "trust: $failures failure(s)" >&2
exit 1
