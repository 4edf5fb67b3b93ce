#!/bin/sh
# zoo train --dry-run's parameter counts against closed-form formulas: GPT
# (pre-LN with and without biases, GPT-1's post-LN) and BERT at small sizes on
# a made-up text, then the seed's sizes (configs/seed/) against their published
# counts when ../shared/data (their corpus and BERT's vocabulary) is there.
#   test_param_counts.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
zoo="$build/zoo"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-counts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset ZOO_REGISTRY ZOO_PLUGIN_PATH
failures=0
. "$src/tests/cli/expect.sh"

# dry_run CONFIG [--set ...]: sets $params and $vocab from what it prints
dry_run() {
    params='' vocab='' encoder=''
    "$zoo" train "$@" --dry-run >"$tmp/out" 2>"$tmp/err" || { fail "zoo train $* --dry-run" && sed 's/^/  | /' "$tmp/err" >&2 && return; }
    params=$(sed -n 's/^parameters: \([0-9]*\)$/\1/p' "$tmp/out")
    vocab=$(sed -n 's/^vocabulary: \([0-9]*\) tokens.*/\1/p' "$tmp/out")
    encoder=$(sed -n 's/^parameters without the pretraining heads (.*): \([0-9]*\)$/\1/p' "$tmp/out")
}
count_is() { # WHAT GOT WANT
    [ "$2" = "$3" ] && echo "ok: $1: $2 parameters" || fail "$1: zoo counts $2 parameters, the formula $3"
}

# GPT, V tokens, P positions, L blocks of width C: embeddings V*C + P*C; a block's
# c_attn 3C*C + 3C, attn.c_proj C*C + C, mlp.c_fc 4C*C + 4C, mlp.c_proj 4C*C + C,
# ln_1 and ln_2 2C each; ln_f 2C, which GPT-1's post-LN blocks do not have.
# Without biases: the four matrices 12C*C and the layer norms' weights.
gpt_count() { # V P L C post bias
    V=$1 P=$2 L=$3 C=$4
    if [ "$6" = true ]; then block=$((12 * C * C + 13 * C)) final=$((2 * C)); else block=$((12 * C * C + 2 * C)) final=$C; fi
    [ "$5" = post ] && final=0
    echo $((V * C + P * C + L * block + final))
}
# BERT, V tokens, P positions, S segments, L layers of width H and FFN width I:
# embeddings (V + P + S)*H + LayerNorm 2H; a layer's query, key, value and
# attention output 4(H*H + H), its LayerNorm 2H, intermediate H*I + I, output
# I*H + H and LayerNorm 2H; the pooler H*H + H. That is the encoder and pooler,
# as BertModel counts them.
bert_count() { # V P S L H I
    V=$1 P=$2 S=$3 L=$4 H=$5 I=$6
    echo $(((V + P + S) * H + 2 * H + L * (4 * H * H + 2 * H * I + 9 * H + I) + H * H + H))
}
# What zoo adds for pretraining, BertForPreTraining's heads: the MLM transform
# (dense H*H + H, LayerNorm 2H), the MLM output bias V (its weight is tied to the
# word embeddings), next-sentence prediction 2H + 2.
bert_heads() { # V H
    echo $(($2 * $2 + 5 * $2 + $1 + 2))
}

awk 'BEGIN { srand(3); for (i = 0; i < 4000; i++) { w = int(rand() * 40); printf "w%c%c%s", 97 + w % 6, 107 + int(w / 6), (i % 10 == 9) ? "\n" : " " } }' >"$tmp/text.txt"
cat >"$tmp/gpt.json" <<JSON
{ "model": { "plugin": "gpt", "n_layer": 3, "n_head": 4, "n_embd": 24, "block_size": 40 },
  "data": { "train": "$tmp/text.txt", "tokenizer": { "type": "char" }, "seq_len": 32 },
  "train": { "steps": 1, "batch_size": 2 } }
JSON
for pos in pre post; do
    for bias in true false; do
        dry_run "$tmp/gpt.json" --set model.layer_norm_position=$pos --set model.bias=$bias
        [ -n "$params" ] && count_is "gpt $pos-LN, bias $bias" "$params" "$(gpt_count "$vocab" 40 3 24 $pos $bias)"
    done
done
cat >"$tmp/bert.json" <<JSON
{ "model": { "plugin": "bert", "hidden_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 40, "max_position_embeddings": 48, "type_vocab_size": 3 },
  "data": { "train": "$tmp/text.txt", "tokenizer": { "type": "wordpiece", "max_size": 200 }, "seq_len": 32 },
  "train": { "steps": 1, "batch_size": 2 } }
JSON
dry_run "$tmp/bert.json"
[ -n "$params" ] && count_is "bert" "$params" $(($(bert_count "$vocab" 48 3 2 24 40) + $(bert_heads "$vocab" 24)))
[ -n "$params" ] && count_is "bert without its pretraining heads" "$encoder" "$(bert_count "$vocab" 48 3 2 24 40)"

# The seed's sizes with the published vocabularies: GPT-1 116,534,784 (tied
# head, no ln_f), BERT-base 109,482,240 and BERT-large 335,141,888 (encoder +
# pooler), to which zoo's BERT adds its pretraining heads.
if [ -d "$src/../shared/data/corpus" ] && [ -d "$src/../shared/data/tokenizers" ]; then
    dry_run "$src/configs/seed/gpt1.json"
    [ "$vocab" = 40478 ] || fail "gpt1: vocabulary $vocab, not 40478"
    count_is "configs/seed/gpt1.json" "$params" "$(gpt_count 40478 512 12 768 post true)"
    count_is "GPT-1's published count" "$(gpt_count 40478 512 12 768 post true)" 116534784
    for size in "base 12 768 3072 109482240" "large 24 1024 4096 335141888"; do
        set -- $size
        dry_run "$src/configs/seed/bert-$1.json"
        [ "$vocab" = 30522 ] || fail "bert-$1: vocabulary $vocab, not 30522"
        count_is "configs/seed/bert-$1.json" "$params" $(($(bert_count 30522 512 2 $2 $3 $4) + $(bert_heads 30522 $3)))
        count_is "configs/seed/bert-$1.json without its pretraining heads" "$encoder" $5
        count_is "BERT-$1's published count" "$(bert_count 30522 512 2 $2 $3 $4)" $5
    done
else
    echo "SKIP: the seed's sizes: $src/../shared/data is not there (configs/seed/ train on its corpus)"
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2 && exit 1; }
