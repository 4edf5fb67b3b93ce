#!/bin/sh
# Commands that run for a while behave like zoo train (test_train.sh has the
# rest): eval's scored tokens and a run's own held-out split, a run without
# one, a diverging run, BERT's evaluation lines, finetune's last line, a run
# directory stopped before its first checkpoint, and zoo run scripts run twice.
#   test_runs.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-runs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"

word_corpus 3000 >"$tmp/corpus.txt"
head -2500 "$tmp/corpus.txt" >"$tmp/train.txt"
tail -500 "$tmp/corpus.txt" >"$tmp/val.txt"
cat >"$tmp/run.json" <<JSON
{"model": {"plugin": "bigram"},
 "data": {"train": "train.txt", "val": "val.txt", "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 20, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "eval_every": 10, "eval_batches": 4, "checkpoint_every": 10}}
JSON
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/a" --quiet

# --- eval counts the tokens it scored: 2 batches of 8 windows of 32 targets
expect 0 '"tokens": 512, "bytes": '"$(wc -c <"$tmp/val.txt")"', "unknown_tokens": 0, "batches": 2' \
    "$zoo" eval "$tmp/a" --data "$tmp/val.txt" --batches 2 --json
expect 0 "(512 tokens, 2 batches)$" "$zoo" eval "$tmp/a" --data "$tmp/val.txt" --batches 2
# the whole text: every window of 32 targets that fits (a character a token)
n=$(wc -c <"$tmp/val.txt")
expect 0 "\"tokens\": $(((n - 1) / 32 * 32))," "$zoo" eval "$tmp/a" --data "$tmp/val.txt" --json
[ -s "$tmp/err" ] && fail "eval: a short evaluation shows progress: $(cat "$tmp/err")"
cp "$tmp/out" "$tmp/with-data"

# --- without --data: the run's own held-out split, data.val here
expect 0 "" "$zoo" eval "$tmp/a" --json
cmp -s "$tmp/out" "$tmp/with-data" || fail "eval RUN differs from eval RUN --data val.txt: $(cat "$tmp/out")"
# ... and the last tenth of data.train, cut as training cut it (by position: no lines for a bigram)
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/f" --quiet --set data.val=null --set data.val_fraction=0.1
n=$(wc -c <"$tmp/train.txt")
tail -c $((n - n * 9 / 10)) "$tmp/train.txt" >"$tmp/tenth.txt"
expect 0 "" "$zoo" eval "$tmp/f" --data "$tmp/tenth.txt" --json
cp "$tmp/out" "$tmp/tenth"
expect 0 "" "$zoo" eval "$tmp/f/latest.safetensors" --json
cmp -s "$tmp/out" "$tmp/tenth" || fail "eval RUN (val_fraction) differs from its last tenth: $(cat "$tmp/out" "$tmp/tenth")"

# --- no held-out split: said once, never evaluated on the training data; eval asks for --data
expect 0 "no held-out split (data.val_fraction 0 and no data.val): the run is not evaluated" \
    "$zoo" train "$tmp/run.json" --out "$tmp/nv" --set data.val=null --set data.val_fraction=0
[ "$(grep -c 'held-out' "$tmp/err")" = 1 ] || fail "no held-out split: not said once"
grep -q val_loss "$tmp/err" "$tmp/nv/metrics.jsonl" && fail "a run without a held-out split printed a val_loss"
expect 1 "nv was trained without a held-out split (data.val_fraction 0 and no data.val); give --data FILE" \
    "$zoo" eval "$tmp/nv"

# --- a diverging run says so once, and names no checkpoint when none was saved
expect 1 "the loss is [a-z]*; stopping (no checkpoint was saved)" \
    "$zoo" train "$tmp/run.json" --out "$tmp/nan" --set train.optimizer.name=adam --set train.optimizer.lr=1e38 \
    --set train.grad_clip=0 --set train.checkpoint_every=1000 --set train.steps=1000
[ "$(grep -c 'the loss is' "$tmp/err")" = 1 ] || fail "a diverging run: not said once"
grep -q "checkpoint stays" "$tmp/err" && fail "a diverging run names a checkpoint it never saved"
ls "$tmp/nan"/*.safetensors >/dev/null 2>&1 && fail "a diverging run left a checkpoint"

# --- a directory with a run's metrics but no checkpoint is not appended to
mkdir -p "$tmp/half" && echo '{"step":1,"loss":3}' >"$tmp/half/metrics.jsonl"
expect 1 "half already holds the metrics of a run stopped before its first checkpoint; remove it" \
    "$zoo" train "$tmp/run.json" --out "$tmp/half"
[ "$(wc -l <"$tmp/half/metrics.jsonl")" = 1 ] || fail "train appended to a stopped run's metrics.jsonl"

# --- BERT's evaluation lines show its own metrics beside the majority baseline
expect 0 "^step 10: val_loss [0-9.]*.*  mlm_accuracy [0-9.]*  nsp_accuracy [0-9.]*  majority_accuracy [0-9.]*" \
    "$zoo" train "$tmp/run.json" --out "$tmp/bert" --set model.plugin=bert \
    --set model.hidden_size=16 --set model.num_hidden_layers=1 --set model.num_attention_heads=2 \
    --set model.intermediate_size=32 --set model.max_position_embeddings=32 --set data.tokenizer.type=wordpiece \
    --set data.tokenizer.max_size=200

# --- finetune ends by saying where the run is
sentiment_corpus >"$tmp/ft-train.txt"
cat >"$tmp/ft.json" <<JSON
{"finetune": {"base": "bert", "train": "ft-train.txt", "format": "sst"},
 "data": {"seq_len": 8}, "train": {"steps": 10, "batch_size": 8, "optimizer": {"lr": 0.01}}}
JSON
expect 0 "^zoo finetune: done; the run is in $tmp/ft " "$zoo" finetune "$tmp/ft.json" --out "$tmp/ft"

# --- a script run twice: its train step fails by default naming the step, or is skipped or resumed
cat >"$tmp/script.json" <<JSON
{"steps": [{"id": "t", "train": "run.json", "out": "s", "quiet": true, "set": {"train.steps": 10}},
           {"eval": "\${t.checkpoint}", "batches": 2}]}
JSON
expect 0 "" "$zoo" run "$tmp/script.json"
cp "$tmp/out" "$tmp/first"
expect 1 "script.json: steps\[0\] (train): .*/s already holds a run (from an earlier run of the script?); set \"if_exists\" to \"resume\" or \"skip\"" \
    "$zoo" run "$tmp/script.json"
sed 's/^{"steps"/{"if_exists": "skip", "steps"/' "$tmp/script.json" >"$tmp/skip.json"
expect 0 "steps\[0\] (train): skipped, .*/s already holds a run" "$zoo" run "$tmp/skip.json"
cmp -s "$tmp/out" "$tmp/first" || fail "zoo run, if_exists skip: the eval step differs"
[ "$(grep -c '"loss"' "$tmp/s/metrics.jsonl")" = 10 ] || fail "zoo run, if_exists skip: the run trained on"
# the step's own key wins over the script's; resumed with 20 steps, the run continues to 20
sed 's/"quiet": true,/"quiet": true, "if_exists": "resume",/; s/"train.steps": 10/"train.steps": 20/; s/^{"steps"/{"if_exists": "fail", "steps"/' \
    "$tmp/script.json" >"$tmp/resume.json"
expect 0 "steps\[0\] (train): continuing the run in .*/s$" "$zoo" run "$tmp/resume.json"
[ "$(grep -c '"loss"' "$tmp/s/metrics.jsonl")" = 20 ] || fail "zoo run, if_exists resume: not continued to step 20"
sed 's/"quiet": true,/"quiet": true, "if_exists": "again",/' "$tmp/script.json" >"$tmp/bad.json"
expect 1 "steps\[0\] (train): if_exists: expected \"fail\", \"skip\" or \"resume\"" "$zoo" run "$tmp/bad.json"
sed 's/"quiet": true,/"quiet": true, "if_exists": "skip",/' "$tmp/script.json" | sed 's/"batches": 2}/"batches": 2, "if_exists": "skip"}/' >"$tmp/bad2.json"
expect 1 "steps\[1\] (eval): if_exists: unknown option" "$zoo" run "$tmp/bad2.json"

# a finetune step too: its run directory, refused or continued (a finished run: its accuracy again)
printf '{"steps": [{"id": "f", "finetune": "ft.json", "out": "ft", "quiet": true}, {"load": "${f.run_dir}"}]}' \
    >"$tmp/ft-script.json"
expect 1 "steps\[0\] (finetune): .*/ft already holds a run" "$zoo" run "$tmp/ft-script.json"
sed 's/"quiet": true}/"quiet": true, "if_exists": "resume"}/' "$tmp/ft-script.json" >"$tmp/ft-resume.json"
expect 0 "^training accuracy [0-9.]*  (majority" "$zoo" run "$tmp/ft-resume.json"
grep -q "steps\[0\] (finetune): continuing the run in .*/ft$" "$tmp/err" || fail "zoo run: the finetune step was not resumed"

# --- no step and no set entry is dropped: a failing 301st step and a bad 60th "set" fail the script
# (fixed arrays once ignored steps after the 256th and set entries after about 47, exiting 0)
{ printf '{"steps": [{"id": "t", "train": "run.json", "out": "s", "quiet": true, "if_exists": "skip"}'
  i=1; while [ $i -lt 300 ]; do printf ', {"load": "${t.checkpoint}"}'; i=$((i + 1)); done
  printf ', {"load": "missing.safetensors"}]}'; } >"$tmp/long.json"
expect 1 "/missing.safetensors: No such file" "$zoo" run "$tmp/long.json"
sets=$(i=1; while [ $i -lt 60 ]; do printf '"train.steps": 10, '; i=$((i + 1)); done)
printf '{"steps": [{"train": "run.json", "out": "many", "quiet": true, "set": {%s"train.bogus": 1}}]}' \
    "$sets" >"$tmp/sets.json"
expect 1 "--set train.bogus: unknown key" "$zoo" run "$tmp/sets.json"
[ ! -e "$tmp/many" ] || fail "zoo run: a step with a bad 60th set entry trained"
sets=$(i=1; while [ $i -le 70 ]; do printf '"train.steps": 10, '; i=$((i + 1)); done)
printf '{"steps": [{"train": "run.json", "out": "many", "quiet": true, "set": {%s"train.steps": 10}}]}' \
    "$sets" >"$tmp/sets2.json"
expect 1 "sets2.json: steps\[0\] (train): --set: given more than 64 times" "$zoo" run "$tmp/sets2.json"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "runs: all passed"
