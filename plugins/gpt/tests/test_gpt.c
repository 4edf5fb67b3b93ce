/* The gpt plugin against an independent PyTorch reference
 * (reference/gpt2_reference.py made fixtures/gpt2-tiny*):
 * logits, hidden states, loss and gradients of HuggingFace-style GPT-2
 * directories in both naming variants; the KV cache (single steps and a
 * many-position prefill) against the full forward; finite differences on a tiny config; export and
 * re-import. GPT-1's post-LN blocks (layer_norm_position "post"): forward against a
 * double-precision reference computed here, gradients by finite differences, the KV cache
 * against the full forward, and the openai-gpt export. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "files.h"
#include "gpt.h"
#include "model.h"

#define FIXTURES ZOO_TEST_DIR "/fixtures"

static zoo_loaded *gpt;

static void load_plugin(void) {
    gpt = load_built_plugin("gpt");
}
static void unload_plugin(void) {
    unload_built_plugin(gpt);
}
static zoo_host_model *import_hf(const char *dir) {
    return import_hf_model(gpt, dir);
}

static int32_t ids[2][12];

static void read_ids(void) {
    FILE *f = fopen(FIXTURES "/gpt2-tiny/ids.txt", "r");
    ck_assert_ptr_nonnull(f);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 12; t++) ck_assert_int_eq(fscanf(f, "%d", &ids[b][t]), 1);
    fclose(f);
}

static void expect_npy(zoo_graph *g, const zoo_tensor *got, const char *path, double atol) {
    zoo_tensor *want = zoo_npy_read(g, path);
    ck_assert_msg(want, "%s", zoo_error_message());
    ck_assert_msg(zoo_tensor_same_shape(got, want), "%s: shape differs", path);
    ck_assert_floats_close(zoo_f32(got), zoo_f32(want), got->numel, atol, 0);
}

START_TEST(test_forward_matches_reference) {
    load_plugin();
    read_ids();
    const char *dirs[] = {FIXTURES "/gpt2-tiny", FIXTURES "/gpt2-tiny-noprefix"};
    for (int d = 0; d < 2; d++) {
        zoo_host_model *m = import_hf(dirs[d]);
        ck_assert_int_eq(
            zoo_params_numel(m->params),
            53 * 16 + 32 * 16 +
                2 * (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 2 * 16);
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 12, .ids = &ids[0][0]};
        zoo_outputs out = {.size = sizeof out};
        ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
        expect_npy(g, out.logits, FIXTURES "/gpt2-tiny/logits.npy", 1e-4);
        expect_npy(g, out.hidden, FIXTURES "/gpt2-tiny/hidden.npy", 1e-4);
        zoo_graph_free(g);
        zoo_host_model_destroy(m);
    }
    unload_plugin();
}
END_TEST

START_TEST(test_loss_and_gradients_match_reference) {
    load_plugin();
    read_ids();
    zoo_host_model *m = import_hf(FIXTURES "/gpt2-tiny");
    int32_t targets[2][12];
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 12; t++) targets[b][t] = t < 11 ? ids[b][t + 1] : ZOO_IGNORE;
    zoo_graph *g = zoo_graph_new(0);
    zoo_batch batch = {
        .size = sizeof batch, .B = 2, .T = 12, .ids = &ids[0][0], .targets = &targets[0][0]};
    zoo_tensor *loss = NULL;
    ck_assert_int_eq(gpt->plugin->ops->loss(m->model, g, &batch, NULL, &loss, NULL), ZOO_OK);
    float want_loss = 5.83640718460083f;
    ck_assert_floats_close(zoo_f32(loss), &want_loss, 1, 1e-5, 0);
    ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
    const char *names[] = {"wte.weight",           "wpe.weight",
                           "h.0.ln_1.weight",      "h.0.attn.c_attn.weight",
                           "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight",
                           "h.1.mlp.c_fc.bias",    "h.1.mlp.c_proj.weight",
                           "ln_f.weight"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, FIXTURES "/gpt2-tiny/grads/%s.npy", names[i]);
        zoo_tensor *want = zoo_npy_read(g, path), *p = zoo_params_get(m->params, names[i]);
        ck_assert_msg(want && p && p->grad, "%s", names[i]);
        /* absolute only: the key part of c_attn.bias has a gradient of exactly 0 up to rounding */
        ck_assert_floats_close(p->grad, zoo_f32(want), p->numel, 1e-4, 0);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* Decoding one token at a time through the cache gives the full forward's logits. */
START_TEST(test_kv_cache_matches_forward) {
    load_plugin();
    read_ids();
    zoo_host_model *m = import_hf(FIXTURES "/gpt2-tiny");
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 12, .ids = &ids[0][0]};
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    void *cache = NULL;
    ck_assert_int_eq(gpt->plugin->ops->cache_new(m->model, 2, 12, &cache), ZOO_OK);
    zoo_graph *step = zoo_graph_new(0);
    zoo_graph_set_recording(step, false);
    for (int t = 0; t < 12; t++) {
        zoo_graph_reset(step);
        int32_t col[2] = {ids[0][t], ids[1][t]};
        zoo_tensor *logits = NULL;
        ck_assert_int_eq(gpt->plugin->ops->decode_step(m->model, step, cache, col, 2, &logits),
                         ZOO_OK);
        for (int b = 0; b < 2; b++)
            ck_assert_floats_close(zoo_f32(logits) + b * 53,
                                   zoo_f32(out.logits) + (b * 12 + t) * 53, 53, 1e-5, 1e-5);
    }
    int32_t one[2] = {0, 0};
    zoo_tensor *logits = NULL;
    ck_assert_int_eq(gpt->plugin->ops->decode_step(m->model, step, cache, one, 2, &logits),
                     ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "gpt: the cache is full (12 positions)");
    gpt->plugin->ops->cache_free(m->model, cache);
    zoo_graph_free(step);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* A prompt prefilled many positions at once, then single steps, then more
 * positions at once: every position's logits are the full forward's. The
 * prefill (gpt_decode with T > 1) is not in the ABI, so this suite links the
 * plugin's sources and calls it on a model the loaded plugin made. */
START_TEST(test_prefill_and_steps_match_forward) {
    load_plugin();
    read_ids();
    zoo_host_model *m = import_hf(FIXTURES "/gpt2-tiny");
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 12, .ids = &ids[0][0]};
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    void *cache = NULL;
    ck_assert_int_eq(gpt->plugin->ops->cache_new(m->model, 2, 12, &cache), ZOO_OK);
    zoo_graph *step = zoo_graph_new(0);
    zoo_graph_set_recording(step, false);
    const int chunks[] = {5, 1, 1, 1, 3, 1};
    int t0 = 0;
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        int n = chunks[ci];
        int32_t part[2 * 5];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < n; t++) part[b * n + t] = ids[b][t0 + t];
        zoo_graph_reset(step);
        zoo_tensor *logits = NULL;
        if (n == 1) {
            ck_assert_int_eq(gpt->plugin->ops->decode_step(m->model, step, cache, part, 2, &logits),
                             ZOO_OK);
        } else {
            ck_assert_int_eq(gpt_decode(m->model, step, cache, part, 2, n, &logits), ZOO_OK);
            ck_assert(logits->ndim == 3 && logits->shape[1] == n && logits->shape[2] == 53);
        }
        for (int b = 0; b < 2; b++)
            ck_assert_floats_close(zoo_f32(logits) + b * n * 53,
                                   zoo_f32(out.logits) + (b * 12 + t0) * 53, n * 53, 1e-5, 1e-5);
        t0 += n;
        ck_assert_int_eq(zoo_kv_cache_len(cache), t0);
    }
    zoo_kv_cache_clear(cache);
    zoo_tensor *logits = NULL;
    zoo_graph_reset(step);
    ck_assert_int_eq(gpt_decode(m->model, step, cache, &ids[0][0], 1, 12, &logits), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "gpt: a step of 1 sequences, the cache holds 2");
    int32_t many[2 * 13] = {0};
    ck_assert_int_eq(gpt_decode(m->model, step, cache, many, 2, 13, &logits), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "gpt: a step of 13 positions, the cache has room for 12 more");
    ck_assert_int_eq(zoo_kv_cache_len(cache), 0);
    gpt->plugin->ops->cache_free(m->model, cache);
    ck_assert_int_eq(gpt->plugin->ops->cache_new(m->model, 1, 33, &cache), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "gpt: 33 positions exceed the context of 32 (block_size)");
    zoo_graph_free(step);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* Greedy generation, once through the cache and once by running the whole
 * growing sequence through forward each time: the same tokens. */
START_TEST(test_greedy_with_and_without_cache) {
    load_plugin();
    zoo_host_model *m = import_hf(FIXTURES "/gpt2-tiny");
    const int n = 20;
    int32_t with[32] = {7, 3, 19}, without[32] = {7, 3, 19};
    void *cache = NULL;
    ck_assert_int_eq(gpt->plugin->ops->cache_new(m->model, 1, 32, &cache), ZOO_OK);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    for (int t = 0; t < n - 1; t++) { /* with the cache: one position a step */
        zoo_graph_reset(g);
        zoo_tensor *logits = NULL;
        ck_assert_int_eq(gpt->plugin->ops->decode_step(m->model, g, cache, &with[t], 1, &logits),
                         ZOO_OK);
        if (t < 2) continue; /* still the prompt */
        int best = 0;
        for (int v = 1; v < 53; v++)
            if (zoo_f32(logits)[v] > zoo_f32(logits)[best]) best = v;
        with[t + 1] = best;
    }
    for (int t = 3; t < n; t++) { /* without: the whole sequence again */
        zoo_graph_reset(g);
        zoo_batch batch = {.size = sizeof batch, .B = 1, .T = t, .ids = without};
        zoo_outputs out = {.size = sizeof out};
        ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
        const float *last = zoo_f32(out.logits) + (t - 1) * 53;
        int best = 0;
        for (int v = 1; v < 53; v++)
            if (last[v] > last[best]) best = v;
        without[t] = best;
    }
    for (int t = 0; t < n; t++) ck_assert_int_eq(with[t], without[t]);
    gpt->plugin->ops->cache_free(m->model, cache);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

typedef struct loss_ctx {
    zoo_host_model *m;
    const zoo_batch *batch;
} loss_ctx;

static zoo_tensor *build_loss(zoo_graph *g, void *arg) {
    loss_ctx *c = arg;
    zoo_tensor *loss = NULL;
    gpt->plugin->ops->loss(c->m->model, g, c->batch, NULL, &loss, NULL);
    return loss;
}

/* A tiny model made by the loaded plugin: n_layer 2, n_head 2, n_embd 8,
 * vocab_size 11, weights of std 0.4 and layer norms away from 1 and 0. */
static zoo_host_model *tiny_model(const char *ln_position, bool bias, int block_size) {
    zoo_hparams *hp = zoo_hparams_new(gpt->plugin->hparams, gpt->plugin->n_hparams);
    char block[16];
    snprintf(block, sizeof block, "%d", block_size);
    const char *sets[][2] = {{"n_layer", "2"},
                             {"n_head", "2"},
                             {"n_embd", "8"},
                             {"block_size", block},
                             {"vocab_size", "11"},
                             {"init_std", "0.4"},
                             {"bias", bias ? "true" : "false"},
                             {"layer_norm_position", ln_position}};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        ck_assert_int_eq(zoo_hparams_set_text(hp, sets[i][0], sets[i][1]), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(gpt, hp, 5, NULL, &m), ZOO_OK);
    zoo_rng rng;
    zoo_rng_seed(&rng, 9);
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *t = zoo_params_at(m->params, i)->value;
        if (t->ndim == 1) zoo_rng_fill_uniform(&rng, t->data, (size_t)t->numel, -0.5f, 1.5f);
    }
    return m;
}

/* The whole model's gradient against finite differences: pre- and post-LN,
 * biases off and on. */
START_TEST(test_gradient_finite_differences) {
    load_plugin();
    const char *positions[] = {"pre", "post"};
    for (int pos = 0; pos < 2; pos++)
        for (int bias = 0; bias < 2; bias++) {
            zoo_host_model *m = tiny_model(positions[pos], bias, 6);
            int32_t x[2][5] = {{1, 4, 9, 0, 10}, {3, 3, 7, 2, 5}},
                    y[2][5] = {{4, 9, 0, 10, 2}, {3, 7, ZOO_IGNORE, 5, 1}};
            zoo_batch batch = {
                .size = sizeof batch, .B = 2, .T = 5, .ids = &x[0][0], .targets = &y[0][0]};
            loss_ctx c = {m, &batch};
            gradcheck_opts o = {.max_checks = 24, .eps = 1e-2, .atol = 2e-3, .rtol = 1e-2};
            gradcheck(m->params, build_loss, &c, &o);
            zoo_host_model_destroy(m);
        }
    unload_plugin();
}
END_TEST

/* --- GPT-1's post-LN blocks against a double-precision reference ---------- */

static const float *P_(zoo_host_model *m, const char *fmt, int layer) {
    char name[64];
    snprintf(name, sizeof name, fmt, layer);
    zoo_tensor *t = zoo_params_get(m->params, name);
    ck_assert_msg(t, "no parameter %s", name);
    return zoo_f32(t);
}

/* x (n) <- layernorm(x) * w + b, biased variance */
static void ref_layernorm(double *x, int n, const float *w, const float *b, double eps) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += x[i] / n;
    for (int i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean) / n;
    for (int i = 0; i < n; i++) x[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i];
}

/* out (n_out) = in (n_in) @ W [n_in,n_out] + b */
static void ref_linear(const double *in, int n_in, const float *W, const float *b, int n_out,
                       double *out) {
    for (int o = 0; o < n_out; o++) {
        double acc = b[o];
        for (int i = 0; i < n_in; i++) acc += in[i] * W[i * n_out + o];
        out[o] = acc;
    }
}

/* GPT-1 as finetune-transformer-lm computes it, for one sequence of T <= 8
 * tokens of the tiny model (C 8, 2 heads, 2 layers, V 11):
 * x = tokens + positions; per block x = ln_1(x + attn(x)); x = ln_2(x + mlp(x));
 * logits = x @ wte^T. */
static void ref_gpt1(zoo_host_model *m, const int32_t *ids, int T, double hidden[][8],
                     double logits[][11]) {
    enum { C = 8, H = 2, D = C / H, V = 11 };
    const float *wte = P_(m, "wte.weight", 0), *wpe = P_(m, "wpe.weight", 0);
    double x[8][C], qkv[8][3 * C], a[8][C], y[8][C], f[8][4 * C];
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) x[t][c] = (double)wte[ids[t] * C + c] + wpe[t * C + c];
    for (int l = 0; l < 2; l++) {
        for (int t = 0; t < T; t++)
            ref_linear(x[t], C, P_(m, "h.%d.attn.c_attn.weight", l),
                       P_(m, "h.%d.attn.c_attn.bias", l), 3 * C, qkv[t]);
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) { /* causal softmax(q k / sqrt(D)) v */
                double s[8], max = -1e300, sum = 0;
                for (int u = 0; u <= t; u++) {
                    s[u] = 0;
                    for (int d = 0; d < D; d++) s[u] += qkv[t][h * D + d] * qkv[u][C + h * D + d];
                    s[u] /= sqrt((double)D);
                    if (s[u] > max) max = s[u];
                }
                for (int u = 0; u <= t; u++) sum += s[u] = exp(s[u] - max);
                for (int d = 0; d < D; d++) {
                    a[t][h * D + d] = 0;
                    for (int u = 0; u <= t; u++)
                        a[t][h * D + d] += s[u] / sum * qkv[u][2 * C + h * D + d];
                }
            }
        for (int t = 0; t < T; t++) {
            ref_linear(a[t], C, P_(m, "h.%d.attn.c_proj.weight", l),
                       P_(m, "h.%d.attn.c_proj.bias", l), C, y[t]);
            for (int c = 0; c < C; c++) x[t][c] += y[t][c];
            ref_layernorm(x[t], C, P_(m, "h.%d.ln_1.weight", l), P_(m, "h.%d.ln_1.bias", l), 1e-5);
            ref_linear(x[t], C, P_(m, "h.%d.mlp.c_fc.weight", l), P_(m, "h.%d.mlp.c_fc.bias", l),
                       4 * C, f[t]);
            for (int i = 0; i < 4 * C; i++) { /* GPT's tanh GELU */
                double v = f[t][i];
                f[t][i] = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
            }
            ref_linear(f[t], 4 * C, P_(m, "h.%d.mlp.c_proj.weight", l),
                       P_(m, "h.%d.mlp.c_proj.bias", l), C, y[t]);
            for (int c = 0; c < C; c++) x[t][c] += y[t][c];
            ref_layernorm(x[t], C, P_(m, "h.%d.ln_2.weight", l), P_(m, "h.%d.ln_2.bias", l), 1e-5);
        }
    }
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < C; c++) hidden[t][c] = x[t][c];
        for (int v = 0; v < V; v++) {
            logits[t][v] = 0;
            for (int c = 0; c < C; c++) logits[t][v] += x[t][c] * wte[v * C + c];
        }
    }
}

START_TEST(test_post_ln_forward_matches_reference) {
    load_plugin();
    zoo_host_model *m = tiny_model("post", true, 6);
    /* GPT-1 has no final layer norm: every parameter but ln_f, GPT-2's names */
    ck_assert_ptr_null(zoo_params_get(m->params, "ln_f.weight"));
    ck_assert_ptr_null(zoo_params_get(m->params, "ln_f.bias"));
    const int64_t C = 8, V = 11;
    ck_assert_int_eq(zoo_params_numel(m->params),
                     V * C + 6 * C +
                         2 * (3 * C * C + 3 * C + C * C + C + 8 * C * C + 5 * C + 4 * C));
    int32_t x[2][5] = {{1, 4, 9, 0, 10}, {3, 3, 7, 2, 5}};
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 5, .ids = &x[0][0]};
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    zoo_tensor *last = NULL;
    ck_assert_int_eq(gpt->plugin->ops->embed(m->model, g, &batch, -1, &last), ZOO_OK);
    for (int b = 0; b < 2; b++) {
        double hidden[8][8], logits[8][11];
        ref_gpt1(m, x[b], 5, hidden, logits);
        for (int t = 0; t < 5; t++) {
            for (int c = 0; c < 8; c++) {
                ck_assert_double_eq_tol(zoo_f32(out.hidden)[(b * 5 + t) * 8 + c], hidden[t][c],
                                        1e-4);
                ck_assert_double_eq_tol(zoo_f32(last)[(b * 5 + t) * 8 + c], hidden[t][c], 1e-4);
            }
            for (int v = 0; v < 11; v++)
                ck_assert_double_eq_tol(zoo_f32(out.logits)[(b * 5 + t) * 11 + v], logits[t][v],
                                        1e-4);
        }
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* The KV cache runs the same post-LN blocks: a prefill of 4 positions, single
 * steps, then 3 at once give the full forward's logits at every position. */
START_TEST(test_post_ln_decode_matches_forward) {
    load_plugin();
    zoo_host_model *m = tiny_model("post", true, 10);
    int32_t x[2][10] = {{1, 4, 9, 0, 10, 2, 2, 8, 5, 6}, {3, 3, 7, 2, 5, 0, 1, 9, 4, 10}};
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 10, .ids = &x[0][0]};
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(gpt->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    void *cache = NULL;
    ck_assert_int_eq(gpt->plugin->ops->cache_new(m->model, 2, 10, &cache), ZOO_OK);
    zoo_graph *step = zoo_graph_new(0);
    zoo_graph_set_recording(step, false);
    const int chunks[] = {4, 1, 1, 1, 3};
    int t0 = 0;
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        int n = chunks[ci];
        int32_t part[2 * 4];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < n; t++) part[b * n + t] = x[b][t0 + t];
        zoo_graph_reset(step);
        zoo_tensor *logits = NULL;
        if (n == 1)
            ck_assert_int_eq(gpt->plugin->ops->decode_step(m->model, step, cache, part, 2, &logits),
                             ZOO_OK);
        else
            ck_assert_int_eq(gpt_decode(m->model, step, cache, part, 2, n, &logits), ZOO_OK);
        for (int b = 0; b < 2; b++)
            ck_assert_floats_close(zoo_f32(logits) + b * n * 11,
                                   zoo_f32(out.logits) + (b * 10 + t0) * 11, n * 11, 1e-5, 1e-5);
        t0 += n;
    }
    gpt->plugin->ops->cache_free(m->model, cache);
    zoo_graph_free(step);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* A post-LN model exports as HuggingFace's openai-gpt (OpenAIGPTLMHeadModel's
 * names: tokens_embed, positions_embed) and imports back as a post-LN model. */
START_TEST(test_post_ln_exports_as_openai_gpt) {
    load_plugin();
    zoo_host_model *m = tiny_model("post", true, 6);
    char dir[] = "/tmp/zoo-gpt1-export.XXXXXX", path[600];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(gpt->plugin->ops->export_checkpoint(m->model, m->params, m->hp, "hf", dir),
                     ZOO_OK);
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *cfg = zoo_read_file(path, NULL);
    ck_assert_ptr_nonnull(cfg);
    ck_assert(strstr(cfg, "\"openai-gpt\"") && strstr(cfg, "\"OpenAIGPTLMHeadModel\""));
    ck_assert(strstr(cfg, "\"afn\"") && !strstr(cfg, "activation_function"));
    free(cfg);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    size_t n = 0;
    char *st = zoo_read_file(path, &n); /* the header is JSON text at the start */
    ck_assert(st && n > 8);
    ck_assert(strstr(st + 8, "transformer.tokens_embed.weight") &&
              strstr(st + 8, "transformer.positions_embed.weight") &&
              strstr(st + 8, "transformer.h.1.ln_2.bias") && !strstr(st + 8, "ln_f"));
    free(st);
    zoo_host_model *back = import_hf(dir);
    ck_assert_str_eq(zoo_hparams_string(back->hp, "layer_norm_position"), "post");
    ck_assert_int_eq(zoo_params_count(back->params), zoo_params_count(m->params));
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *a = zoo_params_at(m->params, i)->value,
                   *b = zoo_params_at(back->params, i)->value;
        ck_assert_int_eq(memcmp(a->data, b->data, (size_t)a->numel * 4), 0);
    }
    ck_assert_int_eq(gpt->plugin->ops->export_checkpoint(m->model, m->params, m->hp, "hf", dir),
                     ZOO_OK);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    zoo_host_model_destroy(back);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

START_TEST(test_export_round_trip_and_errors) {
    load_plugin();
    read_ids();
    zoo_host_model *m = import_hf(FIXTURES "/gpt2-tiny-noprefix");
    char dir[] = "/tmp/zoo-gpt-export.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(gpt->plugin->ops->export_checkpoint(m->model, m->params, m->hp, "hf", dir),
                     ZOO_OK);
    zoo_host_model *back = import_hf(dir);
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *a = zoo_params_at(m->params, i)->value,
                   *b = zoo_params_at(back->params, i)->value;
        ck_assert_int_eq(memcmp(a->data, b->data, (size_t)a->numel * 4), 0);
    }
    ck_assert_int_eq(
        gpt->plugin->ops->export_checkpoint(m->model, m->params, m->hp, "word2vec-bin", dir),
        ZOO_ERR_ARG);

    /* a BERT config is not ours, nor a directory without config.json; only pytorch_model.bin
     * is refused; a missing tensor is named */
    zoo_hparams *hp = zoo_hparams_new(gpt->plugin->hparams, gpt->plugin->n_hparams);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"model_type\": \"bert\", \"hidden_size\": 16}", f);
    fclose(f);
    ck_assert_int_eq(gpt->plugin->ops->import_config(dir, hp), ZOO_ERR_NOTFOUND);
    ck_assert(strstr(zoo_error_message(), "model_type is \"bert\", not \"gpt2\""));
    unlink(path); /* no config.json at all (another format's directory) is not ours either */
    ck_assert_int_eq(gpt->plugin->ops->import_config(dir, hp), ZOO_ERR_NOTFOUND);
    ck_assert(strstr(zoo_error_message(), "config.json: No such file"));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/pytorch_model.bin", dir);
    f = fopen(path, "w");
    fclose(f);
    ck_assert_int_eq(gpt->plugin->ops->import_weights(back->model, back->params, dir),
                     ZOO_ERR_FORMAT);
    ck_assert(strstr(zoo_error_message(), "only pytorch_model.bin, which zoo does not read"));
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    zoo_hparams_free(hp);
    zoo_host_model_destroy(back);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("gpt");
    TCase *tc = tcase_create("plugin");
    tcase_add_test(tc, test_forward_matches_reference);
    tcase_add_test(tc, test_loss_and_gradients_match_reference);
    tcase_add_test(tc, test_kv_cache_matches_forward);
    tcase_add_test(tc, test_prefill_and_steps_match_forward);
    tcase_add_test(tc, test_greedy_with_and_without_cache);
    tcase_add_test(tc, test_gradient_finite_differences);
    tcase_add_test(tc, test_export_round_trip_and_errors);
    tcase_add_test(tc, test_post_ln_forward_matches_reference);
    tcase_add_test(tc, test_post_ln_decode_matches_forward);
    tcase_add_test(tc, test_post_ln_exports_as_openai_gpt);
    suite_add_tcase(s, tc);
    return s;
}
