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
. "$here/rounds.sh"
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
summary 1 2 "BERT-base forward"
summary 3 4 "small-BERT MLM training step"
