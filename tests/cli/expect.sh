# What the command-line tests share, sourced by each after it has set $tmp
# (a scratch directory) and failures=0:
#   fail MESSAGE               counts a failure and says what failed
#   expect CODE PATTERN CMD... runs CMD; its exit code must be CODE and, when
#                              PATTERN is not empty, a line of its stdout or
#                              stderr must match the grep pattern
#   expect_shape FILE.npy SHAPE  the array's shape, "(3, 5, 16)" as the
#                              header writes it
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

expect() {
    code=$1 pattern=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$code" ] || { [ -n "$pattern" ] && ! cat "$tmp/out" "$tmp/err" | grep -q -- "$pattern"; }; then
        fail "$* (expected exit $code and /$pattern/, got exit $got)"
        sed 's/^/  | /' "$tmp/out" "$tmp/err" >&2
    fi
}

npy_shape() { head -c 128 "$1" | grep -ao "'shape': ([0-9, ]*)" | sed "s/'shape': //"; }
expect_shape() {
    [ "$(npy_shape "$1")" = "$2" ] || fail "$1: shape $(npy_shape "$1"), expected $2"
}

# word_corpus N [printable]: N lines of 3 to 10 words drawn from 15, each
# ending in "." (the same lines for the same N); with "printable", a last
# line of every printable ASCII character (a char vocabulary of about 95)
word_corpus() {
    awk -v n="$1" -v printable="${2:-}" 'BEGIN { srand(7);
        split("the lord god said unto him and they were in land of people day", w, " ");
        for (i = 0; i < n; i++) { k = 3 + int(rand() * 8); s = w[1 + int(rand() * 15)];
          for (j = 1; j < k; j++) s = s " " w[1 + int(rand() * 15)]; print s "." }
        if (printable != "") { s = ""; for (c = 32; c < 127; c++) s = s sprintf("%c", c); print s } }'
}

# two_kinds_corpus: 2400 lines "land<TAB>sentence." and "sea<TAB>sentence.",
# alternating, each sentence 4 to 9 words from its kind's own words (the
# tiny comparison's corpus and probe, test_compare.sh and test_compare_mpi.sh)
two_kinds_corpus() {
    awk 'BEGIN { srand(11); split("the lord god said unto him and they were", a, " ");
      split("ships sail over seas with oars sails winds and waves", b, " ");
      for (i = 0; i < 2400; i++) { k = i % 2; n = 4 + int(rand() * 6); s = "";
        for (j = 0; j < n; j++) s = s (j ? " " : "") (k ? b[1 + int(rand() * 10)] : a[1 + int(rand() * 9)]);
        print (k ? "sea" : "land") "\t" s "." } }'
}
# two_kinds_files: two_kinds_corpus cut, in the current directory, into the
# tiny comparison's corpus.txt (2000 sentences), heldout.txt (100) and its
# probe's probe-train.tsv (150) and probe-test.tsv (150), with all.tsv
two_kinds_files() {
    two_kinds_corpus >all.tsv
    head -2000 all.tsv | cut -f2 >corpus.txt
    sed -n 2001,2100p all.tsv | cut -f2 >heldout.txt
    sed -n 2101,2250p all.tsv >probe-train.tsv
    sed -n 2251,2400p all.tsv >probe-test.tsv
}

# sentiment_corpus: 40 lines "pos WORDS" and "neg WORDS", alternating, five
# words each, "lord" among a positive line's and "people" among a negative
# one's (zoo finetune's examples in sst format: test_runs.sh, test_quantize.sh)
sentiment_corpus() {
    awk 'BEGIN { srand(11); split("god said unto him and they were in land of day", w, " ");
      for (i = 0; i < 40; i++) { pos = i % 2; s = pos ? "pos" : "neg"; at = 1 + int(rand() * 4);
        for (j = 0; j < 5; j++) s = s " " (j == at ? (pos ? "lord" : "people") : w[1 + int(rand() * 11)]);
        print s } }'
}
