#!/bin/sh
# Data-parallel step time on one machine, side by side: zoo train as one
# process of 2 threads against two processes (mpirun -np 2) of 1 thread each,
# on the same config and global batch, alternating over ROUNDS rounds so
# drift in the machine's speed falls on both. Each run trains STEPS steps;
# the step times come from metrics.jsonl (elapsed_s between steps, the first
# two steps dropped as warm-up), and the two-process runs' comm_s is the time
# a step spends summing gradients (MPI_Allreduce). Prints a Markdown table:
# the median step time of each, their ratio, the sum's time per step, the
# gradient bytes summed per step and the bandwidth that makes (bytes over
# time: what each rank sends and receives, about twice that for a ring).
#   mpi_step.sh BUILD_DIR CONFIG STEPS ROUNDS [zoo train options...]
# Not in CI: it takes minutes for a large model. Run it on a quiet machine.
set -eu
[ $# -ge 4 ] || { echo "usage: mpi_step.sh BUILD_DIR CONFIG STEPS ROUNDS [zoo train options...]" >&2; exit 2; }
zoo=$(cd "$1" && pwd)/zoo config=$2 steps=$3 rounds=$4
shift 4
export OMP_WAIT_POLICY=PASSIVE OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-mpi-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run() { # run MODE ROUND [options]: one training, its step times appended to $tmp/MODE.steps
    mode=$1 out="$tmp/$1-$2"
    shift 2
    case $mode in
    one) "$zoo" train "$config" --out "$out" --quiet --threads 2 --set train.steps="$steps" \
        --set train.eval_every=0 --set train.eval_batches=1 --set train.checkpoint_every=0 "$@" ;;
    two) mpirun -np 2 --bind-to none "$zoo" train "$config" --out "$out" --quiet --threads 1 \
        --set train.steps="$steps" --set train.eval_every=0 --set train.eval_batches=1 \
        --set train.checkpoint_every=0 "$@" ;;
    esac >"$tmp/log" 2>&1 || { echo "mpi_step: $mode failed:" >&2; tail -5 "$tmp/log" >&2; exit 1; }
    # step seconds (elapsed_s differences) and comm_s, warm-up dropped
    sed -nE 's/^\{"step":([0-9]+),"loss".*"elapsed_s":([^,]*),.*/\1 \2/p' "$out/metrics.jsonl" |
        awk 'NR > 1 { if ($1 > 2) print $2 - prev } { prev = $2 }' >>"$tmp/$mode.steps"
    sed -nE 's/.*"comm_s":([^,}]*).*/\1/p' "$out/metrics.jsonl" | tail -n +3 >>"$tmp/$mode.comm"
    rm -rf "$out"
}
i=1
while [ $i -le "$rounds" ]; do
    if [ $((i % 2)) = 1 ]; then run one $i "$@"; run two $i "$@"; else run two $i "$@"; run one $i "$@"; fi
    i=$((i + 1))
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the gradient bytes: 4 bytes a trainable parameter (zoo train --dry-run counts them)
params=$("$zoo" train "$config" --dry-run "$@" | sed -nE 's/^parameters: ([0-9]+)$/\1/p')
one=$(median "$tmp/one.steps") two=$(median "$tmp/two.steps") comm=$(median "$tmp/two.comm")
cpu=$(sed -nE 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
echo "| config | 1 process x 2 threads, s/step | 2 processes x 1 thread, s/step | ratio | MPI_Allreduce s/step | gradient MB | MB/s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk -v c="$(basename "$config") $*" -v a="$one" -v b="$two" -v m="$comm" -v p="$params" \
    'BEGIN { mb = p * 4 / 1e6; printf "| %s | %.4g | %.4g | %.3f | %.3g | %.1f | %.0f |\n", c, a, b, b / a, m, mb, (m > 0 ? mb / m : 0) }'
echo "($(wc -l <"$tmp/one.steps") and $(wc -l <"$tmp/two.steps") steps timed over $rounds rounds; $cpu, $(nproc) CPUs, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
