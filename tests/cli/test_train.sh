#!/bin/sh
# zoo train, eval and resume as users run them, with the shipped bigram plugin:
# run directory contents, bit-identical resume, Ctrl-C, a non-finite loss,
# a run directory that is never overwritten, data errors, and (on the King
# James Bible, when it can be found or derived) a loss that falls.
#   test_train.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-train.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$(dirname "$0")/expect.sh"


# A small corpus: 3000 lines of a few words each.
word_corpus 3000 >"$tmp/corpus.txt"
cat >"$tmp/run.json" <<JSON
{"model": {"plugin": "bigram"},
 "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 32},
 "train": {"steps": 40, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05},
           "schedule": {"name": "cosine", "warmup": 5, "min_lr": 0.005},
           "eval_every": 10, "eval_batches": 4, "checkpoint_every": 10, "keep": 2}}
JSON
# what a resumed run must reproduce: everything but the timings
losses() { sed -E 's/,"tokens_per_s":[^,]*//; s/,"elapsed_s":[^,}]*//' "$1"; }

# --- dry run
expect 0 "parameters: " "$zoo" train "$tmp/run.json" --dry-run
grep -q '"vocab_size":' "$tmp/out" || fail "--dry-run does not show the resolved model.vocab_size"
[ ! -e "$source_dir/runs/run" ] || fail "--dry-run created a run directory"

# --- a whole run
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/a" --quiet
for f in config.json metrics.jsonl latest.safetensors step-00000030.safetensors step-00000040.safetensors; do
    [ -f "$tmp/a/$f" ] || fail "run directory lacks $f"
done
[ ! -e "$tmp/a/step-00000020.safetensors" ] || fail "keep=2 kept step 20"
[ "$(grep -c '"loss"' "$tmp/a/metrics.jsonl")" = 40 ] || fail "metrics.jsonl: not 40 training lines"
[ "$(grep -c '"val_loss"' "$tmp/a/metrics.jsonl")" = 4 ] || fail "metrics.jsonl: not 4 evaluation lines"
grep -q '"step":1,"loss":[0-9.e+-]*,"lr":[0-9.e+-]*,"grad_norm":[0-9.e+-]*,"tokens_per_s":[0-9.e+-]*,"elapsed_s":' \
    "$tmp/a/metrics.jsonl" || fail "metrics.jsonl lines lack a field"
# every line counts the training tokens so far: 8 x 32 a step
grep -q '"step":40,"loss":.*"tokens":10240[,}]' "$tmp/a/metrics.jsonl" || fail "step 40 has not seen 10240 tokens"
grep -q '"step":20,"val_loss":[0-9.e+-]*,"elapsed_s":[0-9.e+-]*,"tokens":5120[,}]' "$tmp/a/metrics.jsonl" ||
    fail "the evaluation of step 20 lacks its tokens or seconds"

# --- a length in tokens: steps of batch_size x seq_len, rounded up
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/tok" --quiet --set train.steps=null --set train.tokens=2600
[ "$(grep -c '"loss"' "$tmp/tok/metrics.jsonl")" = 11 ] || fail "train.tokens=2600 did not give 11 steps of 256"
expect 1 "set exactly one of train.steps, train.epochs and train.tokens (more than one is set)" \
    "$zoo" train "$tmp/run.json" --out "$tmp/tok2" --set train.tokens=2600
# --- a budget in seconds ends the run as its last step would: evaluated and saved
expect 0 "stopped after step 1 of 40: the run's 1e-09 seconds are spent" \
    "$zoo" train "$tmp/run.json" --out "$tmp/sec" --set train.max_seconds=1e-9
[ "$(grep -c '"val_loss"' "$tmp/sec/metrics.jsonl")" = 1 ] && [ -f "$tmp/sec/step-00000001.safetensors" ] ||
    fail "a run out of time is not evaluated and saved at its last step"
expect 1 "already holds a run; continue it with --resume" "$zoo" train "$tmp/run.json" --out "$tmp/a" --quiet

# --- the resolved config alone repeats the run
expect 0 "" "$zoo" train "$tmp/a/config.json" --out "$tmp/again" --quiet
cmp -s "$(losses "$tmp/a/metrics.jsonl" >"$tmp/l1"; echo "$tmp/l1")" "$(losses "$tmp/again/metrics.jsonl" >"$tmp/l2"; echo "$tmp/l2")" ||
    fail "training again from the run's config.json gives other losses"

# --- stopped at step 17 and resumed: the same losses, to the bit
expect 0 "stopped after step 17 as asked" "$zoo" train "$tmp/run.json" --out "$tmp/b" --stop-after 17
expect 0 "" "$zoo" train --resume "$tmp/b" --quiet
losses "$tmp/a/metrics.jsonl" >"$tmp/la"
losses "$tmp/b/metrics.jsonl" >"$tmp/lb"
cmp -s "$tmp/la" "$tmp/lb" || { fail "a resumed run differs from an uninterrupted one"; diff "$tmp/la" "$tmp/lb" | head -5 >&2; }

# --- eval
head -c 20000 "$tmp/corpus.txt" >"$tmp/held.txt"
expect 0 "^loss [0-9.]*  perplexity [0-9.]*  bits/char [0-9.]*" "$zoo" eval "$tmp/a" --data "$tmp/held.txt"
expect 0 '"bits_per_char":' "$zoo" eval "$tmp/a/latest.safetensors" --data "$tmp/held.txt" --json
grep -q "\"bytes\": $(wc -c <"$tmp/held.txt"), \"unknown_tokens\": 0," "$tmp/out" ||
    fail "eval --json: not the held-out text's bytes and no unknown token: $(cat "$tmp/out")"
expect 1 "/nonexistent: No such file or directory" "$zoo" eval "$tmp/a" --data /nonexistent
printf 'abc' >"$tmp/tiny.txt"
expect 1 "a window needs T+1 = 33 tokens, the split holds 3" "$zoo" eval "$tmp/a" --data "$tmp/tiny.txt"
printf 'not a checkpoint' >"$tmp/bad.safetensors"
expect 1 "bad.safetensors" "$zoo" eval "$tmp/bad.safetensors" --data "$tmp/held.txt"

# --- Ctrl-C saves a checkpoint and exits 130; the run resumes from it
"$zoo" train "$tmp/run.json" --out "$tmp/c" --quiet --set train.steps=1000000 --set train.checkpoint_every=0 \
    >"$tmp/c.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    [ "$(grep -c '"loss"' "$tmp/c/metrics.jsonl" 2>/dev/null || echo 0)" -ge 20 ] && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" = 130 ] || fail "Ctrl-C: exit $code, expected 130"
[ -f "$tmp/c/latest.safetensors" ] || fail "Ctrl-C saved no checkpoint"
last=$(grep '"loss"' "$tmp/c/metrics.jsonl" | tail -1 | sed -E 's/.*"step":([0-9]+).*/\1/')
[ -f "$tmp/c/step-$(printf %08d "$last").safetensors" ] || fail "Ctrl-C: no checkpoint of the last step ($last)"
expect 0 "stopped after step $((last + 3))" "$zoo" train --resume "$tmp/c" --stop-after $((last + 3))

# --- a loss that is not finite stops the run, keeping the last good checkpoint
expect 1 "the loss is [a-z]*; stopping (the last good checkpoint, step [0-9]*, stays in" \
    "$zoo" train "$tmp/run.json" --out "$tmp/nan" --quiet --set train.optimizer.name=adam \
    --set train.optimizer.lr=1e38 --set train.grad_clip=0 --set train.checkpoint_every=1
stopped=$(sed -E 's/.*step ([0-9]+): the loss.*/\1/' "$tmp/err")
[ -f "$tmp/nan/step-$(printf %08d $((stopped - 1))).safetensors" ] || fail "the NaN run lost its last good checkpoint"

# --- data errors name the file
printf 'ok line\nbad \360 byte\n' >"$tmp/invalid.txt"
expect 1 "invalid.txt: invalid UTF-8 at byte offset 12" \
    "$zoo" train "$tmp/run.json" --out "$tmp/x1" --set data.train="$tmp/invalid.txt"
: >"$tmp/empty.txt"
expect 1 "empty.txt" "$zoo" train "$tmp/run.json" --out "$tmp/x2" --set data.train="$tmp/empty.txt"
expect 1 "missing.txt: No such file or directory" "$zoo" train "$tmp/run.json" --out "$tmp/x3" \
    --set data.train="$tmp/missing.txt"
expect 1 "model.init_std: expected a number >= 0, got -1" \
    "$zoo" train "$tmp/run.json" --out "$tmp/x4" --set model.init_std=-1
expect 1 "model.vocab_size: 7, but the tokenizer has" "$zoo" train "$tmp/run.json" --out "$tmp/x5" --set model.vocab_size=7
expect 2 "give a CONFIG.json, or --resume RUN_DIR" "$zoo" train
expect 2 "^zoo train: --stop-after: expected an integer >= 1, got '0'$" "$zoo" train "$tmp/run.json" --stop-after 0
expect 2 "^zoo train: unexpected argument 'b.json' after CONFIG.json (see zoo train --help)$" "$zoo" train a.json b.json
expect 2 "^zoo train: --set: expected KEY=VALUE, got 'train.steps'$" "$zoo" train "$tmp/run.json" --set train.steps
expect 1 "train.batchsize: unknown key (did you mean 'train.batch_size'?)" \
    "$zoo" train "$tmp/run.json" --set train.batchsize=3

# --- generate (bigram has a decode step), embed
expect 0 "^the" "$zoo" generate "$tmp/a" --prompt "the" --max-new-tokens 20 --seed 4
cp "$tmp/out" "$tmp/gen1"
"$zoo" generate "$tmp/a" --prompt "the" --max-new-tokens 20 --seed 4 >"$tmp/gen2" 2>&1
cmp -s "$tmp/gen1" "$tmp/gen2" || fail "generate: the same seed gave another text"
expect 0 '"prompt_tokens": 3}' "$zoo" generate "$tmp/a" --prompt "the" --max-new-tokens 5 --temperature 0 --json
expect 0 '"generated": ' "$zoo" generate "$tmp/a" --prompt "the" --max-new-tokens 5 --top-k 2 --top-p 0.9 --json
expect 2 "^zoo generate: --top-p: expected a number > 0 and <= 1, got '2'$" "$zoo" generate "$tmp/a" --prompt "x" --top-p 2
expect 2 "^zoo generate: --max-new-tokens: expected an integer >= 1, got 'many'$" "$zoo" generate "$tmp/a" --prompt "x" --max-new-tokens many
expect 2 "^zoo generate: give the prompt as --prompt TEXT or --text-file FILE$" "$zoo" generate "$tmp/a"
expect 2 "^zoo embed: --pool: expected none, cls or mean, got 'max'$" "$zoo" embed "$tmp/a" --text "x" --out "$tmp/x.npy" --pool max
expect 2 "^zoo embed: --out FILE.npy is required (see zoo embed --help)$" "$zoo" embed "$tmp/a" --text "x"
expect 0 "^loss .* tokens, [0-9]* batches)$" "$zoo" eval "$tmp/a" # no --data: the run's held-out split
expect 2 "^zoo export: --format FORMAT is required (see zoo export --help)$" "$zoo" export "$tmp/a" --out "$tmp/x"
expect 2 "^zoo tokenize: unknown option '--no-specials' (did you mean '--no-special'?)$" "$zoo" tokenize "$tmp/a" --text x --no-specials
expect 1 "the prompt is empty and the tokenizer has no start token" "$zoo" generate "$tmp/a" --prompt ""
expect 0 "" "$zoo" embed "$tmp/a" --text "the lord" --out "$tmp/e.npy"
head -c 128 "$tmp/e.npy" | grep -aq "'shape': (8, " || fail "embed: not one row per character"
expect 0 "" "$zoo" embed "$tmp/a" --text "the lord" --pool mean --out "$tmp/m.npy"
head -c 128 "$tmp/m.npy" | grep -aq "'shape': ([0-9]*,)" || fail "embed --pool mean: not one vector"
# bigram's embed knows no layers: every layer is its one set of vectors, L = 1
expect 0 "" "$zoo" embed "$tmp/a" --text "the lord" --layer all --out "$tmp/all.npy"
head -c 128 "$tmp/all.npy" | grep -aq "'shape': (1, 8, " || fail "embed --layer all: not [1,T,C] for a model of one layer"
[ "$(tail -c +129 "$tmp/all.npy" | cksum)" = "$(tail -c +129 "$tmp/e.npy" | cksum)" ] ||
    fail "embed --layer all: a model's one layer is not its default vectors"
expect 1 "^zoo embed: --mix: 3 numbers for a model of 1 layer: give 1 weight, or 2 with gamma last$" \
    "$zoo" embed "$tmp/a" --text "the lord" --mix 1,2,3 --out "$tmp/x.npy"

# --- fill-mask, with a fixture plugin that is a (bigram-like) masked LM
cat >"$tmp/masked-registry.json" <<JSON
{"format": 1, "plugins": [{"name": "masked", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$build/tests/fixtures/masked.so", "abi": "1.3"}]}
JSON
sed 's/"plugin": "bigram"/"plugin": "masked"/' "$tmp/run.json" >"$tmp/masked.json"
expect 0 "" "$zoo" train "$tmp/masked.json" --out "$tmp/mlm" --quiet --registry "$tmp/masked-registry.json" \
    --set data.tokenizer.type=word --set train.steps=20
expect 0 "^\[MASK\] 1:" "$zoo" fill-mask "$tmp/mlm" "the lord [MASK] unto" --registry "$tmp/masked-registry.json"
expect 0 '"masks": \[\[{"token": ' "$zoo" fill-mask "$tmp/mlm" "the [MASK] god [MASK]" --top 3 --json \
    --registry "$tmp/masked-registry.json"
expect 2 "TEXT has no \[MASK\]" "$zoo" fill-mask "$tmp/mlm" "the lord" --registry "$tmp/masked-registry.json"
expect 2 "^zoo fill-mask: TEXT is required (see zoo fill-mask --help)$" "$zoo" fill-mask "$tmp/mlm"
expect 2 "^zoo fill-mask: give the text once: TEXT, --text TEXT or --text-file FILE$" "$zoo" fill-mask "$tmp/mlm" "a [MASK]" --text "b [MASK]"
expect 0 "^\[MASK\] 1:" "$zoo" fill-mask "$tmp/mlm" --text "the lord [MASK] unto" --registry "$tmp/masked-registry.json"
# every command opens its model the same way (zoo_cli_open_model): an error names the model and what it lacks
expect 1 "^zoo fill-mask: $tmp/a: plugin 'bigram' cannot fill masks (it is not a masked language model)$" \
    "$zoo" fill-mask "$tmp/a" "the [MASK]"
expect 1 "^zoo generate: $tmp/mlm: plugin 'masked' cannot generate (it has no decode step and is not a causal language model)$" \
    "$zoo" generate "$tmp/mlm" --prompt "the" --registry "$tmp/masked-registry.json"

# --- a tokenizer type of a plugin's own (ABI 1.2): the fixture "bytes" (ids 0-255 the bytes), found
# by its registry entry's "tokenizers", trains, reopens from the checkpoint, loads files, imports
cat >"$tmp/bytes-registry.json" <<JSON
{"format": 1, "plugins": [{"name": "bytes", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$build/tests/fixtures/bytes.so", "abi": "1.3", "tokenizers": ["bytes"],
  "imports": {"tokenizer_files": ["bytes.tokenizer"]}}]}
JSON
breg="--registry $tmp/bytes-registry.json"
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/bytes" --quiet $breg --set data.tokenizer.type=bytes \
    --set train.steps=5
grep -aq '\\"type\\":\\"bytes\\"' "$tmp/bytes/latest.safetensors" || fail "bytes: zoo.tokenizer does not name the type"
expect 0 "^116 104 101 256$" "$zoo" tokenize "$tmp/bytes" --text "the[UNK]" --special $breg
expect 0 '"generated": ' "$zoo" generate "$tmp/bytes" --prompt "the" --max-new-tokens 3 --json $breg
expect 1 "zoo.tokenizer: unknown tokenizer type 'bytes' (known: char, word, gpt2, wordpiece); no plugin in the registry declares it" \
    "$zoo" generate "$tmp/bytes" --prompt "the"
expect 1 "data.tokenizer.type: unknown tokenizer type 'nope' (known: char, word, gpt2, wordpiece); no plugin" \
    "$zoo" train "$tmp/run.json" --dry-run $breg --set data.tokenizer.type=nope
mkdir "$tmp/bytes-files"
printf '[UNK]\n[EOS]\n[MASK]\n' >"$tmp/bytes-files/bytes.tokenizer"
expect 0 "vocabulary: 259 tokens" "$zoo" train "$tmp/run.json" --dry-run $breg --set data.tokenizer.type=bytes \
    --set data.tokenizer.path="$tmp/bytes-files"
expect 1 "data.tokenizer.path: tokenizer type 'char' does not load from files (types that do: gpt2, wordpiece)" \
    "$zoo" train "$tmp/run.json" --dry-run $breg --set data.tokenizer.path="$tmp/bytes-files"
expect 0 "^97 258 98$" "$zoo" tokenize "$tmp/bytes-files" --text "a[MASK]b" --special $breg
expect 1 "no plugin reads a tokenizer from this directory" "$zoo" tokenize "$tmp/bytes-files" --text "a"
# --- generate without a decode step: forward over the sequence, cropped to block_size (32 here),
# with a fixture that is a bigram table refusing longer input. Trained as bigram is, from the same
# seed, it is the same table, so it must give the text bigram's decode step gives.
cat >"$tmp/windowed-registry.json" <<JSON
{"format": 1, "plugins": [{"name": "windowed", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$build/tests/fixtures/windowed.so", "abi": "1.3"}]}
JSON
sed 's/"plugin": "bigram"/"plugin": "windowed"/' "$tmp/run.json" >"$tmp/windowed.json"
expect 0 "" "$zoo" train "$tmp/windowed.json" --out "$tmp/win" --quiet --registry "$tmp/windowed-registry.json"
expect 0 "" "$zoo" generate "$tmp/a" --prompt "the" --max-new-tokens 60 --seed 5 --json
cp "$tmp/out" "$tmp/gen-bigram"
expect 0 '"prompt_tokens": 3}' "$zoo" generate "$tmp/win" --prompt "the" --max-new-tokens 60 --seed 5 --json \
    --registry "$tmp/windowed-registry.json"
cmp -s "$tmp/out" "$tmp/gen-bigram" || fail "generate through forward differs from bigram's decode step"
[ "$(sed 's/.*"ids": \[\([^]]*\)\].*/\1/' "$tmp/out" | tr ',' '\n' | wc -l)" = 63 ] ||
    fail "generate through forward: not 3 + 60 ids (it must slide past block_size 32)"
expect 0 "^the" "$zoo" generate "$tmp/win" --prompt "the" --max-new-tokens 5 --registry "$tmp/windowed-registry.json"
# --- a metric that is a loss (windowed reports its loss as table_loss): every report of it comes
# with table_perplexity = exp(the loss as averaged), never a mean of per-batch perplexities
wreg="--registry $tmp/windowed-registry.json"
grep '"val_loss"' "$tmp/win/metrics.jsonl" | sed -E 's/,"elapsed_s":[^,]*,"tokens":[0-9]*//' >"$tmp/win-evals"
[ "$(grep -c '"val_loss":[0-9.e+-]*,"table_loss":[0-9.e+-]*,"table_perplexity":[0-9.e+-]*}$' "$tmp/win-evals")" = 4 ] ||
    fail "metrics.jsonl: the evaluations lack table_loss and table_perplexity: $(head -1 "$tmp/win-evals")"
grep '"tokens_per_s"' "$tmp/win/metrics.jsonl" | grep -vq '"table_perplexity":' &&
    fail "metrics.jsonl: a training line lacks table_perplexity"
sed -E 's/.*"val_loss":([0-9.e+-]*),"table_loss":([0-9.e+-]*),"table_perplexity":([0-9.e+-]*)}/\1 \2 \3/' \
    "$tmp/win-evals" | awk '{ if ($1 != $2 || ($3 - exp($2)) ^ 2 > (1e-7 * $3) ^ 2) bad = 1 } END { exit bad }' ||
    fail "metrics.jsonl: table_loss is not the mean loss, or table_perplexity not its exp: $(head -1 "$tmp/win-evals")"
expect 0 "" "$zoo" eval "$tmp/win" --data "$tmp/held.txt" $wreg --json
grep -q '"batches": [0-9]*, "metrics": {"table_loss": [0-9.]*, "table_perplexity": [0-9.]*}}$' "$tmp/out" ||
    fail "eval --json: no metrics object: $(cat "$tmp/out")"
loss=$(sed -E 's/.*"loss": ([0-9.]*),.*/\1/' "$tmp/out")
ppl=$(sed -E 's/.*"perplexity": ([0-9.]*),.*/\1/' "$tmp/out")
grep -q "\"table_loss\": $loss, \"table_perplexity\": $ppl}" "$tmp/out" ||
    fail "eval --json: table_loss and table_perplexity are not the loss ($loss) and its perplexity ($ppl) over all batches"
expect 0 "^table_loss [0-9.]*  table_perplexity [0-9.]*$" "$zoo" eval "$tmp/win" --data "$tmp/held.txt" $wreg
[ "$(sed -n 2p "$tmp/out")" = "$(printf 'table_loss %.4f  table_perplexity %.4f' "$loss" "$ppl")" ] ||
    fail "eval: the metrics line is not the loss and its perplexity: $(sed -n 2p "$tmp/out")"

# --- bert: a WordPiece vocabulary trained on the corpus, masked LM + next sentence, fill-mask, export
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/bert" --quiet --set model.plugin=bert \
    --set model.hidden_size=16 --set model.num_hidden_layers=1 --set model.num_attention_heads=2 \
    --set model.intermediate_size=32 --set model.max_position_embeddings=32 --set data.tokenizer.type=wordpiece \
    --set data.tokenizer.max_size=200 --set train.steps=20
grep -q '"majority_accuracy":' "$tmp/bert/metrics.jsonl" || fail "bert: no majority_accuracy in the evaluation"
grep -q '"nsp_accuracy":' "$tmp/bert/metrics.jsonl" || fail "bert: no nsp_accuracy in the evaluation"
expect 0 '"metrics": {"mlm_accuracy": [0-9.]*, "nsp_accuracy": [0-9.]*}}$' "$zoo" eval "$tmp/bert" --data "$tmp/held.txt" --json
expect 0 "^mlm_accuracy [0-9.]*  nsp_accuracy [0-9.]*$" "$zoo" eval "$tmp/bert" --data "$tmp/held.txt"
expect 0 "^\[MASK\] 1:" "$zoo" fill-mask "$tmp/bert" "the lord [MASK] unto"
cp "$tmp/out" "$tmp/fm1"
expect 0 "^2 " "$zoo" tokenize "$tmp/bert" --text "the lord"
expect 0 "" "$zoo" export "$tmp/bert" --format hf --out "$tmp/bert-hf"
[ -f "$tmp/bert-hf/vocab.txt" ] || fail "bert export: no vocab.txt"
expect 0 "^\[MASK\] 1:" "$zoo" fill-mask "$tmp/bert-hf" "the lord [MASK] unto"
cmp -s "$tmp/out" "$tmp/fm1" || fail "the exported BERT directory fills masks differently"
expect 0 "^2 .* 3$" "$zoo" tokenize "$tmp/bert-hf" --text "the lord"
# --- finetune: a head on the pretrained BERT, a label read from each line, errors naming file and line.
# Each line is five words of the corpus, one of them the cue (lord: pos, people: neg) at a random
# place; 64 to train, 16 held out. The model must find the cue, which it does for any seed.
awk 'BEGIN { srand(11); split("god said unto him and they were in land of day", w, " ");
      for (i = 0; i < 80; i++) { pos = i % 2; s = pos ? "pos" : "neg"; at = 1 + int(rand() * 4);
        for (j = 0; j < 5; j++) s = s " " (j == at ? (pos ? "lord" : "people") : w[1 + int(rand() * 11)]);
        print s } }' >"$tmp/ft-all.txt"
head -64 "$tmp/ft-all.txt" >"$tmp/ft-train.txt"
tail -16 "$tmp/ft-all.txt" >"$tmp/ft-held.txt"
cat >"$tmp/ft.json" <<JSON
{"finetune": {"base": "bert", "train": "ft-train.txt", "eval": "ft-held.txt", "format": "sst"},
 "data": {"seq_len": 8}, "train": {"epochs": 20, "batch_size": 8, "optimizer": {"lr": 0.01}}}
JSON
expect 0 "^held-out accuracy 1.0000  (majority class 0.5000, bag-of-words" "$zoo" finetune "$tmp/ft.json" \
    --out "$tmp/ft"
grep -q '"bow_accuracy":' "$tmp/ft/metrics.jsonl" || fail "finetune: no bow_accuracy in metrics.jsonl"
[ -f "$tmp/ft/latest.safetensors" ] || fail "finetune: the model with its head was not saved"
[ "$(cat "$tmp/ft/labels.txt")" = "$(printf 'neg\npos')" ] || fail "finetune: labels.txt is not the labels in order"
printf 'god lord said in\n\nwere in people land\n' >"$tmp/ft-new.txt"
expect 0 "^pos ([01]\.[0-9]*)  neg ([01]\.[0-9]*)$" "$zoo" classify "$tmp/ft" --text-file "$tmp/ft-new.txt" --top 2
[ "$(wc -l <"$tmp/out")" = 2 ] && sed -n 2p "$tmp/out" | grep -q "^neg (" || fail "classify: not a line per example"
expect 0 '^{"labels": \[{"label": "pos", "probability": [01]\.[0-9]*}\]}$' "$zoo" classify "$tmp/ft" --json \
    --text "lord god said"
expect 1 "no classifier.weight and classifier.bias" "$zoo" classify "$tmp/bert" --text "the lord"
# --- a fine-tuned classifier exports with its head (BertForSequenceClassification, id2label and
# label2id) and classifies the same from the HuggingFace directory, exported again too
expect 0 "" "$zoo" export "$tmp/ft" --format hf --out "$tmp/ft-hf"
grep -q '"architectures":[[:space:]]*\["BertForSequenceClassification"\]' "$tmp/ft-hf/config.json" ||
    fail "export of a fine-tuned classifier: not a BertForSequenceClassification: $(cat "$tmp/ft-hf/config.json")"
tr -d ' \t\n' <"$tmp/ft-hf/config.json" | grep -q '"id2label":{"0":"neg","1":"pos"},"label2id":{"neg":0,"pos":1}' ||
    fail "export of a fine-tuned classifier: no id2label/label2id of labels.txt: $(cat "$tmp/ft-hf/config.json")"
head -c 8000 "$tmp/ft-hf/model.safetensors" | grep -aq '"classifier.weight":{"dtype":"F32","shape":\[2,' &&
    head -c 8000 "$tmp/ft-hf/model.safetensors" | grep -aq '"classifier.bias":{"dtype":"F32","shape":\[2\]' ||
    fail "export of a fine-tuned classifier: model.safetensors lacks classifier.weight/bias"
"$zoo" classify "$tmp/ft" --text-file "$tmp/ft-new.txt" --top 2 --json >"$tmp/cls-run" 2>&1
expect 0 '^{"labels": \[{"label": "pos"' "$zoo" classify "$tmp/ft-hf" --text-file "$tmp/ft-new.txt" --top 2 --json
cmp -s "$tmp/out" "$tmp/cls-run" || fail "the exported classifier classifies differently: $(cat "$tmp/out") vs $(cat "$tmp/cls-run")"
expect 0 "" "$zoo" export "$tmp/ft-hf" --format hf --out "$tmp/ft-hf2"
expect 0 "" "$zoo" classify "$tmp/ft-hf2" --text-file "$tmp/ft-new.txt" --top 2 --json
cmp -s "$tmp/out" "$tmp/cls-run" || fail "the twice-exported classifier classifies differently: $(cat "$tmp/out")"
printf '{"steps": [{"finetune": "ft.json", "out": "ft3"}]}' >"$tmp/ft-script.json"
expect 0 "^held-out accuracy 1.0000" "$zoo" run "$tmp/ft-script.json"
printf 'pos the lord\nnolabel\n' >"$tmp/ft-bad.txt"
expect 1 "ft-bad.txt:2: expected a label, then the text" "$zoo" finetune "$tmp/ft.json" --out "$tmp/ft2" \
    --set finetune.train="$tmp/ft-bad.txt"
printf 'pos the \377 lord\n' >"$tmp/ft-utf.txt"
expect 1 "ft-utf.txt: invalid UTF-8 at byte offset 8 .* (--set data.invalid_utf8=replace reads it)" "$zoo" finetune \
    "$tmp/ft.json" --out "$tmp/ft2" --set finetune.eval="$tmp/ft-utf.txt"
printf 'maybe the lord\n' >"$tmp/ft-odd.txt"
expect 1 "ft-odd.txt:1: a label the training examples do not have" "$zoo" finetune "$tmp/ft.json" \
    --out "$tmp/ft2" --set finetune.eval="$tmp/ft-odd.txt"
# a fine-tuning run is a run as zoo train makes them: its directory, metrics lines, refusal, resume, Ctrl-C
for f in config.json labels.txt metrics.jsonl latest.safetensors step-00000160.safetensors; do
    [ -f "$tmp/ft/$f" ] || fail "finetune: the run directory lacks $f"
done
[ "$(grep -c '"loss"' "$tmp/ft/metrics.jsonl")" = 160 ] || fail "finetune metrics.jsonl: not 160 training lines"
[ "$(grep -c '^{"step":[0-9]*,"loss":[0-9.e+-]*,"lr":[0-9.e+-]*,"grad_norm":[0-9.e+-]*,"tokens_per_s":[0-9.e+-]*,"elapsed_s":[0-9.e+-]*,"tokens":[0-9]*}$' \
    "$tmp/ft/metrics.jsonl")" = 160 ] || fail "finetune metrics.jsonl: a training line is malformed"
tail -1 "$tmp/ft/metrics.jsonl" | grep -q \
    '^{"step":160,"val_loss":[0-9.e+-]*,"elapsed_s":[0-9.e+-]*,"tokens":[0-9]*,"accuracy":1,"majority_accuracy":0.5,"bow_accuracy":[0-9.e+-]*}$' ||
    fail "finetune metrics.jsonl: the last line is not the final evaluation: $(tail -1 "$tmp/ft/metrics.jsonl")"
expect 1 "ft already holds a run; continue it with --resume .*/ft, or choose another --out" \
    "$zoo" finetune "$tmp/ft.json" --out "$tmp/ft"
expect 2 "give a CONFIG.json, or --resume RUN_DIR" "$zoo" finetune
expect 0 "^held-out accuracy 1.0000  (majority" "$zoo" finetune --resume "$tmp/ft" --quiet # already done
[ "$(grep -c '"loss"' "$tmp/ft/metrics.jsonl")" = 160 ] || fail "finetune --resume of a finished run trained on"
# the raw tensors of a checkpoint (what follows its header): the weights and the optimizer state
tensors() { n=$(od -An -tu8 -N8 "$1" | tr -d ' '); tail -c +$((9 + n)) "$1"; }
# stopped at step 37 and resumed: the same losses, evaluations, weights and accuracy, to the bit
expect 0 "stopped after step 37 as asked; continue with zoo finetune --resume" "$zoo" finetune "$tmp/ft.json" \
    --out "$tmp/ft-s" --stop-after 37 --set train.eval_every=20 --set train.checkpoint_every=30
[ -f "$tmp/ft-s/step-00000037.safetensors" ] && [ -f "$tmp/ft-s/labels.txt" ] ||
    fail "finetune --stop-after: no checkpoint of step 37, or no labels.txt"
expect 0 "^held-out accuracy 1.0000  (majority" "$zoo" finetune --resume "$tmp/ft-s" --quiet
cp "$tmp/out" "$tmp/ft-s.out"
expect 0 "" "$zoo" finetune "$tmp/ft.json" --out "$tmp/ft-u" --quiet --set train.eval_every=20 \
    --set train.checkpoint_every=30
cmp -s "$tmp/out" "$tmp/ft-s.out" || fail "finetune: the resumed run prints another accuracy line"
losses "$tmp/ft-u/metrics.jsonl" >"$tmp/lu"
losses "$tmp/ft-s/metrics.jsonl" >"$tmp/ls"
cmp -s "$tmp/lu" "$tmp/ls" || { fail "finetune: a resumed run's metrics differ"; diff "$tmp/lu" "$tmp/ls" | head -5 >&2; }
[ "$(grep -c '"val_loss"' "$tmp/ft-s/metrics.jsonl")" = 8 ] || fail "finetune: not an evaluation every 20 steps"
tensors "$tmp/ft-u/latest.safetensors" >"$tmp/tu"
tensors "$tmp/ft-s/latest.safetensors" >"$tmp/ts"
[ -s "$tmp/tu" ] && cmp -s "$tmp/tu" "$tmp/ts" || fail "finetune: a resumed run ends with other weights"
expect 0 "^pos (" "$zoo" classify "$tmp/ft-s" --text "god lord said"
printf 'yes the lord\nno the people\n' >"$tmp/ft-other.txt"
expect 1 "labels.txt: the run's labels are not the ones finetune.train gives now" \
    "$zoo" finetune --resume "$tmp/ft-s" --set finetune.train="$tmp/ft-other.txt" --set finetune.eval=null
# Ctrl-C in the head's training saves a checkpoint and exits 130; the run resumes from it
"$zoo" finetune "$tmp/ft.json" --out "$tmp/ft-c" --quiet --set train.epochs=null --set train.steps=20000 \
    >"$tmp/ft-c.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do # the baseline trains first, then the head writes its lines
    n=$(grep -c '"loss"' "$tmp/ft-c/metrics.jsonl" 2>/dev/null)
    [ "${n:-0}" -ge 20 ] && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" = 130 ] || fail "finetune Ctrl-C: exit $code, expected 130"
last=$(grep '"loss"' "$tmp/ft-c/metrics.jsonl" | tail -1 | sed -E 's/.*"step":([0-9]+).*/\1/')
[ -f "$tmp/ft-c/step-$(printf %08d "$last").safetensors" ] || fail "finetune Ctrl-C: no checkpoint of the last step ($last)"
expect 0 "stopped after step $((last + 3))" "$zoo" finetune --resume "$tmp/ft-c" --stop-after $((last + 3))
# SST-2: a small BERT pretrained on its sentences, then a head; stopped and resumed as one run
sst="$source_dir/../shared/data/classification/sst2"
if [ -f "$sst/stsa.binary.train" ] && [ -f "$sst/stsa.binary.dev" ]; then
    cut -d' ' -f2- "$sst/stsa.binary.train" >"$tmp/sst-text.txt"
    expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/sst-bert" --quiet --set model.plugin=bert \
        --set model.hidden_size=32 --set model.num_hidden_layers=1 --set model.num_attention_heads=2 \
        --set model.intermediate_size=64 --set model.max_position_embeddings=32 --set data.tokenizer.type=wordpiece \
        --set data.tokenizer.max_size=2000 --set data.train="$tmp/sst-text.txt" --set train.steps=200 \
        --set train.optimizer.lr=0.005 --set train.schedule.warmup=20
    cat >"$tmp/sst.json" <<JSON
{"finetune": {"base": "sst-bert", "train": "$sst/stsa.binary.train", "eval": "$sst/stsa.binary.dev", "format": "sst"},
 "data": {"seq_len": 32}, "train": {"steps": 120, "batch_size": 32, "optimizer": {"lr": 0.003}, "eval_every": 40}}
JSON
    expect 0 "stopped after step 50" "$zoo" finetune "$tmp/sst.json" --out "$tmp/sst-s" --stop-after 50
    # a bag of words beats always guessing the majority on SST-2 (0.51 of the dev set) by far
    expect 0 "^held-out accuracy 0\.[0-9]*  (majority class 0\.5092, bag-of-words logistic regression 0\.[7-9][0-9]*; 872 examples, 2 labels)$" \
        "$zoo" finetune --resume "$tmp/sst-s" --quiet
    cp "$tmp/out" "$tmp/sst-s.out"
    expect 0 "" "$zoo" finetune "$tmp/sst.json" --out "$tmp/sst-u" --quiet
    cmp -s "$tmp/out" "$tmp/sst-s.out" || fail "finetune on SST-2: the resumed run prints another accuracy line"
    tensors "$tmp/sst-u/latest.safetensors" >"$tmp/tu"
    tensors "$tmp/sst-s/latest.safetensors" >"$tmp/ts"
    cmp -s "$tmp/tu" "$tmp/ts" || fail "finetune on SST-2: a resumed run ends with other weights"
    [ "$(grep -c '"accuracy":' "$tmp/sst-s/metrics.jsonl")" = 3 ] || fail "finetune on SST-2: not 3 evaluations"
else
    echo "SKIP zoo finetune on SST-2: ../shared/data/classification/sst2 not found"
fi
bert_files="$source_dir/../shared/data/tokenizers/bert-base-uncased"
if [ -f "$bert_files/vocab.txt" ]; then
    expect 0 "^101 7592 1010 2088 999 102$" "$zoo" tokenize "$bert_files" --text "Hello, world!"
    expect 0 "^7592 1010 2088 999$" "$zoo" tokenize "$bert_files" --text "Hello, world!" --no-special
else
    echo "SKIP zoo tokenize on bert-base-uncased's vocab.txt: ../shared/data/tokenizers/bert-base-uncased not found"
fi

# --- run scripts: steps in order, ${id.field}, errors naming the step
cat >"$tmp/script.json" <<JSON
{"steps": [
  {"id": "pre", "train": "run.json", "set": {"train.steps": 12}, "out": "s", "quiet": true},
  {"eval": "\${pre.checkpoint}", "data": "held.txt", "batches": 2},
  {"id": "w", "save": "\${pre.run_dir}", "to": "s/weights.safetensors"},
  {"id": "m", "load": "\${w.checkpoint}"},
  {"generate": "\${m.checkpoint}", "prompt": "the", "max_new_tokens": 5, "seed": 2},
  {"embed": "\${m.checkpoint}", "text": "god", "out": "s/god.npy"},
  {"call": "bigram.argmax_next", "model": "\${m.checkpoint}", "args": [3]}
]}
JSON
expect 0 "^loss " "$zoo" run "$tmp/script.json"
[ -f "$tmp/s/weights.safetensors" ] && [ -f "$tmp/s/god.npy" ] || fail "run: a step's output is missing"
printf '{"steps": [{"eval": "${nope.checkpoint}", "data": "x"}]}' >"$tmp/s1.json"
expect 1 "s1.json: steps\[0\] (eval): \${nope.checkpoint}: no earlier step has the id 'nope'" "$zoo" run "$tmp/s1.json"
printf '{"steps": [{"generate": "a", "promt": "x"}]}' >"$tmp/s2.json"
expect 1 "steps\[0\] (generate): promt: unknown option (did you mean 'prompt'?)" "$zoo" run "$tmp/s2.json"
printf '{"steps": [{"load": "a"}, {"eval": "/nonexistent", "data": "held.txt"}]}' >"$tmp/s3.json"
expect 1 "steps\[1\] (eval): failed" "$zoo" run "$tmp/s3.json"
printf '{"steps": [{"frobnicate": 1}]}' >"$tmp/s4.json"
expect 1 "steps\[0\]: no action" "$zoo" run "$tmp/s4.json"
# a step takes the options of its command (text_file is generate's --text-file), checked as the command checks them
printf 'the' >"$tmp/prompt.txt"
printf '{"steps": [{"generate": "a", "text_file": "prompt.txt", "max_new_tokens": 3, "temperature": 0}]}' >"$tmp/s5.json"
expect 0 "^the" "$zoo" run "$tmp/s5.json"
printf '{"steps": [{"generate": "a", "prompt": "x", "top_p": 2}]}' >"$tmp/s6.json"
expect 2 "zoo generate: --top-p: expected a number > 0 and <= 1, got '2'" "$zoo" run "$tmp/s6.json"
printf '{"steps": [{"train": "run.json", "stop_after": 0}]}' >"$tmp/s7.json"
expect 1 "steps\[0\] (train): --stop-after: expected an integer >= 1, got '0'" "$zoo" run "$tmp/s7.json"
printf '{"steps": [{"save": "a"}]}' >"$tmp/s8.json"
expect 1 "steps\[0\] (save): save needs \"to\": the file to write" "$zoo" run "$tmp/s8.json"

# --- gpt: a HuggingFace directory as MODEL, a BPE tokenizer trained on the corpus, generation through the cache
hf="$source_dir/plugins/gpt/tests/fixtures/gpt2-tiny"
expect 0 "" "$zoo" forward "$hf" --ids "$hf/ids.txt" --out "$tmp/hf.npy" --hidden "$tmp/hf-hidden.npy"
head -c 128 "$tmp/hf.npy" | grep -aq "'shape': (2, 12, 53)" || fail "forward on a HuggingFace directory: wrong logits shape"
# without tokenizer files: which ones were looked for, and --tokenizer DIR to read them elsewhere
looked="no tokenizer: no GPT-2 tokenizer files (vocab.json and merges.txt, or encoder.json and vocab.bpe); --tokenizer DIR reads them from another directory"
expect 1 "^zoo generate: $hf: $looked$" "$zoo" generate "$hf" --prompt "x"
expect 1 "^zoo embed: $hf: $looked$" "$zoo" embed "$hf" --text "x" --out "$tmp/x.npy"
expect 1 "^zoo eval: $hf: $looked$" "$zoo" eval "$hf" --data "$tmp/held.txt"
expect 1 "^zoo classify: $hf: $looked$" "$zoo" classify "$hf" --text "x"
for c in generate eval embed fill-mask classify forward tokenize probe finetune; do
    expect 0 "^  --tokenizer DIR" "$zoo" $c --help
done
mkdir "$tmp/wp"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nlord\nsaid\nunto\nhim\n.\n' >"$tmp/wp/vocab.txt"
expect 0 '"prompt_tokens": 2}' "$zoo" generate "$hf" --tokenizer "$tmp/wp" --prompt "the lord" --max-new-tokens 4 --json
grep -q '"ids": \[5, 6, [0-9]*, [0-9]*, [0-9]*, [0-9]*\]' "$tmp/out" || fail "generate --tokenizer: not the ids of wp's vocab.txt: $(cat "$tmp/out")"
expect 0 "^2 5 6 3$" "$zoo" tokenize "$hf" --tokenizer "$tmp/wp" --text "the lord"
expect 0 "^loss " "$zoo" eval "$hf" --tokenizer "$tmp/wp" --data "$tmp/held.txt" --batches 4
expect 0 "" "$zoo" embed "$hf" --tokenizer "$tmp/wp" --text "the lord" --out "$tmp/wp.npy"
expect 1 "^zoo generate: --tokenizer: $tmp/none: no plugin reads a tokenizer from this directory" \
    "$zoo" generate "$hf" --tokenizer "$tmp/none" --prompt "x"
expect 1 "^zoo call: --model $hf is a 'gpt' model, not 'bigram'$" "$zoo" call bigram.argmax_next --model "$hf" 3
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/gpt" --quiet --set model.plugin=gpt --set model.n_layer=1 \
    --set model.n_embd=16 --set model.n_head=2 --set data.tokenizer.type=gpt2 --set data.tokenizer.max_size=300 \
    --set train.steps=30 --set train.optimizer.lr=0.01
first=$(grep '"loss"' "$tmp/gpt/metrics.jsonl" | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
last=$(grep '"loss"' "$tmp/gpt/metrics.jsonl" | tail -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < f - 0.5) }' || fail "gpt with BPE: loss $first -> $last"
expect 0 "^the lord" "$zoo" generate "$tmp/gpt" --prompt "the lord" --max-new-tokens 10 --seed 3
"$zoo" generate "$tmp/gpt" --prompt "the lord" --max-new-tokens 10 --seed 3 >"$tmp/g2" 2>&1
cmp -s "$tmp/out" "$tmp/g2" || fail "gpt generate: the same seed gave another text"
expect 0 '^[0-9]' "$zoo" tokenize "$tmp/gpt" --text "the lord said"
expect 0 "" "$zoo" export "$tmp/gpt" --format hf --out "$tmp/gpt-hf"
for f in config.json model.safetensors vocab.json merges.txt; do [ -f "$tmp/gpt-hf/$f" ] || fail "export: no $f"; done
"$zoo" generate "$tmp/gpt-hf" --prompt "the lord" --max-new-tokens 10 --seed 3 >"$tmp/g3" 2>&1
cmp -s "$tmp/g2" "$tmp/g3" || fail "the exported HuggingFace directory generates another text"
# a head the format has no place for (gpt's reads the mean of the hidden states) is refused, not dropped
sed "s|\"base\": \"bert\"|\"base\": \"$tmp/gpt\"|" "$tmp/ft.json" >"$tmp/ftg.json"
expect 0 "" "$zoo" finetune "$tmp/ftg.json" --out "$tmp/ftg" --set train.epochs=1
expect 1 "^zoo export: $tmp/ftg: its fine-tuned classifier head (classifier.weight, classifier.bias and their labels) has no place in a 'gpt' model's \"hf\" format" \
    "$zoo" export "$tmp/ftg" --format hf --out "$tmp/ftg-hf"
[ ! -e "$tmp/ftg-hf" ] || fail "a refused export wrote $tmp/ftg-hf"
# --tokenizer RUN: a run's own tokenizer, refused where its ids do not fit the model
expect 1 "^zoo generate: --tokenizer $tmp/gpt: its 300 tokens do not fit the model's vocab_size of 53$" \
    "$zoo" generate "$hf" --tokenizer "$tmp/gpt" --prompt "x"
# a directory whose own tokenizer is larger than its model (a small GPT-2 beside a bigger
# vocab.json) is refused at load by every command: its ids would index past the logits
mkdir "$tmp/big-tok" && cp "$hf/config.json" "$hf/model.safetensors" "$tmp/gpt-hf/vocab.json" \
    "$tmp/gpt-hf/merges.txt" "$tmp/big-tok/"
for cmd in "generate --prompt x" "export --format hf --out $tmp/big-tok-hf" "embed --text x --out $tmp/e.npy"; do
    expect 1 "^zoo ${cmd%% *}: $tmp/big-tok: its tokenizer has 300 tokens, more than the model's vocab_size of 53$" \
        "$zoo" ${cmd%% *} "$tmp/big-tok" ${cmd#* }
done
[ ! -e "$tmp/big-tok-hf" ] || fail "a refused export wrote $tmp/big-tok-hf"
"$zoo" generate "$tmp/gpt-hf" --tokenizer "$tmp/gpt" --prompt "the lord" --max-new-tokens 10 --seed 3 >"$tmp/g4" 2>&1
cmp -s "$tmp/g2" "$tmp/g4" || fail "generate --tokenizer RUN: another text than with the directory's own"
expect 1 "^zoo export: $tmp/a: plugin 'bigram' cannot export to \"hf\"" "$zoo" export "$tmp/a" --format hf --out "$tmp/nope"
# --- generation past the context (block_size 16), as nanoGPT's sampler: every new token from the
# last 16; the cache serves the first 16 positions, a forward over the window every one after them
tr '\n' ' ' <"$tmp/corpus.txt" >"$tmp/flat.txt"
expect 0 "" "$zoo" train "$tmp/run.json" --out "$tmp/g16" --quiet --set model.plugin=gpt --set model.n_layer=1 \
    --set model.n_embd=16 --set model.n_head=2 --set model.block_size=16 --set data.seq_len=16 \
    --set data.train="$tmp/flat.txt" --set train.steps=30
expect 0 '"prompt_tokens": 8}' "$zoo" generate "$tmp/g16" --prompt "the lord" --max-new-tokens 40 --seed 3 --json
[ "$(sed 's/.*"ids": \[\([^]]*\)\].*/\1/' "$tmp/out" | tr ',' '\n' | wc -l)" = 48 ] ||
    fail "generate past the context: not 8 + 40 ids: $(cat "$tmp/out")"
expect 0 "stopped at the model's context of 16 tokens" "$zoo" generate "$tmp/g16" --prompt "the lord" \
    --max-new-tokens 40 --seed 3 --stop-at-context --json
[ "$(sed 's/.*"ids": \[\([^]]*\)\].*/\1/' "$tmp/out" | tr ',' '\n' | wc -l)" = 16 ] ||
    fail "generate --stop-at-context: not 16 ids: $(cat "$tmp/out")"
expect 2 "the prompt (16 tokens) fills the model's context of 16" "$zoo" generate "$tmp/g16" \
    --prompt "the lord said un" --stop-at-context
# greedy: the token after position k > 16 is the one the cache predicts from the 16 characters
# before it alone (char tokens: text and ids agree)
expect 0 "" "$zoo" generate "$tmp/g16" --prompt "the lord" --max-new-tokens 40 --temperature 0
full=$(head -1 "$tmp/out")
[ ${#full} = 48 ] || fail "greedy generation past the context: not 48 characters: '$full'"
for k in 16 17 30 47; do
    window=$(printf '%s' "$full" | cut -c$((k - 15))-$k)
    "$zoo" generate "$tmp/g16" --prompt "$window" --max-new-tokens 1 --temperature 0 >"$tmp/one" 2>&1
    [ "$(head -1 "$tmp/one")" = "$(printf '%s' "$full" | cut -c$((k - 15))-$((k + 1)))" ] ||
        fail "token $((k + 1)) past the context is not the one its last 16 tokens predict: '$(cat "$tmp/one")'"
done
# an empty prompt starts from the start token (<|endoftext|> of a gpt2 tokenizer), not printed
start=$("$zoo" tokenize "$tmp/gpt" --special --text "<|endoftext|>")
expect 0 '"prompt_tokens": 1}' "$zoo" generate "$tmp/gpt" --prompt "" --max-new-tokens 5 --seed 3 --json
grep -q "\"ids\": \\[$start," "$tmp/out" || fail "an empty prompt does not start from <|endoftext|> ($start): $(cat "$tmp/out")"
grep -q '"text": "<|endoftext|>' "$tmp/out" && fail "an empty prompt's text shows its start token"
expect 0 "" "$zoo" generate "$tmp/gpt" --prompt "" --max-new-tokens 5 --seed 3
grep -q '^<|endoftext|>' "$tmp/out" && fail "an empty prompt prints its start token"
gpt2_files="$source_dir/../shared/data/tokenizers/gpt2"
if [ -f "$gpt2_files/encoder.json" ]; then
    expect 0 "^15496 11 995 0$" "$zoo" tokenize "$gpt2_files" --text "Hello, world!"
    expect 0 '"tokens": \["a", "<|endoftext|>", "b"\]' "$zoo" tokenize "$gpt2_files" --json --special --text "a<|endoftext|>b"
    expect 0 "^64 27 91 437 1659 5239 91 29 65$" "$zoo" tokenize "$gpt2_files" --text "a<|endoftext|>b"
else
    echo "SKIP zoo tokenize on GPT-2's files: ../shared/data/tokenizers/gpt2 not found"
fi

# --- word2vec: two topics of words that never share a line; after training
# each word's neighbours are its topic's. Then its formats, queries, extras,
# determinism, resume, continued training on new text, and errors.
awk 'BEGIN { srand(7); for (l = 0; l < 1500; l++) { t = l % 2 ? "v" : "w"; s = "";
    for (i = 0; i < 10; i++) s = s (i ? " " : "") t int(rand() * 15); print s } }' >"$tmp/topics.txt"
cat >"$tmp/w2v.json" <<EOF
{"model": {"plugin": "word2vec", "dim": 16, "window": 3, "negative": 4},
 "data": {"train": "$tmp/topics.txt", "val_fraction": 0, "seq_len": 2000,
          "tokenizer": {"type": "word", "split": "whitespace"}},
 "train": {"epochs": 3, "seed": 3, "threads": 1, "optimizer": {"name": "sgd", "lr": 0.05},
           "schedule": {"name": "linear", "min_lr": 0.0001}, "eval_batches": 2}}
EOF
expect 0 "" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v" --quiet
grep -q '"tokens_per_s"' "$tmp/w2v/metrics.jsonl" || fail "word2vec: no tokens_per_s in metrics.jsonl"
expect 0 "" "$zoo" export "$tmp/w2v" --format word2vec-bin --out "$tmp/w2v.bin"
expect 0 "" "$zoo" export "$tmp/w2v" --format word2vec-text --out "$tmp/w2v.txt"
head -1 "$tmp/w2v.txt" | grep -q "^30 16$" || fail "word2vec-text header: $(head -1 "$tmp/w2v.txt")"
"$zoo" similar "$tmp/w2v.bin" w3 --top 14 >"$tmp/near.bin"
"$zoo" similar "$tmp/w2v.txt" w3 --top 14 >"$tmp/near.txt"
"$zoo" similar "$tmp/w2v" w3 --top 14 >"$tmp/near.run"
[ "$(grep -c '^w' "$tmp/near.bin")" = 14 ] || { fail "word2vec: the neighbours of w3 are not its topic's"; cat "$tmp/near.bin" >&2; }
cmp -s "$tmp/near.bin" "$tmp/near.txt" || fail "word2vec: binary and text exports answer differently"
cmp -s "$tmp/near.bin" "$tmp/near.run" || fail "word2vec: the run directory and its export answer differently"
"$zoo" call word2vec.similar --model "$tmp/w2v" w3 14 | grep -v '^$' >"$tmp/near.call"
cmp -s "$tmp/near.bin" "$tmp/near.call" || fail "word2vec: the similar extra answers differently"
expect 0 "^w" "$zoo" call word2vec.analogy --model "$tmp/w2v" v1 v2 w1 3
expect 1 "word2vec: 'nope' is not among the 30 words" "$zoo" call word2vec.similar --model "$tmp/w2v" nope 3
cat >"$tmp/w2v-script.json" <<EOF
{"steps": [{"id": "w", "train": "$tmp/w2v.json", "out": "$tmp/w2v-script", "quiet": true},
           {"call": "word2vec.similar", "model": "\${w.checkpoint}", "args": ["w3", 14]}]}
EOF
"$zoo" run "$tmp/w2v-script.json" | grep -v '^$' >"$tmp/near.script"
cmp -s "$tmp/near.bin" "$tmp/near.script" || fail "word2vec: the similar extra in a run script answers differently"
printf 'w1\tw2\t1\nw1\tv2\t0\nv3\tv4\t1\nw4\tv5\t0\nv6\tv7\t1\nw8\tv9\t0\n' >"$tmp/pairs.tsv"
expect 0 "^spearman 0\.8783" "$zoo" eval-pairs "$tmp/w2v" "$tmp/pairs.tsv" # related all above unrelated
expect 0 "not in VECTORS (zero rows): 'nope'" "$zoo" embed "$tmp/w2v.bin" --text "w1 nope v2" --out "$tmp/e.npy"
expect 0 "" "$zoo" embed "$tmp/w2v" --text "w1 v2" --out "$tmp/e2.npy" --pool mean
expect 1 "^zoo similar: $tmp/a: a 'bigram' model, which has no static word vectors" "$zoo" similar "$tmp/a" w1
expect 0 "^loss [0-9.]*  (mean binary log-loss" "$zoo" eval "$tmp/w2v" --data "$tmp/topics.txt"
printf '1 2 3\n' >"$tmp/w2v-ids"
expect 1 "plugin 'word2vec' has no language-model head" "$zoo" forward "$tmp/w2v" --ids "$tmp/w2v-ids" --out "$tmp/f.npy"
expect 0 "" "$zoo" forward "$tmp/w2v" --ids "$tmp/w2v-ids" --hidden "$tmp/h.npy"
# one thread: the same vectors again; stopped and resumed: the same too
expect 0 "" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-again" --quiet
expect 0 "" "$zoo" export "$tmp/w2v-again" --format word2vec-text --out "$tmp/again.txt"
cmp -s "$tmp/w2v.txt" "$tmp/again.txt" || fail "word2vec: one thread, one seed, different vectors"
expect 0 "stopped after step 4" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-stop" --stop-after 4
expect 0 "" "$zoo" train --resume "$tmp/w2v-stop" --quiet
expect 0 "" "$zoo" export "$tmp/w2v-stop" --format word2vec-text --out "$tmp/resumed.txt"
cmp -s "$tmp/w2v.txt" "$tmp/resumed.txt" || fail "word2vec: a resumed run ends with other vectors"
# continued on new text: the run's vocabulary and vectors carry over, then move
awk 'BEGIN { for (l = 0; l < 200; l++) print "w1 v1 w2 v2 unseen" }' >"$tmp/more.txt"
expect 0 "" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-more" --quiet --set data.train="$tmp/more.txt" --set train.init="$tmp/w2v" --set train.epochs=1
expect 0 "" "$zoo" export "$tmp/w2v-more" --format word2vec-text --out "$tmp/more.vec"
head -1 "$tmp/more.vec" | grep -q "^30 16$" || fail "continued training changed the vocabulary"
cmp -s "$tmp/w2v.txt" "$tmp/more.vec" && fail "continued training left the vectors as they were"
expect 1 "train.init: .* is a 'bigram' model, this run trains 'word2vec'" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-bad" --set train.init="$tmp/a"
# errors
expect 1 "negative is 0 and hs is false" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-none" --set model.negative=0
expect 1 "min_count 100000 leaves no words" "$zoo" train "$tmp/w2v.json" --out "$tmp/w2v-cut" --set data.tokenizer.min_count=100000

# --- the toy model learns the bundled corpus
kjv="$source_dir/data/kjv.txt"
[ -f "$kjv" ] || kjv="$source_dir/../shared/data/corpus/kjv.txt"
if [ ! -f "$kjv" ] && command -v bible >/dev/null; then
    "$source_dir/configs/kjv.sh" >/dev/null && kjv="$source_dir/data/kjv.txt"
fi
if [ -f "$kjv" ]; then
    expect 0 "" "$zoo" train "$source_dir/configs/bigram-kjv.json" --out "$tmp/kjv" --quiet --set data.train="$kjv"
    first=$(grep '"loss"' "$tmp/kjv/metrics.jsonl" | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
    val=$(grep '"val_loss"' "$tmp/kjv/metrics.jsonl" | tail -1 | sed -E 's/.*"val_loss":([0-9.e+-]+).*/\1/')
    awk -v f="$first" -v v="$val" 'BEGIN { exit !(v < f - 1.0) }' ||
        fail "bigram on the KJV: val_loss $val is not 1 nat below the first loss $first"
    # three epochs of word2vec: pairs any reasonable vectors of the KJV rank right
    expect 0 "" "$zoo" train "$source_dir/configs/word2vec-kjv.json" --out "$tmp/kjv-w2v" --quiet --set data.train="$kjv" --set train.epochs=3 --set train.threads=1 # one thread: lock-free training is timing-dependent
    printf 'jesus\tchrist\t10\nmoses\taaron\t10\negypt\tpharaoh\t10\ngold\tsilver\t10\njesus\tcubits\t0\nmoses\tdisciples\t0\ngold\tsabbath\t0\npharaoh\tapostles\t0\n' >"$tmp/kjv-pairs.tsv"
    expect 0 "^spearman 0\.[6-9]" "$zoo" eval-pairs "$tmp/kjv-w2v" "$tmp/kjv-pairs.tsv"
    expect 0 "^christ " "$zoo" similar "$tmp/kjv-w2v" jesus --top 3
else
    echo "SKIP the KJV run: no data/kjv.txt, no ../shared/data/corpus/kjv.txt and no 'bible' to derive it"
fi

# --- token bytes (ABI 1.3): the fixture "chars" reads 16 bytes of each token's text, and its loss,
# forward and embed refuse a batch where a position's bytes do not spell its token; an [UNK] must
# come with its own word. One line in 15 has a word seen once, which min_count 2 cuts.
cat >"$tmp/chars-registry.json" <<JSON
{"format": 1, "plugins": [{"name": "chars", "version": "1.0.0", "summary": "a bigram table for the loader tests",
  "library": "$build/tests/fixtures/chars.so", "abi": "1.3"}]}
JSON
creg="--registry $tmp/chars-registry.json"
awk '{ print } NR % 15 == 0 { print "the lord Rare" NR "x said unto them" }' "$tmp/corpus.txt" >"$tmp/chars-corpus.txt"
sed 's/"plugin": "bigram"/"plugin": "chars"/; s/corpus.txt/chars-corpus.txt/' "$tmp/run.json" >"$tmp/chars.json"
expect 0 "" "$zoo" train "$tmp/chars.json" --out "$tmp/chars" --quiet $creg --set data.tokenizer.type=word \
    --set data.tokenizer.min_count=2 --set train.steps=20
grep -q '"unk_spelled": *[1-9]' "$tmp/chars/metrics.jsonl" || fail "chars: no [UNK] position was spelled"
expect 0 "perplexity" "$zoo" eval "$tmp/chars" --data "$tmp/chars-corpus.txt" $creg
expect 0 "" "$zoo" embed "$tmp/chars" --text "the Zyzzyva lord" --out "$tmp/chars.npy" $creg
# the last two rows of the [1,3,16] floats: "Zyzzyva" (not in the vocabulary) and "lord"
[ "$(tail -c 128 "$tmp/chars.npy" | od -An -v -t f4 -w64 | awk '{ for (i = 1; i <= NF; i++) printf "%d ", $i; print "" }')" = \
"90 121 122 122 121 118 97 -1 -1 -1 -1 -1 -1 -1 -1 -1 
108 111 114 100 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 " ] || fail "chars: embed's bytes do not spell 'Zyzzyva lord'"
printf '2 3 4\n5 6 7\n' >"$tmp/chars-ids"
expect 0 "" "$zoo" forward "$tmp/chars" --ids "$tmp/chars-ids" --out "$tmp/chars-logits.npy" $creg
expect 0 "^# chars 1.0.0: [0-9]* passed, 0 failed" "$zoo" check-plugin chars $creg
# finetune and classify on text with a word the vocabulary lacks, in windows with padding
sed 's/ god / Godzilla /' "$tmp/ft-train.txt" >"$tmp/chars-ft.txt"
sed 's/"base": "bert"/"base": "chars"/; s/ft-train.txt/chars-ft.txt/' "$tmp/ft.json" >"$tmp/chars-ft.json"
expect 0 "^held-out accuracy" "$zoo" finetune "$tmp/chars-ft.json" --out "$tmp/chars-ft" --set train.epochs=2 $creg
expect 0 "^[a-z]* ([01]\.[0-9]*)$" "$zoo" classify "$tmp/chars-ft" --text "Godzilla lord" --top 1 $creg
expect 0 '"generated": ' "$zoo" generate "$tmp/chars" --prompt "the Godzilla lord" --max-new-tokens 4 --json $creg

if [ "$failures" -gt 0 ]; then
    echo "$failures training check(s) failed" >&2
    exit 1
fi
echo "all training checks passed"
