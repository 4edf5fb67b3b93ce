/* GPT benchmark: training step time and forward tokens/s for a config,
 * and the KV cache's cost per token as the position grows.
 *   bench_gpt [--threads N] [--layers L --heads H --embd C --vocab V --block T]
 *             [--batch B --seq T] [--steps N] [--decode] [--forward-only] [--int8]
 * Default: nanoGPT's baby shakespeare-char config (4, 4, 128, vocab 65,
 * batch 12 x 64). --gpt2 selects GPT-2 124M (12, 12, 768, 50257, 1024) at
 * batch 4 x 64. --int8 quantizes the model's linear weights (and its tied
 * head) as zoo quantize does, and implies --forward-only: a quantized model
 * does not train. Times are medians over --steps repetitions after a warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "model.h"
#include "quantize.h"
#include "zoo/zoo.h"

int main(int argc, char **argv) {
    int threads = 0, steps = 10;
    long long L = 4, H = 4, C = 128, V = 65, block = 64, B = 12, T = 64;
    bool decode = false, forward_only = false, int8 = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long *slot = NULL;
        if (strcmp(a, "--gpt2") == 0)
            L = 12, H = 12, C = 768, V = 50257, block = 1024, B = 4, T = 64;
        else if (strcmp(a, "--forward-only") == 0)
            forward_only = true;
        else if (strcmp(a, "--decode") == 0)
            decode = true;
        else if (strcmp(a, "--int8") == 0)
            int8 = forward_only = true;
        else if (i + 1 < argc && strcmp(a, "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(a, "--steps") == 0)
            steps = atoi(argv[++i]);
        else if (strcmp(a, "--layers") == 0)
            slot = &L;
        else if (strcmp(a, "--heads") == 0)
            slot = &H;
        else if (strcmp(a, "--embd") == 0)
            slot = &C;
        else if (strcmp(a, "--vocab") == 0)
            slot = &V;
        else if (strcmp(a, "--block") == 0)
            slot = &block;
        else if (strcmp(a, "--batch") == 0)
            slot = &B;
        else if (strcmp(a, "--seq") == 0)
            slot = &T;
        else {
            fprintf(stderr, "bench_gpt: unknown argument %s\n", a);
            return 2;
        }
        if (slot) {
            if (i + 1 >= argc) return 2;
            *slot = atoll(argv[++i]);
        }
    }
    if (steps < 1) steps = 1;
    zoo_threads_set(threads);
    zoo_registry_sources src = {.registry_files = (const char *const[]){ZOO_BENCH_REGISTRY},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    zoo_loaded *gpt = NULL;
    if (!r || zoo_plugin_load(zoo_registry_find(r, "gpt"), &gpt) != ZOO_OK) {
        fprintf(stderr, "bench_gpt: %s\n", zoo_error_message());
        return 1;
    }
    zoo_hparams *hp = zoo_hparams_new(gpt->plugin->hparams, gpt->plugin->n_hparams);
    zoo_hparams_set_int(hp, "n_layer", L), zoo_hparams_set_int(hp, "n_head", H);
    zoo_hparams_set_int(hp, "n_embd", C), zoo_hparams_set_int(hp, "vocab_size", V);
    zoo_hparams_set_int(hp, "block_size", block);
    zoo_host_model *m = NULL;
    if (zoo_host_model_create(gpt, hp, 1, NULL, &m) != ZOO_OK) {
        fprintf(stderr, "bench_gpt: %s\n", zoo_error_message());
        return 1;
    }
    if (int8 && zoo_model_quantize(m) != ZOO_OK) {
        fprintf(stderr, "bench_gpt: %s\n", zoo_error_message());
        return 1;
    }
    const zoo_plugin_ops *ops = gpt->plugin->ops;
    printf("zoo gpt benchmark: %d threads; %lld layers, %lld heads, width %lld, vocabulary %lld; "
           "%lld parameters%s%s\n",
           zoo_threads_count(), L, H, C, V, (long long)zoo_params_numel(m->params),
           int8 ? "; int8 weights, kernel " : "", int8 ? zoo_q8_kernel_name() : "");

    int32_t *ids = malloc((size_t)(B * T) * sizeof *ids),
            *targets = malloc((size_t)(B * T) * sizeof *targets);
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    for (long long i = 0; i < B * T; i++) ids[i] = (int32_t)zoo_rng_below(&rng, (uint64_t)V);
    for (long long i = 0; i < B * T; i++) targets[i] = i % T == T - 1 ? ZOO_IGNORE : ids[i + 1];
    zoo_batch batch = {.size = sizeof batch, .B = B, .T = T, .ids = ids, .targets = targets};
    zoo_graph *g = zoo_graph_new(0);
    zoo_optim_config adamw = zoo_optim_defaults(ZOO_OPTIM_ADAMW);
    adamw.weight_decay = 0.1f;
    double *train = malloc((size_t)steps * sizeof(double)),
           *fwd = malloc((size_t)steps * sizeof(double));
    for (int s = -1; s < steps; s++) { /* one warm-up */
        double t0 = now();
        if (forward_only) goto forward;
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, true);
        zoo_params_zero_grad(m->params);
        zoo_tensor *loss = NULL;
        if (ops->loss(m->model, g, &batch, &rng, &loss, NULL) != ZOO_OK ||
            zoo_backward(g, loss) != ZOO_OK) {
            fprintf(stderr, "bench_gpt: %s\n", zoo_graph_error(g));
            return 1;
        }
        zoo_clip_grad_norm(m->params, 1.0f);
        zoo_optim_step(m->params, &adamw, 1e-4f, s + 2);
    forward:;
        double t1 = now();
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        zoo_outputs out = {.size = sizeof out};
        ops->forward(m->model, g, &batch, &out);
        double t2 = now();
        if (s >= 0) train[s] = t1 - t0, fwd[s] = t2 - t1;
    }
    double tr = median(train, steps), fw = median(fwd, steps);
    printf("training step  batch %lld x %lld: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * tr,
           (double)(B * T) / tr);
    printf("forward        batch %lld x %lld: %8.1f ms  (%.0f tokens/s)\n", B, T, 1e3 * fw,
           (double)(B * T) / fw);

    if (decode) { /* the cost of one token at position p, with everything before it cached */
        void *cache = NULL;
        if (ops->cache_new(m->model, 1, block, &cache) != ZOO_OK) return 1;
        double at[2] = {0, 0};
        const long long probes[2] = {100, 900 < block ? 900 : block - 10};
        for (long long p = 0; p < probes[1] + 10; p++) {
            zoo_graph_reset(g);
            zoo_tensor *logits = NULL;
            int32_t id = (int32_t)(p % V);
            double t0 = now();
            ops->decode_step(m->model, g, cache, &id, 1, &logits);
            double dt = now() - t0;
            for (int k = 0; k < 2; k++)
                if (p >= probes[k] && p < probes[k] + 10) at[k] += dt / 10;
        }
        ops->cache_free(m->model, cache);
        printf("decode with the cache: token %lld %.2f ms, token %lld %.2f ms (ratio %.2f)\n",
               probes[0], 1e3 * at[0], probes[1], 1e3 * at[1], at[1] / at[0]);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    zoo_plugin_unload(gpt);
    zoo_registry_free(r);
    free(ids), free(targets), free(train), free(fwd);
    return 0;
}
