#!/bin/sh
# Nothing saved is lost (issue 16), with faults injected by fault_inject.c
# (LD_PRELOADed into zoo; see its header for the variables):
# - a save killed with SIGKILL at each of its calls on the run directory
#   (writes cut to 2 KiB, so a save makes more than 50): the previous
#   checkpoint is intact, latest is a whole checkpoint (the old one or the
#   new one), loads, no temporary is taken for a checkpoint, and --resume
#   goes on to the uninterrupted run's losses;
# - a write or fsync failing part-way (ENOSPC, EIO): the old files stay, no
#   temporary is left, the message names the file and the call; a metrics
#   line torn by a failed write is cut off; zoo registry pin alike;
# - gpt, bert, word2vec (one thread) and a bert fine-tuning killed at a
#   seeded random step and resumed: the per-step losses of the uninterrupted
#   run, bit for bit
#   (ZOO_SAVES_SEED=N repeats a run's choice; the seed is printed).
#   test_saves.sh BUILD_DIR FAULT_INJECT_LIBRARY
set -u
build=$(cd "$1" && pwd)
shim=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-saves.XXXXXX")
tmp=$(cd "$tmp" && pwd -P) # the shim compares real paths
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"
cd "$tmp" || exit 1

# a sanitizer build: its runtime must come first among the preloaded libraries
preload=$shim
asan=$(ldd "$zoo" | awk '/libasan/ { print $3 }')
[ -n "$asan" ] && preload="$asan $shim"
# faulty CMD...: CMD with the shim (the ZOO_FAULT_* variables come from the caller)
faulty() { LD_PRELOAD="$preload" "$@"; }
losses() { sed -E 's/,"tokens_per_s":[^,]*//; s/,"elapsed_s":[^,}]*//' "$1"; }
temporaries() { ls "$1" | grep -E '\.tmp(\.[A-Za-z0-9]{6})?$'; }

# every printable character: a char vocabulary of 97, a bigram checkpoint of 113 KiB
word_corpus 3000 printable >train.txt
cat >run.json <<'JSON'
{"model": {"plugin": "bigram"},
 "data": {"train": "train.txt", "val_fraction": 0, "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 40, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "checkpoint_every": 5, "keep": 2}}
JSON

# --- the run every case starts from (steps 5 and 10 saved), and where it goes uninterrupted
expect 0 "stopped after step 10" "$zoo" train run.json --out p --stop-after 10
cp -a p ref
expect 0 "stopped after step 12" "$zoo" train --resume ref --stop-after 12
losses ref/metrics.jsonl >ref.losses

# --- how many calls on the run directory a resumed run saving step 11 makes
cp -a p w
ZOO_FAULT_PATH="$tmp/w" ZOO_FAULT_CHUNK=2048 ZOO_FAULT_COUNT="$tmp/count" \
    faulty "$zoo" train --resume "$tmp/w" --stop-after 11 --quiet >out 2>err ||
    fail "the counting run failed: $(cat err)"
calls=$(cat count 2>/dev/null || echo 0)
[ "$calls" -ge 50 ] || fail "a save makes $calls calls on the run directory, fewer than 50 points to kill it at"
rm -rf w

# --- SIGKILL at each of them
old=0 new=0 stale=0
n=1
while [ "$n" -le "$calls" ]; do
    rm -rf w
    cp -a p w
    ZOO_FAULT_PATH="$tmp/w" ZOO_FAULT_CHUNK=2048 ZOO_FAULT_AT=$n \
        faulty "$zoo" train --resume "$tmp/w" --stop-after 11 --quiet >out 2>err
    got=$?
    [ "$got" = 137 ] || fail "killed at call $n: exit $got, expected 137 (SIGKILL): $(cat err)"
    cmp -s p/step-00000010.safetensors w/step-00000010.safetensors ||
        fail "killed at call $n: the previous checkpoint (step 10) changed"
    if cmp -s w/latest.safetensors p/step-00000010.safetensors; then
        old=$((old + 1))
    elif [ -f w/step-00000011.safetensors ] && cmp -s w/latest.safetensors w/step-00000011.safetensors; then
        new=$((new + 1))
    else
        fail "killed at call $n: latest is neither step 10 nor a whole step 11: $(ls w)"
    fi
    [ -n "$(temporaries w)" ] && stale=$((stale + 1))
    # every step file is whole (a temporary is never one), and latest loads
    for f in w/step-*.safetensors; do
        "$zoo" eval "$f" --data train.txt --batches 1 >out 2>err ||
            fail "killed at call $n: $f does not load: $(cat err)"
    done
    "$zoo" eval w --data train.txt --batches 1 >out 2>err || fail "killed at call $n: latest does not load: $(cat err)"
    # resumed: the temporaries gone, the losses of the run never killed
    "$zoo" train --resume w --stop-after 12 --quiet >out 2>err ||
        fail "killed at call $n: --resume failed: $(cat err)"
    [ -z "$(temporaries w)" ] || fail "killed at call $n: --resume left $(temporaries w)"
    cmp -s w/latest.safetensors w/step-00000012.safetensors || fail "killed at call $n: latest is not step 12 after --resume"
    losses w/metrics.jsonl >w.losses
    cmp -s ref.losses w.losses || fail "killed at call $n: the resumed run's metrics differ: $(diff ref.losses w.losses | head -3)"
    n=$((n + 1))
done
echo "killed at each of $calls calls of a save: latest was step 10 after $old, step 11 after $new;" \
    "$stale left a temporary, removed by --resume"
[ "$old" -gt 0 ] && [ "$new" -gt 0 ] && [ "$stale" -gt 0 ] ||
    fail "the kills did not cover a save: before the switch of latest, after it, and with a temporary"

# --- a failing fsync (EIO) and a disk full part-way through a write (ENOSPC): the save fails,
# naming the file and the call; latest and step 10 stay, no temporary is left
failed_save() { # CALLS AT ERRNO EXPECTED
    rm -rf w
    cp -a p w
    ZOO_FAULT_PATH="$tmp/w" ZOO_FAULT_CHUNK=2048 ZOO_FAULT_CALLS=$1 ZOO_FAULT_AT=$2 ZOO_FAULT_ACTION=fail \
        ZOO_FAULT_ERRNO=$3 faulty "$zoo" train --resume "$tmp/w" --stop-after 11 --quiet >out 2>err
    got=$?
    [ "$got" = 1 ] || fail "$1 failing with $3: exit $got, expected 1"
    grep -q "$4" err || fail "$1 failing with $3: the message is not /$4/: $(cat err)"
    [ -z "$(temporaries w)" ] || fail "$1 failing with $3: a temporary is left: $(temporaries w)"
    [ ! -e w/step-00000011.safetensors ] || fail "$1 failing with $3: a step 11 checkpoint is left"
    cmp -s w/latest.safetensors p/step-00000010.safetensors || fail "$1 failing with $3: latest is not step 10"
    cmp -s w/step-00000010.safetensors p/step-00000010.safetensors || fail "$1 failing with $3: step 10 changed"
    expect 0 "" "$zoo" eval w --data train.txt --batches 1
}
stays="(the last good checkpoint, step 10, stays in $tmp/w)"
failed_save fsync 1 EIO "^zoo train: $tmp/w/step-00000011.safetensors: fsync failed: Input/output error $stays"
# write 1 is the metrics line of step 11, 2 to 57 the checkpoint's
failed_save write 20 ENOSPC "^zoo train: $tmp/w/step-00000011.safetensors: write failed: No space left on device $stays"
# space back: the run goes on from step 10
expect 0 "resumed from step 10: 1 line(s) of metrics.jsonl written after that checkpoint removed" \
    "$zoo" train --resume w --stop-after 12
losses w/metrics.jsonl >w.losses
cmp -s ref.losses w.losses || fail "resumed after a failed save: other metrics: $(diff ref.losses w.losses | head -3)"

# --- a metrics line torn by a full disk is cut off (written 16 bytes at a time, the second write fails)
rm -rf w
cp -a p w
ZOO_FAULT_PATH="$tmp/w/metrics.jsonl" ZOO_FAULT_CHUNK=16 ZOO_FAULT_CALLS=write ZOO_FAULT_AT=2 \
    ZOO_FAULT_ACTION=fail faulty "$zoo" train --resume "$tmp/w" --stop-after 12 --quiet >out 2>err ||
    fail "a run whose metrics cannot be written failed: $(cat err)"
cmp -s p/metrics.jsonl w/metrics.jsonl || fail "a torn metrics line was left: $(tail -c 100 w/metrics.jsonl)"
# ... and one torn otherwise (a crash of the machine) is dropped on --resume
printf '{"step":11,"loss":3.1' >>p2.tail
cp -a p w2 && cat p2.tail >>w2/metrics.jsonl
expect 0 "1 line(s) of metrics.jsonl written after that checkpoint removed" "$zoo" train --resume w2 --stop-after 12
losses w2/metrics.jsonl >w.losses
cmp -s ref.losses w.losses || fail "a torn metrics line: other metrics after --resume: $(diff ref.losses w.losses | head -3)"

# --- zoo registry pin: a write failing part-way leaves the registry as it was
mkdir reg
sed "s|\"library\" *: *\"\\.\\./|\"library\": \"$build/|" "$build/registry/registry.json" >reg/registry.json
cp reg/registry.json reg/before.json
ZOO_FAULT_PATH="$tmp/reg" ZOO_FAULT_CHUNK=64 ZOO_FAULT_CALLS=write ZOO_FAULT_AT=3 ZOO_FAULT_ACTION=fail \
    faulty "$zoo" registry pin "$tmp/reg/registry.json" >out 2>err
got=$?
[ "$got" = 1 ] || fail "registry pin with a failing write: exit $got: $(cat err)"
grep -q "$tmp/reg/registry.json: write failed: No space left on device" err ||
    fail "registry pin with a failing write: $(cat err)"
cmp -s reg/registry.json reg/before.json || fail "a failed registry pin changed the registry"
[ "$(ls reg)" = "$(printf 'before.json\nregistry.json')" ] || fail "a failed registry pin left $(ls reg)"
expect 0 "" "$zoo" registry pin "$tmp/reg/registry.json"
grep -q '"sha256"' reg/registry.json || fail "registry pin wrote no sums"

# --- killed at a seeded random step and resumed: the uninterrupted run's losses, bit for bit
seed=${ZOO_SAVES_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "kill steps drawn with ZOO_SAVES_SEED=$seed"
awk 'BEGIN { srand(3); for (l = 0; l < 1500; l++) { t = l % 2 ? "v" : "w"; s = "";
    for (i = 0; i < 10; i++) s = s (i ? " " : "") t int(rand() * 15); print s } }' >topics.txt
cat >w2v.json <<EOF
{"model": {"plugin": "word2vec", "dim": 16, "window": 3, "negative": 4},
 "data": {"train": "$tmp/topics.txt", "val_fraction": 0, "seq_len": 1000,
          "tokenizer": {"type": "word", "split": "whitespace"}},
 "train": {"epochs": 2, "seed": 3, "threads": 1, "checkpoint_every": 3, "optimizer": {"name": "sgd", "lr": 0.05},
           "schedule": {"name": "linear", "min_lr": 0.0001}}}
EOF
lm="--set train.steps=24 --set train.checkpoint_every=4 --set train.eval_every=6 --set train.keep=2 --set data.val_fraction=0.1"
i=0
for model in gpt bert word2vec; do
    case $model in
    gpt) config=run.json sets="$lm --set model.plugin=gpt --set model.n_layer=1 --set model.n_embd=16 --set model.n_head=2" ;;
    bert) config=run.json sets="$lm --set model.plugin=bert --set model.hidden_size=16 --set model.num_hidden_layers=1
            --set model.num_attention_heads=2 --set model.intermediate_size=32 --set model.max_position_embeddings=32" ;;
    word2vec) config=w2v.json sets="" ;;
    esac
    # shellcheck disable=SC2086
    expect 0 "" "$zoo" train $config --out "$tmp/$model-ref" --quiet $sets
    lines=$(wc -l <"$model-ref/metrics.jsonl")
    i=$((i + 1))
    # a line of metrics.jsonl from the sixth (after the first checkpoint: a run killed before it
    # has nothing to resume) to the last but one: killed before writing it
    at=$(awk -v s="$seed" -v i="$i" -v n="$lines" 'BEGIN { srand(3 * s + i); print 6 + int(rand() * (n - 6)) }')
    # shellcheck disable=SC2086
    ZOO_FAULT_PATH="$tmp/$model-k/metrics.jsonl" ZOO_FAULT_CALLS=write ZOO_FAULT_AT=$at \
        faulty "$zoo" train $config --out "$tmp/$model-k" --quiet $sets >out 2>err
    got=$?
    [ "$got" = 137 ] || fail "$model killed at metrics line $at: exit $got: $(cat err)"
    killed=$(tail -1 "$model-k/metrics.jsonl" | sed -E 's/^\{"step":([0-9]+).*/\1/')
    echo "$model: killed after step $killed (before metrics line $at of $lines), resumed"
    expect 0 "" "$zoo" train --resume "$tmp/$model-k" --quiet
    losses "$model-ref/metrics.jsonl" >ref.losses
    losses "$model-k/metrics.jsonl" >k.losses
    cmp -s ref.losses k.losses ||
        fail "$model killed after step $killed and resumed: other losses: $(diff ref.losses k.losses | head -4)"
    if [ "$model" = word2vec ]; then
        expect 0 "" "$zoo" export "$model-ref" --format word2vec-text --out ref.vec
        expect 0 "" "$zoo" export "$model-k" --format word2vec-text --out k.vec
        cmp -s ref.vec k.vec || fail "word2vec killed and resumed: other vectors at the end"
    fi
done
# zoo finetune alike: a head on the bert just trained, killed at a seeded step, resumed
awk 'BEGIN { srand(11); split("god said unto him and they were in land of day", w, " ");
      for (i = 0; i < 80; i++) { pos = i % 2; s = pos ? "pos" : "neg"; at = 1 + int(rand() * 4);
        for (j = 0; j < 5; j++) s = s " " (j == at ? (pos ? "lord" : "people") : w[1 + int(rand() * 11)]);
        print s } }' >ft-all.txt
head -64 ft-all.txt >ft-train.txt
tail -16 ft-all.txt >ft-held.txt
cat >ft.json <<JSON
{"finetune": {"base": "bert-ref", "train": "ft-train.txt", "eval": "ft-held.txt", "format": "sst"},
 "data": {"seq_len": 8}, "train": {"steps": 40, "batch_size": 8, "optimizer": {"lr": 0.01},
 "eval_every": 20, "checkpoint_every": 10}}
JSON
expect 0 "" "$zoo" finetune ft.json --out "$tmp/ft-ref" --quiet
lines=$(wc -l <ft-ref/metrics.jsonl)
at=$(awk -v s="$seed" -v n="$lines" 'BEGIN { srand(3 * s + 4); print 11 + int(rand() * (n - 11)) }')
ZOO_FAULT_PATH="$tmp/ft-k/metrics.jsonl" ZOO_FAULT_CALLS=write ZOO_FAULT_AT=$at \
    faulty "$zoo" finetune ft.json --out "$tmp/ft-k" --quiet >out 2>err
got=$?
[ "$got" = 137 ] || fail "finetune killed at metrics line $at: exit $got: $(cat err)"
killed=$(tail -1 ft-k/metrics.jsonl | sed -E 's/^\{"step":([0-9]+).*/\1/')
echo "finetune: killed after step $killed (before metrics line $at of $lines), resumed"
expect 0 "" "$zoo" finetune --resume "$tmp/ft-k" --quiet
losses ft-ref/metrics.jsonl >ref.losses
losses ft-k/metrics.jsonl >k.losses
cmp -s ref.losses k.losses ||
    fail "finetune killed after step $killed and resumed: other losses: $(diff ref.losses k.losses | head -4)"

exit $((failures > 0))
