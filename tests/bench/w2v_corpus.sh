#!/bin/sh
# The pre-tokenized corpus every word2vec implementation reads in
# compare_word2vec.sh: lower-cased (ASCII), every byte that is not a
# letter or digit replaced by a space, spaces squeezed and trimmed, one
# sentence per source line, empty lines dropped.
#   w2v_corpus.sh SRC OUT [FRACTION]
# FRACTION (default 1) keeps the first that fraction of the source's lines.
set -eu
[ $# -ge 2 ] || { echo "usage: w2v_corpus.sh SRC OUT [FRACTION]" >&2; exit 2; }
src=$1 out=$2 fraction=${3:-1}
[ -r "$src" ] || { echo "w2v_corpus: cannot read $src" >&2; exit 1; }
export LC_ALL=C
lines=$(wc -l <"$src")
keep=$(awk -v n="$lines" -v f="$fraction" 'BEGIN {
    if (f + 0 <= 0 || f + 0 > 1) { print "bad"; exit }
    k = n * f; if (k > int(k)) k = int(k) + 1; print int(k) }')
[ "$keep" != bad ] || { echo "w2v_corpus: FRACTION must be in (0, 1], not $fraction" >&2; exit 2; }
head -n "$keep" "$src" |
    tr 'A-Z' 'a-z' |
    tr -c 'a-z0-9\n' ' ' |
    tr -s ' ' |
    sed 's/^ //; s/ $//; /^$/d' >"$out.tmp"
mv "$out.tmp" "$out"
