#!/usr/bin/env bash
# Runs the libFuzzer targets of a ZOO_FUZZ build:
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Each target (all by default; TARGET is a name such as safetensors) first
# replays its committed crashers (regressions/TARGET/), then fuzzes for
# SECONDS on a scratch copy of its seed corpus (corpus/TARGET/, which stays
# as committed), one process, ASan/UBSan and leak detection on. Prints a
# Markdown table, a row a target, ready for docs/reliability.md; a crash,
# leak, timeout or out-of-memory leaves its input in
# BUILD_DIR/fuzz-artifacts/TARGET/ and makes the exit status 1.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=$build/tests/fuzz

if [ $# -eq 0 ]; then
    set -- $(cd "$here/corpus" && ls)
fi

# the longest input worth trying, by format: room for a few tensors, a
# vocabulary of a few hundred tokens, a config with every section
max_len() {
    case $1 in
    safetensors | checkpoint | gpt2 | tokenizer_json) echo 8192 ;;
    hf_config | labeled) echo 2048 ;;
    *) echo 4096 ;;
    esac
}

export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/zoo-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

status=0
echo "| target | seconds | executions | exec/s | coverage (cov) | features (ft) | corpus | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for target in "$@"; do
    exe=$bin_dir/fuzz_$target
    if [ ! -x "$exe" ]; then
        echo "$0: no target $exe (configure with CC=clang -DZOO_FUZZ=ON and build)" >&2
        status=1
        continue
    fi
    work=$scratch/$target
    artifacts=$build/fuzz-artifacts/$target
    mkdir -p "$work/corpus" "$work/tmp" "$artifacts"
    # the targets' scratch files (fuzz_util.h) go here, removed with it even
    # when a target dies before its atexit cleanup
    export TMPDIR=$work/tmp
    cp "$here/corpus/$target"/* "$work/corpus/" 2>/dev/null
    crashes=0
    regressions=("$here/regressions/$target"/*)
    if [ -e "${regressions[0]}" ]; then
        if ! "$exe" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" >"$work/replay.log" 2>&1; then
            echo "$target: a committed regression fails again:" >&2
            tail -n 40 "$work/replay.log" >&2
            crashes=$((crashes + 1))
        fi
    fi
    start=$(date +%s)
    "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" \
        >"$work/fuzz.log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    log=$work/fuzz.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[^ ]*\).*/\1/p' <<<"$last")
    if [ $rc -ne 0 ]; then
        crashes=$((crashes + 1))
        cp "$log" "$artifacts/fuzz.log"
        echo "$target: libFuzzer stopped with status $rc (log: $artifacts/fuzz.log):" >&2
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10 >&2
    fi
    [ $crashes -ne 0 ] && status=1
    echo "| $target | $elapsed | ${execs:-?} | ${speed:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |"
done
exit $status
