#!/bin/sh
# zoo's bert beside a PyTorch eager BERT, alternately in one run, same shapes,
# batch and threads: BERT-base inference forward at 8 x 128 and a small
# BERT's masked-LM training step; prints each side's figures and the ratios.
#   compare_bert.sh BUILD_DIR [--rounds N] [--steps N]
set -eu
build=$1
shift
rounds=3 steps=5
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    esac
    shift
done
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "compare_bert: SKIP: python3-torch is not installed"; exit 0; }
export OMP_WAIT_POLICY=PASSIVE
zoo="/tmp/zoo-bert.$$" torch="/tmp/torch-bert.$$" rounds_file="/tmp/rounds-bert.$$"
trap 'rm -f "$zoo" "$torch" "$rounds_file"' EXIT
ms() { awk -v k="$2" 'index($0, k) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "ms") print $i }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for r in $(seq 1 "$rounds"); do
    "$build/tests/bench/bench_bert" --threads 2 --steps "$steps" >"$zoo"
    /usr/bin/python3 "$here/bert_torch.py" --threads 2 --steps "$steps" >"$torch"
    sg=$(awk '/^sgemm 1024 x 768 x 768/ {print $(NF-1)}' "$zoo")
    zf=$(ms "$zoo" forward) pf=$(ms "$torch" forward)
    zg=$(awk '/^forward flops/ {print $(NF-4)}' "$zoo") pg=$(awk '/^forward flops/ {print $(NF-4)}' "$torch")
    zt=$(ms "$zoo" "training step") pt=$(ms "$torch" "training step")
    echo "$zf $pf $zt $pt" >>"$rounds_file"
    echo "round $r: BERT-base forward zoo $zf ms ($zg GFLOP/s, $(awk -v a="$zg" -v b="$sg" 'BEGIN { printf "%.0f", 100 * a / b }')% of sgemm $sg GFLOP/s), pytorch $pf ms ($pg GFLOP/s) (zoo $(ratio "$pf" "$zf")x); small-BERT MLM training step zoo $zt ms, pytorch $pt ms (zoo $(ratio "$pt" "$zt")x)"
done
# The machine is shared: one side's time can jump by a quarter from one round
# to the next. Medians over the rounds, and the fastest round of each side.
median() { cut -d' ' -f"$1" "$rounds_file" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fastest() { cut -d' ' -f"$1" "$rounds_file" | sort -n | head -1; }
summary() { # zoo's column, pytorch's column, what
    mz=$(median "$1") mt=$(median "$2") fz=$(fastest "$1") ft=$(fastest "$2")
    echo "$3: medians zoo $mz ms, pytorch $mt ms (zoo $(ratio "$mt" "$mz")x); fastest rounds zoo $fz ms, pytorch $ft ms (zoo $(ratio "$ft" "$fz")x)"
}
summary 1 2 "BERT-base forward"
summary 3 4 "small-BERT MLM training step"
