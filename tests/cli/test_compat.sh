#!/bin/sh
# Runs and exports written by zoo 0.1.0 (commit bca9197, libzoo.so.0, plugin
# ABI 1.1) load, evaluate, tokenize, generate, fill masks, find similar words,
# export and resume with this build as they did with that one. The fixtures,
# and what the old zoo printed for each command, are in
# tests/fixtures/compat-0.1 (its README.md says how make.sh made them).
#   test_compat.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
fixture=$(cd "$2/tests/fixtures/compat-0.1" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-compat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Every command runs on a copy: none may touch the committed fixtures.
fingerprint() { (cd "$fixture" && find . -type f | LC_ALL=C sort | xargs cksum); }
before=$(fingerprint)
cp -R "$fixture" "$tmp/fx"
fx="$tmp/fx"
exp="$fixture/expected"
# the runs: the last two give a model a tokenizer type another plugin is the home of
runs="bigram gpt bert word2vec bigram-wordpiece bert-gpt2"

# run OUT ZOO_ARGS...: zoo on one thread (as the old values were made),
# stdout to $tmp/OUT; a non-zero exit is a failure, shown with its stderr.
run() {
    out=$1
    shift
    if ! "$zoo" "$@" --threads 1 >"$tmp/$out" 2>"$tmp/err"; then
        fail "zoo $* exited non-zero"
        sed 's/^/  | /' "$tmp/err" >&2
        return 1
    fi
}

# The JSON zoo prints, split in two: its skeleton, with every number that has
# a decimal point (a loss, a probability, a cosine) replaced by #, and those
# numbers one a line. Integers (ids, counts, steps) and strings stay in the
# skeleton. One object of an array a line, so a diff reads well.
float='-?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?'
skeleton() { sed -E "s/\}, \{/},\n{/g; s/(: ?)$float/\1#/g" "$1"; }
floats() { sed -E 's/\}, \{/},\n{/g' "$1" | grep -oE ": ?$float" | sed 's/^: *//'; }

# same_json WHAT EXPECTED GOT: the same skeleton exactly, and each number
# within 1e-5 of the old one relative to it, plus 2e-6 (the last digit of a
# value printed with six decimals).
# (keys added since 0.1 are left out of the new output: eval's bytes and unknown_tokens)
same_json() {
    sed -E 's/, "bytes": [0-9]+, "unknown_tokens": [0-9]+//' "$3" >"$tmp/j.got"
    skeleton "$2" >"$tmp/s.exp"
    skeleton "$tmp/j.got" >"$tmp/s.got"
    floats "$2" >"$tmp/n.exp"
    floats "$tmp/j.got" >"$tmp/n.got"
    if cmp -s "$tmp/s.exp" "$tmp/s.got" &&
        paste "$tmp/n.exp" "$tmp/n.got" | awk '
            { d = $1 - $2; d = d < 0 ? -d : d; m = $1 < 0 ? -$1 : $1;
              if (d > 1e-5 * m + 2e-6) bad = 1 }
            END { exit bad }'; then
        return 0
    fi
    fail "$1: differs from what zoo 0.1.0 printed (< old, > new)"
    diff "$2" "$3" | head -20 | sed 's/^/  | /' >&2
}

# same_text WHAT EXPECTED GOT: byte for byte.
same_text() {
    cmp -s "$2" "$3" && return 0
    fail "$1: differs from what zoo 0.1.0 printed (< old, > new)"
    diff "$2" "$3" | head -20 | sed 's/^/  | /' >&2
}

# --- eval: the loss zoo 0.1.0 printed for the same held-out text. The plugin's
# metrics came later, as a "metrics" object after what 0.1.0 printed: set aside.
# "tokens" counted the whole text then, the tokens scored now (a masked LM's masked ones, the
# targets of whole windows): set aside too.
old_eval() { sed -E 's/, "metrics": \{[^}]*\}\}$/}/; s/"tokens": [0-9]+, //' "$tmp/eval" >"$tmp/eval.old" && mv "$tmp/eval.old" "$tmp/eval"; }
exp_eval() { sed -E 's/"tokens": [0-9]+, //' "$1" >"$tmp/eval.exp" && echo "$tmp/eval.exp"; }
for m in $runs; do
    run eval eval "$fx/runs/$m" --data "$fx/heldout.txt" --json && old_eval &&
        same_json "zoo eval runs/$m" "$(exp_eval "$exp/eval-$m.json")" "$tmp/eval"
done
run eval eval "$fx/gpt-hf" --data "$fx/heldout.txt" --json && old_eval &&
    same_json "zoo eval gpt-hf" "$(exp_eval "$exp/eval-gpt-hf.json")" "$tmp/eval"

# --- tokenize: the same ids under each run's tokenizer (char, gpt2, wordpiece,
# word) and the exported GPT-2 files, with special-token strings as text and
# as those tokens
for m in $runs; do
    run ids tokenize "$fx/runs/$m" --text-file "$fx/tokenize.txt" &&
        same_text "zoo tokenize runs/$m" "$exp/tokenize-$m.txt" "$tmp/ids"
    run ids tokenize "$fx/runs/$m" --text-file "$fx/tokenize.txt" --special &&
        same_text "zoo tokenize runs/$m --special" "$exp/tokenize-special-$m.txt" "$tmp/ids"
done
run ids tokenize "$fx/gpt-hf" --text-file "$fx/tokenize.txt" &&
    same_text "zoo tokenize gpt-hf" "$exp/tokenize-gpt-hf.txt" "$tmp/ids"

# --- generate (greedy: the same tokens), fill-mask, classify (a classifier
# zoo 0.1.0's finetune made from the bert run), similar
for m in gpt bigram bigram-wordpiece; do
    prompt="The"
    [ "$m" = gpt ] && prompt="The old fox"
    run gen generate "$fx/runs/$m" --prompt "$prompt" --max-new-tokens 24 --temperature 0 --json &&
        same_json "zoo generate runs/$m" "$exp/generate-$m.json" "$tmp/gen"
done
run gen generate "$fx/gpt-hf" --prompt "The old fox" --max-new-tokens 24 --temperature 0 --json &&
    same_json "zoo generate gpt-hf" "$exp/generate-gpt-hf.json" "$tmp/gen"
if run gen generate "$fx/runs/gpt" --prompt "The old fox" --max-new-tokens 24 --seed 3 --json; then
    grep -q '"generated": "[^"]' "$tmp/gen" || fail "zoo generate runs/gpt --seed 3: nothing generated"
fi
for m in bert bert-gpt2; do
    run mask fill-mask "$fx/runs/$m" "The old fox walked to the [MASK] hill." --top 5 --json &&
        same_json "zoo fill-mask runs/$m" "$exp/fill-mask-$m.json" "$tmp/mask"
done
run cls classify "$fx/runs/bert-finetuned" --text-file "$fx/heldout.txt" --top 2 --json &&
    same_json "zoo classify runs/bert-finetuned" "$exp/classify-bert-finetuned.json" "$tmp/cls"
run sim similar "$fx/runs/word2vec" fox --top 5 --json &&
    same_json "zoo similar runs/word2vec" "$exp/similar-word2vec.json" "$tmp/sim"
run sim similar "$fx/word2vec.bin" fox --top 5 --json &&
    same_json "zoo similar word2vec.bin" "$exp/similar-word2vec-bin.json" "$tmp/sim"

# --- embed: the same header, and 16 floats as the old ones; zoo call: the
# same text from the plugins' extra functions
# npy_floats FILE: the 16 float32 at the end of FILE, one a line after ": "
npy_floats() { tail -c 64 "$1" | od -An -v -tf4 | tr -s ' ' '\n' | grep . | sed 's/^/: /'; }
for m in gpt bert word2vec; do
    run emb embed "$fx/runs/$m" --text "The old fox walked." --pool mean --out "$tmp/e.npy" || continue
    size=$(wc -c <"$exp/embed-$m.npy")
    if [ "$(wc -c <"$tmp/e.npy")" != "$size" ] ||
        [ "$(head -c $((size - 64)) "$tmp/e.npy" | cksum)" != "$(head -c $((size - 64)) "$exp/embed-$m.npy" | cksum)" ]; then
        fail "zoo embed runs/$m: not a [16] float32 .npy as zoo 0.1.0 wrote"
    fi
    npy_floats "$exp/embed-$m.npy" >"$tmp/e.exp"
    npy_floats "$tmp/e.npy" >"$tmp/e.got"
    same_json "zoo embed runs/$m --pool mean" "$tmp/e.exp" "$tmp/e.got"
done
run call call bigram.argmax_next --model "$fx/runs/bigram" 5 &&
    run call2 call bigram.logit --model "$fx/runs/bigram" 5 6 &&
    cat "$tmp/call2" >>"$tmp/call" &&
    same_text "zoo call bigram.argmax_next, bigram.logit" "$exp/call-bigram.txt" "$tmp/call"
run call call word2vec.similar --model "$fx/runs/word2vec" fox 3 &&
    same_text "zoo call word2vec.similar" "$exp/call-word2vec.txt" "$tmp/call"

# --- export: the old run written again gives the same vectors file, byte for
# byte, and a HuggingFace directory that loads and evaluates as the old one
run export export "$fx/runs/word2vec" --format word2vec-bin --out "$tmp/w.bin" &&
    same_text "zoo export runs/word2vec --format word2vec-bin" "$fixture/word2vec.bin" "$tmp/w.bin"
run export export "$fx/runs/gpt" --format hf --out "$tmp/hf" &&
    run eval eval "$tmp/hf" --data "$fx/heldout.txt" --json && old_eval &&
    same_json "zoo eval of runs/gpt exported again" "$(exp_eval "$exp/eval-gpt-hf.json")" "$tmp/eval"

# --- resume: each run, stopped part-way by zoo 0.1.0, continues to its end
# with the metrics that zoo 0.1.0 logged when it resumed the same run. The
# runs name their corpus where make.sh trained them (an absolute path in
# /tmp/zoo-compat-0.1), so the copy here is given by --set.
# (and without the training tokens so far, which 0.1 did not count)
untimed() { sed -E 's/,"tokens_per_s":[^,]*//; s/,"elapsed_s":[^,}]*//; s/,"tokens":[0-9]*//' "$1"; }
for m in $runs; do
    last=200
    [ "$m" = word2vec ] && last=40
    run resume train --resume "$fx/runs/$m" --set "data.train=$fx/corpus.txt" --quiet || continue
    untimed "$exp/resume-$m.jsonl" >"$tmp/m.exp"
    untimed "$fx/runs/$m/metrics.jsonl" >"$tmp/m.got"
    same_json "zoo train --resume runs/$m: metrics.jsonl" "$tmp/m.exp" "$tmp/m.got"
    [ -f "$fx/runs/$m/step-$(printf %08d $last).safetensors" ] ||
        fail "zoo train --resume runs/$m: no checkpoint of step $last"
    run eval eval "$fx/runs/$m" --data "$fx/heldout.txt" --json # the resumed run loads
done
[ "$(fingerprint)" = "$before" ] || fail "the committed fixtures changed while the test ran"

[ "$failures" = 0 ] && echo "compat: all passed" && exit 0
echo "compat: $failures failure(s)" >&2
exit 1
