#!/bin/sh
# elmo as users drive it: an AllenNLP directory opened with no conversion
# (info, embed, eval refused), then a tiny ELMo trained on a made-up text,
# evaluated (both directions' perplexities), embedded, exported to the
# AllenNLP layout and read back to the same bytes.
#   test_elmo_cli.sh BUILD_DIR PLUGIN_TESTS_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$2" && pwd)
zoo="$build/zoo"
fixture="$here/fixtures/elmo-tiny-a"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-elmo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$here/../../../tests/cli/expect.sh"

same() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; }

# 3,000 words of 30 made-up spellings, 12 a line
awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) { w = int(rand() * 30); printf "w%c%c%s", 97 + w % 5, 107 + int(w / 5), (i % 12 == 11) ? "\n" : " " } }' >"$tmp/text.txt"

# --- a published directory: options.json + weights.hdf5, no softmax
expect 0 "^elmo model: [0-9]* parameters in 29 tensors; tokenizer: word, 3 tokens$" "$zoo" info "$fixture"
expect 0 "" "$zoo" embed "$fixture" --text "the bank raised its rates ." --layer all --out "$tmp/all.npy"
expect_shape "$tmp/all.npy" "(3, 6, 16)"
expect 0 "" "$zoo" embed "$fixture" --text "the bank raised its rates ." --layer 1 --out "$tmp/l1.npy"
expect_shape "$tmp/l1.npy" "(6, 16)"
expect 1 "give 3 weights, or 4 with gamma last" "$zoo" embed "$fixture" --text "a b" --mix 1,2 --out "$tmp/m.npy"
printf 'the bank raised its rates .\nwe sat on the river bank\n' >"$tmp/lines.txt"
expect 0 "" "$zoo" embed "$fixture" --text-file "$tmp/lines.txt" --layer mix --pool mean --out "$tmp/pooled.npy"
expect_shape "$tmp/pooled.npy" "(2, 16)"
expect 1 "no softmax weights" "$zoo" eval "$fixture" --data "$tmp/text.txt"

# --- a tiny ELMo trained, evaluated, embedded, exported and read back
cat >"$tmp/tiny.json" <<JSON
{ "model": { "plugin": "elmo", "char_dim": 4, "filters": "1:8,2:8,3:8", "projection_dim": 8,
             "dim": 16, "sampled_softmax": 8 },
  "data": { "train": "$tmp/text.txt", "val_fraction": 0.1,
            "tokenizer": { "type": "word", "split": "whitespace" }, "seq_len": 16 },
  "train": { "steps": 30, "batch_size": 8, "optimizer": { "name": "adam", "lr": 0.01 },
             "eval_every": 30, "eval_batches": 4 } }
JSON
expect 0 "" "$zoo" train "$tmp/tiny.json" --out "$tmp/run" --quiet
grep -q '"forward_perplexity"' "$tmp/run/metrics.jsonl" && grep -q '"backward_perplexity"' "$tmp/run/metrics.jsonl" ||
    fail "metrics.jsonl has no forward/backward perplexity"
expect 0 "forward_perplexity" "$zoo" eval "$tmp/run" --data "$tmp/text.txt" --batches 2
expect 0 "" "$zoo" embed "$tmp/run" --text "wak wbl wck" --layer all --out "$tmp/run.npy"
expect 0 "" "$zoo" export "$tmp/run" --format allennlp --out "$tmp/exported"
for f in options.json weights.hdf5 vocab.txt; do
    [ -f "$tmp/exported/$f" ] || fail "export wrote no $f"
done
expect 0 "" "$zoo" embed "$tmp/exported" --text "wak wbl wck" --layer all --out "$tmp/exported.npy"
same "$tmp/run.npy" "$tmp/exported.npy"
# the softmax and vocabulary came along: the export evaluates as a language model
expect 0 "forward_perplexity" "$zoo" eval "$tmp/exported" --data "$tmp/text.txt" --batches 2

[ "$failures" = 0 ] || { echo "$failures elmo CLI check(s) failed" >&2; exit 1; }
echo "elmo CLI: all checks passed"
