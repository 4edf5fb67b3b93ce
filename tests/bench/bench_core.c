/* Core benchmark: zoo's linear against a raw cblas_sgemm of the same shapes,
 * measured alternately in one run, attention forward+backward throughput,
 * and the LLaMA-style operators against the ones they stand in for.
 *   bench_core [--threads N] [--reps N] [--only llama]
 * Each figure is the median of the repetitions; the ratio column is zoo's
 * time over raw sgemm's for the same products (1.00 = no overhead). */
#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_timing.h"
#include "zoo/zoo.h"

typedef struct linear_case {
    int64_t rows, out, in;
} linear_case;

/* One forward (y = x W^T) and one backward (dx = dy W, dW = dy^T x): the
 * same products as the raw sgemm calls. With a bias, zoo does more work than
 * the peer (writing b, summing db); that row is printed for information. */
static void bench_linear(linear_case c, bool with_bias, int reps) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    zoo_params *p = zoo_params_new();
    zoo_tensor *w = zoo_params_add(p, "w", 2, ZOO_SHAPE(c.out, c.in), 0);
    zoo_tensor *b = zoo_params_add(p, "b", 1, ZOO_SHAPE(c.out), 0);
    zoo_tensor *x = zoo_params_add(p, "x", 2, ZOO_SHAPE(c.rows, c.in), 0);
    zoo_rng_fill_uniform(&rng, w->data, (size_t)w->numel, -1, 1);
    zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -1, 1);
    float *seed = malloc((size_t)(c.rows * c.out) * sizeof *seed);
    float *y = malloc((size_t)(c.rows * c.out) * sizeof *y);
    float *dx = malloc((size_t)(c.rows * c.in) * sizeof *dx);
    float *dw = malloc((size_t)(c.out * c.in) * sizeof *dw);
    zoo_rng_fill_uniform(&rng, seed, (size_t)(c.rows * c.out), -1, 1);
    zoo_graph *g = zoo_graph_new(0);
    double *zf = malloc((size_t)reps * sizeof(double) * 4), *zb = zf + reps, *rf = zb + reps,
           *rb = rf + reps;
    for (int r = -2; r < reps; r++) { /* two warm-up rounds */
        /* the peer is OpenBLAS as people use it: its own threads; zoo keeps it at 1 and shares out
         * itself */
        openblas_set_num_threads(zoo_threads_count());
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c.rows, (int)c.out, (int)c.in, 1,
                    x->data, (int)c.in, w->data, (int)c.in, 0, y, (int)c.out);
        double t1 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c.rows, (int)c.in, (int)c.out,
                    1, seed, (int)c.out, w->data, (int)c.in, 0, dx, (int)c.in);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c.out, (int)c.in, (int)c.rows, 1,
                    seed, (int)c.out, x->data, (int)c.in, 0, dw, (int)c.in);
        double t_raw_end = now();
        openblas_set_num_threads(1);
        zoo_graph_reset(g);
        zoo_params_zero_grad(p);
        double t2 = now();
        zoo_tensor *out = zoo_linear(g, x, w, with_bias ? b : NULL, ZOO_W_OUT_IN);
        double t3 = now();
        if (zoo_backward_from(g, out, seed) != ZOO_OK) {
            fprintf(stderr, "bench_core: %s\n", zoo_graph_error(g));
            exit(1);
        }
        double t4 = now();
        if (r >= 0) rf[r] = t1 - t0, rb[r] = t_raw_end - t1, zf[r] = t3 - t2, zb[r] = t4 - t3;
    }
    double fwd_flops = 2.0 * (double)c.rows * (double)c.out * (double)c.in;
    double raw_f = median(rf, reps), raw_b = median(rb, reps), zoo_f = median(zf, reps),
           zoo_b = median(zb, reps);
    const char *name = with_bias ? "linear+bias" : "linear     ";
    printf("%s %5lld x %5lld x %5lld  forward   zoo %6.1f GFLOP/s  sgemm %6.1f GFLOP/s  time ratio "
           "%.3f\n",
           name, (long long)c.rows, (long long)c.out, (long long)c.in, fwd_flops / zoo_f * 1e-9,
           fwd_flops / raw_f * 1e-9, zoo_f / raw_f);
    printf("%s %5lld x %5lld x %5lld  backward  zoo %6.1f GFLOP/s  sgemm %6.1f GFLOP/s  time ratio "
           "%.3f\n",
           name, (long long)c.rows, (long long)c.out, (long long)c.in, 2 * fwd_flops / zoo_b * 1e-9,
           2 * fwd_flops / raw_b * 1e-9, zoo_b / raw_b);
    free(zf);
    free(seed), free(y), free(dx), free(dw);
    zoo_graph_free(g);
    zoo_params_free(p);
}

/* Causal attention over packed QKV, forward then backward, head size 64. */
static void bench_attention(int64_t T, int64_t n_head, int64_t tokens, int reps) {
    int64_t B = tokens / T, C = n_head * 64;
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    zoo_params *p = zoo_params_new();
    zoo_tensor *qkv = zoo_params_add(p, "qkv", 3, ZOO_SHAPE(B, T, 3 * C), 0);
    zoo_rng_fill_uniform(&rng, qkv->data, (size_t)qkv->numel, -1, 1);
    float *seed = malloc((size_t)(B * T * C) * sizeof *seed);
    zoo_rng_fill_uniform(&rng, seed, (size_t)(B * T * C), -1, 1);
    zoo_graph *g = zoo_graph_new(0);
    double *fwd = malloc(2 * (size_t)reps * sizeof(double)), *both = fwd + reps;
    for (int r = -2; r < reps; r++) {
        zoo_graph_reset(g);
        zoo_params_zero_grad(p);
        double t0 = now();
        zoo_tensor *out = zoo_attention(g, qkv, NULL, NULL, (int)n_head, true, NULL);
        double t1 = now();
        if (zoo_backward_from(g, out, seed) != ZOO_OK) {
            fprintf(stderr, "bench_core: %s\n", zoo_graph_error(g));
            exit(1);
        }
        double t2 = now();
        if (r >= 0) fwd[r] = t1 - t0, both[r] = t2 - t0;
    }
    double f = median(fwd, reps), fb = median(both, reps);
    printf("attention T=%4lld B=%3lld heads=%2lld head_size=64 causal  forward %9.0f tokens/s  "
           "forward+backward %9.0f tokens/s\n",
           (long long)T, (long long)B, (long long)n_head, (double)(B * T) / f,
           (double)(B * T) / fb);
    free(fwd);
    free(seed);
    zoo_graph_free(g);
    zoo_params_free(p);
}

/* The LLaMA-style operators against the ones they stand in for, on the same
 * [8,128,768] input, measured alternately: rmsnorm vs layernorm (both with a
 * weight; layernorm with its bias too), rope (12 heads, rotate_half) vs one
 * zoo_mul of two tensors of that shape. Forward, and forward+backward. */
static void bench_llama_ops(int reps) {
    const int64_t B = 8, T = 128, C = 768;
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_params *p = zoo_params_new();
    zoo_tensor *x = zoo_params_add(p, "x", 3, ZOO_SHAPE(B, T, C), 0);
    zoo_tensor *y = zoo_params_add(p, "y", 3, ZOO_SHAPE(B, T, C), 0);
    zoo_tensor *w = zoo_params_add(p, "w", 1, ZOO_SHAPE(C), 0);
    zoo_tensor *b = zoo_params_add(p, "b", 1, ZOO_SHAPE(C), 0);
    zoo_rng_fill_uniform(&rng, x->data, (size_t)x->numel, -1, 1);
    zoo_rng_fill_uniform(&rng, y->data, (size_t)y->numel, -1, 1);
    zoo_rng_fill_uniform(&rng, w->data, (size_t)C, 0.5f, 1.5f);
    float *seed = malloc((size_t)x->numel * sizeof *seed);
    zoo_rng_fill_uniform(&rng, seed, (size_t)x->numel, -1, 1);
    zoo_graph *g = zoo_graph_new(0);
    enum { RMS, LN, ROPE, MUL, N_OPS };
    const char *names[N_OPS] = {"rmsnorm", "layernorm", "rope", "mul"};
    double *fwd = malloc(2 * N_OPS * (size_t)reps * sizeof(double)), *both = fwd + N_OPS * reps;
    for (int r = -2; r < reps; r++)
        for (int op = 0; op < N_OPS; op++) {
            zoo_graph_reset(g);
            zoo_params_zero_grad(p);
            double t0 = now();
            zoo_tensor *out = op == RMS    ? zoo_rmsnorm(g, x, w, 1e-5f)
                              : op == LN   ? zoo_layernorm(g, x, w, b, 1e-5f)
                              : op == ROPE ? zoo_rope(g, x, 12, 0, 10000, false)
                                           : zoo_mul(g, x, y);
            double t1 = now();
            if (zoo_backward_from(g, out, seed) != ZOO_OK) {
                fprintf(stderr, "bench_core: %s\n", zoo_graph_error(g));
                exit(1);
            }
            double t2 = now();
            if (r >= 0) fwd[op * reps + r] = t1 - t0, both[op * reps + r] = t2 - t0;
        }
    double f[N_OPS], fb[N_OPS];
    for (int op = 0; op < N_OPS; op++)
        f[op] = median(fwd + op * reps, reps), fb[op] = median(both + op * reps, reps);
    printf("llama ops on [8,128,768]: forward us, forward+backward us\n");
    for (int op = 0; op < N_OPS; op++)
        printf("  %-9s %8.1f %8.1f\n", names[op], f[op] * 1e6, fb[op] * 1e6);
    printf("  rmsnorm / layernorm: forward %.2f, forward+backward %.2f\n", f[RMS] / f[LN],
           fb[RMS] / fb[LN]);
    printf("  rope / mul:          forward %.2f, forward+backward %.2f\n", f[ROPE] / f[MUL],
           fb[ROPE] / fb[MUL]);
    free(fwd);
    free(seed);
    zoo_graph_free(g);
    zoo_params_free(p);
}

int main(int argc, char **argv) {
    /* OpenBLAS's idle threads yield-spin for a while after each call and would
     * steal the cores from zoo's pool in the next measurement; the machine
     * notes ask benchmarks for passive waiting, which OpenBLAS reads from its
     * environment at load time, hence the restart. */
    if (!getenv("OPENBLAS_THREAD_TIMEOUT")) {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
        execv("/proc/self/exe", argv);
    }
    int threads = 0, reps = 20;
    bool only_llama = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                 strcmp(argv[i + 1], "llama") == 0)
            only_llama = true, i++;
        else {
            fprintf(stderr, "usage: bench_core [--threads N] [--reps N] [--only llama]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    zoo_threads_set(threads);
    printf("zoo %s core benchmark: %d threads, median of %d repetitions\n", zoo_version(),
           zoo_threads_count(), reps);
    if (only_llama) {
        bench_llama_ops(reps);
        return 0;
    }
    const linear_case cases[] = {
        {768, 512, 128}, {256, 3072, 768}, {512, 768, 768}, {1024, 2304, 768}, {256, 50257, 768}};
    printf("linear: rows x out x in, weight [out,in]\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) bench_linear(cases[i], false, reps);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) bench_linear(cases[i], true, reps);
    bench_attention(64, 12, 4096, reps);
    bench_attention(256, 12, 4096, reps);
    bench_llama_ops(reps);
    return 0;
}
