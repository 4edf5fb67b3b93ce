/* The elmo plugin's benchmark, the zoo side of compare.sh: the
 * configuration of elmo_torch.py (its docstring and README.md list it),
 * through the host library as zoo train and zoo embed drive the plugin.
 *   bench_elmo [--threads N] [--steps N] [--warmup N] [--part train|embed|all]
 * Data: synthetic and seeded as the peer's: 10,000 words with random
 * spellings of 1-12 bytes, one batch of 16 x 32 random words (the next
 * word the forward target), handed to the plugin as token bytes.
 * train: forward, both directions' full-softmax losses, backward, Adam
 *   (lr 1e-3, no clipping); embed: every layer [3,16,32,256], no recording
 *   (the plugin adds the sentence marks: 34 positions a row).
 * Times are medians over --steps runs after --warmup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tests/bench/bench_timing.h"
#include "model.h"
#include "zoo/zoo.h"

enum { B = 16, T = 32, VOCAB = 10000, MAX_BYTES = 12 };

typedef struct data {
    int32_t ids[B * T], targets[B * T], bytes[B * T * MAX_BYTES];
    zoo_batch batch;
} data;

static void synthetic(data *d) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 13);
    static uint8_t spell[VOCAB][MAX_BYTES];
    static int len[VOCAB];
    for (int w = 0; w < VOCAB; w++) {
        len[w] = 1 + (int)zoo_rng_below(&rng, MAX_BYTES);
        for (int i = 0; i < len[w]; i++) spell[w][i] = (uint8_t)zoo_rng_below(&rng, 256);
    }
    int32_t row[T + 1];
    for (int b = 0; b < B; b++) {
        for (int t = 0; t <= T; t++) row[t] = (int32_t)zoo_rng_below(&rng, VOCAB);
        for (int t = 0; t < T; t++) {
            int p = b * T + t;
            d->ids[p] = row[t], d->targets[p] = row[t + 1];
            for (int i = 0; i < MAX_BYTES; i++)
                d->bytes[p * MAX_BYTES + i] = i < len[row[t]] ? spell[row[t]][i] : -1;
        }
    }
    d->batch = (zoo_batch){.size = sizeof(zoo_batch),
                           .B = B,
                           .T = T,
                           .ids = d->ids,
                           .targets = d->targets,
                           .token_bytes = d->bytes,
                           .W = MAX_BYTES};
}

static void fail(const char *what, zoo_graph *g) {
    fprintf(stderr, "bench_elmo: %s: %s\n", what,
            g && zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    exit(1);
}

static double bench_train(zoo_host_model *m, const data *d, int warmup, int steps) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_optim_config adam = zoo_optim_defaults(ZOO_OPTIM_ADAM);
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    double *t = malloc((size_t)steps * sizeof *t), first = 0, last = 0;
    for (int k = -warmup; k < steps; k++) {
        double t0 = now();
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, true);
        zoo_graph_set_training(g, true);
        zoo_params_zero_grad(m->params);
        zoo_tensor *loss = NULL;
        if (m->plugin->plugin->ops->loss(m->model, g, &d->batch, &rng, &loss, NULL) ||
            zoo_backward(g, loss))
            fail("training step", g);
        zoo_optim_step_scaled(m->params, &adam, 1e-3f, k + warmup + 1, 1.0f);
        if (k == -warmup) first = zoo_f32(loss)[0];
        last = zoo_f32(loss)[0];
        if (k >= 0) t[k] = now() - t0;
    }
    double tr = median(t, steps);
    printf("training step  batch %d x %d: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * tr, B * T / tr);
    printf("training loss  first %.4f, last %.4f\n", first, last);
    free(t);
    zoo_graph_free(g);
    return tr;
}

static double bench_embed(zoo_host_model *m, const data *d, int warmup, int steps) {
    zoo_graph *g = zoo_graph_new(0);
    double *t = malloc((size_t)steps * sizeof *t);
    for (int k = -warmup; k < steps; k++) {
        double t0 = now();
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        zoo_graph_set_training(g, false);
        zoo_tensor *out = NULL;
        if (m->plugin->plugin->ops->embed(m->model, g, &d->batch, ZOO_EMBED_ALL_LAYERS, &out))
            fail("embed", g);
        if (k >= 0) t[k] = now() - t0;
    }
    double e = median(t, steps);
    printf("embed (forward, no grad)  batch %d x %d: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * e,
           B * T / e);
    free(t);
    zoo_graph_free(g);
    return e;
}

int main(int argc, char **argv) {
    int threads = 2, steps = 5, warmup = 1;
    const char *part = "all";
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--part") == 0)
            part = argv[++i];
        else {
            fprintf(stderr, "usage: bench_elmo [--threads N] [--steps N] [--warmup N] "
                            "[--part train|embed|all]\n");
            return 2;
        }
    }
    steps = steps < 1 ? 1 : steps, warmup = warmup < 0 ? 0 : warmup;
    zoo_threads_set(threads);
    zoo_registry_sources src = {.registry_files = (const char *const[]){ZOO_BENCH_REGISTRY},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    zoo_loaded *elmo = NULL;
    if (!r || zoo_plugin_load(zoo_registry_find(r, "elmo"), &elmo) != ZOO_OK) fail("loading", NULL);
    zoo_hparams *hp = zoo_hparams_new(elmo->plugin->hparams, elmo->plugin->n_hparams);
    zoo_hparams_set_int(hp, "vocab_size", VOCAB);
    zoo_hparams_set_int(hp, "sampled_softmax", 0); /* the full softmax, as the peer */
    zoo_hparams_set_float(hp, "dropout", 0);       /* the peer has none */
    zoo_host_model *m = NULL;
    if (zoo_host_model_create(elmo, hp, 1, NULL, &m) != ZOO_OK) fail("creating the model", NULL);
    printf("zoo elmo biLM benchmark: %d threads, median of %d steps after %d warm-up\n",
           zoo_threads_count(), steps, warmup);
    printf("config  the plugin's defaults (char-CNN 2048 filters, widths 1-7, char dim 16, 1 "
           "highway, LSTMP 512/128 x 2 layers x 2 directions, clip 3/3, skip), vocabulary %d "
           "full softmax; %lld parameters\n",
           VOCAB, (long long)zoo_params_numel(m->params));
    static data d;
    synthetic(&d);
    if (strcmp(part, "embed") != 0) bench_train(m, &d, warmup, steps);
    if (strcmp(part, "train") != 0) bench_embed(m, &d, warmup, steps);
    zoo_host_model_destroy(m);
    zoo_plugin_unload(elmo);
    zoo_registry_free(r);
    return 0;
}
