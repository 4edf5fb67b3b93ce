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
ms() { awk -v k="$2" 'index($0, k) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "ms") print $i }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for r in $(seq 1 "$rounds"); do
    "$build/plugins/elmo/bench_elmo" --threads 2 --steps "$steps" >"$zoo"
    /usr/bin/python3 "$here/elmo_torch.py" --threads 2 --steps "$steps" >"$torch"
    zt=$(ms "$zoo" "training step") pt=$(ms "$torch" "training step")
    ze=$(ms "$zoo" "embed") pe=$(ms "$torch" "embed")
    echo "$zt $pt $ze $pe" >>"$rounds_file"
    echo "round $r: training step zoo $zt ms, pytorch $pt ms (zoo $(ratio "$pt" "$zt")x); embed zoo $ze ms, pytorch $pe ms (zoo $(ratio "$pe" "$ze")x)"
done
# The machine is shared: one side's time can jump by a quarter from one
# round to the next. Medians over the rounds, and the fastest round of each side.
median() { cut -d' ' -f"$1" "$rounds_file" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fastest() { cut -d' ' -f"$1" "$rounds_file" | sort -n | head -1; }
summary() { # zoo's column, pytorch's column, what
    mz=$(median "$1") mt=$(median "$2") fz=$(fastest "$1") ft=$(fastest "$2")
    echo "$3 (batch 16 x 32 = 512 tokens): medians zoo $mz ms, pytorch $mt ms (zoo $(ratio "$mt" "$mz")x); fastest rounds zoo $fz ms, pytorch $ft ms (zoo $(ratio "$ft" "$fz")x)"
}
summary 1 2 "training step"
summary 3 4 "embed"
