#!/bin/sh
# Derives the bundled corpus, data/kjv.txt at the project root, from Debian's
# bible-kjv package (public domain): every verse of the King James Bible, one
# per line, without its reference ("Ge1:1 "), which goes to data/kjv.refs,
# line for line, and zoo compare's split of it (below). The shipped configs
# name it ../data/kjv.txt. Needs `bible`
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

# zoo compare's split (configs/compare-kjv.json), by chapter so that no probe
# verse was seen in pretraining: of the 1,189 chapters in canonical order,
# every 20th from the 4th is for the probes' training examples, every 20th
# from the 14th for their test examples, every 20th from the 9th is held-out
# text for the language models; the rest is pretraining text. The probes
# label each verse by testament (OT, NT) and by book group (law, history,
# wisdom, prophets, gospels-acts, epistles, revelation).
split="$root/data/kjv-compare"
mkdir -p "$split"
paste -d '\t' "$refs" "$out" | awk -F '\t' -v dir="$split" '
BEGIN {
    n = split("Ge Exo Lev Num Deu Josh Jdgs Ruth 1Sm 2Sm 1Ki 2Ki 1Chr 2Chr Ezra Neh Est Job Psa " \
              "Prv Eccl SSol Isa Jer Lam Eze Dan Hos Joel Amos Obad Jonah Mic Nahum Hab Zep Hag " \
              "Zec Mal Mat Mark Luke John Acts Rom 1Cor 2Cor Gal Eph Phi Col 1Th 2Th 1Tim 2Tim " \
              "Titus Phmn Heb Jas 1Pet 2Pet 1Jn 2Jn 3Jn Jude Rev", books, " ")
    if (n != 66) { print "kjv.sh: expected 66 books" > "/dev/stderr"; exit 1 }
    for (i = 1; i <= n; i++) order[books[i]] = i
}
{
    split($1, ref, " ")
    b = order[ref[1]]
    if (!b) { print "kjv.sh: unknown book " ref[1] > "/dev/stderr"; exit 1 }
    if (ref[1] != book || ref[2] != chapter) { chapters++; book = ref[1]; chapter = ref[2] }
    testament = b <= 39 ? "OT" : "NT"
    group = b <= 5 ? "law" : b <= 17 ? "history" : b <= 22 ? "wisdom" : b <= 39 ? "prophets" : \
            b <= 44 ? "gospels-acts" : b <= 65 ? "epistles" : "revelation"
    c = (chapters - 1) % 20
    if (c == 3 || c == 13) {
        part = c == 3 ? "train" : "test"
        print testament "\t" $2 > (dir "/testament-" part ".tsv")
        print group "\t" $2 > (dir "/group-" part ".tsv")
    } else if (c == 8)
        print $2 > (dir "/heldout.txt")
    else
        print $2 > (dir "/pretrain.txt")
}
END { if (chapters != 1189) { print "kjv.sh: expected 1189 chapters, got " chapters > "/dev/stderr"; exit 1 } }'
echo "kjv.sh: zoo compare's split in $split: $(wc -l <"$split/pretrain.txt") pretraining verses, $(wc -l <"$split/heldout.txt") held out, $(wc -l <"$split/testament-train.tsv") + $(wc -l <"$split/testament-test.tsv") probe verses"
