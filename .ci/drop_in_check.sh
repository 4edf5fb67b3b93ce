#!/usr/bin/env bash
# A new architecture is one folder: copy the llama example (tests/llama) into
# plugins/ of a scratch clone with no other edit, configure and build, and
# require that zoo lists it as loadable and that its own suite and the
# conformance suite ran and passed.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/zoo-drop-in.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

git clone -q "$src" "$scratch/zoo"
cp -r "$src/tests/llama" "$scratch/zoo/plugins/llama"
cd "$scratch/zoo"
test -z "$(git status --porcelain --untracked-files=no)" # nothing tracked was edited
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 >/dev/null

build/zoo list --check | tee list.txt
grep -A1 '^llama ' list.txt | grep -q '^  ok: library loads' ||
    { echo "drop-in: llama is not listed as a library that loads" >&2; exit 1; }
ctest --test-dir build -R '^(test_llama|check-plugin-llama)$' --output-on-failure | tee ctest.txt
grep -q '100% tests passed, 0 tests failed out of 2' ctest.txt ||
    { echo "drop-in: the example's suite and its conformance did not both run and pass" >&2; exit 1; }
echo "drop-in: llama, copied into plugins/, was built, listed and tested with no other edit"
