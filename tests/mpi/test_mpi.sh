#!/bin/sh
# Data-parallel zoo train over MPI (issue 17), two processes on this machine:
# - gpt and bert, 2 processes against 1 on the same config and global batch:
#   the per-step losses within 1e-5 (relative) over 50 steps, the final
#   parameters (and optimizer state) within 1e-4; the largest differences are
#   printed (they come from the order of the sums);
# - a 2-process run stopped at step 30 and resumed with 1 process ends where
#   the uninterrupted 2-process run ends (same tolerance); resumed with 2, bit
#   for bit;
# - a rank killed mid-run: every rank exits non-zero within 30 s and the last
#   checkpoint loads;
# - SIGUSR1 to mpirun stops every rank after the same step with a checkpoint;
# - ranks given different configs or zoo executables are refused before the
#   first step, as is a global batch smaller than the ranks and any command
#   but train and compare;
# - a rank whose data file is missing stops the job with its message.
# Skipped (77) without mpirun or without a zoo built with MPI.
# - ranks whose parameters drift apart (one rank's sums perturbed through
#   PERTURB_LIBRARY, LD_PRELOADed) are stopped at the next checksum.
#   test_mpi.sh BUILD_DIR PARAMS_DIFF PERTURB_LIBRARY
set -u
build=$(cd "$1" && pwd)
params_diff=$2 perturb=${3:-}
zoo="$build/zoo"
. "$(dirname "$0")/mpi_env.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-mpi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/../cli/expect.sh"
cd "$tmp" || exit 1
two() { mpirun -np 2 --oversubscribe "$@"; }

word_corpus 3000 >train.txt
cat >run.json <<'JSON'
{"model": {"plugin": "gpt"},
 "data": {"train": "train.txt", "val_fraction": 0.05, "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 50, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.003},
           "schedule": {"name": "cosine", "warmup": 5}, "checkpoint_every": 10, "keep": 10,
           "eval_every": 25, "eval_batches": 2}}
JSON
gpt="--set model.plugin=gpt --set model.n_layer=2 --set model.n_embd=32 --set model.n_head=2 --set model.dropout=0"
bert="--set model.plugin=bert --set model.hidden_size=32 --set model.num_hidden_layers=2
      --set model.num_attention_heads=2 --set model.intermediate_size=64
      --set model.max_position_embeddings=32 --set model.hidden_dropout_prob=0"

# losses FILE: "step loss" of each training line
losses() { sed -nE 's/^\{"step":([0-9]+),"loss":([^,]*),.*/\1 \2/p' "$1"; }
# within TOL A B: the largest relative difference of two "step loss" lists, or a failure
within() {
    awk -v tol="$1" 'NR == FNR { a[$1] = $2; next }
        { d = $2 - a[$1]; d = d < 0 ? -d : d; r = d / (a[$1] < 0 ? -a[$1] : a[$1]);
          if (r > worst) worst = r; n++ }
        END { printf "%d steps, largest relative difference %.3g\n", n, worst; exit !(n > 0 && worst <= tol) }' "$2" "$3"
}

for model in gpt bert; do
    eval "sets=\$$model"
    # shellcheck disable=SC2086
    expect 0 "" "$zoo" train run.json --out "$model-1" --quiet $sets
    # shellcheck disable=SC2086
    expect 0 "" two "$zoo" train run.json --out "$model-2" --quiet $sets
    grep -q '"world_size":2' "$model-2/metrics.jsonl" || fail "$model: metrics.jsonl does not record world_size 2"
    losses "$model-1/metrics.jsonl" >one.losses
    losses "$model-2/metrics.jsonl" >two.losses
    [ "$(wc -l <one.losses)" = 50 ] || fail "$model: $(wc -l <one.losses) training lines, expected 50"
    printf '%s, 2 processes against 1: losses: ' "$model"
    within 1e-5 one.losses two.losses || fail "$model: 2 processes' losses differ from 1's by more than 1e-5"
    printf '%s, 2 processes against 1: final parameters: ' "$model"
    "$params_diff" "$model-1/latest.safetensors" "$model-2/latest.safetensors" 1e-4 ||
        fail "$model: 2 processes' final parameters differ from 1's by more than 1e-4"

    # stopped at 30 and resumed: with 2 processes bit for bit, with 1 within the tolerance
    # shellcheck disable=SC2086
    expect 0 "stopped after step 30" two "$zoo" train run.json --out "$model-s" --stop-after 30 $sets
    cp -a "$model-s" "$model-s1"
    expect 0 "" two "$zoo" train --resume "$model-s" --quiet
    printf '%s, stopped at 30, resumed with 2: ' "$model"
    "$params_diff" "$model-2/latest.safetensors" "$model-s/latest.safetensors" 0 ||
        fail "$model: resumed with 2 processes, not bit for bit the uninterrupted run"
    losses "$model-s/metrics.jsonl" >s.losses
    cmp -s two.losses s.losses || fail "$model: resumed with 2 processes: other losses"
    expect 0 "" "$zoo" train --resume "$model-s1" --quiet
    printf '%s, stopped at 30 with 2, resumed with 1: ' "$model"
    "$params_diff" "$model-2/latest.safetensors" "$model-s1/latest.safetensors" 1e-4 ||
        fail "$model: resumed with 1 process, more than 1e-4 from the uninterrupted run"
    losses "$model-s1/metrics.jsonl" >s1.losses
    within 1e-5 two.losses s1.losses >/dev/null || fail "$model: resumed with 1 process: losses differ"
done

# --- a rank killed mid-run: every rank stops within 30 s, the last checkpoint loads
# shellcheck disable=SC2086
two "$zoo" train run.json --out killed --quiet $gpt --set train.steps=100000 \
    --set train.checkpoint_every=20 >killed.out 2>&1 &
job=$!
waited=0
while [ ! -e killed/latest.safetensors ] && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
victim=$(pgrep -f "zoo train run.json --out killed" | tail -1)
if [ -z "$victim" ] || [ ! -e killed/latest.safetensors ]; then
    fail "the run to kill did not start: $(cat killed.out)"
else
    kill -9 "$victim"
    start=$(date +%s)
    while kill -0 $job 2>/dev/null && [ $(($(date +%s) - start)) -lt 40 ]; do sleep 0.2; done
    took=$(($(date +%s) - start))
    if kill -0 $job 2>/dev/null; then
        fail "a rank killed: the job still runs after 40 s"
        pkill -9 -f "zoo train run.json --out killed"
    fi
    wait $job
    got=$?
    [ "$got" != 0 ] || fail "a rank killed: mpirun exited 0"
    [ "$took" -le 30 ] || fail "a rank killed: the others took $took s to stop"
    echo "a rank killed with SIGKILL: the job ended in ${took} s with exit $got"
    expect 0 "" "$zoo" eval killed
    pgrep -f "zoo train run.json --out killed" >/dev/null && fail "a rank killed: a zoo process is left"
fi

# --- SIGUSR1 to mpirun (forwarded to every rank; Ctrl-C on mpirun kills them):
# every rank stops after the same step, rank 0 saves, the run resumes
# shellcheck disable=SC2086
mpirun -np 2 --oversubscribe "$zoo" train run.json --out usr1 $gpt --set train.steps=100000 >usr1.out 2>&1 &
job=$!
waited=0
while ! grep -q '"step":2,' usr1/metrics.jsonl 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
kill -USR1 $job
wait $job
got=$?
[ "$got" = 130 ] || fail "SIGUSR1 to mpirun: exit $got, expected 130: $(cat usr1.out)"
at=$(sed -nE 's/^interrupted at step ([0-9]+): checkpoint saved.*/\1/p' usr1.out)
if [ -z "$at" ]; then
    fail "SIGUSR1: no checkpoint said: $(cat usr1.out)"
else
    expect 0 "stopped after step $((at + 3))" two "$zoo" train --resume usr1 --stop-after $((at + 3))
fi

# --- refusals before the first step
sed 's/"lr": 0.003/"lr": 0.002/' run.json >other.json
# shellcheck disable=SC2086
expect 1 "rank 1 of 2 has a different resolved configuration than rank 0" \
    mpirun --oversubscribe -np 1 "$zoo" train run.json --out mismatch $gpt : -np 1 "$zoo" train other.json --out mismatch $gpt
[ -e mismatch/latest.safetensors ] && fail "mismatched configs: a checkpoint was written"
# shellcheck disable=SC2086
expect 1 "train.batch_size: 1 sequences cannot be shared among 2 processes" \
    two "$zoo" train run.json --out small --set train.batch_size=1 $gpt
expect 2 "zoo eval runs in one process" two "$zoo" eval gpt-1
# a rank that cannot read its data: its message, every rank stops
sed 's/train.txt/missing.txt/' run.json >missing.json
# shellcheck disable=SC2086
expect 1 "missing.txt" \
    mpirun --oversubscribe -np 1 "$zoo" train run.json --out half $gpt : -np 1 "$zoo" train missing.json --out half $gpt

# another zoo executable on rank 1 (the same program with a byte more)
cp "$zoo" zoo-other && printf x >>zoo-other
# shellcheck disable=SC2086
expect 1 "rank 1 of 2 has a different zoo executable than rank 0" \
    mpirun --oversubscribe -np 1 "$zoo" train run.json --out exe $gpt : \
    -np 1 ./zoo-other --registry "$build/registry/registry.json" train run.json --out exe $gpt

# --- ranks drifting apart: rank 1's 8th sum of floats (step 8's gradients) made wrong,
# the checksum every 5 steps stops the run at step 10
asan=$(ldd "$zoo" | awk '/libasan/ { print $3 }')
# shellcheck disable=SC2086
expect 1 "step 10: the parameters of rank 1 differ from rank 0's" \
    mpirun --oversubscribe -np 1 "$zoo" train run.json --out drift --set train.check_every=5 $gpt : \
    -np 1 env LD_PRELOAD="${asan:+$asan }$perturb" ZOO_PERTURB_AT=8 \
    "$zoo" train run.json --out drift --set train.check_every=5 $gpt
# the same with checks turned off runs to the end: the test sees what the check sees
# shellcheck disable=SC2086
expect 0 "" \
    mpirun --oversubscribe -np 1 "$zoo" train run.json --out drift0 --set train.check_every=0 $gpt : \
    -np 1 env LD_PRELOAD="${asan:+$asan }$perturb" ZOO_PERTURB_AT=8 \
    "$zoo" train run.json --out drift0 --set train.check_every=0 $gpt

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all data-parallel checks passed"
