#!/bin/sh
# zoo embed as users run it, on the tiny BERT of plugins/bert/tests/fixtures
# (two layers: three hidden states) and a hand-made word2vec file: one layer,
# every layer, the scalar mix, and one sequence per line of --text-file,
# each against what the command gives for the parts alone.
#   test_embed.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
bert="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-embed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"


# data FILE.npy: the raw floats after the header (version 1.0: 10 bytes + HEADER_LEN)
data() {
    n=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
    tail -c +$((11 + n)) "$1"
}
# floats FILE.npy: one float a line, all the digits a float32 has
floats() { data "$1" | od -An -v -tf4 -w4 | tr -d ' '; }
# same_bits WHAT A.npy B.npy [SKIP COUNT]: A's data (or COUNT bytes of it from SKIP) is B's data
same_bits() {
    data "$2" >"$tmp/a.bin"
    data "$3" >"$tmp/b.bin"
    if [ $# -ge 5 ]; then
        tail -c +$(($4 + 1)) "$tmp/a.bin" | head -c "$5" >"$tmp/a.part"
        mv "$tmp/a.part" "$tmp/a.bin"
    fi
    cmp -s "$tmp/a.bin" "$tmp/b.bin" || fail "$1: not the same floats, bit for bit"
}
# close WHAT EXPECTED GOT: two columns of floats within 1e-5 relative + 1e-6
close() {
    [ "$(wc -l <"$2")" = "$(wc -l <"$3")" ] || { fail "$1: $(wc -l <"$2") floats expected, $(wc -l <"$3") given"; return; }
    paste "$2" "$3" | awk -v what="$1" '{ d = $1 - $2; if (d < 0) d = -d; a = $1 < 0 ? -$1 : $1
        if (d > 1e-5 * a + 1e-6) { printf "FAIL: %s: float %d is %s, expected %s\n", what, NR, $2, $1 > "/dev/stderr"; bad = 1; exit } }
        END { exit bad }' || failures=$((failures + 1))
}

# --- one layer, every layer: [CLS] the cat sat [SEP] is 5 tokens of 16 values, in 3 layers
text="the cat sat"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/default.npy"
expect_shape "$tmp/default.npy" "(5, 16)"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/all.npy" --layer all
expect_shape "$tmp/all.npy" "(3, 5, 16)"
for l in 0 1 2; do
    expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/l$l.npy" --layer $l
    expect_shape "$tmp/l$l.npy" "(5, 16)"
    same_bits "--layer all, layer $l" "$tmp/all.npy" "$tmp/l$l.npy" $((l * 320)) 320
done
same_bits "the default layer (BERT's last)" "$tmp/l2.npy" "$tmp/default.npy"
cmp -s "$tmp/l0.npy" "$tmp/l1.npy" && fail "layers 0 and 1 are the same: the test could not tell them apart"

# --- the scalar mix, against the three layers mixed here (awk, in double)
floats "$tmp/l0.npy" >"$tmp/f0"
floats "$tmp/l1.npy" >"$tmp/f1"
floats "$tmp/l2.npy" >"$tmp/f2"
mix() { # mix W0 W1 W2 GAMMA: gamma * sum_j softmax(w)_j * layer_j, a float a line
    paste "$tmp/f0" "$tmp/f1" "$tmp/f2" | awk -v w0="$1" -v w1="$2" -v w2="$3" -v g="$4" '
        BEGIN { m = w0; if (w1 > m) m = w1; if (w2 > m) m = w2
                e0 = exp(w0 - m); e1 = exp(w1 - m); e2 = exp(w2 - m); s = e0 + e1 + e2 }
        { printf "%.9g\n", g * (e0 / s * $1 + e1 / s * $2 + e2 / s * $3) }'
}
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/mix.npy" --layer mix
expect_shape "$tmp/mix.npy" "(5, 16)"
mix 0 0 0 1 >"$tmp/want"
floats "$tmp/mix.npy" >"$tmp/got"
close "--layer mix (equal weights, gamma 1)" "$tmp/want" "$tmp/got"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/mixw.npy" --mix 0.5,-1,2
mix 0.5 -1 2 1 >"$tmp/want"
floats "$tmp/mixw.npy" >"$tmp/got"
close "--mix 0.5,-1,2" "$tmp/want" "$tmp/got"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/mixg.npy" --layer mix --mix 0.5,-1,2,0.25
mix 0.5 -1 2 0.25 >"$tmp/want"
floats "$tmp/mixg.npy" >"$tmp/got"
close "--mix 0.5,-1,2,0.25 (gamma last)" "$tmp/want" "$tmp/got"
expect 1 "^zoo embed: --mix: 2 numbers for a model of 3 layers: give 3 weights, or 4 with gamma last$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --mix 1,2
expect 1 "^zoo embed: --mix: 5 numbers for a model of 3 layers" "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --mix 1,2,3,4,5
expect 2 "^zoo embed: --mix mixes every layer: it goes with --layer mix, not all$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --layer all --mix 1,2,3
expect 2 "^zoo embed: --mix mixes every layer: it goes with --layer mix, not 1$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --layer 1 --mix 1,2,3
expect 2 "^zoo embed: --mix: expected numbers separated by commas, got '1,,2'$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --mix 1,,2
expect 2 "^zoo embed: --layer: expected an integer >= -1, all or mix, got 'top'$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --layer top
expect 1 "^zoo embed: embed: bert: layer 3: the model has 2 layers$" \
    "$zoo" embed "$bert" --text "$text" --out "$tmp/x.npy" --layer 3

# --- pooled, and one sequence a line: each line as --text would give it
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/mean.npy" --pool mean
expect_shape "$tmp/mean.npy" "(16,)"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/mean-all.npy" --pool mean --layer all
expect_shape "$tmp/mean-all.npy" "(3, 16)"
expect 0 "" "$zoo" embed "$bert" --text "$text" --out "$tmp/cls-all.npy" --pool cls --layer all
expect_shape "$tmp/cls-all.npy" "(3, 1, 16)"
printf 'the cat sat\n\n   \nthe dog ran in the park\r\n' >"$tmp/lines.txt"
a="the cat sat" b="the dog ran in the park"
for pool in none cls mean; do
    expect 0 "" "$zoo" embed "$bert" --text "$a" --out "$tmp/a-$pool.npy" --pool $pool
    expect 0 "" "$zoo" embed "$bert" --text "$b" --out "$tmp/b-$pool.npy" --pool $pool
    expect 0 "" "$zoo" embed "$bert" --text-file "$tmp/lines.txt" --out "$tmp/f-$pool.npy" --pool $pool
    { data "$tmp/a-$pool.npy"; data "$tmp/b-$pool.npy"; } >"$tmp/want.bin"
    data "$tmp/f-$pool.npy" >"$tmp/got.bin"
    cmp -s "$tmp/want.bin" "$tmp/got.bin" || fail "--text-file --pool $pool: not the lines' own rows, one after another"
done
expect_shape "$tmp/f-none.npy" "(13, 16)" # 5 + 8 tokens
expect_shape "$tmp/f-cls.npy" "(2, 16)"
expect_shape "$tmp/f-mean.npy" "(2, 16)"
expect 0 "" "$zoo" embed "$bert" --text-file "$tmp/lines.txt" --out "$tmp/f-all.npy" --pool mean --layer all
expect_shape "$tmp/f-all.npy" "(3, 2, 16)"
for l in 0 1 2; do
    expect 0 "" "$zoo" embed "$bert" --text "$a" --out "$tmp/a$l.npy" --pool mean --layer $l
    expect 0 "" "$zoo" embed "$bert" --text "$b" --out "$tmp/b$l.npy" --pool mean --layer $l
    same_bits "--text-file --layer all --pool mean: layer $l, line 1" "$tmp/f-all.npy" "$tmp/a$l.npy" $((l * 128)) 64
    same_bits "--text-file --layer all --pool mean: layer $l, line 2" "$tmp/f-all.npy" "$tmp/b$l.npy" $((l * 128 + 64)) 64
done
printf '\n  \n\n' >"$tmp/blank.txt"
expect 1 "^zoo embed: $tmp/blank.txt: no line holds any text$" "$zoo" embed "$bert" --text-file "$tmp/blank.txt" --out "$tmp/x.npy"

# --- a word2vec file: one layer, a row per word, a mean per line
printf '3 2\nthe 1 2\ncat 3 5\nsat -1 0.5\n' >"$tmp/w2v.txt"
printf 'the cat\ncat sat sat\n' >"$tmp/w-lines.txt"
expect 0 "" "$zoo" embed "$tmp/w2v.txt" --text-file "$tmp/w-lines.txt" --out "$tmp/w-mean.npy" --pool mean
expect_shape "$tmp/w-mean.npy" "(2, 2)"
[ "$(floats "$tmp/w-mean.npy" | tr '\n' ' ')" = "2 3.5 0.33333334 2 " ] ||
    fail "word2vec --text-file --pool mean: $(floats "$tmp/w-mean.npy" | tr '\n' ' ')"
expect 0 "" "$zoo" embed "$tmp/w2v.txt" --text-file "$tmp/w-lines.txt" --out "$tmp/w-all.npy" --layer all
expect_shape "$tmp/w-all.npy" "(1, 5, 2)"
expect 0 "" "$zoo" embed "$tmp/w2v.txt" --text "the sat" --out "$tmp/w-mix.npy" --mix 7,2
[ "$(floats "$tmp/w-mix.npy" | tr '\n' ' ')" = "2 4 -2 1 " ] || fail "word2vec --mix 7,2 (gamma 2): $(floats "$tmp/w-mix.npy" | tr '\n' ' ')"

# --- in a run script, as on the command line
cat >"$tmp/script.json" <<JSON
{"steps": [{"embed": "$bert", "text": "$text", "layer": "all", "out": "s-all.npy"},
           {"embed": "$bert", "text": "$text", "mix": "0.5,-1,2", "out": "s-mix.npy"}]}
JSON
expect 0 "" "$zoo" run "$tmp/script.json"
same_bits "a run script's embed --layer all" "$tmp/s-all.npy" "$tmp/all.npy"
same_bits "a run script's embed --mix" "$tmp/s-mix.npy" "$tmp/mixw.npy"

if [ "$failures" -gt 0 ]; then
    echo "$failures embed check(s) failed" >&2
    exit 1
fi
echo "all embed checks passed"
