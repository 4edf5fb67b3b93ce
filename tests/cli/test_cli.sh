#!/bin/sh
# The zoo command line, run as a user runs it: exit codes and the one line on
# stderr for each kind of bad input, against fixture plugins.
#   test_cli.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
zoo="$build/zoo"
fixtures="$build/tests/fixtures"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"


registry() { # registry FILE NAME LIBRARY [EXTRA_FIELDS]
    cat >"$1" <<JSON
{"format": 1, "plugins": [{"name": "$2", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$3", "abi": "1.3"${4:-}}]}
JSON
}

# --- help and version: every command has --help
expect 0 "usage: zoo" "$zoo" --help
expect 2 "usage: zoo" "$zoo"
expect 0 "plugin ABI 1.3" "$zoo" --version
expect 0 "^int8 products (zoo quantize): \(oneDNN\|portable\)" "$zoo" --version
expect 0 "^int8 products (zoo quantize): portable (ZOO_INT8_KERNEL=portable)" env ZOO_INT8_KERNEL=portable "$zoo" --version
for c in list info forward call registry check-plugin; do
    expect 0 "usage: zoo $c" "$zoo" "$c" --help
done
expect 2 "^zoo: unknown command 'frobnicate' (see zoo --help)" "$zoo" frobnicate
expect 2 "^zoo: unknown command 'lsit' (did you mean 'list'?)" "$zoo" lsit

# --- every command's argv is read against its option table: one message shape per error
expect 2 "^zoo list: unknown option '--chek' (did you mean '--check'?)$" "$zoo" list --chek
expect 2 "^zoo list: --threads: expected an integer from 0 to 1024, got 'many'$" "$zoo" list --threads many
expect 2 "^zoo list: --check: given more than once$" "$zoo" list --check --check
expect 2 "^zoo list: --registry needs a value$" "$zoo" list --registry
expect 2 "^zoo list: unexpected argument 'x' (see zoo list --help)$" "$zoo" list x
expect 2 "^zoo check-plugin: --seed: expected a non-negative integer, got '-1'$" "$zoo" check-plugin good --seed -1
expect 2 "^zoo check-plugin: --set: expected model.KEY=VALUE, got 'vocab'$" "$zoo" check-plugin good --set vocab
expect 2 "^zoo call: --model needs a value$" "$zoo" call good.vocab --model
expect 2 "^zoo registry: unexpected argument 'b' after FILE (see zoo registry --help)$" "$zoo" registry pin a b
expect 2 "^zoo run: SCRIPT.json is required (see zoo run --help)$" "$zoo" run
expect 0 "^usage: zoo list" "$zoo" list --frobnicate --help # help wins over the rest of argv
expect 0 "^  --check  open every library" "$zoo" list --help
expect 0 "^  --json   print a JSON object" "$zoo" list --help
# --opt=VALUE is --opt VALUE; the common options go before or after the command's name
expect 2 "^zoo list: --threads: expected an integer from 0 to 1024, got 'many'$" "$zoo" list --threads=many
expect 2 "^zoo list: --threads: expected an integer from 0 to 1024, got 'many'$" "$zoo" --threads many list
expect 2 "^zoo list: --json takes no value, got 'yes'$" "$zoo" list --json=yes
expect 2 "^zoo list: unknown option '--chek' (did you mean '--check'?)$" "$zoo" --json list --chek
expect 2 "^zoo: unknown command 'lsit' (did you mean 'list'?)" "$zoo" --threads=1 lsit
expect 2 "usage: zoo" "$zoo" --json
# zoo help COMMAND is zoo COMMAND --help, byte for byte
for c in list train generate fill-mask; do
    "$zoo" help "$c" >"$tmp/help1" 2>&1 || fail "zoo help $c: exit $?"
    "$zoo" "$c" --help >"$tmp/help2" 2>&1
    cmp -s "$tmp/help1" "$tmp/help2" || fail "zoo help $c differs from zoo $c --help"
done
expect 0 "^usage: zoo" "$zoo" help
expect 2 "^zoo: unknown command 'trian' (did you mean 'train'?)" "$zoo" help trian

# --- list: registry-level errors without opening anything
good="$tmp/good.json"
registry "$good" good "$fixtures/good.so" ', "exports": [{"name": "vocab", "symbol": "fixture_vocab", "returns": "int64", "args": ["model"]}]'
expect 0 "^good  *1.0.0  *1.3" "$zoo" list --registry "$good"
expect 0 '"name":	"good"' "$zoo" list --registry "$good" --json
expect 0 '"name":	"good"' "$zoo" --json --registry="$good" list
expect 0 '"name":	"good"' "$zoo" --registry "$good" list --json --threads=1
printf '{"format": 1, "plugins": [' >"$tmp/broken.json"
expect 0 "broken.json:1:27: malformed JSON: unexpected end" "$zoo" list --registry "$tmp/broken.json" --registry "$good"
expect 1 "broken.json:1:27: malformed JSON: unexpected end" "$zoo" list --check --registry "$tmp/broken.json"
registry "$tmp/wrong.json" wrong_major "$fixtures/wrong_major.so"
expect 0 "^wrong_major" "$zoo" list --registry "$tmp/wrong.json"
expect 1 "was built for ABI 2.0, this host supports 1.0 to 1.3" "$zoo" list --check --registry "$tmp/wrong.json"
expect 0 "ok: library loads" "$zoo" list --check --registry "$good"
ZOO_REGISTRY="$good" expect 0 "^good" "$zoo" list

# --- ABI 1.1 plugins still load; a declaration of tokenizer types the library lacks is refused
cat >"$tmp/abi11.json" <<JSON
{"format": 1, "plugins": [{"name": "abi_1_1", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$fixtures/abi_1_1.so", "abi": "1.1"}]}
JSON
expect 0 "ok: library loads" "$zoo" list --check --registry "$tmp/abi11.json"
expect 0 "^abi_1_1  *1.0.0  *1.1" "$zoo" list --registry "$tmp/abi11.json"
registry "$tmp/liar.json" good "$fixtures/good.so" ', "tokenizers": ["bytes"]'
expect 1 "liar.json: plugins\[0\].tokenizers\[0\]: the entry declares tokenizer type 'bytes', but the library .*good.so does not provide it" \
    "$zoo" list --check --registry "$tmp/liar.json"
registry "$tmp/bytes.json" bytes "$fixtures/bytes.so" ', "tokenizers": ["bytes"]'
expect 0 "^tokenizers: bytes$" "$zoo" info bytes --registry "$tmp/bytes.json"
expect 0 "^capabilities: import-tokenizer$" "$zoo" info bytes --registry "$tmp/bytes.json"
expect 0 '"tokenizers":	\["bytes"\]' "$zoo" list --json --registry "$tmp/bytes.json"

# --- info
expect 0 "vocab_size  *int  *16  *>= 2" "$zoo" info good --registry "$good"
expect 0 "int64 vocab(model)" "$zoo" info good --registry "$good"
expect 0 "^formats: word2vec-bin word2vec-text$" "$zoo" info word2vec
expect 1 "zoo info: no plugin named 'nope'; looked in .*good.json.* and ZOO_PLUGIN_PATH .*Add a plugin with --registry FILE" "$zoo" info nope --registry "$good"
expect 2 "zoo info: PLUGIN is required (see zoo info --help)" "$zoo" info
registry "$tmp/missing.json" missing_op "$fixtures/missing_op.so"
expect 1 "lacks the required operation 'forward' (NULL)" "$zoo" info missing_op --registry "$tmp/missing.json"

# --- check-plugin: the conformance suite, one line per check
expect 0 "^PASS gradients: 32 elements of 1 parameter" "$zoo" check-plugin good --registry "$good"
expect 0 "^SKIP decode: the plugin does not set ZOO_CAP_DECODE$" "$zoo" check-plugin good --registry "$good"
expect 0 "^# good 1.0.0: 9 passed, 0 failed, 6 skipped; tiny configuration: vocab_size=41 " "$zoo" check-plugin good --registry "$good"
registry "$tmp/wrong_backward.json" wrong_backward "$fixtures/wrong_backward.so"
expect 1 "^FAIL gradients: table.weight\[[0-9]*\]: backward gives .*, finite differences .* > tolerance" "$zoo" check-plugin wrong_backward --registry "$tmp/wrong_backward.json"
expect 1 '"result":	"fail"' "$zoo" check-plugin wrong_backward --registry "$tmp/wrong_backward.json" --json
expect 0 '"config":	"vocab_size=50 init_std=0.02 activation=gelu"' "$zoo" check-plugin good --set vocab_size=50 --json --registry "$good"
expect 1 "zoo check-plugin: --set vocab=5: unknown hyperparameter 'vocab'" "$zoo" check-plugin good --set vocab=5 --registry "$good"
expect 1 "zoo check-plugin: no plugin named 'nope'" "$zoo" check-plugin nope --registry "$good"
expect 2 "zoo check-plugin: PLUGIN is required (see zoo check-plugin --help)" "$zoo" check-plugin
expect 2 "zoo check-plugin: unknown option '--fast' (see zoo check-plugin --help)" "$zoo" check-plugin good --fast
expect 2 "zoo check-plugin: unexpected argument 'bigram' after PLUGIN" "$zoo" check-plugin good bigram

# --- call
expect 0 "^16$" "$zoo" call good.vocab --registry "$good"
expect 0 "^5$" "$zoo" call good.vocab --set vocab_size=5 --registry "$good"
# a misspelled plugin name gets a suggestion, in every command that loads one
for c in info check-plugin; do
    expect 1 "^zoo $c: no plugin named 'goo' (did you mean 'good'?); looked in " "$zoo" "$c" goo --registry "$good"
done
expect 1 "^zoo call: no plugin named 'goo' (did you mean 'good'?)" "$zoo" call goo.vocab --registry "$good"
# --set model.KEY=VALUE, as train spells it, is the same as the bare KEY=VALUE
expect 0 "^5$" "$zoo" call good.vocab --set model.vocab_size=5 --registry "$good"
expect 0 "^5$" "$zoo" call good.vocab --set=model.vocab_size=5 --registry="$good"
expect 1 "zoo call: --set model.vocab=5: unknown hyperparameter 'vocab' (did you mean 'vocab_size'?)" \
    "$zoo" call good.vocab --set model.vocab=5 --registry "$good"
expect 0 '"config":	"vocab_size=50 init_std=0.02 activation=gelu"' "$zoo" check-plugin good --set model.vocab_size=50 --json --registry "$good"
# call --json: the result as its declared type
expect 0 '^{"plugin":"good","function":"vocab","returns":"int64","result":5}$' "$zoo" call good.vocab --set vocab_size=5 --registry "$good" --json
expect 1 "zoo call: --set vocab_size=1: vocab_size: expected an integer >= 2, got 1" "$zoo" call good.vocab --set vocab_size=1 --registry "$good"
expect 1 "unknown hyperparameter 'vocab' (did you mean 'vocab_size'?)" "$zoo" call good.vocab --set vocab=5 --registry "$good"
expect 2 "takes 0 argument(s), got 1" "$zoo" call good.vocab 3 --registry "$good"
expect 1 "declares no extra function 'nope'" "$zoo" call good.nope --registry "$good"
expect 2 "expected PLUGIN.FUNCTION" "$zoo" call good
registry "$tmp/fails.json" create_fails "$fixtures/create_fails.so" ', "exports": [{"name": "vocab", "symbol": "fixture_vocab", "returns": "int64", "args": ["model"]}]'
expect 1 "could not create a model: vocab_size 16 is too large" "$zoo" call create_fails.vocab --registry "$tmp/fails.json"

# --- forward
printf '1 2 3\n4, 5, 6\n' >"$tmp/ids"
expect 0 "" "$zoo" forward good --ids "$tmp/ids" --out "$tmp/logits.npy" --hidden "$tmp/hidden.npy" --registry "$good"
head -c 128 "$tmp/logits.npy" | grep -aq "'shape': (2, 3, 16)" || { echo "FAIL: logits.npy shape" >&2; failures=$((failures + 1)); }
printf '1 2 3\n4 5\n' >"$tmp/ragged"
expect 1 "ragged:2: every line must have the same number of ids" "$zoo" forward good --ids "$tmp/ragged" --out "$tmp/x.npy" --registry "$good"
printf '1 2 x\n' >"$tmp/bad"
expect 1 "bad:1: expected integers separated by spaces or commas" "$zoo" forward good --ids "$tmp/bad" --out "$tmp/x.npy" --registry "$good"
printf '1 2 99\n' >"$tmp/range"
expect 1 "forward failed: zoo_embedding: id 99 at position 2 is outside \[0, 16)" "$zoo" forward good --ids "$tmp/range" --out "$tmp/x.npy" --registry "$good"
expect 2 "\-\-ids FILE is required" "$zoo" forward good --out "$tmp/x.npy" --registry "$good"
expect 1 "/nonexistent: No such file or directory" "$zoo" forward good --ids /nonexistent --out "$tmp/x.npy" --registry "$good"

# --- foreign model directories: any directory that is not a zoo run is offered, in registry
# order, to every plugin that imports; each passes on a format not its own
mkdir "$tmp/notes"
printf 'not a model\n' >"$tmp/notes/notes.txt"
expect 1 "^zoo forward: $tmp/notes: no plugin imports this directory: it is not a zoo run (no latest.safetensors), and no plugin that imports models (bert, elmo, gpt) reads its files$" \
    "$zoo" forward "$tmp/notes" --ids "$tmp/ids" --out "$tmp/x.npy"
registry "$tmp/import.json" import_dir "$fixtures/import_dir.so" ', "imports": {"files": ["table.txt"]}'
expect 1 "no plugin that imports models (import_dir, bert, elmo, gpt) reads its files$" \
    "$zoo" forward "$tmp/notes" --ids "$tmp/ids" --out "$tmp/x.npy" --registry "$tmp/import.json"
expect 1 "^zoo tokenize: $tmp/notes: no plugin reads a tokenizer from this directory" \
    "$zoo" tokenize "$tmp/notes" --text "x" --registry "$tmp/import.json"
mkdir "$tmp/table" # import_dir's own format, no config.json: the table, every weight 0.25
printf '16 0.25\n' >"$tmp/table/table.txt"
expect 0 "" "$zoo" forward "$tmp/table" --ids "$tmp/ids" --out "$tmp/table.npy" --registry "$tmp/import.json"
[ "$(tail -c +129 "$tmp/table.npy" | od -An -v -tf4 | tr -s ' ' '\n' | grep -v '^$' | sort -u)" = 0.25 ] ||
    { echo "FAIL: forward of import_dir's directory: not its table of 0.25" >&2; failures=$((failures + 1)); }
printf '16\n' >"$tmp/table/table.txt"
expect 1 "^zoo forward: $tmp/table/table.txt: expected \"V X\"$" \
    "$zoo" forward "$tmp/table" --ids "$tmp/ids" --out "$tmp/x.npy" --registry "$tmp/import.json"
bert_dir="$(dirname "$0")/../../plugins/bert/tests/fixtures/bert-tiny" # still bert's, asked after import_dir
expect 0 "" "$zoo" forward "$bert_dir" --ids "$tmp/ids" --out "$tmp/bert.npy" --registry "$tmp/import.json"
head -c 128 "$tmp/bert.npy" | grep -aq "'shape': (2, 3, 61)" || { echo "FAIL: bert-tiny through the registry with import_dir" >&2; failures=$((failures + 1)); }

# --- registry pin, then a changed library is refused
cp "$fixtures/good.so" "$tmp/good.so"
registry "$tmp/pinned.json" good good.so ', "exports": [{"name": "vocab", "symbol": "fixture_vocab", "returns": "int64", "args": ["model"]}]'
expect 0 "^good  *[0-9a-f]\{64\}" "$zoo" registry pin "$tmp/pinned.json"
grep -q '"sha256":' "$tmp/pinned.json" || { echo "FAIL: no sha256 written" >&2; failures=$((failures + 1)); }
expect 0 "^16$" "$zoo" call good.vocab --registry "$tmp/pinned.json"
echo "tampered" >>"$tmp/good.so"
expect 1 "sha256 of plugin 'good' does not match" "$zoo" info good --registry "$tmp/pinned.json"
registry "$tmp/gone.json" gone gone.so
cp "$tmp/gone.json" "$tmp/gone.before"
expect 1 "gone.json: plugins\[0\].library: .*gone.so: No such file" "$zoo" registry pin "$tmp/gone.json"
cmp -s "$tmp/gone.json" "$tmp/gone.before" || { echo "FAIL: a failed pin changed the file" >&2; failures=$((failures + 1)); }

# --- drop-in directory
mkdir "$tmp/drop"
cp "$fixtures/good.so" "$tmp/drop/good.so"
echo '{"name": "good", "version": "2.0.0", "summary": "dropped in", "abi": "1.3"}' >"$tmp/drop/good.json"
ZOO_PLUGIN_PATH="$tmp/drop" expect 0 "^good  *2.0.0" "$zoo" list
ZOO_PLUGIN_PATH="$tmp/drop" expect 0 "shadowed" "$zoo" list --registry "$good"

# --- list: columns aligned whatever the path lengths, libraries resolved (no "dir/../"), and a
# shadowed entry names the source that wins
long="$tmp/a-registry-in-a-rather-long-directory-name/with/more/levels/than/the/table/expects"
mkdir -p "$long" "$tmp/libs"
cp "$fixtures/good.so" "$tmp/libs/good.so"
cat >"$long/long.json" <<JSON
{"format": 1, "plugins": [
  {"name": "good", "version": "1.0.0", "summary": "a bigram table for the loader tests",
   "library": "../../../../../../../../libs/good.so", "abi": "1.3"},
  {"name": "a_plugin_with_a_name_longer_than_fourteen", "version": "10.20.300-rc1",
   "summary": "a bigram table for the loader tests", "library": "$tmp/libs/../libs/good.so", "abi": "1.3"}]}
JSON
expect 0 "^good " "$zoo" list --registry "$long/long.json" --registry "$good"
grep -q '/\.\./' "$tmp/out" && fail "zoo list shows an unresolved path: $(grep '/\.\./' "$tmp/out")"
grep -q "^good  *1.0.0  *1.3  *$(cd "$tmp/libs" && pwd -P)/good.so  " "$tmp/out" ||
    fail "zoo list does not show the library resolved: $(cat "$tmp/out")"
awk '/^[^ ]/ { c = match($0, /^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/) ? RLENGTH : 0; if (!c || (col && c != col)) bad = 1; col = c }
     END { exit bad || !col }' "$tmp/out" || fail "zoo list: the SUMMARY column is not aligned: $(cat "$tmp/out")"
grep -q "^  shadowed: by the plugin named 'good' in $(cd "$long" && pwd -P)/long.json (this one is from $(cd "$tmp" && pwd -P)/good.json)$" \
    "$tmp/out" || fail "zoo list: the shadowed entry does not name the source that shadows it: $(cat "$tmp/out")"
expect 0 "\"shadowed_by\":	\"$(cd "$long" && pwd -P)/long.json\"" "$zoo" list --json --registry "$long/long.json" --registry "$good"

# --- docs/config-reference.md is generated: it must match what zoo prints now
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
"$zoo" info --config-reference >"$tmp/reference.md" 2>&1
cmp -s "$tmp/reference.md" "$source_dir/docs/config-reference.md" ||
    { echo "FAIL: docs/config-reference.md is stale: build/zoo info --config-reference > docs/config-reference.md" >&2; failures=$((failures + 1)); }

# --- word vectors: queries and evaluations on a hand-made file whose answers are known
printf '5 3\nman 1 0 0\nwoman 0 1 0\nking 1 0 1\nqueen 0 1 1\napple 0 0 -1\n' >"$tmp/vec.txt"
expect 0 "^queen 0.9586$" "$zoo" analogy "$tmp/vec.txt" man king woman --top 1
expect 0 "^man 0.7071$" "$zoo" similar "$tmp/vec.txt" KING --top 1
expect 0 '^{"results": \[{"word": "man", "cosine": 0.707107}, {"word": "queen", "cosine": 0.500000}\]}$' \
    "$zoo" similar "$tmp/vec.txt" king --top 2 --json
expect 1 "vec.txt: 'pear' is not among the 5 words" "$zoo" similar "$tmp/vec.txt" pear
expect 2 "^zoo analogy: C is required (see zoo analogy --help)$" "$zoo" analogy "$tmp/vec.txt" man king
expect 2 "^zoo similar: --top: expected an integer from 1 to 10000, got '0'$" "$zoo" similar "$tmp/vec.txt" man --top 0
expect 2 "^zoo eval-pairs: --restrict: expected an integer >= 0, got '-1'$" "$zoo" eval-pairs "$tmp/vec.txt" x --restrict -1
printf ': royal\nman king woman queen\nman king woman apple\nMan King Woman Pear\n' >"$tmp/questions.txt"
expect 0 "^overall accuracy 50.00% (1/2); coverage 66.67% (1 of 3 questions skipped)$" \
    "$zoo" eval-analogy "$tmp/vec.txt" "$tmp/questions.txt"
expect 0 "^royal  *50.00%  (1/2, 1 skipped)$" "$zoo" eval-analogy "$tmp/vec.txt" "$tmp/questions.txt"
printf ': royal\nman king woman\n' >"$tmp/bad-questions.txt"
expect 1 "bad-questions.txt:2: expected four words" "$zoo" eval-analogy "$tmp/vec.txt" "$tmp/bad-questions.txt"
printf '# word1\tword2\tscore\nking\tqueen\t5\nman\tking\t8\nking\tapple\t1\nking\tpear\t3\n' >"$tmp/pairs.tsv"
expect 0 "^spearman 1.0000 over 3 pairs; coverage 75.00% (1 skipped)$" "$zoo" eval-pairs "$tmp/vec.txt" "$tmp/pairs.tsv"
expect 0 "^spearman nan over 1 pairs" "$zoo" eval-pairs "$tmp/vec.txt" "$tmp/pairs.tsv" --restrict 3
printf '5 3\nman 1 0 0\nwoman 0 1\n' >"$tmp/short.txt"
expect 1 "short.txt" "$zoo" similar "$tmp/short.txt" man
vectors="$(dirname "$0")/../../../shared/data/embeddings_fixtures/euclidean_vectors.bin"
if [ -f "$vectors" ]; then
    expect 0 "" "$zoo" similar "$vectors" war --top 5
    [ "$(cut -d' ' -f1 "$tmp/out" | tr '\n' ' ')" = "conflict administration terrorism call israel " ] ||
        { echo "FAIL: the neighbours of 'war' in euclidean_vectors.bin" >&2; failures=$((failures + 1)); }
else
    echo "SKIP zoo similar on euclidean_vectors.bin: ../shared/data/embeddings_fixtures not found"
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures CLI check(s) failed" >&2
    exit 1
fi
echo "all CLI checks passed"
