# What the side-by-side comparisons share (compare_bert.sh, plugins/elmo/bench/
# compare.sh), sourced after $rounds_file is set: each round appends one line
# of times, zoo's and the peer's columns side by side.
#   ms FILE PREFIX        the number before "ms" on FILE's line starting with PREFIX
#   ratio A B             A / B to two decimals
#   summary ZOO PEER WHAT the medians over the rounds of two columns and the
#                         fastest round of each, with zoo's speed-up
# The machine is shared: one side's time can jump by a quarter from one round
# to the next, hence medians, and the fastest round of each side beside them.
ms() { awk -v k="$2" 'index($0, k) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "ms") print $i }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { cut -d' ' -f"$1" "$rounds_file" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fastest() { cut -d' ' -f"$1" "$rounds_file" | sort -n | head -1; }
summary() {
    mz=$(median "$1") mt=$(median "$2") fz=$(fastest "$1") ft=$(fastest "$2")
    echo "$3: medians zoo $mz ms, pytorch $mt ms (zoo $(ratio "$mt" "$mz")x); fastest rounds zoo $fz ms, pytorch $ft ms (zoo $(ratio "$ft" "$fz")x)"
}
