#!/bin/sh
# Memcheck over what users run: a short training run of each shipped plugin
# (bigram, gpt, bert, elmo, word2vec with one thread), then generate,
# fill-mask and embed on runs trained here and on the HuggingFace fixtures.
# Every command must exit 0 with no invalid read or write, no use of an
# uninitialised value and no leak of any kind (definite, indirect, possible).
# Not for sanitizer builds (memcheck cannot run ASan binaries); exits 77
# (skipped) when valgrind is not installed.
#   test_valgrind.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
zoo="$build/zoo"
if ! command -v valgrind >/dev/null; then
    echo "skipped: valgrind is not installed (Debian: apt-get install valgrind)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
export OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
failures=0
. "$(dirname "$0")/expect.sh"
cd "$tmp" || exit 1

# valgrind's own errors exit 99, zoo's keep their codes: each command must give 0
memcheck() {
    what=$1
    shift
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
        --log-file="$tmp/vg.log" "$zoo" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != 0 ] || [ -s "$tmp/vg.log" ]; then
        fail "$what: zoo $* exited $got under memcheck"
        sed 's/^/  | /' "$tmp/vg.log" "$tmp/err" | head -60 >&2
    fi
}

word_corpus 800 >corpus.txt
base='"data": {"train": "corpus.txt", "val_fraction": 0.1, "seq_len": 16, "tokenizer": TOKENIZER},
 "train": {"steps": 4, "batch_size": 4, "threads": 1, "optimizer": {"name": "adamw", "lr": 0.01},
           "eval_every": 2, "eval_batches": 1, "checkpoint_every": 2, "keep": 1}}'
config() { # NAME MODEL TOKENIZER
    echo "{\"model\": $2, $base" | sed "s/TOKENIZER/$3/" >"$1.json"
}
config bigram '{"plugin": "bigram"}' '{"type": "char"}'
config gpt '{"plugin": "gpt", "n_layer": 1, "n_embd": 16, "n_head": 2, "block_size": 16}' '{"type": "char"}'
config bert '{"plugin": "bert", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
  "intermediate_size": 32, "max_position_embeddings": 32}' '{"type": "wordpiece", "max_size": 120}'
config elmo '{"plugin": "elmo", "char_dim": 4, "filters": "1:8,2:8", "n_highway": 1, "projection_dim": 8,
  "dim": 16, "sampled_softmax": 0}' '{"type": "word", "split": "punctuation"}'
cat >word2vec.json <<'JSON'
{"model": {"plugin": "word2vec", "dim": 16, "window": 3, "negative": 4},
 "data": {"train": "corpus.txt", "val_fraction": 0, "seq_len": 2000,
          "tokenizer": {"type": "word", "split": "punctuation"}},
 "train": {"epochs": 1, "seed": 3, "threads": 1, "optimizer": {"name": "sgd", "lr": 0.05},
           "schedule": {"name": "linear", "min_lr": 0.0001}, "eval_batches": 1}}
JSON

for p in bigram gpt bert elmo word2vec; do
    memcheck "train $p" train "$p.json" --out "$p" --quiet
done
gpt2="$source_dir/plugins/gpt/tests/fixtures/gpt2-tiny"
bert_hf="$source_dir/plugins/bert/tests/fixtures/bert-tiny"
memcheck "generate" generate gpt --prompt "the lord" --max-new-tokens 20 --seed 1
memcheck "generate past the context" generate gpt --prompt "the" --max-new-tokens 30 --seed 1
memcheck "generate, HF" generate "$gpt2" --tokenizer gpt --prompt "!" --max-new-tokens 8 --seed 1 --top-k 5
memcheck "fill-mask" fill-mask bert --text "the lord [MASK] unto him"
memcheck "fill-mask, HF" fill-mask "$bert_hf" --text "the [MASK] said"
memcheck "embed bert" embed bert --text "the lord said" --text "and they were" --out e1.npy
memcheck "embed elmo" embed elmo --text "the lord said" --layer all --out e2.npy
memcheck "embed gpt" embed gpt --text "the lord said" --out e3.npy
memcheck "embed word2vec" embed word2vec --text "the lord said" --out e4.npy
memcheck "resume" train --resume gpt --stop-after 6 --quiet

[ "$failures" = 0 ] && echo "memcheck: all clean" || echo "$failures command(s) not clean under memcheck"
[ "$failures" = 0 ]
