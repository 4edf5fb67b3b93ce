#!/bin/sh
# The step time of data-parallel training on N nodes, on paper, from one
# node's measured step time: ring all-reduce sends 2 (N - 1) / N times the
# gradient bytes over each node's link, in 2 (N - 1) messages per bucket,
#   T_allreduce = 2 (N - 1) / N * G / BW + 2 (N - 1) * buckets * latency
# Without overlap a step takes T_compute + T_allreduce; with the reduction
# overlapped with the backward pass (two thirds of the compute: backward
# costs twice forward), T_compute / 3 + max(2 T_compute / 3, T_allreduce).
# Efficiency is T_compute over the step (1: perfect weak scaling, each node
# keeping its batch). Prints a Markdown table.
#   mpi_scaling.sh NAME STEP_SECONDS GRADIENT_BYTES BUCKET_BYTES [NODES...]
# Links: 25 Gb/s with 20 us a message (TCP over Ethernet) and 100 Gb/s with
# 3 us (RDMA); override with LINKS="Gb/s:us ...".
set -eu
[ $# -ge 4 ] || { echo "usage: mpi_scaling.sh NAME STEP_SECONDS GRADIENT_BYTES BUCKET_BYTES [NODES...]" >&2; exit 2; }
name=$1 step=$2 bytes=$3 bucket=$4
shift 4
nodes=${*:-8 64 512}
links=${LINKS:-25:20 100:3}
echo "| model | link | nodes | all-reduce s | step s, no overlap | efficiency | step s, overlapped | efficiency |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for link in $links; do
    for n in $nodes; do
        awk -v name="$name" -v tc="$step" -v g="$bytes" -v b="$bucket" -v n="$n" \
            -v gbps="${link%%:*}" -v us="${link##*:}" 'BEGIN {
            bw = gbps * 1e9 / 8; buckets = int((g + b - 1) / b)
            ar = 2 * (n - 1) / n * g / bw + 2 * (n - 1) * buckets * us * 1e-6
            plain = tc + ar; over = tc / 3 + (2 * tc / 3 > ar ? 2 * tc / 3 : ar)
            printf "| %s | %d Gb/s, %d us | %d | %.3g | %.3g | %.0f%% | %.3g | %.0f%% |\n",
                   name, gbps, us, n, ar, plain, 100 * tc / plain, over, 100 * tc / over }'
    done
done
