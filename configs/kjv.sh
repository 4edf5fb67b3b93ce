#!/bin/sh
# Derives the bundled corpus, data/kjv.txt at the project root, from Debian's
# bible-kjv package (public domain): every verse of the King James Bible, one
# per line, without its reference ("Ge1:1 "). The shipped configs name it
# ../data/kjv.txt. Needs `bible` (apt-get install bible-kjv).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/kjv.txt"
command -v bible >/dev/null || { echo "kjv.sh: 'bible' not found: apt-get install bible-kjv" >&2; exit 1; }
mkdir -p "$root/data"
bible -f "Gen1:1-Rev22:21" | sed -E 's/^[0-9A-Za-z]+[0-9]+:[0-9]+ //' >"$out.tmp"
mv "$out.tmp" "$out"
echo "kjv.sh: $(wc -l <"$out") verses in $out"
