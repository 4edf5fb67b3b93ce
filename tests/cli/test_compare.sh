#!/bin/sh
# zoo compare on a tiny comparison: two toy models (the bigram table and a
# one-block GPT, characters in) for a few steps on a made-up corpus, probed on
# a made-up task that is separable by which words a sentence uses. Every
# output file with its columns; each probe above its majority baseline; a
# failing model's row and the exit status; the same seed giving the same
# numbers; Ctrl-C and --resume; an existing directory never overwritten;
# --only, --repeat and --dry-run; config errors naming file and field.
#   test_compare.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$src/tests/cli/expect.sh"
cd "$tmp" || exit 1

# A corpus of two kinds of sentence, and a probe that asks which kind.
two_kinds_files
cat >compare.json <<'JSON'
{"name": "tiny", "seed": 7,
 "data": {"train": "corpus.txt", "val": "heldout.txt"},
 "budget": {"steps": 30},
 "models": [
   {"name": "bigram", "config": {"model": {"plugin": "bigram"},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 32},
      "train": {"batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.05}, "eval_every": 10}}},
   {"name": "gpt", "config": {"model": {"plugin": "gpt", "n_layer": 1, "n_head": 2, "n_embd": 16},
      "data": {"tokenizer": {"type": "char"}, "seq_len": 32},
      "train": {"batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.01}, "eval_every": 10}},
    "probe": {"pool": "mean"}}
 ],
 "probes": [{"name": "kind", "train": "probe-train.tsv", "test": "probe-test.tsv"}]}
JSON

# --- a whole comparison
expect 0 "^bigram  *ok  " "$zoo" compare compare.json --out a --quiet
for f in report.md results.json results.csv loss-tokens.svg loss-seconds.svg probes.svg compare.json \
    bigram/result.json bigram/run/metrics.jsonl bigram/run/config.json bigram/run/latest.safetensors \
    gpt/result.json gpt/probe-kind.json; do
    [ -f "a/$f" ] || fail "the comparison lacks $f"
done
head -1 a/results.csv | grep -q '^model,plugin,status,parameters,layers,hidden,sees,inputs,pretraining,tokens_per_second,peak_memory_mib,train_seconds,final_loss,heldout_perplexity,heldout_bits_per_char,kind_accuracy,kind_majority' ||
    fail "results.csv: not the expected columns: $(head -1 a/results.csv)"
[ "$(wc -l <a/results.csv)" = 3 ] || fail "results.csv: not one row per model"
# the probe beats always answering the most frequent kind, for both models
for m in bigram gpt; do
    acc=$(sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' "a/$m/probe-kind.json" | head -1)
    maj=$(sed -n 's/.*"majority": *\([0-9.]*\).*/\1/p' "a/$m/probe-kind.json" | head -1)
    awk -v a="$acc" -v m="$maj" 'BEGIN { exit !(a > m + 0.2) }' ||
        fail "$m: probe accuracy $acc is not well above the majority baseline $maj"
done
# one curve a model in each line chart
for svg in loss-tokens loss-seconds; do
    [ "$(grep -o '<polyline' "a/$svg.svg" | wc -l)" -ge 2 ] || fail "$svg.svg: fewer than 2 curves"
done
grep -q '"bits_per_char":[[:space:]]*[0-9]' a/gpt/result.json || fail "gpt: no bits per character (a causal LM over characters)"
grep -q 'report.md\|loss-tokens.svg' a/report.md || fail "report.md does not embed its plots"

# --- never overwritten; the same seed gives the same numbers, timings aside
expect 1 "a exists; a comparison never overwrites one" "$zoo" compare compare.json --out a
expect 0 "" "$zoo" compare compare.json --out b --quiet
untimed() { sed -E 's/"(seconds|tokens_per_second|peak_memory_bytes)":[[:space:]]*[0-9.e+-]*//g' "$1"; }
for m in bigram gpt; do
    untimed "a/$m/result.json" >ra
    untimed "b/$m/result.json" >rb
    cmp -s ra rb || { fail "$m: the same config and seed gave other results"; diff ra rb | head -5 >&2; }
done

# --- a failing model gets its row and the exit status is 1; the others still run
sed 's/"n_embd": 16}/"n_embd": 15}/' compare.json >broken.json # 15 is not a multiple of n_head
expect 1 "1 of 2 trials failed" "$zoo" compare broken.json --out c --quiet
grep -q '"status":[[:space:]]*"failed"' c/gpt/result.json || fail "the failed model's result.json does not say so"
grep -q '"failed_step":[[:space:]]*"train"' c/gpt/result.json || fail "the failed model's step is not train"
grep -q '"status":[[:space:]]*"ok"' c/bigram/result.json || fail "the other model did not run"
grep -q 'gpt.*failed' c/report.md || fail "report.md does not say gpt failed"

# --- a budget in seconds: every model stops in time, and the report says it is not reproducible
sed 's/"budget": {"steps": 30}/"budget": {"seconds": 0.05}/; s/"eval_every": 10/"eval_every": 100000/' \
    compare.json >seconds.json
sed -i 's/"train": {"batch_size": 8,/"train": {"steps": 100000, "batch_size": 8,/' seconds.json
expect 0 "" "$zoo" compare seconds.json --out s --only gpt --quiet
grep -q "not reproducible: budget in seconds" s/report.md || fail "budget.seconds: the report does not say it is not reproducible"
grep -q '"reproducible":[[:space:]]*false' s/results.json || fail "budget.seconds: results.json says reproducible"
steps=$(tr -d ' \t\n' <s/gpt/result.json | sed -n 's/.*"steps":\([0-9]*\).*/\1/p')
[ -n "$steps" ] && [ "$steps" -lt 100000 ] || fail "budget.seconds: gpt trained '$steps' steps, not stopped in time"

# --- --only, --repeat (mean and sd), --resume after Ctrl-C
expect 0 "" "$zoo" compare compare.json --out d --only bigram --repeat 2 --quiet
[ -f d/bigram/repeat-1/result.json ] && [ -f d/bigram/repeat-2/result.json ] && [ ! -e d/gpt ] ||
    fail "--only bigram --repeat 2: not two trials of bigram alone"
grep -q '"sd"' d/results.json || fail "--repeat 2: results.json has no standard deviations"
expect 2 "has no model 'bigramm' (did you mean 'bigram'?)" "$zoo" compare compare.json --out e --only bigramm

sed 's/"budget": {"steps": 30}/"budget": {"steps": 20000}/; s/"eval_every": 10/"eval_every": 5000/' compare.json >long.json
# Ctrl-C reaches the whole process group, the running step included
setsid "$zoo" compare long.json --out f --quiet >/dev/null 2>f.err &
pid=$!
i=0
while [ ! -f f/bigram/result.json ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill -s INT -- -$pid
wait $pid
code=$?
[ "$code" = 130 ] || fail "Ctrl-C: exit $code, expected 130"
grep -q "continue with zoo compare --resume f" f.err || fail "Ctrl-C: no resume hint: $(tail -2 f.err)"
[ -f f/gpt/run/latest.safetensors ] || fail "Ctrl-C: the interrupted model kept no checkpoint"
before=$(cksum <f/bigram/result.json)
expect 0 "" "$zoo" compare --resume f --quiet
[ "$(cksum <f/bigram/result.json)" = "$before" ] || fail "--resume ran the finished model again"
# SIGINT to zoo compare alone is passed on to the step it runs
"$zoo" compare long.json --out h --quiet --only gpt >/dev/null 2>h.err &
pid=$!
i=0
while [ ! -f h/gpt/run/metrics.jsonl ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -s INT $pid
wait $pid
code=$?
[ "$code" = 130 ] && [ -f h/gpt/run/latest.safetensors ] && [ ! -f h/gpt/result.json ] ||
    fail "SIGINT to zoo compare: exit $code, or no checkpoint of the running step, or a result.json"
grep -q '"status":[[:space:]]*"ok"' f/gpt/result.json || fail "--resume did not finish the interrupted model"
grep -q '"steps":[[:space:]]*20000' f/gpt/result.json || fail "--resume: the resumed model did not train all its steps"

# --- --dry-run trains nothing and counts parameters: GPT's V*C + P*C + L*(12C^2 + 13C) + 2C
expect 0 "" "$zoo" compare compare.json --dry-run
[ ! -e runs ] || fail "--dry-run wrote runs/"
got=$(sed -n 's/^| gpt | gpt | \([0-9,]*\) .*/\1/p' "$tmp/out" | tr -d ,)
# a training step's products: at least 6 FLOPs a token for each weight of the block (12C^2)
flops=$(sed -n 's/^| gpt | gpt | [0-9,]* | [0-9,]* |  | \([0-9.e+]*\) | .* GiB at batch 8 |$/\1/p' "$tmp/out")
awk -v f="$flops" 'BEGIN { exit !(f + 0 >= 6 * 12 * 16 * 16) }' ||
    fail "--dry-run: gpt's training FLOPs per token '$flops' (or its memory at batch 8) is missing or too small"
cat >gpt.json <<'JSON'
{"model": {"plugin": "gpt", "n_layer": 1, "n_head": 2, "n_embd": 16},
 "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 32}, "train": {"steps": 1}}
JSON
V=$("$zoo" train gpt.json --dry-run | sed -n 's/^vocabulary: \([0-9]*\) tokens.*/\1/p')
C=16 P=32
want=$((V * C + P * C + 12 * C * C + 13 * C + 2 * C))
[ -n "$V" ] && [ "$got" = "$want" ] || fail "--dry-run: gpt has '$got' parameters, the formula $want (V = $V)"
expect 2 "--cost goes with --dry-run" "$zoo" train gpt.json --cost
# BERT's: the count without its pretraining heads is BertModel's, embeddings (V + P + S)H + 2H,
# L layers of 4(H^2 + H) + 2HI + I + 5H, the pooler H^2 + H
cat >bert.json <<'JSON'
{"data": {"train": "corpus.txt"}, "budget": {"steps": 1},
 "models": [{"name": "bert", "config": {"model": {"plugin": "bert", "hidden_size": 16,
    "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 24,
    "max_position_embeddings": 40, "type_vocab_size": 2},
    "data": {"tokenizer": {"type": "wordpiece", "max_size": 120}, "seq_len": 32}}}]}
JSON
expect 0 "" "$zoo" compare bert.json --dry-run
row=$(grep '^| bert | bert |' "$tmp/out")
all=$(echo "$row" | cut -d'|' -f4 | tr -d ' ,') encoder=$(echo "$row" | cut -d'|' -f5 | tr -d ' ,')
H=16 L=2 I=24 P=40 S=2
V=$(( (all - encoder - H * H - 5 * H - 2) )) # what the heads add: H^2 + 5H + V + 2
want=$(((V + P + S) * H + 2 * H + L * (4 * H * H + 2 * H * I + 9 * H + I) + H * H + H))
[ -n "$encoder" ] && [ "$encoder" = "$want" ] && [ "$V" -gt 50 ] ||
    fail "--dry-run: bert without its heads has '$encoder' parameters, BertModel's formula $want (V = $V)"

# --- a fine-tuned probe: the model with a task head, trained on the probe's examples
sed 's/"budget": {"steps": 30}/"budget": {"steps": 30}, "probe": {"finetune": true, "finetune_epochs": 2, "finetune_lr": 0.01}/' \
    compare.json >finetune.json
expect 0 "" "$zoo" compare finetune.json --out ft --only gpt --quiet
[ -f ft/gpt/finetune-kind/metrics.jsonl ] || fail "probe.finetune: no fine-tuning run"
grep -q '"method":[[:space:]]*"fine-tuned"' ft/gpt/result.json || fail "probe.finetune: the result does not say fine-tuned"
acc=$(tr -d ' \t\n' <ft/gpt/result.json | sed -n 's/.*"accuracy":\([0-9.]*\),"majority":\([0-9.]*\).*/\1 \2/p')
awk -v a="${acc% *}" -v m="${acc#* }" 'BEGIN { exit !(a > m + 0.2) }' ||
    fail "probe.finetune: accuracy and majority '$acc': not well above the baseline"

# --- config errors name the file and the field
printf '{"data": {"train": "corpus.txt"}, "budget": {"steps": 1}, "models": [], "modles": 1}' >bad1.json
expect 1 "bad1.json: modles: unknown key (did you mean 'models'?)" "$zoo" compare bad1.json --out g
printf '{"data": {"train": "nope.txt"}, "budget": {"steps": 1}, "models": [{"name": "x", "config": "y.json"}]}' >bad2.json
expect 1 "bad2.json: data.train: nope.txt: No such file or directory" "$zoo" compare bad2.json --out g
printf '{"data": {"train": "corpus.txt"}, "budget": {"steps": 1, "seconds": 2}, "models": [{"name": "x", "config": "y.json"}]}' >bad3.json
expect 1 "bad3.json: budget: set exactly one of steps, tokens and seconds (more than one is set)" "$zoo" compare bad3.json --out g
[ ! -e g ] || fail "a config error left an output directory"

[ "$failures" = 0 ] && echo "compare: all passed" && exit 0
echo "compare: $failures failure(s)" >&2
exit 1
