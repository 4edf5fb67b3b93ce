#!/bin/sh
# zoo's int8 inference beside zoo's fp32 and PyTorch's dynamic int8
# quantization (quantize_dynamic on nn.Linear, engine onednn), alternately in
# one run, 2 threads everywhere: GPT-2 124M's forward at batch 4 x 64,
# BERT-base's at 8 x 128, and GPT-2's one token at position 100 with the KV
# cache (batch 1). Each round runs zoo fp32, zoo int8 (bench_gpt/bench_bert
# --int8), then gpt_torch.py/bert_torch.py --int8, which time PyTorch's fp32
# and int8 forward of the same model in one process; it prints each figure,
# the int8 speed-ups over fp32 and zoo int8's over PyTorch int8, then the
# medians over the rounds. The first round also passes on PyTorch's accuracy
# checks (int8 logits against fp32, the count of quantized modules).
#   compare_int8.sh BUILD_DIR [--rounds N] [--steps N] [--no-decode]
# --no-decode leaves out the cache timing, most of a round's time: bench_gpt
# --decode runs every position up to 910 one token at a time.
set -eu
build=$1
shift
rounds=3 steps=5 decode=--decode
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    --no-decode) decode= ;;
    *) echo "compare_int8: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "compare_int8: SKIP: python3-torch is not installed"; exit 0; }
/usr/bin/python3 -c "import torch, sys; sys.exit('onednn' not in torch.backends.quantized.supported_engines)" ||
    { echo "compare_int8: SKIP: this PyTorch has no onednn quantized engine"; exit 0; }
export OMP_WAIT_POLICY=PASSIVE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rounds_file="$tmp/rounds"
. "$here/rounds.sh"
# "forward  " (two spaces) is the fp32 line and zoo --int8's own; "forward (int8)" PyTorch's int8
first() { ms "$@" | head -1; }
echo "compare_int8: 2 threads, $steps steps a median, $rounds rounds; PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for r in $(seq 1 "$rounds"); do
    "$build/tests/bench/bench_gpt" --threads 2 --steps "$steps" --gpt2 --forward-only $decode >"$tmp/zg"
    "$build/tests/bench/bench_gpt" --threads 2 --steps "$steps" --gpt2 --forward-only $decode --int8 >"$tmp/zgi"
    /usr/bin/python3 "$here/gpt_torch.py" --threads 2 --steps "$steps" --gpt2 --int8 $decode >"$tmp/pg" 2>"$tmp/pg.err"
    "$build/tests/bench/bench_bert" --threads 2 --steps "$steps" --part forward >"$tmp/zb"
    "$build/tests/bench/bench_bert" --threads 2 --steps "$steps" --part forward --int8 >"$tmp/zbi"
    /usr/bin/python3 "$here/bert_torch.py" --threads 2 --steps "$steps" --int8 >"$tmp/pb" 2>"$tmp/pb.err"
    if [ "$r" = 1 ]; then
        sed 's/^/  pytorch gpt: /' "$tmp/pg.err"
        sed 's/^/  pytorch bert: /' "$tmp/pb.err"
    fi
    zg=$(ms "$tmp/zg" "forward  ") zgi=$(ms "$tmp/zgi" "forward  ")
    pg=$(ms "$tmp/pg" "forward  ") pgi=$(ms "$tmp/pg" "forward (int8)")
    zb=$(ms "$tmp/zb" "forward  ") zbi=$(ms "$tmp/zbi" "forward  ")
    pb=$(ms "$tmp/pb" "forward  ") pbi=$(ms "$tmp/pb" "forward (int8)")
    line="$zg $zgi $pg $pgi $zb $zbi $pb $pbi"
    echo "round $r: GPT-2 forward: zoo fp32 $zg ms, int8 $zgi ms ($(ratio "$zg" "$zgi")x); pytorch fp32 $pg ms, int8 $pgi ms ($(ratio "$pg" "$pgi")x); zoo int8 over pytorch int8 $(ratio "$pgi" "$zgi")x"
    echo "round $r: BERT-base forward: zoo fp32 $zb ms, int8 $zbi ms ($(ratio "$zb" "$zbi")x); pytorch fp32 $pb ms, int8 $pbi ms ($(ratio "$pb" "$pbi")x); zoo int8 over pytorch int8 $(ratio "$pbi" "$zbi")x"
    if [ -n "$decode" ]; then
        zd=$(first "$tmp/zg" "decode with the cache") zdi=$(first "$tmp/zgi" "decode with the cache")
        pd=$(first "$tmp/pg" "decode with the cache") pdi=$(first "$tmp/pg" "decode (int8) with the cache")
        line="$line $zd $zdi $pd $pdi"
        echo "round $r: GPT-2 token 100 with the cache: zoo fp32 $zd ms, int8 $zdi ms ($(ratio "$zd" "$zdi")x); pytorch fp32 $pd ms, int8 $pdi ms ($(ratio "$pd" "$pdi")x); zoo int8 over pytorch int8 $(ratio "$pdi" "$zdi")x"
    fi
    echo "$line" >>"$rounds_file"
done
# the medians of columns $2.. $5 (zoo fp32, zoo int8, pytorch fp32, pytorch int8) as a round's line
medians() {
    zf=$(median "$2") zi=$(median "$3") pf=$(median "$4") pi=$(median "$5")
    echo "medians, $1: zoo fp32 $zf ms, int8 $zi ms ($(ratio "$zf" "$zi")x); pytorch fp32 $pf ms, int8 $pi ms ($(ratio "$pf" "$pi")x); zoo int8 over pytorch int8 $(ratio "$pi" "$zi")x"
}
medians "GPT-2 forward" 1 2 3 4
medians "BERT-base forward" 5 6 7 8
[ -z "$decode" ] || medians "GPT-2 token 100 with the cache" 9 10 11 12
