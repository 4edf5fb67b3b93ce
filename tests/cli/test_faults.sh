#!/bin/sh
# One process per run directory:
# - a second zoo train, zoo train --resume or zoo compare --resume on a
#   directory in use is refused, naming the pid of the first, and the lock
#   is free again once the first is killed with SIGKILL.
#   test_faults.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-faults.XXXXXX")
bg=""
trap 'for p in $bg; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"
cd "$tmp" || exit 1

awk 'BEGIN { srand(7); split("the lord god said unto him and they were in land of people day", w, " ");
      for (i = 0; i < 3000; i++) { n = 3 + int(rand() * 8); s = w[1 + int(rand() * 15)];
        for (j = 1; j < n; j++) s = s " " w[1 + int(rand() * 15)]; print s "." }
      s = ""; for (c = 32; c < 127; c++) s = s sprintf("%c", c); print s }' >train.txt
cat >run.json <<'JSON'
{"model": {"plugin": "bigram"},
 "data": {"train": "train.txt", "val_fraction": 0, "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 40, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "checkpoint_every": 5, "keep": 2}}
JSON

# --- the lock: a second process on a run directory in use is refused with the first's pid
"$zoo" train run.json --out L --set train.steps=100000000 --set train.checkpoint_every=20 \
    --quiet >L.out 2>L.err &
pid=$!
bg="$bg $pid"
i=0
while [ ! -e L/latest.safetensors ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -e L/latest.safetensors ] || fail "the background run saved nothing in 60 s: $(cat L.err)"
[ "$(cat L/.lock)" = "$pid" ] || fail "L/.lock holds '$(cat L/.lock)', expected the pid $pid"
expect 1 "L is in use by another zoo process (pid $pid)" "$zoo" train --resume L --stop-after 100000
expect 1 "L is in use by another zoo process (pid $pid)" "$zoo" train run.json --out L
kill -9 "$pid"
wait "$pid" 2>/dev/null
# free again: a new run is refused for the run the directory holds, not for a lock
expect 1 "L already holds a run" "$zoo" train run.json --out L
grep -q "in use" err && fail "the lock outlived its process killed with SIGKILL: $(cat err)"

# --- zoo compare's output directory
cat >compare.json <<'JSON'
{"name": "long", "seed": 7, "data": {"train": "train.txt"}, "budget": {"steps": 100000000},
 "models": [{"name": "bigram", "config": {"model": {"plugin": "bigram"},
   "data": {"tokenizer": {"type": "char"}, "seq_len": 32},
   "train": {"batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05}}}}]}
JSON
"$zoo" compare compare.json --out C --quiet >C.out 2>C.err &
pid=$!
bg="$bg $pid"
i=0
while [ "$(cat C/.lock 2>/dev/null)" != "$pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
expect 1 "C is in use by another zoo process (pid $pid)" "$zoo" compare --resume C
children=$(ps -o pid= --ppid "$pid")
kill -9 "$pid" $children
bg="$bg $children"
wait "$pid" 2>/dev/null
# free again: a --resume takes it (and is stopped in turn)
"$zoo" compare --resume C --quiet >C2.out 2>C2.err &
pid2=$!
bg="$bg $pid2"
i=0
while [ "$(cat C/.lock 2>/dev/null)" != "$pid2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat C/.lock)" = "$pid2" ] || fail "compare's lock outlived its process: $(cat C2.err)"
children=$(ps -o pid= --ppid "$pid2")
kill -9 "$pid2" $children
bg="$bg $children"
wait "$pid2" 2>/dev/null

exit $((failures > 0))
