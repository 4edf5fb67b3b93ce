#!/bin/sh
# word2vec trained data-parallel over MPI (issue 17; docs/distributed.md).
#   test_mpi_word2vec.sh BUILD_DIR SOURCE_DIR resume|quality
# resume: a 2-process run stopped with --stop-after and resumed with 2
#   processes ends bit-identical to the uninterrupted one (its vectors and
#   its metrics), both vocabularies equal one process's, and resuming it
#   with 1 process is refused.
# quality: on ../shared's gutenberg10, over seeds 1-5, the median analogy
#   accuracy and WordSim-353 correlation of 2-process runs lie within the
#   range 1-process runs span over the same seeds.
# Exits 77 (skipped) without mpirun, without an MPI build of zoo, or (quality)
# without the data. KEEP_TMP=1 keeps the scratch directory.
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
mode=$3
zoo="$build/zoo"
. "$(dirname "$0")/mpi_env.sh"
data="$source_dir/../shared/data"
corpus="$data/corpus/gutenberg10_body.txt"
questions="$data/embedding_eval/questions-words.txt"
pairs="$data/embedding_eval/wordsim353.tsv"
if [ "$mode" = quality ]; then
    for f in "$corpus" "$questions" "$pairs"; do
        [ -f "$f" ] || { echo "skipped: $f not found (../shared/data is missing)"; exit 77; }
    done
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-mpi-w2v.XXXXXX")
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1
failures=0
. "$(dirname "$0")/../cli/expect.sh"
cd "$tmp" || exit 1
np2() { mpirun -np 2 --oversubscribe "$@"; }

# The tokenizer JSON a checkpoint carries (its safetensors metadata).
tokenizer_of() {
    python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n))["__metadata__"]["zoo.tokenizer"])' "$1"
}

if [ "$mode" = resume ]; then
    word_corpus 3000 >corpus.txt
    # one thread a rank: Hogwild inside a rank is not deterministic; syncs
    # every 2 chunks of each rank, a checkpoint every 10 steps (a save syncs:
    # the uninterrupted run must save where the other stops)
    cat >w2v.json <<'EOF'
{"model": {"plugin": "word2vec", "dim": 16, "window": 3, "negative": 4},
 "data": {"train": "corpus.txt", "val_fraction": 0,
          "tokenizer": {"type": "word", "lowercase": true, "split": "punctuation", "min_count": 1},
          "seq_len": 400},
 "train": {"epochs": 4, "seed": 3, "optimizer": {"name": "sgd", "lr": 0.025},
           "schedule": {"name": "linear", "min_lr": 0.0001},
           "checkpoint_every": 10, "sync_every": 800, "check_every": 1}}
EOF
    expect 0 "" np2 "$zoo" --threads 1 train w2v.json --out whole --quiet
    expect 0 "" np2 "$zoo" --threads 1 train w2v.json --out parts --quiet --stop-after 10
    expect 0 "" np2 "$zoo" --threads 1 train --resume parts --quiet
    steps=$(wc -l <whole/metrics.jsonl)
    [ "$steps" -gt 20 ] || fail "the 2-process run made $steps steps, expected more than 20"
    grep -q '"world_size":2' whole/metrics.jsonl || fail "metrics.jsonl does not say world_size 2"
    losses() { sed 's/\("loss":[^,]*\),.*/\1/' "$1"; } # step and loss: the rest is timing
    losses whole/metrics.jsonl >whole.loss
    losses parts/metrics.jsonl >parts.loss
    cmp -s whole.loss parts.loss ||
        fail "stopped at step 10 and resumed: other losses than the uninterrupted run"
    expect 0 "" "$zoo" export whole --format word2vec-text --out whole.vec
    expect 0 "" "$zoo" export parts --format word2vec-text --out parts.vec
    cmp -s whole.vec parts.vec || fail "stopped at step 10 and resumed: other vectors at the end"
    # the vocabulary counted by two processes is one process's
    expect 0 "" "$zoo" --threads 1 train w2v.json --out one --quiet --set train.epochs=1
    [ "$(tokenizer_of whole/latest.safetensors)" = "$(tokenizer_of one/latest.safetensors)" ] ||
        fail "the vocabulary counted by 2 processes differs from 1 process's"
    expect 1 "the run was trained by 2 process(es); a self-updating plugin's steps (one chunk for each process) continue only with as many" \
        "$zoo" train --resume parts
    expect 1 "the run was trained by 1 process(es)" np2 "$zoo" train --resume one
    if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "word2vec over 2 processes: resumed bit-identical, vocabulary equal to 1 process's"
    exit 0
fi

# quality: configs/word2vec-kjv.json (skip-gram, 5 epochs) on gutenberg10;
# one thread a process, so every run is reproducible (Hogwild threads are
# not) and the test passes or fails the same way each time
config="$source_dir/configs/word2vec-kjv.json"
for seed in 1 2 3 4 5; do
    for n in 1 2; do
        out=p$n-s$seed
        if [ "$n" = 1 ]; then
            expect 0 "" "$zoo" --threads 1 train "$config" --set data.train="$corpus" \
                --set train.seed=$seed --out $out --quiet
        else
            expect 0 "" np2 "$zoo" --threads 1 train "$config" --set data.train="$corpus" \
                --set train.seed=$seed --out $out --quiet
        fi
        a=$("$zoo" eval-analogy $out "$questions" --json | sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p')
        w=$("$zoo" eval-pairs $out "$pairs" --json | sed -n 's/.*"spearman": \([0-9.e-]*\).*/\1/p')
        echo "$n $seed $a $w" >>scores
        echo "processes $n, seed $seed: analogy $a, WordSim-353 $w"
    done
done
# each measure: the 2-process median within [min, max] of the 1-process runs
for col in 3 4; do
    name=analogy
    [ $col = 4 ] && name=WordSim-353
    range=$(awk -v c=$col '$1 == 1 { print $c }' scores | sort -g | sed -n '1p;$p' | tr '\n' ' ')
    median=$(awk -v c=$col '$1 == 2 { print $c }' scores | sort -g | sed -n 3p)
    echo "$name: 2-process median $median, 1-process range [$range]"
    awk -v m="$median" -v r="$range" 'BEGIN { split(r, x, " "); exit !(m != "" && m + 0 >= x[1] + 0 && m + 0 <= x[2] + 0) }' ||
        fail "$name: the 2-process median $median is outside the 1-process range [$range]"
done
if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
exit 0
