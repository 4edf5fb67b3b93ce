#!/bin/sh
# Text in, the same way in every command that reads text: --text (repeatable:
# one record each where a command reads records), --text-file FILE or "-"
# for standard input, generate's --prompt as its --text, fill-mask's
# positional TEXT, and one refusal for text given two ways.
#   test_text_in.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
check="$build/tests/json_check"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-text-in.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"

# same WHAT A B: the two files hold the same bytes
same() { cmp -s "$2" "$3" || fail "$1: $(cat "$2") is not $(cat "$3")"; }

# each_text WHAT TEXT1 TEXT2 COMMAND...: COMMAND --text TEXT1 --text TEXT2
# prints what COMMAND --text TEXT1 then COMMAND --text TEXT2 print, as text
# and with --json, and the --json output is JSON Lines, one object a text
each_text() {
    what=$1 t1=$2 t2=$3
    shift 3
    for json in "" --json; do
        "$@" $json --text "$t1" >"$tmp/one" || fail "$what $json --text: exit $?"
        "$@" $json --text "$t2" >>"$tmp/one" || fail "$what $json --text (2nd): exit $?"
        "$@" $json --text "$t1" --text "$t2" >"$tmp/two" || fail "$what $json --text twice: exit $?"
        same "$what $json: two --text" "$tmp/one" "$tmp/two"
    done
    "$check" --lines <"$tmp/two" || fail "$what --json: not JSON Lines"
    [ "$(wc -l <"$tmp/two")" = 2 ] || fail "$what --json: $(wc -l <"$tmp/two") lines for two texts"
    [ "$(sort -u "$tmp/two" | wc -l)" = 2 ] || fail "$what --json: the two texts gave one result"
}

# --- tokenize: --text, --text-file FILE and --text-file - give the same ids
printf 'the cat sat' >"$tmp/t.txt"
expect 0 "" "$zoo" tokenize "$bert" --text "the cat sat"
cp "$tmp/out" "$tmp/ids-text"
expect 0 "" "$zoo" tokenize "$bert" --text-file "$tmp/t.txt"
same "tokenize --text-file FILE" "$tmp/ids-text" "$tmp/out"
"$zoo" tokenize "$bert" --text-file - <"$tmp/t.txt" >"$tmp/ids-stdin" || fail "tokenize --text-file -: exit $?"
same "tokenize --text-file -" "$tmp/ids-text" "$tmp/ids-stdin"
expect 0 "" "$zoo" tokenize "$bert" --text="the cat sat"
same "tokenize --text=TEXT" "$tmp/ids-text" "$tmp/out"

# --- one refusal for text given two ways; a one-text command refuses two
expect 2 "^zoo tokenize: give the text once: --text TEXT or --text-file FILE, not both$" \
    "$zoo" tokenize "$bert" --text "a" --text-file "$tmp/t.txt"
expect 2 "^zoo embed: give the text once: --text TEXT or --text-file FILE, not both$" \
    "$zoo" embed "$bert" --text "a" --text-file "$tmp/t.txt" --out "$tmp/x.npy"
expect 2 "^zoo fill-mask: give the text once: TEXT, --text TEXT or --text-file FILE$" \
    "$zoo" fill-mask "$bert" "the [MASK] sat" --text "a [MASK]" --text "b [MASK]"
expect 2 "^zoo fill-mask: give the text once: TEXT, --text TEXT or --text-file FILE$" \
    "$zoo" fill-mask "$bert" "the [MASK] sat" --text "the [MASK] sat"
expect 2 "^zoo tokenize: give the text as --text TEXT or --text-file FILE$" "$zoo" tokenize "$bert"

# --- tokenize: two --text are the two texts' ids, in order
each_text "tokenize" "the cat sat" "on the mat" "$zoo" tokenize "$bert"

# --- fill-mask: TEXT, --text and standard input alike; two --text, each's masks
each_text "fill-mask" "the [MASK] sat ." "a [MASK] on the [MASK]" "$zoo" fill-mask "$bert"
expect 0 "" "$zoo" fill-mask "$bert" "the [MASK] sat ."
cp "$tmp/out" "$tmp/fill-positional"
expect 0 "" "$zoo" fill-mask "$bert" --text "the [MASK] sat ."
same "fill-mask --text" "$tmp/fill-positional" "$tmp/out"
printf 'the [MASK] sat .' | "$zoo" fill-mask "$bert" --text-file - >"$tmp/fill-stdin" || fail "fill-mask --text-file -: exit $?"
same "fill-mask --text-file -" "$tmp/fill-positional" "$tmp/fill-stdin"

# --- embed: --text twice is two sequences, as two lines of a file are
printf 'the cat\nsat on\n' >"$tmp/two.txt"
expect 0 "" "$zoo" embed "$bert" --text "the cat" --text "sat on" --pool mean --out "$tmp/texts.npy"
expect 0 "" "$zoo" embed "$bert" --text-file "$tmp/two.txt" --pool mean --out "$tmp/lines.npy"
expect_shape "$tmp/texts.npy" "(2, 16)"
cmp -s "$tmp/texts.npy" "$tmp/lines.npy" || fail "embed: two --text are not the file's two lines"
"$zoo" embed "$bert" --text-file - --pool mean --out "$tmp/stdin.npy" <"$tmp/two.txt" || fail "embed --text-file -: exit $?"
cmp -s "$tmp/stdin.npy" "$tmp/lines.npy" || fail "embed: standard input is not the file"

# --- generate: --text is --prompt; standard input too
awk 'BEGIN { for (i = 0; i < 300; i++) print "the cat sat on the mat and the dog ran." }' >"$tmp/corpus.txt"
cat >"$tmp/run.json" <<JSON
{"model": {"plugin": "bigram"}, "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 16},
 "train": {"steps": 5, "batch_size": 4, "optimizer": {"name": "adamw", "lr": 0.05}, "eval_every": 0, "checkpoint_every": 0}}
JSON
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/bigram" --quiet
expect 0 "" "$zoo" generate "$tmp/bigram" --prompt "the" --max-new-tokens 8 --seed 3
cp "$tmp/out" "$tmp/gen-prompt"
expect 0 "" "$zoo" generate "$tmp/bigram" --text "the" --max-new-tokens 8 --seed 3
same "generate --text" "$tmp/gen-prompt" "$tmp/out"
printf 'the' | "$zoo" generate "$tmp/bigram" --text-file - --max-new-tokens 8 --seed 3 >"$tmp/gen-stdin" ||
    fail "generate --text-file -: exit $?"
same "generate --text-file -" "$tmp/gen-prompt" "$tmp/gen-stdin"
expect 2 "^zoo generate: give the text once: --text TEXT or --text-file FILE, not both$" \
    "$zoo" generate "$tmp/bigram" --prompt "the" --text-file "$tmp/t.txt"
# two prompts: each as it would be alone, with the same seed
each_text "generate" "the" "a dog" "$zoo" generate "$tmp/bigram" --max-new-tokens 8 --seed 3
"$zoo" generate "$tmp/bigram" --prompt "the" --text "a dog" --max-new-tokens 8 --seed 3 --json >"$tmp/out" ||
    fail "generate --prompt --text: exit $?"
same "generate: --prompt then --text" "$tmp/two" "$tmp/out" # $tmp/two is each_text's, --json
# a run script's step takes either spelling
cat >"$tmp/script.json" <<JSON
{"steps": [{"generate": "bigram", "text": "the", "max_new_tokens": 8, "seed": 3}]}
JSON
expect 0 "" "$zoo" run "$tmp/script.json"
same "run: generate's \"text\"" "$tmp/gen-prompt" "$tmp/out"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "text in: every way agrees"
