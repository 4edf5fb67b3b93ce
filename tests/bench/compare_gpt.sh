#!/bin/sh
# zoo's gpt beside PyTorch's eager GPT-2, alternately in one run, same
# config, batch and threads; prints each side's figures and the ratios.
#   compare_gpt.sh BUILD_DIR [--gpt2] [--rounds N] [--steps N]
set -eu
build=$1
shift
size="" rounds=3 steps=10
while [ $# -gt 0 ]; do
    case $1 in
    --gpt2) size=--gpt2 ;;
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    esac
    shift
done
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "compare_gpt: SKIP: python3-torch is not installed"; exit 0; }
export OMP_WAIT_POLICY=PASSIVE
for r in $(seq 1 "$rounds"); do
    "$build/tests/bench/bench_gpt" --threads 2 --steps "$steps" $size >"/tmp/zoo-bench.$$"
    /usr/bin/python3 "$here/gpt_torch.py" --threads 2 --steps "$steps" $size >"/tmp/torch-bench.$$"
    zt=$(awk '/training step/ {print $(NF-3)}' "/tmp/zoo-bench.$$"); pt=$(awk '/training step/ {print $(NF-3)}' "/tmp/torch-bench.$$")
    zf=$(awk '/^forward/ {print $(NF-3)}' "/tmp/zoo-bench.$$"); pf=$(awk '/^forward/ {print $(NF-3)}' "/tmp/torch-bench.$$")
    echo "round $r: training step zoo $zt ms, pytorch $pt ms (zoo $(awk -v a="$pt" -v b="$zt" 'BEGIN{printf "%.2f", a/b}')x); forward zoo $zf ms, pytorch $pf ms (zoo $(awk -v a="$pf" -v b="$zf" 'BEGIN{printf "%.2f", a/b}')x)"
done
rm -f "/tmp/zoo-bench.$$" "/tmp/torch-bench.$$"
