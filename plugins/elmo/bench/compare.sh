#!/bin/sh
# zoo's elmo beside the PyTorch eager biLM (elmo_torch.py), alternately in
# one run, same configuration, batch and threads: a training step (full
# softmax, Adam) and embed (every layer, no gradient). Prints each round's
# times and the ratios PyTorch time / zoo time, then the medians over the
# rounds and the fastest round of each side. The goal (issue 13): both
# median ratios at least 1.5.
#   compare.sh BUILD_DIR [--rounds N] [--steps N]
set -eu
build=$1
shift
rounds=3 steps=5
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    *) echo "usage: compare.sh BUILD_DIR [--rounds N] [--steps N]" >&2; exit 2 ;;
    esac
    shift
done
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "compare: SKIP: python3-torch is not installed"; exit 0; }
export OMP_WAIT_POLICY=PASSIVE
zoo="/tmp/zoo-elmo.$$" torch="/tmp/torch-elmo.$$" rounds_file="/tmp/rounds-elmo.$$"
trap 'rm -f "$zoo" "$torch" "$rounds_file"' EXIT
. "$here/../../../tests/bench/rounds.sh"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for r in $(seq 1 "$rounds"); do
    "$build/plugins/elmo/bench_elmo" --threads 2 --steps "$steps" >"$zoo"
    /usr/bin/python3 "$here/elmo_torch.py" --threads 2 --steps "$steps" >"$torch"
    zt=$(ms "$zoo" "training step") pt=$(ms "$torch" "training step")
    ze=$(ms "$zoo" "embed") pe=$(ms "$torch" "embed")
    echo "$zt $pt $ze $pe" >>"$rounds_file"
    echo "round $r: training step zoo $zt ms, pytorch $pt ms (zoo $(ratio "$pt" "$zt")x); embed zoo $ze ms, pytorch $pe ms (zoo $(ratio "$pe" "$ze")x)"
done
summary 1 2 "training step (batch 16 x 32 = 512 tokens)"
summary 3 4 "embed (batch 16 x 32 = 512 tokens)"
