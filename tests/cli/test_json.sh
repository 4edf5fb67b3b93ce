#!/bin/sh
# Every command that prints results, run with --json on small inputs: its
# standard output must be exactly one JSON document (json_check), or JSON
# Lines for the commands whose --help says "a line". Inputs: a bigram trained
# here in a second, the tiny BERT fixture, a hand-made word2vec file.
#   test_json.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
check="$build/tests/json_check"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-json.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"

# json [--lines] CMD...: CMD exits 0 and its stdout is one JSON document (JSON Lines)
json() {
    lines=
    [ "$1" = --lines ] && { lines=--lines; shift; }
    expect 0 "" "$@"
    "$check" $lines <"$tmp/out" 2>"$tmp/check" || {
        fail "$* printed no valid JSON$lines: $(cat "$tmp/check")"
        sed 's/^/  | /' "$tmp/out" | head -20 >&2
    }
}

# --- the json_check helper itself refuses what is not one document
printf '{"a": 1}\n' | "$check" || fail "json_check refused one object"
printf '{"a": 1} {"b": 2}\n' | "$check" 2>/dev/null && fail "json_check took two documents"
printf 'parameters: 3\n' | "$check" 2>/dev/null && fail "json_check took text"
printf '' | "$check" 2>/dev/null && fail "json_check took nothing"
printf '{"a": 1}\n\n[2]\n' | "$check" --lines || fail "json_check --lines refused two lines"
printf '{"a": 1}\n{"b":\n' | "$check" --lines 2>/dev/null && fail "json_check --lines took a broken line"

# --- a bigram on a small corpus, a run script, a word2vec file, labeled text
word_corpus 400 >"$tmp/corpus.txt"
cat >"$tmp/run.json" <<JSON
{"model": {"plugin": "bigram"},
 "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 16, "val_fraction": 0.1},
 "train": {"steps": 5, "batch_size": 4, "optimizer": {"name": "adamw", "lr": 0.05},
           "eval_every": 0, "checkpoint_every": 0}}
JSON
cat >"$tmp/script.json" <<JSON
{"steps": [{"id": "t", "train": "run.json", "out": "script-run"},
           {"eval": "\${t.checkpoint}", "data": "corpus.txt", "batches": 2}]}
JSON
{
    echo "6 2"
    echo "king 1 0.1"
    echo "queen 0.9 0.3"
    echo "man 0.2 0.1"
    echo "woman 0.1 0.3"
    echo "the 0.5 0.5"
    echo "dog 0.3 0.9"
} >"$tmp/w2v.txt"
printf ': family\nking queen man woman\nman woman king queen\n' >"$tmp/analogies.txt"
printf 'king queen 8\nman woman 7\nthe dog 1\n' >"$tmp/pairs.txt"
printf 'pos\tthe day said\nneg\tthe land of people\npos\tgod said day\nneg\tland people\n' >"$tmp/labeled.tsv"

json "$zoo" train "$tmp/run.json" --dry-run --json
json "$zoo" train "$tmp/run.json" --dry-run --cost --json
json "$zoo" train "$tmp/run.json" --out "$tmp/bigram" --quiet --json
json --lines "$zoo" run "$tmp/script.json" --json
[ "$(wc -l <"$tmp/out")" = 2 ] || fail "run --json: not one line a step"
grep -q '^{"step":1,"id":null,"action":"eval","ok":true,.*"result":{' "$tmp/out" ||
    fail "run --json: the eval step's line lacks its result: $(cat "$tmp/out")"
json "$zoo" list --json
json "$zoo" info bigram --json
json "$zoo" info "$tmp/bigram" --json
json "$zoo" info "$bert" --json
json "$zoo" eval "$tmp/bigram" --data "$tmp/corpus.txt" --batches 2 --json
json "$zoo" generate "$tmp/bigram" --prompt "the" --max-new-tokens 5 --json
json "$zoo" tokenize "$tmp/bigram" --text "the lord" --json
json "$zoo" call bigram.argmax_next --model "$tmp/bigram" 3 --json
json "$zoo" call bigram.logit --model "$tmp/bigram" 3 4 --json
grep -q '^{"plugin":"bigram","function":"logit","returns":"double","result":-*[0-9]' "$tmp/out" ||
    fail "call --json: the result is not a number: $(cat "$tmp/out")"
json "$zoo" fill-mask "$bert" "the [MASK] sat ." --json
json "$zoo" embed "$bert" --text "the cat" --out "$tmp/e.npy" --json
printf '3 4 5 6\n' >"$tmp/ids.txt"
json "$zoo" forward "$tmp/bigram" --ids "$tmp/ids.txt" --out "$tmp/f.npy" --json
json "$zoo" similar "$tmp/w2v.txt" king --top 2 --json
json "$zoo" analogy "$tmp/w2v.txt" man king woman --top 2 --json
json "$zoo" eval-analogy "$tmp/w2v.txt" "$tmp/analogies.txt" --json
json "$zoo" eval-pairs "$tmp/w2v.txt" "$tmp/pairs.txt" --json
# nothing asked: no accuracy, no correlation, which JSON says as null (not nan)
printf 'zebra quokka 3\nemu okapi 2\n' >"$tmp/unknown-pairs.txt"
json "$zoo" eval-pairs "$tmp/w2v.txt" "$tmp/unknown-pairs.txt" --json
grep -q '"spearman": null' "$tmp/out" || fail "eval-pairs --json: $(cat "$tmp/out")"
printf ': none\nzebra quokka emu okapi\n' >"$tmp/unknown-analogies.txt"
json "$zoo" eval-analogy "$tmp/w2v.txt" "$tmp/unknown-analogies.txt" --json
grep -q '"accuracy": null' "$tmp/out" || fail "eval-analogy --json: $(cat "$tmp/out")"
json "$zoo" probe "$tmp/w2v.txt" --train "$tmp/labeled.tsv" --test "$tmp/labeled.tsv" --json
json "$zoo" export "$bert" --format hf --out "$tmp/bert-hf" --json
json "$zoo" quantize "$bert" --out "$tmp/bert \"int8\".safetensors" --json
cat >"$tmp/finetune.json" <<JSON
{"finetune": {"base": "$bert", "train": "labeled.tsv", "eval": "labeled.tsv", "format": "tsv"},
 "data": {"seq_len": 16}, "train": {"steps": 3, "batch_size": 2, "optimizer": {"name": "adamw", "lr": 0.001}}}
JSON
json "$zoo" finetune "$tmp/finetune.json" --out "$tmp/classifier" --quiet --json
json "$zoo" classify "$tmp/classifier" --text "the day" --json
printf 'the day\n\nland of people\n' >"$tmp/two.txt"
json --lines "$zoo" classify "$tmp/classifier" --text-file "$tmp/two.txt" --json
[ "$(wc -l <"$tmp/out")" = 2 ] || fail "classify --text-file --json: not one line a text"
json --lines "$zoo" classify "$tmp/classifier" --text "the day" --text "land of people" --json
[ "$(wc -l <"$tmp/out")" = 2 ] || fail "classify --text --text --json: not one line a text"
cat >"$tmp/compare.json" <<'JSON'
{"name": "tiny", "seed": 7, "data": {"train": "corpus.txt"}, "budget": {"steps": 3},
 "models": [{"name": "bigram", "config": {"model": {"plugin": "bigram"},
   "data": {"tokenizer": {"type": "char"}, "seq_len": 16},
   "train": {"batch_size": 4, "optimizer": {"name": "adamw", "lr": 0.05}}}}]}
JSON
json "$zoo" compare "$tmp/compare.json" --dry-run --json
json "$zoo" compare "$tmp/compare.json" --out "$tmp/compared" --quiet --json
json "$zoo" check-plugin bigram --json
json "$zoo" bench bigram --batch 2 --seq-len 8 --repeat 1 --warmup 0 --sgemm 0 --json
mkdir "$tmp/registry" # its libraries are ../plugins/NAME.so
cp "$build/registry/registry.json" "$tmp/registry/"
ln -s "$build/plugins" "$tmp/plugins"
json "$zoo" registry pin "$tmp/registry/registry.json" --json
# the common options before the command's name give the same document
json "$zoo" --json --threads=1 list

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "every --json output parsed"
