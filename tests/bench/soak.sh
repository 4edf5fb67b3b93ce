#!/bin/sh
# A soak run: zoo train for SECONDS (train.max_seconds) with the resident
# memory of the process sampled every 30 s, to show that memory stays flat
# over a long run with its evaluations and checkpoint saves. Not in CI.
#   soak.sh BUILD_DIR CONFIG SECONDS OUT_DIR [zoo train options...]
# Writes OUT_DIR/rss.csv (seconds, VmRSS KiB, VmHWM KiB) and the run in
# OUT_DIR/run, and prints the largest VmRSS of the first five minutes after a
# two-minute warm-up against that of the last five, and their difference in
# percent.
set -eu
[ $# -ge 4 ] || { echo "usage: soak.sh BUILD_DIR CONFIG SECONDS OUT_DIR [zoo train options...]" >&2; exit 2; }
zoo=$(cd "$1" && pwd)/zoo config=$2 seconds=$3 out=$4
shift 4
[ ! -e "$out" ] || { echo "soak: $out exists" >&2; exit 1; }
mkdir -p "$out"
export OMP_WAIT_POLICY=PASSIVE
"$zoo" train "$config" --out "$out/run" --set train.max_seconds="$seconds" --quiet "$@" \
    >"$out/train.log" 2>&1 &
pid=$!
echo "seconds,vmrss_kib,vmhwm_kib" >"$out/rss.csv"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(($(date +%s) - start)),$rss,$hwm" >>"$out/rss.csv"
    # wake every second to notice the end; sample every 30
    i=0
    while [ $i -lt 30 ] && kill -0 "$pid" 2>/dev/null; do sleep 1; i=$((i + 1)); done
done
wait "$pid" || { echo "soak: zoo train failed:" >&2; tail -5 "$out/train.log" >&2; exit 1; }
awk -F, -v warm=120 'NR > 1 { t[n] = $1; r[n] = $2; n++ }
    END {
        if (n < 2) { print "soak: too few samples"; exit 1 }
        last = t[n - 1]
        for (i = 0; i < n; i++) {
            if (t[i] >= warm && t[i] < warm + 300 && r[i] > first) first = r[i]
            if (t[i] > last - 300 && r[i] > final) final = r[i]
        }
        printf "samples %d over %d s; largest VmRSS, first five minutes after warm-up: %.1f MiB; last five: %.1f MiB; change %+.2f%%\n",
               n, last, first / 1024, final / 1024, 100 * (final - first) / first
    }' "$out/rss.csv"
