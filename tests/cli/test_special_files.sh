#!/bin/sh
# Special files as paths: a device or FIFO given where a file is read is
# refused at once, naming what it is (never read until memory runs out, never
# waited on); an output path that is a device is refused and left as it was,
# and one that is a symbolic link is written through, the link kept.
#   test_special_files.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-special.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"

# every command runs under a timeout: reading /dev/zero or opening a FIFO
# with no writer is exactly what must not hang
t() { timeout 60 "$@"; }
mkfifo "$tmp/fifo"
dev="is a character device, not a regular file"

# --- reading: configs, extends, run scripts, registries, vectors, --text-file
expect 1 "^zoo train: /dev/zero: $dev$" t "$zoo" train /dev/zero
expect 1 "^zoo train: $tmp/fifo: is a FIFO, not a regular file$" t "$zoo" train "$tmp/fifo"
expect 1 "^zoo train: $tmp: is a directory, not a regular file$" t "$zoo" train "$tmp"
printf '{"extends": "/dev/zero"}\n' >"$tmp/ext.json"
expect 1 "^zoo train: $tmp/ext.json: extends: /dev/zero: $dev$" t "$zoo" train "$tmp/ext.json"
expect 1 "^zoo run: /dev/zero: $dev$" t "$zoo" run /dev/zero
expect 0 "/dev/zero: $dev" t "$zoo" list --registry /dev/zero
expect 1 "^zoo similar: $tmp/fifo: is a FIFO, not a regular file$" t "$zoo" similar "$tmp/fifo" man
expect 1 "^zoo tokenize: --text-file: /dev/zero: $dev$" t "$zoo" tokenize "$bert" --text-file /dev/zero
# - is standard input, the one stream read to its end
printf 'hello world\n' | expect 0 "" t "$zoo" tokenize "$bert" --text-file -

# a config past the 64 MiB a config can need: refused from its size
truncate -s 65M "$tmp/huge.json"
expect 1 "^zoo train: $tmp/huge.json: 68157440 bytes, more than the 64 MiB a file of this kind can need$" \
    t "$zoo" train "$tmp/huge.json"

# --- writing: --out onto a device, a FIFO, a symbolic link
expect 1 "^zoo embed: /dev/null: is a character device, not a regular file: not replaced$" \
    t "$zoo" embed "$bert" --text "hello world" --out /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
expect 1 "^zoo embed: $tmp/fifo: is a FIFO, not a regular file: not replaced$" \
    t "$zoo" embed "$bert" --text "hello world" --out "$tmp/fifo"
[ -p "$tmp/fifo" ] || fail "$tmp/fifo is no longer a FIFO"
mkdir "$tmp/real"
ln -s real/e.npy "$tmp/link.npy"
expect 0 "" t "$zoo" embed "$bert" --text "hello world" --out "$tmp/plain.npy"
printf 'old' >"$tmp/real/e.npy"
expect 0 "" t "$zoo" embed "$bert" --text "hello world" --out "$tmp/link.npy"
[ -L "$tmp/link.npy" ] || fail "--out LINK: the link was replaced"
cmp -s "$tmp/plain.npy" "$tmp/real/e.npy" || fail "--out LINK: the link's target does not hold the array"
[ "$(ls "$tmp/real")" = "e.npy" ] || fail "--out LINK: files left beside the target: $(ls "$tmp/real")"
# export: a file of the directory that links to a device is refused, the link kept
mkdir "$tmp/hf"
ln -s /dev/null "$tmp/hf/config.json"
expect 1 "^zoo export: $tmp/hf/config.json: a symbolic link to /dev/null, which is a character device, not a regular file: not replaced$" \
    t "$zoo" export "$bert" --format hf --out "$tmp/hf"
[ -L "$tmp/hf/config.json" ] && [ -c /dev/null ] || fail "export: the link to /dev/null or /dev/null itself was replaced"

if [ "$failures" -gt 0 ]; then
    echo "$failures special-file check(s) failed" >&2
    exit 1
fi
echo "all special-file checks passed"
