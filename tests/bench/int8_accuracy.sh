#!/bin/sh
# What int8 inference (--quantize int8, the bits zoo quantize writes) costs in
# accuracy against float32, model by model (issue 18). Prints a markdown table,
# one row per model and measure:
#   eval       held-out loss and perplexity (zoo eval RUN --json, which scores
#              the run's own held-out split): both values and the relative
#              difference (goal: within 1%)
#   embed      per-token cosine of the int8 vectors to float32's over N_LINES
#              held-out lines (one embed --text-file process each): the mean
#              and the smallest (goal: mean >= 0.99); for a model with several
#              layers (ELMo, BERT) the same per layer of --layer all
#   fill-mask  masked LMs: top-1 agreement with float32 over N_LINES held-out
#              lines, one word of each replaced by [MASK] (goal: >= 95%)
#   generate   causal LMs: greedy (--temperature 0) continuations of N_PROMPTS
#              prompts, the first 5 words of held-out lines: the share whose
#              first 20 new tokens are float32's exactly
#   forward    a model without held-out text (a HuggingFace directory such as
#              the test fixtures): cosine of the logits and of the hidden
#              states per position for its ids.txt, and embed over a few fixed
#              sentences
# Held-out text: a run's data.val files when it has them, else the last
# N_LINES non-blank lines of its data.train files (config.json), which fall in
# the held-out split as long as N_LINES is under data.val_fraction of the lines
# (checked: a note says when they do not). Lines of more than MAX_WORDS words
# are left out so every text fits the models' contexts.
# A command a model's plugin cannot run is skipped with zoo's reason as the
# note. Every zoo command runs alone with --threads 1.
#   int8_accuracy.sh BUILD_DIR MODEL...
#   (environment: N_LINES=200 N_PROMPTS=50 MAX_WORDS=40)
set -u
[ $# -ge 2 ] || { echo "usage: int8_accuracy.sh BUILD_DIR MODEL..." >&2; exit 2; }
zoo="$(cd "$1" && pwd)/zoo"
shift
[ -x "$zoo" ] || { echo "int8_accuracy.sh: no zoo in the build directory" >&2; exit 2; }
n_lines=${N_LINES:-200}
n_prompts=${N_PROMPTS:-50}
max_words=${MAX_WORDS:-40}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-int8-acc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_INT8_KERNEL

z() { "$zoo" "$@" --threads 1; }
# zq Q CMD ARGS...: the zoo command in float32 (Q = 32) or int8 (Q = 8); @Q@
# in an argument becomes Q (a file name per precision)
zq() {
    q=$1
    shift
    i=$#
    while [ "$i" -gt 0 ]; do
        a=$1
        shift
        case $a in *@Q@*) a=$(printf '%s\n' "$a" | sed "s/@Q@/$q/g") ;; esac
        set -- "$@" "$a"
        i=$((i - 1))
    done
    if [ "$q" = 8 ]; then set -- "$@" --quantize int8; fi
    z "$@"
}
# both CMD ARGS...: float32's stdout appended to $tmp/o32, int8's to $tmp/o8;
# on failure the first line of zoo's message is in $tmp/why
both() {
    for q in 32 8; do
        zq $q "$@" >>"$tmp/o$q" 2>"$tmp/err" || {
            grep -v '^$' "$tmp/err" | head -1 | sed 's/^zoo [a-z-]*: //; s/|/\\|/g' >"$tmp/why"
            return 1
        }
    done
}
fresh() { rm -f "$tmp/o32" "$tmp/o8" "$tmp"/*.npy; }
row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
skip() { row "$name" "$1" - - - - "skipped: $(cat "$tmp/why")"; }
# met VALUE OP GOAL: "yes" or "**no**"
met() { awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN { ok = op == ">=" ? v >= g : v <= g; print ok ? "yes" : "**no**" }'; }

# config_paths RUN KEY: the paths of data.KEY (a string or an array of them)
# in the run's resolved config.json (tab-indented, as zoo writes it), one a
# line, relative ones made absolute against the run
config_paths() {
    awk -v key="$2" '
        /^\t"[a-z_]+":/ { section = $1; gsub(/[":]/, "", section) }
        section == "data" && $0 ~ "^\t\t\"" key "\":" { grab = 1 }
        grab { buf = buf $0; if ($0 !~ /\[/ || $0 ~ /\]/) grab = 0 }
        END { while (match(buf, /"[^"]*"/)) { s = substr(buf, RSTART + 1, RLENGTH - 2);
                  buf = substr(buf, RSTART + RLENGTH); if (s != key) print s } }' "$1/config.json" |
        while IFS= read -r p; do
            case $p in /*) echo "$p" ;; *) echo "$1/$p" ;; esac
        done
}
config_number() {
    awk -v key="$2" '/^\t"[a-z_]+":/ { section = $1; gsub(/[":]/, "", section) }
        section == "data" && $0 ~ "^\t\t\"" key "\":" { v = $2; gsub(/,/, "", v); print v }' "$1/config.json"
}

# heldout RUN: up to N_LINES held-out lines of the run into $tmp/lines, and a
# note into $tmp/note when they may reach outside the held-out split
heldout() {
    : >"$tmp/note"
    if [ -n "$(config_paths "$1" val)" ]; then
        config_paths "$1" val | while IFS= read -r f; do cat "$f" && echo; done >"$tmp/held"
        awk -v m="$max_words" 'NF > 0 && NF <= m' "$tmp/held" | tail -n "$n_lines" >"$tmp/lines"
        return
    fi
    config_paths "$1" train | while IFS= read -r f; do cat "$f" && echo; done >"$tmp/held"
    awk -v m="$max_words" -v n="$n_lines" -v f="$(config_number "$1" val_fraction)" '
        NF > 0 { all++ } NF > 0 && NF <= m { keep[++k] = $0; at[k] = all }
        END { from = k - n + 1; if (from < 1) from = 1
              for (i = from; i <= k; i++) print keep[i] > "/dev/stderr"
              if (all - at[from] + 1 > f * all) print "some lines may be outside the held-out split" }' \
        "$tmp/held" 2>"$tmp/lines" >"$tmp/note"
}

# npy_dims FILE: the shape of a .npy array, its dimensions separated by spaces
npy_dims() { head -c 256 "$1" | grep -ao "'shape': ([0-9, ]*)" | sed "s/'shape': (//; s/[,)]/ /g"; }
# npy_floats FILE: its float32 values, one a line
npy_floats() {
    n=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
    tail -c +$((11 + n)) "$1" | od -An -v -tf4 -w4 | tr -d ' '
}
# cosines A.npy B.npy [LAYERS]: the cosine of each of B's rows (last axis) to
# A's; prints "mean min rows", one line per slice of the first axis with
# LAYERS > 1, else one for all rows
cosines() {
    [ "$(npy_dims "$1")" = "$(npy_dims "$2")" ] || return 1
    npy_floats "$1" >"$tmp/fa"
    npy_floats "$2" >"$tmp/fb"
    # shellcheck disable=SC2046
    set -- "${3:-1}" $(npy_dims "$1")
    layers=$1
    shift
    count=1
    for d in "$@"; do count=$((count * d)) && width=$d; done
    paste "$tmp/fa" "$tmp/fb" | awk -v w="$width" -v per=$((count / width / layers)) '
        { ab += $1 * $2; aa += $1 * $1; bb += $2 * $2 }
        NR % w == 0 { c = aa * bb > 0 ? ab / sqrt(aa * bb) : (aa == bb); l = int((NR / w - 1) / per)
                      if (!(l in n) || c < min[l]) min[l] = c; sum[l] += c; n[l]++; ab = aa = bb = 0 }
        END { for (l = 0; l in n; l++) printf "%.5f %.5f %d\n", sum[l] / n[l], min[l], n[l] }'
}
# cosine_rows MEASURE WHAT A.npy B.npy [LAYERS]: table rows of cosines' figures
cosine_rows() {
    cosines "$3" "$4" "${5:-1}" >"$tmp/cos" || { row "$name" "$1" - - - - "shapes differ"; return; }
    l=0
    while read -r mean min rows; do
        measure=$1
        [ "${5:-1}" -gt 1 ] && measure="$1 layer $l"
        row "$name" "$measure" - - "cosine mean $mean, min $min over $rows $2" "mean >= 0.99" "$(met "$mean" ">=" 0.99)"
        l=$((l + 1))
    done <"$tmp/cos"
}

# measures of a run with held-out text ------------------------------------

eval_rows() {
    fresh
    both eval "$model" --json || { skip eval; return; }
    for key in loss perplexity; do
        a=$(grep -o "\"$key\": [0-9.e+-]*" "$tmp/o32" | head -1 | cut -d' ' -f2)
        b=$(grep -o "\"$key\": [0-9.e+-]*" "$tmp/o8" | head -1 | cut -d' ' -f2)
        if [ -z "$a" ] || [ -z "$b" ]; then
            row "$name" "eval $key" - - - - "not in zoo eval --json"
            continue
        fi
        d=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.3f%%", 100 * (b - a) / a }')
        r=$(awk -v a="$a" -v b="$b" 'BEGIN { d = (b - a) / a; print d < 0 ? -d : d }')
        row "$name" "eval $key (held-out)" "$a" "$b" "$d" "within 1%" "$(met "$r" "<=" 0.01)"
    done
}

embed_rows() { # embed_rows TEXT_FILE WHAT
    fresh
    if both embed "$model" --text-file "$1" --out "$tmp/e@Q@.npy"; then
        cosine_rows embed "tokens of $2" "$tmp/e32.npy" "$tmp/e8.npy"
    else
        skip embed
        return
    fi
    fresh
    if both embed "$model" --text-file "$1" --layer all --out "$tmp/e@Q@.npy"; then
        # shellcheck disable=SC2046
        set -- "$2" $(npy_dims "$tmp/e32.npy")
        [ "$2" -gt 1 ] && cosine_rows "embed --layer all:" "tokens of $1" "$tmp/e32.npy" "$tmp/e8.npy" "$2"
    fi
}

fill_mask_rows() {
    awk 'BEGIN { srand(18) }
        { for (try = 0; try < 10; try++) {
              i = 1 + int(rand() * NF)
              if (match($i, /[A-Za-z]+/)) { $i = substr($i, 1, RSTART - 1) "[MASK]" substr($i, RSTART + RLENGTH); break }
          }
          if (try < 10) print }' "$tmp/lines" >"$tmp/masked"
    fresh
    rm -f "$tmp"/chunk.*
    split -l 64 "$tmp/masked" "$tmp/chunk."
    for c in "$tmp"/chunk.*; do
        set -- fill-mask "$model" --json --top 1
        while IFS= read -r line; do set -- "$@" --text "$line"; done <"$c"
        both "$@" || { skip fill-mask; return; }
    done
    paste -d '\t' "$tmp/o32" "$tmp/o8" | awk -F '\t' '
        { match($1, /"id": [0-9]+/); a = substr($1, RSTART, RLENGTH)
          match($2, /"id": [0-9]+/); b = substr($2, RSTART, RLENGTH); n++; same += a != "" && a == b }
        END { printf "%d of %d %.4f\n", same, n, n ? same / n : 0 }' >"$tmp/agree"
    read -r same _ n share <"$tmp/agree"
    row "$name" "fill-mask top-1" - - "$(awk -v s="$share" 'BEGIN { printf "%.1f%%", 100 * s }') agree ($same of $n masks)" \
        ">= 95%" "$(met "$share" ">=" 0.95)"
}

generate_rows() {
    awk -v n="$n_prompts" 'NF > 5 && k < n { print $1, $2, $3, $4, $5; k++ }' "$tmp/lines" >"$tmp/prompts"
    fresh
    set -- generate "$model" --json --temperature 0 --max-new-tokens 20
    while IFS= read -r line; do set -- "$@" --prompt "$line"; done <"$tmp/prompts"
    both "$@" || { skip generate; return; }
    # the ids of each continuation (prompt and new tokens): identical, or the
    # first new token where int8 parts from float32
    paste -d '\t' "$tmp/o32" "$tmp/o8" | awk -F '\t' '
        function ids(s, out) { match(s, /"ids": \[[^]]*\]/); s = substr(s, RSTART + 8, RLENGTH - 9)
                               return split(s, out, /, */) }
        { na = ids($1, a); nb = ids($2, b); match($1, /"prompt_tokens": [0-9]+/); p = substr($1, RSTART + 17) + 0
          n++; for (i = 1; i <= na && i <= nb && a[i] == b[i]; i++) ;
          if (na > 0 && i > na && i > nb) same++; else at = at (at == "" ? "" : ", ") (i - p) }
        END { printf "%d %d %.4f %s\n", same, n, n ? same / n : 0, at == "" ? "-" : at }' >"$tmp/agree"
    read -r same n share at <"$tmp/agree"
    parts=
    [ "$at" != - ] && parts="; the others part at new token $at"
    row "$name" "generate, greedy 20 tokens" - - \
        "$(awk -v s="$share" 'BEGIN { printf "%.1f%%", 100 * s }') identical ($same of $n prompts$parts)" - -
}

# measures of a model without held-out text (a HuggingFace directory) ------

forward_rows() {
    [ -f "$model/ids.txt" ] || { echo "no ids.txt" >"$tmp/why" && skip forward; return; }
    fresh
    both forward "$model" --ids "$model/ids.txt" --out "$tmp/l@Q@.npy" --hidden "$tmp/h@Q@.npy" ||
        { skip forward; return; }
    k=$(grep -c . "$model/ids.txt")
    cosine_rows "forward logits" "positions of the $k lines of ids.txt" "$tmp/l32.npy" "$tmp/l8.npy"
    cosine_rows "forward hidden" "positions of the $k lines of ids.txt" "$tmp/h32.npy" "$tmp/h8.npy"
}

echo "| model | measure | float32 | int8 | int8 vs float32 | goal | met |"
echo "|---|---|---|---|---|---|---|"
for model in "$@"; do
    model=$(cd "$model" && pwd) || continue
    name=$(basename "$model")
    case $name in run) name=$(basename "$(dirname "$(dirname "$model")")")/$(basename "$(dirname "$model")") ;; esac
    if grep -q '^	"data":' "$model/config.json" 2>/dev/null; then
        heldout "$model"
        lines=$(grep -c . "$tmp/lines")
        [ -s "$tmp/note" ] && row "$name" "held-out text" - - - - "$(cat "$tmp/note")"
        eval_rows
        embed_rows "$tmp/lines" "$lines held-out lines"
        fill_mask_rows
        generate_rows
    else
        printf '%s\n' "in the beginning god created the heaven and the earth" \
            "and the earth was without form and void" "the cat sat on the mat" >"$tmp/fixed"
        forward_rows
        embed_rows "$tmp/fixed" "3 fixed sentences"
    fi
done
