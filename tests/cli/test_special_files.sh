#!/bin/sh
# Special files as paths: a device or FIFO given where a file is read is
# refused at once, naming what it is (never read until memory runs out, never
# waited on).
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

if [ "$failures" -gt 0 ]; then
    echo "$failures special-file check(s) failed" >&2
    exit 1
fi
echo "all special-file checks passed"
