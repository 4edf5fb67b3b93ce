#!/bin/sh
# Saves that meet faults, and one process per run directory:
# - the temporaries of killed saves (NAME.tmp.XXXXXX beside a checkpoint)
#   are removed when the run is resumed, and nothing else is;
# - a save that fails for want of space (RLIMIT_FSIZE: writes past it fail
#   with EFBIG, as ENOSPC would, without root) leaves latest, the last good
#   checkpoint, loadable, and once space is back the next save succeeds and
#   prunes to train.keep;
# - a second zoo train, zoo train --resume or zoo compare --resume on a
#   directory in use is refused, naming the pid of the first, and the lock
#   is free again once the first is killed with SIGKILL.
#   test_faults.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-faults.XXXXXX")
bg=""
mounted=""
trap 'for p in $bg; do kill -9 "$p" 2>/dev/null; done; [ -n "$mounted" ] && umount "$mounted"
      rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"
cd "$tmp" || exit 1

# every printable character: a char vocabulary of about 95, a bigram checkpoint of about 100 KB
word_corpus 3000 printable >train.txt
cat >run.json <<'JSON'
{"model": {"plugin": "bigram"},
 "data": {"train": "train.txt", "val_fraction": 0, "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 40, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "checkpoint_every": 5, "keep": 2}}
JSON
steps() { (cd "$1" && ls step-*.safetensors 2>/dev/null | tr '\n' ' '); }

# --- stale temporaries: zoo's own removed, anything else left alone
expect 0 "stopped after step 10" "$zoo" train run.json --out a --stop-after 10
size=$(wc -c <a/latest.safetensors)
[ "$size" -gt 65536 ] || fail "the test needs a checkpoint over 64 KiB, got $size bytes"
head -c 50000 a/latest.safetensors >a/step-00000015.safetensors.tmp.Ab3dE9
head -c 50000 a/latest.safetensors >a/latest.safetensors.tmp.x0Yz12
: >a/latest.safetensors.tmp
for f in notes.tmp.abcdef mine.safetensors.tmp.abc123 step-00000015.safetensors.tmp.toolong7 \
    step-00000015.safetensors.tmp; do
    echo keep >"a/$f"
done
# --- ... and a save failing for want of space: latest stays, the run says so
(trap '' XFSZ; ulimit -f 64 && exec "$zoo" train --resume a --stop-after 15) >out 2>err
got=$?
[ "$got" = 1 ] || fail "a save past RLIMIT_FSIZE: exit $got, expected 1: $(cat err)"
grep -q "File too large (the last good checkpoint, step 10, stays in a)" err ||
    fail "a failed save: $(cat err)"
for f in step-00000015.safetensors.tmp.Ab3dE9 latest.safetensors.tmp.x0Yz12 latest.safetensors.tmp; do
    [ -e "a/$f" ] && fail "the stale temporary $f was not removed"
done
for f in notes.tmp.abcdef mine.safetensors.tmp.abc123 step-00000015.safetensors.tmp.toolong7 \
    step-00000015.safetensors.tmp; do
    [ -e "a/$f" ] || fail "$f, not a temporary of zoo's, was removed"
done
ls a | grep -Eq '^(step-[0-9]+|latest)\.safetensors\.tmp\.[A-Za-z0-9]{6}$' && fail "the failed save left a temporary: $(ls a)"
[ -e a/step-00000015.safetensors ] && fail "the failed save left step 15"
[ "$(steps a)" = "step-00000010.safetensors " ] ||
    fail "after the failed save: $(steps a), expected step 10 alone (step 5 pruned to make room)"
expect 0 "" "$zoo" eval a --data train.txt --batches 1
# --- space back: the next save succeeds and prunes to keep 2 (resumed from step 10: the
# failed run's metrics of steps 11 to 15 are removed, and written again)
expect 0 "resumed from step 10: 5 line(s) of metrics.jsonl written after that checkpoint removed" \
    "$zoo" train --resume a --stop-after 20
[ "$(grep -c '"step":11,' a/metrics.jsonl)" = 1 ] || fail "metrics.jsonl: step 11 not once"
[ "$(steps a)" = "step-00000015.safetensors step-00000020.safetensors " ] ||
    fail "after space came back: $(steps a), expected steps 15 and 20"
cmp -s a/latest.safetensors a/step-00000020.safetensors || fail "latest is not step 20"

# --- a full disk, when a small tmpfs can be mounted (root): the save that finds no space
# removes the step checkpoints past keep - 1 and succeeds on its second try, every time;
# with keep 1 there is nothing to remove, and the run stops with step 5 intact
full_disk() { # KEEP ROOM: a tmpfs of ROOM bytes at disk/, a 40-step run in disk/r
    mkdir -p disk
    [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$2" tmpfs disk 2>/dev/null || return 1
    mounted="$tmp/disk"
    "$zoo" train run.json --out disk/r --set train.keep="$1" >out 2>err
    got=$?
    cp -r disk/r full-"$1"
    umount disk && mounted=""
}
if full_disk 2 $((2 * size + 65536)); then
    [ "$got" = 0 ] || fail "a full disk, keep 2: exit $got: $(cat err)"
    grep -q "step 15: the first try to save failed (.*No space left on device); saved after" err ||
        fail "a full disk, keep 2: no note of the second try: $(cat err)"
    [ "$(steps full-2)" = "step-00000035.safetensors step-00000040.safetensors " ] ||
        fail "a full disk, keep 2: $(steps full-2), expected steps 35 and 40"
    cmp -s full-2/latest.safetensors full-2/step-00000040.safetensors || fail "latest is not step 40"
    full_disk 1 $((size + 65536))
    grep -q "No space left on device (the last good checkpoint, step 5, stays in disk/r)" err ||
        fail "a full disk, keep 1: $(cat err)"
    [ "$(steps full-1)" = "step-00000005.safetensors " ] || fail "a full disk, keep 1: $(steps full-1)"
    expect 0 "" "$zoo" eval full-1 --data train.txt --batches 1
else
    echo "not root or no tmpfs: the full-disk case is left out" >&2
fi

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
# locked, and its state written (what --resume reads before it asks for the lock)
while { [ "$(cat C/.lock 2>/dev/null)" != "$pid" ] || [ ! -s C/compare.json ]; } && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
expect 1 "C is in use by another zoo process (pid $pid)" "$zoo" compare --resume C
children=$(ps -o pid= --ppid "$pid")
kill -9 "$pid" $children 2>/dev/null
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
kill -9 "$pid2" $children 2>/dev/null
bg="$bg $children"
wait "$pid2" 2>/dev/null

exit $((failures > 0))
