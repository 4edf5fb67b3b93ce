/* BERT benchmark: the bert plugin's inference forward of BERT-base and a
 * masked-LM training step of a small BERT, on random weights and data, and
 * the machine's raw sgemm throughput for comparison.
 *   bench_bert [--threads N] [--steps N] [--part forward|train|all] [--int8]
 * forward: BERT-base (12 layers, width 768, 12 heads, intermediate 3072,
 *   vocabulary 30522, 512 positions) at batch 8 x 128, no recording, no
 *   dropout; the plugin's forward computes the hidden states, the pooler and
 *   the MLM head's logits at every position. GFLOP/s counts the matmul flops:
 *   per layer 8 N C^2 (query, key, value, output) + 4 N C I (feed-forward) +
 *   4 B T^2 C (scores and context), then the pooler 2 B C^2 and the MLM head
 *   2 N C^2 + 2 N C V (N = B T tokens).
 * train: 4 layers, width 256, 4 heads, intermediate 1024, vocabulary 30522
 *   at batch 8 x 128 with 15% of the positions masked (the MLM head runs on
 *   those only), dropout 0.1, forward + backward + clipping (1.0) + AdamW
 *   (weight decay 0.01, none on biases and layer norms).
 * sgemm: cblas_sgemm of a 1024 x 768 x 768 and a 1024 x 3072 x 768 product
 *   (the encoder's shapes at 1024 tokens) with OpenBLAS's own threads.
 * --int8: the forward's model with int8 linear weights (and MLM head), as
 *   zoo quantize makes it; the training part is left out.
 * Times are medians over --steps repetitions after one warm-up. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_timing.h"
#include "model.h"
#include "quantize.h"
#include "zoo/zoo.h"

/* Raw sgemm GFLOP/s of y = x W^T, x (rows,in), W (out,in): median of reps. */
static double sgemm_gflops(int rows, int out, int in, int reps) {
    float *x = malloc((size_t)rows * (size_t)in * sizeof *x),
          *w = malloc((size_t)out * (size_t)in * sizeof *w),
          *y = malloc((size_t)rows * (size_t)out * sizeof *y);
    double *t = malloc((size_t)reps * sizeof *t);
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_rng_fill_uniform(&rng, x, (size_t)rows * (size_t)in, -1, 1);
    zoo_rng_fill_uniform(&rng, w, (size_t)out * (size_t)in, -1, 1);
    openblas_set_num_threads(zoo_threads_count());
    for (int r = -5; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1, x, in, w, in, 0, y,
                    out);
        if (r >= 0) t[r] = now() - t0;
    }
    openblas_set_num_threads(1); /* zoo runs OpenBLAS on one thread and shares out itself */
    double g = 2.0 * rows * out * in / median(t, reps) * 1e-9;
    free(x), free(w), free(y), free(t);
    return g;
}

typedef struct shape {
    long long layers, heads, width, inter, vocab, positions;
} shape;

static zoo_host_model *build(zoo_loaded *bert, shape s) {
    zoo_hparams *hp = zoo_hparams_new(bert->plugin->hparams, bert->plugin->n_hparams);
    zoo_hparams_set_int(hp, "num_hidden_layers", s.layers);
    zoo_hparams_set_int(hp, "num_attention_heads", s.heads);
    zoo_hparams_set_int(hp, "hidden_size", s.width);
    zoo_hparams_set_int(hp, "intermediate_size", s.inter);
    zoo_hparams_set_int(hp, "vocab_size", s.vocab);
    zoo_hparams_set_int(hp, "max_position_embeddings", s.positions);
    zoo_hparams_set_bool(hp, "nsp", false);
    zoo_host_model *m = NULL;
    if (zoo_host_model_create(bert, hp, 1, NULL, &m) != ZOO_OK) {
        fprintf(stderr, "bench_bert: %s\n", zoo_error_message());
        exit(1);
    }
    printf("  %lld layers, %lld heads, width %lld, intermediate %lld, vocabulary %lld; %lld "
           "parameters\n",
           s.layers, s.heads, s.width, s.inter, s.vocab, (long long)zoo_params_numel(m->params));
    return m;
}

static void bench_forward(zoo_loaded *bert, int steps, double sgemm, bool int8) {
    const shape s = {12, 12, 768, 3072, 30522, 512};
    const long long B = 8, T = 128, N = B * T;
    zoo_host_model *m = build(bert, s);
    if (int8 && zoo_model_quantize(m) != ZOO_OK) {
        fprintf(stderr, "bench_bert: %s\n", zoo_error_message());
        exit(1);
    }
    printf("forward: BERT-base%s%s\n", int8 ? ", int8 weights, kernel " : "",
           int8 ? zoo_q8_kernel_name() : "");
    int32_t *ids = malloc((size_t)N * sizeof *ids);
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    for (long long i = 0; i < N; i++) ids[i] = (int32_t)zoo_rng_below(&rng, (uint64_t)s.vocab);
    zoo_batch batch = {.size = sizeof batch, .B = B, .T = T, .ids = ids};
    zoo_graph *g = zoo_graph_new(0);
    double *fwd = malloc((size_t)steps * sizeof *fwd);
    for (int k = -1; k < steps; k++) {
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        zoo_graph_set_training(g, false);
        zoo_outputs out = {.size = sizeof out};
        double t0 = now();
        if (m->plugin->plugin->ops->forward(m->model, g, &batch, &out) != ZOO_OK) {
            fprintf(stderr, "bench_bert: %s\n", zoo_graph_error(g));
            exit(1);
        }
        if (k >= 0) fwd[k] = now() - t0;
    }
    double fw = median(fwd, steps);
    double C = (double)s.width,
           encoder = (double)s.layers *
                     (8.0 * N * C * C + 4.0 * N * C * (double)s.inter + 4.0 * B * T * T * C),
           heads = 2.0 * B * C * C + 2.0 * N * C * C + 2.0 * N * C * (double)s.vocab;
    printf("forward        batch %lld x %lld: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * fw,
           (double)N / fw);
    printf("forward flops  %.1f GFLOP a batch (encoder %.1f, pooler + MLM head %.1f): %.1f "
           "GFLOP/s, %.0f%% of sgemm\n",
           (encoder + heads) * 1e-9, encoder * 1e-9, heads * 1e-9, (encoder + heads) / fw * 1e-9,
           100.0 * (encoder + heads) / fw * 1e-9 / sgemm);
    free(fwd), free(ids);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
}

static void bench_train(zoo_loaded *bert, int steps) {
    const shape s = {4, 4, 256, 1024, 30522, 512};
    const long long B = 8, T = 128, N = B * T, masked = (N * 15 + 50) / 100;
    printf("training: small BERT, masked LM, %lld of %lld positions masked\n", masked, N);
    zoo_host_model *m = build(bert, s);
    int32_t *ids = malloc((size_t)N * sizeof *ids), *targets = malloc((size_t)N * sizeof *targets),
            *order = malloc((size_t)N * sizeof *order);
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    for (long long i = 0; i < N; i++) {
        ids[i] = (int32_t)zoo_rng_below(&rng, (uint64_t)s.vocab);
        targets[i] = ZOO_IGNORE, order[i] = (int32_t)i;
    }
    for (long long i = 0; i < masked; i++) { /* the first `masked` of a random permutation */
        long long j = i + (long long)zoo_rng_below(&rng, (uint64_t)(N - i));
        int32_t t = order[i];
        order[i] = order[j], order[j] = t;
        targets[order[i]] = (int32_t)zoo_rng_below(&rng, (uint64_t)s.vocab);
    }
    zoo_batch batch = {.size = sizeof batch, .B = B, .T = T, .ids = ids, .targets = targets};
    zoo_graph *g = zoo_graph_new(0);
    zoo_optim_config adamw = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    adamw.weight_decay = 0.01f;
    /* the step and its phases: zero, forward + loss, backward, clipping, optimizer */
    enum { PHASES = 5 };
    static const char *phase_name[PHASES] = {"zero", "forward", "backward", "norm", "optimizer"};
    double *train = malloc((size_t)steps * (PHASES + 1) * sizeof *train), *phase = train + steps;
    for (int k = -1; k < steps; k++) {
        double t[PHASES + 1];
        t[0] = now();
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, true);
        zoo_graph_set_training(g, true);
        zoo_params_zero_grad(m->params);
        t[1] = now();
        zoo_tensor *loss = NULL;
        int rc = m->plugin->plugin->ops->loss(m->model, g, &batch, &rng, &loss, NULL);
        t[2] = now();
        if (rc != ZOO_OK || zoo_backward(g, loss) != ZOO_OK) {
            fprintf(stderr, "bench_bert: %s\n", zoo_graph_error(g));
            exit(1);
        }
        t[3] = now();
        float clip = zoo_clip_factor(zoo_grad_norm(m->params), 1.0f); /* as zoo train does */
        t[4] = now();
        zoo_optim_step_scaled(m->params, &adamw, 1e-4f, k + 2, clip);
        t[5] = now();
        if (k < 0) continue;
        train[k] = t[PHASES] - t[0];
        for (int p = 0; p < PHASES; p++) phase[p * steps + k] = t[p + 1] - t[p];
    }
    double tr = median(train, steps);
    printf("training step  batch %lld x %lld: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * tr,
           (double)N / tr);
    printf("  phases (medians):");
    for (int p = 0; p < PHASES; p++)
        printf(" %s %.1f ms%s", phase_name[p], 1e3 * median(phase + p * steps, steps),
               p + 1 < PHASES ? "," : "\n");
    free(train), free(ids), free(targets), free(order);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
}

int main(int argc, char **argv) {
    /* As bench_core: OpenBLAS's idle threads (used by the raw sgemm) must wait
     * passively, which it reads from its environment at load time. */
    if (!getenv("OPENBLAS_THREAD_TIMEOUT")) {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
        execv("/proc/self/exe", argv);
    }
    int threads = 0, steps = 5;
    bool forward = true, train = true, int8 = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && strcmp(a, "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--steps") == 0)
            steps = atoi(argv[++i]);
        else if (strcmp(a, "--int8") == 0)
            int8 = true;
        else if (i + 1 < argc && strcmp(a, "--part") == 0) {
            const char *p = argv[++i];
            forward = strcmp(p, "forward") == 0 || strcmp(p, "all") == 0;
            train = strcmp(p, "train") == 0 || strcmp(p, "all") == 0;
            if (!forward && !train) {
                fprintf(stderr, "bench_bert: --part is forward, train or all\n");
                return 2;
            }
        } else {
            fprintf(stderr,
                    "usage: bench_bert [--threads N] [--steps N] [--part forward|train|all] "
                    "[--int8]\n");
            return 2;
        }
    }
    if (steps < 1) steps = 1;
    zoo_threads_set(threads);
    zoo_registry_sources src = {.registry_files = (const char *const[]){ZOO_BENCH_REGISTRY},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    zoo_loaded *bert = NULL;
    if (!r || zoo_plugin_load(zoo_registry_find(r, "bert"), &bert) != ZOO_OK) {
        fprintf(stderr, "bench_bert: %s\n", zoo_error_message());
        return 1;
    }
    printf("zoo bert benchmark: %d threads, median of %d steps\n", zoo_threads_count(), steps);
    double sgemm = sgemm_gflops(1024, 768, 768, 50);
    printf("sgemm 1024 x 768 x 768: %.1f GFLOP/s\n", sgemm);
    printf("sgemm 1024 x 3072 x 768: %.1f GFLOP/s\n", sgemm_gflops(1024, 3072, 768, 10));
    if (forward) bench_forward(bert, steps, sgemm, int8);
    if (train && !int8) bench_train(bert, steps);
    zoo_plugin_unload(bert);
    zoo_registry_free(r);
    return 0;
}
