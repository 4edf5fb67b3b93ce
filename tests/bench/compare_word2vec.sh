#!/bin/sh
# zoo's word2vec beside gensim, fastText and word2vec.c: each trains on the same
# pre-tokenized corpus (tests/bench/w2v_corpus.sh) with the same settings, in turn
# (the order rotates each round); each one's wall time and peak RSS come from
# /usr/bin/time, its training time where it reports one, and every tool's vectors
# are scored by zoo's eval-analogy and eval-pairs. Prints a table per round and,
# over the rounds, the medians.
#
#   compare_word2vec.sh [--corpus kjv|gutenberg10] [--model sg|cbow] [--rounds N]
#                       [--fraction F] [--tools "zoo gensim fasttext word2vec_c"] [--keep DIR]
#
# Settings, every tool: dim 100, window 5, negative 5 (no hierarchical softmax),
# min-count 5, sample 1e-3, 5 epochs, 2 threads, alpha 0.025 (sg) / 0.05 (cbow). Round r
# seeds every tool that takes a seed with r (word2vec.c has none): one seed's luck moves
# the KJV's analogy accuracy by 0.02, so rounds must differ in more than thread timing.
# Environment: ZOO_SHARED_DATA (default ../shared/data), PYTHON (default /usr/bin/python3,
# which has Debian's python3-gensim), FASTTEXT (default fasttext), WORD2VEC_C (a word2vec.c
# binary with its epoch bug fixed, built outside the project: docs/benchmarks.md says how;
# without it word2vec.c is skipped), and the zoo command lines below.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/bench
cd "$root"

# ---- zoo's command lines (run from the project root, through eval). $CORPUS, $RUNDIR,
# $VECTORS and $SEED are set before each; ZOO_CBOW is added to the train line for --model cbow.
ZOO_BIN=${ZOO_BIN:-build/zoo}
ZOO_TRAIN=${ZOO_TRAIN:-'$ZOO_BIN train configs/word2vec-kjv.json --set data.train="$CORPUS" --set data.tokenizer.split=whitespace --set data.tokenizer.lowercase=false --set train.threads=2 --set train.seed=$SEED --out "$RUNDIR" --quiet'}
ZOO_CBOW=${ZOO_CBOW:-'--set model.architecture=cbow --set train.optimizer.lr=0.05'}
ZOO_EXPORT=${ZOO_EXPORT:-'$ZOO_BIN export "$RUNDIR" --format word2vec-bin --out "$VECTORS"'}
# --------------------------------------------------------------------------------------

PYTHON=${PYTHON:-/usr/bin/python3}
FASTTEXT=${FASTTEXT:-fasttext}
WORD2VEC_C=${WORD2VEC_C:-}
data=${ZOO_SHARED_DATA:-$root/../shared/data}

corpus=kjv model=sg rounds=1 fraction=1 tools="zoo gensim fasttext word2vec_c" keep=""
usage() { sed -n '9,10p' "$0" | sed 's/^#  *//; s/^/usage: /; 2s/^usage: /       /'; }
while [ $# -gt 0 ]; do
    case $1 in
    --corpus) corpus=$2; shift ;;
    --model) model=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --fraction) fraction=$2; shift ;;
    --tools) tools=$2; shift ;;
    --keep) keep=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare_word2vec: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case $corpus in
kjv) source=$data/corpus/kjv.txt ;;
gutenberg10) source=$data/corpus/gutenberg10_body.txt ;;
*) echo "compare_word2vec: --corpus is kjv or gutenberg10" >&2; exit 2 ;;
esac
case $model in
sg) cbow=0 alpha=0.025 ;;
cbow) cbow=1 alpha=0.05 ;;
*) echo "compare_word2vec: --model is sg or cbow" >&2; exit 2 ;;
esac
case $rounds in ''|*[!0-9]*|0) echo "compare_word2vec: --rounds takes a positive count" >&2; exit 2 ;; esac

questions=$data/embedding_eval/questions-words.txt
pairs=$data/embedding_eval/wordsim353.tsv
for f in "$source" "$questions" "$pairs"; do
    [ -f "$f" ] || { echo "compare_word2vec: SKIP: $f not found (../shared/data is missing?)"; exit 0; }
done
[ -x /usr/bin/time ] || { echo "compare_word2vec: SKIP: /usr/bin/time not found (apt-get install time)"; exit 0; }
[ -x "$PYTHON" ] || PYTHON=$(command -v python3 || true)
[ -n "$PYTHON" ] || { echo "compare_word2vec: SKIP: no python3 for the report"; exit 0; }
[ -x "$ZOO_BIN" ] || echo "compare_word2vec: note: $ZOO_BIN not built: no tool's vectors can be scored"

export OMP_WAIT_POLICY=PASSIVE

# Whether a tool can run here; prints why not.
available() {
    case $1 in
    zoo)
        [ -x "$ZOO_BIN" ] || { echo "$ZOO_BIN not built"; return 1; }
        cfg=$(printf '%s\n' "$ZOO_TRAIN" | sed -n 's/.* train \([^ ]*\.json\).*/\1/p')
        [ -z "$cfg" ] || [ -f "$cfg" ] || { echo "$cfg not found"; return 1; } ;;
    gensim)
        "$PYTHON" -c "import gensim" 2>/dev/null || { echo "$PYTHON can't import gensim (apt-get install python3-gensim)"; return 1; } ;;
    fasttext)
        command -v "$FASTTEXT" >/dev/null || { echo "$FASTTEXT not found (apt-get install fasttext)"; return 1; } ;;
    word2vec_c)
        [ -n "$WORD2VEC_C" ] && [ -x "$WORD2VEC_C" ] ||
            { echo "set WORD2VEC_C to a word2vec.c binary with the epoch fix (docs/benchmarks.md)"; return 1; } ;;
    *) echo "unknown tool (zoo gensim fasttext word2vec_c)"; return 1 ;;
    esac
}
run_tools=""
for t in $tools; do
    if why=$(available "$t"); then run_tools="$run_tools $t"
    else echo "compare_word2vec: skipping $t: $why"; fi
done
[ -n "$run_tools" ] || { echo "compare_word2vec: SKIP: none of the tools ($tools) is available"; exit 0; }

if [ -n "$keep" ]; then
    mkdir -p "$keep"; tmp=$(cd "$keep" && pwd)
else
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare_word2vec.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
fi

CORPUS=$tmp/corpus.txt
"$here/w2v_corpus.sh" "$source" "$CORPUS" "$fraction"
words=$(wc -w <"$CORPUS")
lines=$(wc -l <"$CORPUS")
epochs=5
echo "corpus $corpus (fraction $fraction): $lines lines, $words words; model $model; dim 100, window 5," \
    "negative 5, min-count 5, sample 1e-3, $epochs epochs, 2 threads, alpha $alpha; outputs in $tmp"

# run_TOOL DIR: trains into DIR/vectors.*, with DIR/time ("wall peak_kb") and, where the
# tool reports its training time, DIR/train_s; the log in DIR/log.
timed() { out=$1; shift; /usr/bin/time -f "%e %M" -o "$out" "$@"; }
run_gensim() {
    timed "$1/time" "$PYTHON" "$here/w2v_gensim.py" "$CORPUS" "$1/vectors.bin" --sg $((1 - cbow)) \
        --size 100 --window 5 --negative 5 --hs 0 --min-count 5 --sample 1e-3 --epochs $epochs \
        --threads 2 --alpha $alpha --seed $SEED >"$1/gensim.json" 2>"$1/log" || return 1
    sed -n 's/.*"train_seconds": *\([0-9.eE+-]*\).*/\1/p' "$1/gensim.json" >"$1/train_s"
}
run_fasttext() {
    if [ $cbow = 1 ]; then mode=cbow; else mode=skipgram; fi
    timed "$1/time" "$FASTTEXT" $mode -input "$CORPUS" -output "$1/vectors" -dim 100 -ws 5 -neg 5 \
        -minCount 5 -t 1e-3 -epoch $epochs -thread 2 -minn 0 -maxn 0 -lr $alpha -seed $SEED \
        >"$1/log" 2>&1 || return 1
    rm -f "$1/vectors.bin"   # the model; its .vec is what's scored
}
run_word2vec_c() {
    timed "$1/time" "$WORD2VEC_C" -train "$CORPUS" -output "$1/vectors.bin" -binary 1 -cbow $cbow \
        -size 100 -window 5 -negative 5 -hs 0 -sample 1e-3 -threads 2 -iter $epochs -min-count 5 \
        -alpha $alpha >"$1/log" 2>&1
}
run_zoo() {
    RUNDIR=$1/run VECTORS=$1/vectors.bin
    if [ $cbow = 1 ]; then line="$ZOO_TRAIN $ZOO_CBOW"; else line=$ZOO_TRAIN; fi
    eval "echo + $line" >"$1/log"
    eval "timed \"\$1/time\" $line" >>"$1/log" 2>&1 || return 1
    eval "echo + $ZOO_EXPORT" >>"$1/log"
    eval "timed \"\$1/export_time\" $ZOO_EXPORT" >>"$1/log" 2>&1 || return 1
    # training time: the last elapsed_s zoo wrote in metrics.jsonl
    if [ -f "$RUNDIR/metrics.jsonl" ]; then
        grep -o '"elapsed_s": *[0-9.eE+-]*' "$RUNDIR/metrics.jsonl" | tail -n 1 | sed 's/.*: *//' >"$1/train_s"
    fi
}

report() {
    "$PYTHON" - "$tmp" "$words" "$epochs" "$1" $run_tools <<'EOF'
import json, os, statistics, sys
tmp, words, epochs, which, tools = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]

def num(path):
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None

def row(d):
    r = {"status": open(os.path.join(d, "status")).read().strip() if os.path.exists(os.path.join(d, "status")) else "-"}
    try:
        wall, peak = open(os.path.join(d, "time")).read().split()[-2:]
        r["wall"], r["peak"] = float(wall), float(peak) / 1024
    except (OSError, ValueError):
        pass
    if os.path.exists(os.path.join(d, "export_time")):
        try:
            ew, ep = open(os.path.join(d, "export_time")).read().split()[-2:]
            r["wall"] = r.get("wall", 0) + float(ew)
            r["peak"] = max(r.get("peak", 0), float(ep) / 1024)
        except ValueError:
            pass
    r["train"] = num(os.path.join(d, "train_s"))
    r["train_from"] = "reported"
    if r["train"] is None and "wall" in r:
        r["train"], r["train_from"] = r["wall"], "wall"
    if r.get("train"):
        r["wps"] = epochs * words / r["train"]
    for name, keys in (("analogy.json", ("accuracy", "coverage")), ("pairs.json", ("spearman", "coverage"))):
        try:
            j = json.load(open(os.path.join(d, name)))
            r[name + keys[0]], r[name + keys[1]] = j[keys[0]], j[keys[1]]
        except (OSError, ValueError, KeyError):
            pass
    if r["status"] != "ok":
        r = {"status": r["status"]}
    return r

def fmt(v, f):
    return "-" if v is None else format(v, f)

def table(rows, title):
    g = rows.get("gensim", {}).get("wps")
    print(title)
    print(f"  {'tool':<11} {'wall s':>7} {'train s':>8} {'words/s':>9} {'vs gensim':>9} {'peak MB':>8}"
          f" {'analogy':>8} {'an.cov':>7} {'ws353 rho':>9} {'ws.cov':>7}")
    for t in tools:
        r = rows.get(t, {})
        if r.get("status", "ok") != "ok":
            print(f"  {t:<11} {r['status']}")
            continue
        wps = r.get("wps")
        ratio = wps / g if wps and g else None
        train = fmt(r.get("train"), ".2f") + ("*" if r.get("train_from") == "wall" else "")
        print(f"  {t:<11} {fmt(r.get('wall'), '.2f'):>7} {train:>8} {fmt(wps, ',.0f'):>9} {fmt(ratio, '.2f'):>9}"
              f" {fmt(r.get('peak'), '.0f'):>8} {fmt(r.get('analogy.jsonaccuracy'), '.4f'):>8}"
              f" {fmt(r.get('analogy.jsoncoverage'), '.4f'):>7} {fmt(r.get('pairs.jsonspearman'), '.4f'):>9}"
              f" {fmt(r.get('pairs.jsoncoverage'), '.4f'):>7}")

rounds = sorted((int(n[1:]) for n in os.listdir(tmp) if n.startswith("r") and n[1:].isdigit()))
if which != "median":
    table({t: row(os.path.join(tmp, "r" + which, t)) for t in tools}, f"round {which}:")
else:
    med = {}
    for t in tools:
        rs = [row(os.path.join(tmp, f"r{n}", t)) for n in rounds]
        ok = [r for r in rs if r["status"] == "ok"]
        if not ok:
            med[t] = {"status": rs[-1]["status"] if rs else "-"}
            continue
        m = {"status": "ok", "train_from": ok[0].get("train_from")}
        for k in ("wall", "train", "wps", "peak", "analogy.jsonaccuracy", "analogy.jsoncoverage",
                  "pairs.jsonspearman", "pairs.jsoncoverage"):
            vs = [r[k] for r in ok if r.get(k) is not None]
            m[k] = statistics.median(vs) if vs else None
        med[t] = m
    table(med, f"medians over {len(rounds)} round(s):")
print(f"  words/s = {epochs} epochs x {words} corpus words / train s; vs gensim: words/s over gensim's."
      " train s: gensim: its train() call; zoo: the last elapsed_s in metrics.jsonl;"
      " * = whole run (wall; fastText, word2vec.c). zoo's wall and peak include its export.")
EOF
}

r=1
while [ $r -le "$rounds" ]; do
    # the order rotates: round r starts with the r-th tool
    set -- $run_tools
    k=$(( (r - 1) % $# ))
    while [ $k -gt 0 ]; do set -- "$@" "$1"; shift; k=$((k - 1)); done
    order=$*
    echo "round $r (seed $r), in this order: $order"
    SEED=$r
    for t in $order; do
        d=$tmp/r$r/$t
        rm -rf "$d"; mkdir -p "$d"
        if "run_$t" "$d"; then
            echo ok >"$d/status"
        else
            echo "failed (log: $d/log)" >"$d/status"
            echo "compare_word2vec: $t failed; the end of its log:"; tr '\r' '\n' <"$d/log" | tail -n 5 | sed 's/^/    /'
        fi
    done
    # scoring, after all the timed runs of the round
    for t in $order; do
        d=$tmp/r$r/$t
        [ "$(cat "$d/status")" = ok ] || continue
        v=$d/vectors.bin
        [ -f "$v" ] || v=$d/vectors.vec
        if [ ! -f "$v" ]; then echo "no vectors written (log: $d/log)" >"$d/status"; continue; fi
        [ -x "$ZOO_BIN" ] || continue
        "$ZOO_BIN" eval-analogy "$v" "$questions" --restrict 30000 --json >"$d/analogy.json" 2>"$d/eval.log" ||
            echo "compare_word2vec: eval-analogy failed on $t's vectors (see $d/eval.log)"
        "$ZOO_BIN" eval-pairs "$v" "$pairs" --json >"$d/pairs.json" 2>>"$d/eval.log" ||
            echo "compare_word2vec: eval-pairs failed on $t's vectors (see $d/eval.log)"
    done
    report $r
    r=$((r + 1))
done
[ "$rounds" -gt 1 ] && report median
[ -n "$keep" ] && echo "outputs kept in $tmp"
exit 0
