/* bench_allreduce [MAX_MIB [PIECE_MIB]]: what a sum over the processes of
 * an MPI job costs, through the calls zoo's data-parallel training makes
 * (host/dist/dist.h, MPI_Allreduce in place), a buffer summed whole or, with
 * PIECE_MIB, in pieces of at most that size one after the other (what
 * train.bucket_mb does). Run it under the launcher:
 *   mpirun -np 2 build/tests/bench/bench_allreduce 512 4
 * For float buffers of 4 bytes to MAX_MIB (256), doubling: the median time
 * of a sum over repetitions (a barrier before each, so waiting for a late
 * rank is not counted), the algorithm bandwidth (bytes / time) and the bus
 * bandwidth of a ring (2 (N - 1) / N times that: what each rank's link
 * carries). Rank 0 prints a Markdown table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dist.h"

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    double max_mib = argc > 1 ? atof(argv[1]) : 256, piece_mib = argc > 2 ? atof(argv[2]) : 0;
    if (zoo_dist_init(&argc, &argv)) return 1;
    int n = zoo_dist_size();
    if (n < 2) {
        fprintf(stderr,
                "bench_allreduce: a job of one process (%s); run it under mpirun -np 2 "
                "or more\n",
                zoo_dist_built() ? "not started by a launcher" : "built without MPI");
        return zoo_dist_finish(1);
    }
    size_t max_floats = (size_t)(max_mib * 1024 * 1024 / 4);
    size_t piece = piece_mib > 0 ? (size_t)(piece_mib * 1024 * 1024 / 4) : max_floats;
    float *buf = malloc(max_floats * sizeof *buf);
    if (!buf) return zoo_dist_finish(1);
    for (size_t i = 0; i < max_floats; i++) buf[i] = 1.0f / (float)(1 + i % 7);
    if (zoo_dist_rank() == 0) {
        printf("| bytes | median time | algorithm bandwidth | bus bandwidth (ring) |\n");
        printf("|---:|---:|---:|---:|\n");
    }
    for (size_t floats = 1; floats <= max_floats; floats *= 2) {
        double bytes = (double)floats * 4;
        int reps = bytes < 1e6 ? 200 : bytes < 64e6 ? 20 : 5;
        double t[200];
        for (int r = 0; r < reps; r++) {
            zoo_dist_barrier();
            double t0 = zoo_now();
            for (size_t at = 0; at < floats; at += piece)
                zoo_dist_sum_f32(buf + at, floats - at < piece ? floats - at : piece);
            t[r] = zoo_now() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, compare);
        double median = t[reps / 2];
        /* rank 0's median stands for the job: the ranks wait for each other */
        if (zoo_dist_rank() == 0)
            printf("| %.0f | %.3g ms | %.3g GB/s | %.3g GB/s |\n", bytes, median * 1e3,
                   bytes / median / 1e9, 2.0 * (n - 1) / n * bytes / median / 1e9);
    }
    free(buf);
    return zoo_dist_finish(0);
}
