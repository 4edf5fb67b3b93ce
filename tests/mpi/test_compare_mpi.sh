#!/bin/sh
# zoo compare over MPI (label mpi): the tiny comparison of test_compare.sh
# (a one-block GPT first, then the bigram table) run by 1 process and by
# mpirun with 2 ranks (two groups of one: each trial as the serial run
# runs it), 3 ranks (GPT pretrained data-parallel by a group of two) and 4
# (two groups of two). The report's table, read from results.csv column by
# column, must be the serial run's, timings and peak memory aside: exactly
# for groups of one; for a data-parallel group each number within 1e-6
# relative (measured: the final loss differs by about 1e-8 relative, the
# held-out and probe figures not at all). Also: --repeat 2 over 3 groups, a
# failing model recorded as in the serial run (in a data-parallel group and
# alone), --resume of a comparison interrupted in a serial run finished by
# 3 ranks, --dry-run, and ranks given different configs refused.
# Skipped (77) when mpirun is absent or zoo was built without MPI.
#   test_compare_mpi.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
zoo="$build/zoo"
. "$(dirname "$0")/mpi_env.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-compare-mpi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
. "$src/tests/cli/expect.sh"
cd "$tmp" || exit 1
mpi() { n=$1; shift; mpirun -np "$n" --oversubscribe "$zoo" "$@"; }

two_kinds_files
cat >compare.json <<'JSON'
{"name": "tiny", "seed": 7,
 "data": {"train": "corpus.txt", "val": "heldout.txt"},
 "budget": {"steps": 30},
 "models": [
   {"name": "gpt", "config": {"model": {"plugin": "gpt", "n_layer": 1, "n_head": 2, "n_embd": 16},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 32},
      "train": {"batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.01}, "eval_every": 10}},
    "probe": {"pool": "mean"}},
   {"name": "bigram", "config": {"model": {"plugin": "bigram"},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 32},
      "train": {"batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05}, "eval_every": 10}}}
 ],
 "probes": [{"name": "kind", "train": "probe-train.tsv", "test": "probe-test.tsv"}]}
JSON

# same_table A B TOLERANCE: results.csv of A and B, field by field, the
# timing columns (tokens_per_second, peak_memory_mib, train_seconds and their
# _sd) aside;
# numbers within TOLERANCE relative (0: the same text)
same_table() {
    awk -F, -v tol="$3" -v a="$1" -v b="$2" '
        FNR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
        NR == FNR { row[FNR] = $0; next }
        { n = split(row[FNR], x, ","); split($0, y, ",")
          if (n != NF) { print a " and " b ": row " FNR " has " n " and " NF " fields"; bad = 1; next }
          for (i = 1; i <= NF; i++) {
            if (name[i] ~ /^(tokens_per_second|peak_memory_mib|train_seconds)(_sd)?$/) continue
            if (x[i] == y[i]) continue
            num = x[i] ~ /^-?[0-9.e+-]+$/ && y[i] ~ /^-?[0-9.e+-]+$/
            d = x[i] - y[i]; if (d < 0) d = -d; m = x[i] < 0 ? -x[i] : x[i]
            if (tol > 0 && num && d <= tol * m) continue
            print a " and " b ": " x[1] " " name[i] ": " x[i] " against " y[i]; bad = 1 } }
        END { exit bad }' "$1/results.csv" "$2/results.csv" >&2 || fail "$1 and $2: the tables differ"
}

# --- 1 process, then 2, 3 and 4 ranks
expect 0 "" "$zoo" compare compare.json --out s --quiet
expect 0 "2 processes in 2 groups (ranks 0, 1)" mpi 2 compare compare.json --out m2 --quiet
same_table s m2 0
untimed() { sed -E 's/"(seconds|tokens_per_second|peak_memory_bytes)":[[:space:]]*[0-9.e+-]*//g' "$1"; }
for m in gpt bigram; do
    untimed "s/$m/result.json" >ra
    untimed "m2/$m/result.json" >rb
    cmp -s ra rb || { fail "2 ranks: $m's result.json is not the serial run's"; diff ra rb | head -5 >&2; }
done
expect 0 "3 processes in 2 groups (ranks 0-1, 2); .*pretrains data-parallel" \
    mpi 3 compare compare.json --out m3 --quiet
grep -c '^model ' "$tmp/out" | grep -qx 1 || fail "3 ranks: the table is not printed once"
grep -q '"world_size":2' m3/gpt/run/metrics.jsonl || fail "3 ranks: gpt was not pretrained by 2 ranks"
grep -q '"world_size"' m3/bigram/run/metrics.jsonl && fail "3 ranks: bigram was not pretrained alone"
same_table s m3 1e-6
expect 0 "4 processes in 2 groups (ranks 0-1, 2-3)" mpi 4 compare compare.json --out m4 --quiet
grep -q '"world_size":2' m4/bigram/run/metrics.jsonl || fail "4 ranks: bigram was not pretrained by 2 ranks"
same_table s m4 1e-6

# --- --repeat 2: four trials over 3 groups, trial t in group t mod 3
expect 0 "" "$zoo" compare compare.json --out sr --repeat 2 --quiet
expect 0 "3 processes in 3 groups (ranks 0, 1, 2)" mpi 3 compare compare.json --out mr --repeat 2 --quiet
same_table sr mr 0

# --- a failing model is recorded as in the serial run, in a data-parallel group and alone
sed 's/"n_embd": 16}/"n_embd": 15}/' compare.json >broken.json # 15 is not a multiple of n_head
expect 1 "1 of 2 trials failed" "$zoo" compare broken.json --out sb --quiet
for n in 3 2; do
    expect 1 "1 of 2 trials failed" mpi $n compare broken.json --out b$n --quiet
    cmp -s sb/gpt/result.json b$n/gpt/result.json ||
        { fail "$n ranks: the failed gpt's result.json is not the serial run's"; diff sb/gpt/result.json b$n/gpt/result.json | head >&2; }
    grep -q '"status":[[:space:]]*"ok"' b$n/bigram/result.json || fail "$n ranks: the other model did not run"
    grep -q 'gpt.*failed' b$n/report.md || fail "$n ranks: report.md does not say gpt failed"
done

# --- interrupted in a serial run, finished by 3 ranks: gpt resumes data-parallel
sed 's/"budget": {"steps": 30}/"budget": {"steps": 20000}/; s/"eval_every": 10/"eval_every": 5000/' compare.json >long.json
setsid "$zoo" compare long.json --out f --quiet >/dev/null 2>f.err &
pid=$!
i=0
while [ ! -f f/gpt/run/metrics.jsonl ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -s INT -- -$pid
wait $pid
code=$?
[ "$code" = 130 ] && [ -f f/gpt/run/latest.safetensors ] && [ ! -f f/gpt/result.json ] ||
    fail "Ctrl-C: exit $code, or no checkpoint, or a result.json"
expect 0 "" mpi 3 compare --resume f --quiet
grep -q '"steps":[[:space:]]*20000' f/gpt/result.json || fail "--resume over 3 ranks: gpt did not train all its steps"
tail -2 f/gpt/run/metrics.jsonl | grep -q '"world_size":2' || fail "--resume over 3 ranks: gpt was not resumed by 2 ranks"
grep -q '"status":[[:space:]]*"ok"' f/bigram/result.json || fail "--resume over 3 ranks: bigram did not run"

# --- --dry-run: one table, from rank 0
expect 0 "" mpi 2 compare compare.json --dry-run
[ "$(grep -c '^| gpt | gpt |' "$tmp/out")" = 1 ] || fail "--dry-run over 2 ranks: not one table"

# --- ranks given different comparisons are refused before anything runs
sed 's/"seed": 7/"seed": 8/' compare.json >other.json
expect 1 "different comparison config than rank 0" \
    mpirun --oversubscribe -np 1 "$zoo" compare compare.json --out x : -np 1 "$zoo" compare other.json --out x
[ ! -e x ] || fail "different configs: an output directory was written"

[ "$failures" = 0 ] && echo "compare-mpi: all passed" && exit 0
echo "compare-mpi: $failures failure(s)" >&2
exit 1
