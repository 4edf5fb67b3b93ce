#!/bin/sh
# zoo probe as users (and zoo compare) run it. A task whose label is decided
# by which of two word sets an example uses; a bigram model trained here for
# a few steps on BERT's tiny vocabulary (so [CLS] and [SEP] wrap every text,
# and each vector depends on its token alone), the tiny BERT fixture (whose
# context, 24 positions, is shorter than the long examples) and a
# hand-made word2vec file. Checked: the probe beats the majority class, the
# JSON holds its fields, the three formats read alike, windows change
# nothing where they must not (bit for bit: the same fit), a long text is
# refused unless windows are asked for, and each error names its file or option.
#   test_probe.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-probe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"

# examples N SEED MIN MAX: N lines "LABEL<TAB>TEXT" of MIN to MAX words of the
# vocabulary, a third of them neg; about a third of the words are cues of
# the label's set (pos: happy good sun ..., neg: sad slow night ...), the
# last word always one
examples() {
    awk -v n="$1" -v seed="$2" -v lo="$3" -v hi="$4" 'BEGIN { srand(seed)
        split("the a cat dog it ran sat on in park", w, " ")
        split("happy good sun day bird fly", p, " "); split("sad slow night moon old sleep", q, " ")
        for (i = 0; i < n; i++) { pos = i % 3 != 0; s = pos ? "pos\t" : "neg\t"; k = lo + int(rand() * (hi - lo + 1))
            for (j = 1; j < k; j++) s = s (rand() < 0.3 ? (pos ? p[1 + int(rand() * 6)] : q[1 + int(rand() * 6)]) : w[1 + int(rand() * 10)]) " "
            print s (pos ? p[1 + int(rand() * 6)] : q[1 + int(rand() * 6)]) } }'
}
examples 90 3 3 9 >"$tmp/train.tsv"
examples 30 4 3 9 >"$tmp/test.tsv"
examples 40 5 3 40 >"$tmp/long-train.tsv" # up to 42 tokens with [CLS] and [SEP]
examples 20 6 3 40 >"$tmp/long-test.tsv"

# field FILE KEY: a number's value in the one-line JSON object
field() { grep -o "\"$2\": [-0-9.e+]*" "$1" | sed 's/.*: //'; }
# what a fit gives, without the timings and the windows' count
fit_of() { sed -E 's/"(seconds|windows|window|embed_seconds)": [0-9.e+-]*, //g' "$1"; }

# --- a bigram over BERT's tiny vocabulary, a few steps
awk 'BEGIN { srand(5); split("the a cat dog it ran sat on in park happy good sun day bird fly sad slow night moon old sleep", w, " ")
      for (i = 0; i < 2000; i++) { n = 3 + int(rand() * 8); s = w[1 + int(rand() * 22)]
        for (j = 1; j < n; j++) s = s " " w[1 + int(rand() * 22)]; print s " ." } }' >"$tmp/corpus.txt"
cat >"$tmp/bigram.json" <<JSON
{"model": {"plugin": "bigram"},
 "data": {"train": "corpus.txt", "tokenizer": {"type": "wordpiece", "path": "$bert/vocab.txt"}, "seq_len": 16},
 "train": {"steps": 20, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "eval_every": 0, "checkpoint_every": 0}}
JSON
expect 0 "" "$zoo" train "$tmp/bigram.json" --out "$tmp/bigram" --quiet
expect 0 "^2 5 7 3$" "$zoo" tokenize "$tmp/bigram" --text "the cat" # [CLS] the cat [SEP]

# --- the probe beats the majority class; the JSON has every field
expect 0 "" "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --json
cp "$tmp/out" "$tmp/bigram.json.out"
for key in accuracy majority train_accuracy classes labels train_examples test_examples pool layer \
    layers dim iterations stop seconds windows; do
    grep -q "\"$key\": " "$tmp/bigram.json.out" || fail "probe --json: no \"$key\" in $(cat "$tmp/bigram.json.out")"
done
grep -q '"labels": \["neg", "pos"\], "train_examples": 90, "test_examples": 30, "pool": "mean", "layer": -1, "layers": 1, "dim": 61,' \
    "$tmp/bigram.json.out" || fail "probe --json: $(cat "$tmp/bigram.json.out")"
[ "$(field "$tmp/bigram.json.out" majority)" = 0.6666666667 ] || fail "probe: the majority class of the test set is 20 of 30"
awk -v a="$(field "$tmp/bigram.json.out" accuracy)" -v m="$(field "$tmp/bigram.json.out" majority)" \
    'BEGIN { exit !(a >= 0.9 && a > m) }' || fail "probe: accuracy $(field "$tmp/bigram.json.out" accuracy) does not beat the majority class"
expect 0 "^test accuracy [01]\.[0-9]*  (majority class 0\.6667; train accuracy [01]\.[0-9]*; 2 classes, 90 train and 30 test examples)$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/test.tsv"
grep -q "L-BFGS: [0-9]* iterations" "$tmp/out" || fail "probe: no fit line: $(cat "$tmp/out")"

# --- the formats read alike
tr '\t' ' ' <"$tmp/train.tsv" >"$tmp/train.sst"
tr '\t' ' ' <"$tmp/test.tsv" >"$tmp/test.sst"
sed 's/^\([a-z]*\)\t/\1:x /' "$tmp/train.tsv" >"$tmp/train.trec"
sed 's/^\([a-z]*\)\t/\1:y /' "$tmp/test.tsv" >"$tmp/test.trec"
fit_of "$tmp/bigram.json.out" >"$tmp/fit-tsv"
for format in sst trec; do
    expect 0 "" "$zoo" probe "$tmp/bigram" --train "$tmp/train.$format" --test "$tmp/test.$format" --format $format --json
    fit_of "$tmp/out" >"$tmp/fit-$format"
    cmp -s "$tmp/fit-tsv" "$tmp/fit-$format" || fail "--format $format: another fit than tsv's: $(cat "$tmp/fit-$format")"
done

# --- windows: a model whose vectors are its tokens' alone gives the same
# features in any windows ([CLS] and [SEP] counted once, each token once):
# the same fit, bit for bit
for pool in mean cls last; do
    expect 0 "" "$zoo" probe "$tmp/bigram" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --pool $pool --json
    [ "$(field "$tmp/out" windows)" = 0 ] || fail "--pool $pool: windows without --window"
    fit_of "$tmp/out" >"$tmp/whole"
    for window in 3 4 7 16; do
        expect 0 "" "$zoo" probe "$tmp/bigram" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --pool $pool \
            --window $window --json
        [ "$(field "$tmp/out" windows)" -gt 0 ] || fail "--pool $pool --window $window: no example took windows"
        fit_of "$tmp/out" >"$tmp/windowed"
        cmp -s "$tmp/whole" "$tmp/windowed" ||
            fail "--pool $pool --window $window: another fit than whole examples give:$(printf '\n  %s\n  %s' "$(cat "$tmp/whole")" "$(cat "$tmp/windowed")")"
    done
done
fit_of "$tmp/out" >"$tmp/last" # the pools differ, or the checks above could not tell them apart
expect 0 "" "$zoo" probe "$tmp/bigram" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --pool cls --json
fit_of "$tmp/out" >"$tmp/cls"
cmp -s "$tmp/last" "$tmp/cls" && fail "--pool last and cls fit alike"
expect 2 "^zoo probe: --window 2: each window also holds the \[CLS\] and \[SEP\]" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --window 2

# --- BERT reads 24 positions: a longer example is refused whole (--window 0), and embedded in
# windows of its context by default (its card's max_position_embeddings) or as asked
expect 1 "^zoo probe: --train $tmp/long-train.tsv: embed: .*exceed max_position_embeddings 24" \
    "$zoo" probe "$bert" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --window 0
expect 0 '"window": 24,' "$zoo" probe "$bert" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --json
cp "$tmp/out" "$tmp/default-window.json"
expect 0 "" "$zoo" probe "$bert" --train "$tmp/long-train.tsv" --test "$tmp/long-test.tsv" --window 24 --json
sed -E 's/"(seconds|embed_seconds)": [0-9.e+-]*//g' "$tmp/out" >"$tmp/w24"
sed -E 's/"(seconds|embed_seconds)": [0-9.e+-]*//g' "$tmp/default-window.json" >"$tmp/wdef"
cmp -s "$tmp/w24" "$tmp/wdef" || fail "probe: the default window is not the model's context of 24"
long=$(awk -F'\t' '{ if (split($2, w, " ") + 2 > 24) n++ } END { print n }' "$tmp/long-train.tsv" "$tmp/long-test.tsv")
[ "$(field "$tmp/out" windows)" = "$long" ] || fail "--window 24: $(field "$tmp/out" windows) examples in windows, $long are longer than 24 tokens"
# short examples take one window: the same as whole
expect 0 "" "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --json
fit_of "$tmp/out" >"$tmp/whole"
expect 0 "" "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --window 24 --json
fit_of "$tmp/out" >"$tmp/windowed"
cmp -s "$tmp/whole" "$tmp/windowed" || fail "--window 24 changes examples shorter than it"
# every layer, mixed by the probe
expect 0 '"layer": "all", "layers": 3, "dim": 16' "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --layer all --json
expect 0 '"layer": "mix", "layers": 3, "dim": 16' "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --layer mix --json
expect 0 '"layer": 1, "layers": 1, "dim": 16' "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --layer 1 --json
expect 0 '"pool": "cls"' "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool cls --l2 0.01 --max-iter 5 --json
[ "$(field "$tmp/out" iterations)" -le 5 ] || fail "--max-iter 5: $(field "$tmp/out" iterations) iterations"
# BERT's pooled output ([CLS] through the pooler): one vector of the model's width, its own fit
expect 0 '"pool": "pooler", "layer": -1, "layers": 1, "dim": 16' "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool pooler --json
fit_of "$tmp/out" >"$tmp/pooler"
expect 0 "" "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool cls --json
fit_of "$tmp/out" >"$tmp/cls"
cmp -s "$tmp/pooler" "$tmp/cls" && fail "--pool pooler fits what --pool cls fits: not the pooler's output"
expect 2 "^zoo probe: --pool pooler: the pooled output is one layer's: no --layer" \
    "$zoo" probe "$bert" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool pooler --layer 1
expect 1 "--pool pooler: a bigram model has no pooled output" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool pooler

# --- a word2vec file: the mean of the words it knows; none known: zeros, counted
{
    echo "14 2"
    for w in happy good sun day bird fly; do echo "$w 1 0.1"; done
    for w in sad slow night moon old sleep; do echo "$w 0.1 1"; done
    echo "the 0.5 0.5"
    echo "cat 0.2 0.3"
} >"$tmp/w2v.txt"
printf 'pos\tzebra quokka\n' >>"$tmp/w2v-test.tsv"
cat "$tmp/test.tsv" >>"$tmp/w2v-test.tsv"
expect 0 "" "$zoo" probe "$tmp/w2v.txt" --train "$tmp/train.tsv" --test "$tmp/w2v-test.tsv" --json
grep -q '"layers": 1, "dim": 2,' "$tmp/out" || fail "word2vec: $(cat "$tmp/out")"
[ "$(field "$tmp/out" empty_examples)" = 1 ] || fail "word2vec: the example of unknown words is not counted"
awk -v a="$(field "$tmp/out" accuracy)" 'BEGIN { exit !(a >= 30 / 31 - 1e-9) }' ||
    fail "word2vec: accuracy $(field "$tmp/out" accuracy), expected every example right but perhaps the empty one"

# --- errors name the file or the option
expect 1 "^zoo probe: --train: $tmp/none.tsv: No such file or directory$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/none.tsv" --test "$tmp/test.tsv"
: >"$tmp/empty.tsv"
expect 1 "^zoo probe: --test: corpus is empty: $tmp/empty.tsv has no text$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/empty.tsv"
printf '\n\r\n\n' >"$tmp/blank.tsv"
expect 1 "^zoo probe: --test $tmp/blank.tsv: no examples$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/blank.tsv"
grep '^pos' "$tmp/train.tsv" >"$tmp/one.tsv"
expect 1 "^zoo probe: --train $tmp/one.tsv: every example has the label 'pos': a probe needs two classes at least$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/one.tsv" --test "$tmp/test.tsv"
printf 'pos\tthe cat\nmaybe\tthe dog\n' >"$tmp/odd.tsv"
expect 1 "^zoo probe: $tmp/odd.tsv:2: a label the training examples do not have" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/odd.tsv"
printf 'pos the cat\n\nnolabel\n' >"$tmp/bad.sst"
expect 1 "^zoo probe: $tmp/bad.sst:3: expected a label, then the text$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/bad.sst" --test "$tmp/test.sst" --format sst
expect 2 "^zoo probe: --pool: expected mean, last, cls or pooler, got 'max'$" \
    "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv" --test "$tmp/test.tsv" --pool max
expect 2 "^zoo probe: --test FILE is required" "$zoo" probe "$tmp/bigram" --train "$tmp/train.tsv"
expect 1 "^zoo probe: $tmp/nomodel" "$zoo" probe "$tmp/nomodel" --train "$tmp/train.tsv" --test "$tmp/test.tsv"

if [ "$failures" -gt 0 ]; then
    echo "$failures probe check(s) failed" >&2
    exit 1
fi
echo "probe: all checks passed"
