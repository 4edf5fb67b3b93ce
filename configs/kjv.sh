#!/bin/sh
# Derives the bundled corpus, data/kjv.txt at the project root, from Debian's
# bible-kjv package (public domain): every verse of the King James Bible, one
# per line, without its reference ("Ge1:1 "), which goes to data/kjv.refs,
# line for line. The shipped configs name it ../data/kjv.txt. Needs `bible`
# (apt-get install bible-kjv).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/kjv.txt"
command -v bible >/dev/null || { echo "kjv.sh: 'bible' not found: apt-get install bible-kjv" >&2; exit 1; }
mkdir -p "$root/data"
refs="$root/data/kjv.refs"
bible -f "Gen1:1-Rev22:21" >"$out.raw"
sed -E 's/^[0-9A-Za-z]+[0-9]+:[0-9]+ //' "$out.raw" >"$out.tmp"
# the references stripped from the text, line by line beside it: "Ge 1 1" (book,
# chapter, verse; the package's abbreviations, 66 books from Ge to Rev), for
# probes that need them (zoo compare's testament and book-group tasks)
sed -E 's/^([0-9]?[A-Za-z]+)([0-9]+):([0-9]+) .*/\1 \2 \3/' "$out.raw" >"$refs.tmp"
rm "$out.raw"
mv "$out.tmp" "$out"
mv "$refs.tmp" "$refs"
echo "kjv.sh: $(wc -l <"$out") verses in $out, their references in $refs"
