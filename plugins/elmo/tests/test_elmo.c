/* The elmo plugin's model: its char-CNN operator against core's operators
 * and finite differences, the biLSTM against core's LSTM stepped one
 * position at a time, the whole model's gradient, which way each direction
 * looks, the contextual property, padded batches, and the losses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "elmo.h"
#include "elmo_charcnn.h"
#include "elmo_chars.h"
#include "files.h"
#include "zoo/plugin.h"

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void);

#define P_DIM 4 /* projection_dim of the tiny models */

typedef struct tiny {
    zoo_params *params;
    zoo_model *model;
    const zoo_plugin *plugin;
} tiny;

/* A small random model; every weight of order 0.1-1 so that gradients are not tiny. */
static tiny tiny_model(const char *filters, int64_t samples, int64_t V) {
    tiny t = {.params = zoo_params_new(), .plugin = zoo_plugin_entry()};
    zoo_hparams *hp = zoo_hparams_new(t.plugin->hparams, t.plugin->n_hparams);
    ck_assert_ptr_nonnull(hp);
    ck_assert_int_eq(zoo_hparams_set_string(hp, "filters", filters), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "char_dim", 3), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "max_characters_per_token", 12), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "projection_dim", P_DIM), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "dim", 5), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "vocab_size", V), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "sampled_softmax", samples), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_float(hp, "dropout", 0), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_float(hp, "cell_clip", 0.9), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_float(hp, "proj_clip", 0.8), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_float(hp, "init_std", 0.4), ZOO_OK);
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    ck_assert_int_eq(t.plugin->ops->create(hp, t.params, &rng, &t.model), ZOO_OK);
    zoo_hparams_free(hp);
    for (int i = 0; i < zoo_params_count(t.params); i++) { /* biases too */
        zoo_tensor *x = zoo_params_at(t.params, i)->value;
        for (int64_t j = 0; j < x->numel; j++)
            zoo_f32(x)[j] += 0.3f * (zoo_rng_uniform(&rng) - 0.5f);
    }
    return t;
}

static void tiny_free(tiny *t) {
    t->plugin->ops->destroy(t->model);
    zoo_params_free(t->params);
}

/* Whitespace-separated words as a batch row: ids (word index mod V) and their bytes. */
#define MAX_T 16
#define W_BYTES 16
typedef struct text_batch {
    int32_t ids[4][MAX_T], bytes[4][MAX_T][W_BYTES], mask[4][MAX_T], targets[4][MAX_T];
    zoo_batch batch;
} text_batch;

static void set_rows(text_batch *tb, const char *const *rows, int B, int64_t T, int32_t V) {
    memset(tb, 0, sizeof *tb);
    memset(tb->bytes, 0xff, sizeof tb->bytes);
    for (int b = 0; b < B; b++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", rows[b]);
        int t = 0;
        for (char *w = strtok(buf, " "); w; w = strtok(NULL, " "), t++) {
            uint32_t h = 5381;
            for (int i = 0; w[i] && i < W_BYTES; i++) {
                tb->bytes[b][t][i] = (unsigned char)w[i];
                h = h * 33 + (unsigned char)w[i];
            }
            tb->ids[b][t] = (int32_t)(h % (uint32_t)V);
            tb->mask[b][t] = 1;
        }
        for (int i = 0; i < T; i++) tb->targets[b][i] = i + 1 < t ? tb->ids[b][i + 1] : ZOO_IGNORE;
    }
    /* rows are stored with stride MAX_T: T must be MAX_T for B > 1 */
    ck_assert(B == 1 || T == MAX_T);
    tb->batch = (zoo_batch){.size = sizeof(zoo_batch),
                            .B = B,
                            .T = T,
                            .ids = &tb->ids[0][0],
                            .mask = &tb->mask[0][0],
                            .targets = &tb->targets[0][0],
                            .token_bytes = &tb->bytes[0][0][0],
                            .W = W_BYTES};
}

static int64_t words_in(const char *s) {
    int64_t n = 0;
    for (const char *p = s; *p; p++) n += (*p != ' ' && (p == s || p[-1] == ' '));
    return n;
}

/* embed(layer) of one sentence as a fresh [L or 1, T, 2P] float array. */
static float *embed_sentence(tiny *t, const char *s, int layer, int64_t *numel) {
    text_batch tb;
    int64_t T = words_in(s);
    set_rows(&tb, &s, 1, T, 97);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *out = NULL;
    ck_assert_int_eq(t->plugin->ops->embed(t->model, g, &tb.batch, layer, &out), ZOO_OK);
    *numel = out->numel;
    float *copy = malloc((size_t)out->numel * sizeof *copy);
    memcpy(copy, zoo_f32(out), (size_t)out->numel * sizeof *copy);
    zoo_graph_free(g);
    return copy;
}

/* --- the char-CNN operator ------------------------------------------------ */

typedef struct cnn_case {
    tiny t;
    int32_t ids[5 * 12];
    bool composed;
} cnn_case;

/* core's composition: what elmo_char_cnn must equal */
static zoo_tensor *char_cnn_composed(zoo_graph *g, zoo_model *m, zoo_tensor *ids) {
    zoo_tensor *x = zoo_embedding(g, m->char_embed, ids);
    zoo_tensor *banks[ELMO_MAX_FILTERS];
    for (int i = 0; i < m->n_filters; i++)
        banks[i] = zoo_conv1d_maxpool(g, x, m->cnn_w[i], m->cnn_b[i]);
    return zoo_concat(g, banks, (int)m->n_filters, 1);
}

static zoo_tensor *build_cnn(zoo_graph *g, void *ctx) {
    cnn_case *c = ctx;
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(5, 12), c->ids);
    return c->composed ? char_cnn_composed(g, c->t.model, ids) : elmo_char_cnn(g, c->t.model, ids);
}

/* words of 0 (a padding row), 1, 4 and 10 real slots (no padding window for
 * the widest bank), and one full word */
static void cnn_ids(int32_t *ids) {
    const int lens[5] = {0, 3, 6, 10, 12};
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    for (int u = 0; u < 5; u++)
        for (int k = 0; k < 12; k++)
            ids[u * 12 + k] =
                k < lens[u] ? (int32_t)zoo_rng_below(&rng, ELMO_N_CHARS - 1) : ELMO_CHAR_PAD;
}

START_TEST(test_char_cnn_equals_core_composition) {
    cnn_case c = {.t = tiny_model("1:3,2:4,3:2,5:3", 0, 11)};
    cnn_ids(c.ids);
    float *grads[2][32];
    float *outs[2];
    int n = zoo_params_count(c.t.params);
    for (int pass = 0; pass < 2; pass++) {
        c.composed = pass == 1;
        zoo_params_zero_grad(c.t.params);
        zoo_graph *g = zoo_graph_new(0);
        zoo_tensor *y = build_cnn(g, &c);
        ck_assert_msg(y, "%s", zoo_graph_error(g));
        ck_assert_int_eq((int)y->shape[1], 12);
        float seed[5 * 12];
        for (int i = 0; i < 60; i++) seed[i] = (float)((i * 7) % 11) - 5.0f;
        ck_assert_int_eq(zoo_backward_from(g, y, seed), ZOO_OK);
        outs[pass] = malloc(60 * sizeof(float));
        memcpy(outs[pass], zoo_f32(y), 60 * sizeof(float));
        for (int i = 0; i < n; i++) {
            zoo_param *p = zoo_params_at(c.t.params, i);
            int64_t k = p->value->numel;
            grads[pass][i] = calloc((size_t)k, sizeof(float));
            if (p->value->grad) memcpy(grads[pass][i], p->value->grad, (size_t)k * sizeof(float));
        }
        zoo_graph_free(g);
    }
    ck_assert_floats_close(outs[0], outs[1], 60, 1e-5, 1e-5);
    for (int i = 0; i < n; i++) {
        zoo_param *p = zoo_params_at(c.t.params, i);
        ck_assert_floats_close(grads[0][i], grads[1][i], p->value->numel, 1e-4, 1e-5);
        free(grads[0][i]), free(grads[1][i]);
    }
    free(outs[0]), free(outs[1]);
    tiny_free(&c.t);
}
END_TEST

START_TEST(test_char_cnn_gradcheck) {
    cnn_case c = {.t = tiny_model("1:3,2:4,3:2,5:3", 0, 11)};
    cnn_ids(c.ids);
    /* only the encoder's parameters take part; the others keep a zero gradient */
    gradcheck(c.t.params, build_cnn, &c, &(gradcheck_opts){.eps = 1e-3, .max_checks = 64});
    tiny_free(&c.t);
}
END_TEST

/* --- the whole model ----------------------------------------------------- */

typedef struct loss_case {
    tiny t;
    text_batch tb;
    bool training;
} loss_case;

static zoo_tensor *build_loss(zoo_graph *g, void *ctx) {
    loss_case *c = ctx;
    zoo_rng rng;
    zoo_rng_seed(&rng, 11); /* the same negatives on every pass */
    zoo_graph_set_training(g, c->training);
    zoo_tensor *loss = NULL;
    if (c->t.plugin->ops->loss(c->t.model, g, &c->tb.batch, &rng, &loss, NULL)) return NULL;
    return loss;
}

static const char *const ROWS[2] = {"the cat sat on the mat today", "a dog ran"};

START_TEST(test_model_gradcheck_full_softmax) {
    loss_case c = {.t = tiny_model("1:2,2:3,3:2", 0, 13)};
    set_rows(&c.tb, ROWS, 2, MAX_T, 13);
    gradcheck(c.t.params, build_loss, &c,
              &(gradcheck_opts){.eps = 2e-3, .atol = 2e-3, .rtol = 2e-2, .max_checks = 24});
    tiny_free(&c.t);
}
END_TEST

START_TEST(test_model_gradcheck_sampled_softmax) {
    loss_case c = {.t = tiny_model("1:2,2:3,3:2", 6, 40), .training = true};
    set_rows(&c.tb, ROWS, 2, MAX_T, 40);
    gradcheck(c.t.params, build_loss, &c,
              &(gradcheck_opts){.eps = 2e-3, .atol = 2e-3, .rtol = 2e-2, .max_checks = 24});
    tiny_free(&c.t);
}
END_TEST

/* Evaluation scores the full softmax whatever sampled_softmax says, and
 * reports each direction's loss: their mean is the loss. */
START_TEST(test_eval_loss_is_full_softmax) {
    loss_case c = {.t = tiny_model("1:2,2:3,3:2", 6, 40)};
    set_rows(&c.tb, ROWS, 2, MAX_T, 40);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(c.t.plugin->ops->forward(c.t.model, g, &c.tb.batch, &out), ZOO_OK);
    /* the forward LM's cross-entropy, by hand from forward's logits */
    double fw = 0;
    int n = 0;
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < MAX_T; t++) {
            int32_t y = c.tb.targets[b][t];
            if (y == ZOO_IGNORE) continue;
            const float *row = zoo_f32(out.logits) + (b * MAX_T + t) * 40;
            double mx = -INFINITY, s = 0;
            for (int v = 0; v < 40; v++) mx = fmax(mx, row[v]);
            for (int v = 0; v < 40; v++) s += exp(row[v] - mx);
            fw += mx + log(s) - row[y], n++;
        }
    fw /= n;
    zoo_metrics metrics = {.size = sizeof metrics};
    zoo_tensor *loss = NULL;
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    ck_assert_int_eq(c.t.plugin->ops->loss(c.t.model, g, &c.tb.batch, &rng, &loss, &metrics),
                     ZOO_OK);
    ck_assert_int_eq(metrics.count, 3);
    ck_assert_str_eq(metrics.items[2].name, "mean_loss");
    ck_assert_double_eq_tol(metrics.items[2].value, zoo_f32(loss)[0], 1e-7);
    ck_assert_str_eq(metrics.items[0].name, "forward_loss");
    ck_assert_str_eq(metrics.items[1].name, "backward_loss");
    ck_assert_double_eq_tol(metrics.items[0].value, fw, 1e-5);
    ck_assert_double_eq_tol(zoo_f32(loss)[0], (metrics.items[0].value + metrics.items[1].value) / 2,
                            1e-6);
    zoo_graph_free(g);
    tiny_free(&c.t);
}
END_TEST

/* The forward LM never sees the next word and the backward LM never the
 * previous one: changing word k leaves the forward halves before k and the
 * backward halves after k exactly as they were, and moves the others. */
START_TEST(test_directions_do_not_look_ahead) {
    tiny t = tiny_model("1:2,2:3,3:2", 0, 13);
    int64_t n;
    float *a = embed_sentence(&t, "one two three four five", ZOO_EMBED_ALL_LAYERS, &n);
    float *b = embed_sentence(&t, "one two zebra four five", ZOO_EMBED_ALL_LAYERS, &n);
    ck_assert_int_eq(n, 3 * 5 * 2 * P_DIM);
    for (int l = 1; l < 3; l++)
        for (int pos = 0; pos < 5; pos++)
            for (int half = 0; half < 2; half++) {
                const float *x = a + ((l * 5 + pos) * 2 + half) * P_DIM;
                const float *y = b + ((l * 5 + pos) * 2 + half) * P_DIM;
                bool unseen = half == 0 ? pos < 2 : pos > 2;
                bool same = memcmp(x, y, P_DIM * sizeof(float)) == 0;
                ck_assert_msg(same == unseen, "layer %d position %d %s half %s", l, pos,
                              half ? "backward" : "forward", same ? "did not move" : "moved");
            }
    free(a), free(b);
    tiny_free(&t);
}
END_TEST

/* The same word in two sentences: one vector at layer 0, two at layers 1 and 2;
 * and the same sentence twice gives the same vectors (zero state every time). */
START_TEST(test_embed_is_contextual) {
    tiny t = tiny_model("1:2,2:3,3:2", 0, 13);
    int64_t n;
    float *a = embed_sentence(&t, "the bank raised rates", ZOO_EMBED_ALL_LAYERS, &n);
    float *b = embed_sentence(&t, "river bank", ZOO_EMBED_ALL_LAYERS, &n);
    float *a2 = embed_sentence(&t, "the bank raised rates", ZOO_EMBED_ALL_LAYERS, &n);
    ck_assert_int_eq(memcmp(a, a2, (size_t)3 * 4 * 2 * P_DIM * sizeof(float)), 0);
    for (int l = 0; l < 3; l++) {
        const float *x = a + (l * 4 + 1) * 2 * P_DIM, *y = b + (l * 2 + 1) * 2 * P_DIM;
        bool same = memcmp(x, y, 2 * P_DIM * sizeof(float)) == 0;
        ck_assert_msg(same == (l == 0), "layer %d", l);
    }
    /* layer 0 is the word encoder's output twice */
    ck_assert_int_eq(memcmp(a + 8, a + 8 + P_DIM, P_DIM * sizeof(float)), 0);
    free(a), free(b), free(a2);
    tiny_free(&t);
}
END_TEST

/* Rows of different lengths in one batch: each as it is alone. */
START_TEST(test_padded_rows_as_alone) {
    tiny t = tiny_model("1:2,2:3,3:2", 0, 13);
    text_batch tb;
    set_rows(&tb, ROWS, 2, MAX_T, 13);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_tensor *all = NULL;
    ck_assert_int_eq(t.plugin->ops->embed(t.model, g, &tb.batch, ZOO_EMBED_ALL_LAYERS, &all),
                     ZOO_OK);
    ck_assert_int_eq((int)all->shape[0], 3);
    ck_assert_int_eq((int)all->shape[1], 2);
    for (int b = 0; b < 2; b++) {
        int64_t n, T = words_in(ROWS[b]);
        float *alone = embed_sentence(&t, ROWS[b], ZOO_EMBED_ALL_LAYERS, &n);
        for (int l = 0; l < 3; l++)
            ck_assert_floats_close(zoo_f32(all) + ((l * 2 + b) * MAX_T) * 2 * P_DIM,
                                   alone + l * T * 2 * P_DIM, T * 2 * P_DIM, 1e-6, 1e-6);
        free(alone);
    }
    zoo_graph_free(g);
    tiny_free(&t);
}
END_TEST

/* Layer 1 of each direction is core's LSTM cell stepped one position at a
 * time over layer 0 (the marks included), carrying (h, c) by hand. */
START_TEST(test_bilstm_is_the_stepped_cell) {
    tiny t = tiny_model("1:2,2:3,3:2", 0, 13);
    const char *s = "stepping one word at a time";
    int64_t n, T = words_in(s);
    float *l0 = embed_sentence(&t, s, 0, &n);
    float *l1 = embed_sentence(&t, s, 1, &n);
    /* the marks' layer-0 vectors, from the encoder itself */
    text_batch tb;
    set_rows(&tb, &s, 1, T, 97);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    elmo_words w;
    ck_assert_int_eq(elmo_words_from_batch(t.model, g, &tb.batch, true, &w), ZOO_OK);
    zoo_tensor *enc = elmo_encode_words(t.model, g, w.chars, w.U);
    int64_t P = P_DIM, H = 5, TT = T + 2;
    float *x = malloc((size_t)(TT * P) * sizeof *x);
    for (int64_t p = 0; p < TT; p++)
        memcpy(x + p * P, zoo_f32(enc) + w.index[p] * P, P * sizeof *x);
    for (int64_t p = 0; p < T; p++) /* the encoder rows agree with embed's layer 0 */
        ck_assert_floats_close(x + (p + 1) * P, l0 + p * 2 * P, P, 1e-6, 0);
    for (int d = 0; d < 2; d++) {
        const elmo_lstm_layer *L = &t.model->lstm[d][0];
        zoo_tensor *bias = zoo_new(g, ZOO_F32, 4 * H); /* B + forget_bias 1 */
        for (int64_t j = 0; j < 4 * H; j++)
            zoo_f32(bias)[j] = zoo_f32(L->bias)[j] + (j >= H && j < 2 * H ? 1.0f : 0.0f);
        zoo_lstm_weights lw = {L->w_ih, L->w_hh, bias, L->w_proj, 0.9f, 0.8f};
        zoo_tensor *h = zoo_zeros(g, ZOO_F32, 1, P), *c = zoo_zeros(g, ZOO_F32, 1, H);
        for (int64_t k = 0; k < TT; k++) {
            int64_t p = d == 0 ? k : TT - 1 - k;
            zoo_tensor *xt = zoo_tensor_wrap(g, ZOO_F32, 3, ZOO_SHAPE(1, 1, P), x + p * P);
            zoo_tensor *fh = NULL, *fc = NULL;
            zoo_tensor *y = zoo_lstm(g, xt, &lw, h, c, false, &fh, &fc);
            ck_assert_ptr_nonnull(y);
            if (p >= 1 && p <= T)
                ck_assert_floats_close(zoo_f32(y), l1 + (p - 1) * 2 * P + d * P, P, 1e-6, 1e-6);
            h = fh, c = fc;
        }
    }
    free(x), free(l0), free(l1);
    zoo_graph_free(g);
    tiny_free(&t);
}
END_TEST

/* --- AllenNLP's layout against the reference -------------------------- */

/* Each fixture (tests/reference/elmo_reference.py: float64 PyTorch from
 * AllenNLP's layout) read as zoo embed reads a directory: embed --layer all
 * of every sentence within 1e-4, and the character ids exactly. */
START_TEST(test_published_layout_matches_reference) {
    const char *dirs[] = {ZOO_TEST_DIR "/fixtures/elmo-tiny-a",
                          ZOO_TEST_DIR "/fixtures/elmo-tiny-b"};
    const zoo_plugin *plugin = zoo_plugin_entry();
    for (int d = 0; d < 2; d++) {
        zoo_hparams *hp = zoo_hparams_new(plugin->hparams, plugin->n_hparams);
        ck_assert_msg(elmo_import_config(dirs[d], hp) == ZOO_OK, "%s", zoo_error_message());
        zoo_params *params = zoo_params_new();
        zoo_rng rng;
        zoo_rng_seed(&rng, 1);
        zoo_model *m = NULL;
        ck_assert_int_eq(plugin->ops->create(hp, params, &rng, &m), ZOO_OK);
        ck_assert_msg(elmo_import_weights(m, params, dirs[d]) == ZOO_OK, "%s", zoo_error_message());
        char path[512], line[512];
        snprintf(path, sizeof path, "%s/sentences.txt", dirs[d]);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        for (int i = 0; fgets(line, sizeof line, f); i++) {
            line[strcspn(line, "\n")] = 0;
            int64_t T = words_in(line), W = 64;
            int32_t *bytes = malloc((size_t)(T * W) * sizeof *bytes), *ids = calloc((size_t)T, 4);
            char *copy = strdup(line);
            int64_t t = 0;
            for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "), t++)
                for (int64_t k = 0; k < W; k++)
                    bytes[t * W + k] = k < (int64_t)strlen(w) ? (unsigned char)w[k] : -1;
            free(copy);
            zoo_batch batch = {
                .size = sizeof batch, .B = 1, .T = T, .ids = ids, .token_bytes = bytes, .W = W};
            zoo_graph *g = zoo_graph_new(0);
            zoo_graph_set_recording(g, false);
            zoo_tensor *out = NULL;
            ck_assert_int_eq(plugin->ops->embed(m, g, &batch, ZOO_EMBED_ALL_LAYERS, &out), ZOO_OK);
            snprintf(path, sizeof path, "%s/embeddings_%d.npy", dirs[d], i);
            zoo_tensor *want = zoo_npy_read(g, path);
            ck_assert_msg(want, "%s", zoo_error_message());
            ck_assert_int_eq(out->numel, want->numel); /* [3,1,T,2P] and [3,T,2P] */
            ck_assert_floats_close(zoo_f32(out), zoo_f32(want), want->numel, 1e-4, 0);
            elmo_words w;
            ck_assert_int_eq(elmo_words_from_batch(m, g, &batch, true, &w), ZOO_OK);
            snprintf(path, sizeof path, "%s/char_ids_%d.npy", dirs[d], i);
            zoo_tensor *chars = zoo_npy_read(g, path); /* [T+2, 50], the file's ids (+1) */
            ck_assert_msg(chars, "%s", zoo_error_message());
            ck_assert_int_eq(chars->numel, (T + 2) * m->max_chars);
            for (int64_t p = 0; p < T + 2; p++)
                for (int64_t k = 0; k < m->max_chars; k++)
                    ck_assert_int_eq(((int32_t *)chars->data)[p * m->max_chars + k],
                                     w.chars[w.index[p] * m->max_chars + k] + 1);
            zoo_graph_free(g);
            free(bytes), free(ids);
        }
        fclose(f);
        plugin->ops->destroy(m);
        zoo_params_free(params);
        zoo_hparams_free(hp);
    }
}
END_TEST

/* --- training --------------------------------------------------------- */

/* A text from a Markov chain over 24 words, each followed by one of 3: a
 * unigram model's perplexity is near 24, the chain's own 3 (either way:
 * the backward LM sees the reversed chain). Word k is spelled from k. */
enum { CHAIN_WORDS = 24, CHAIN_B = 8, CHAIN_T = 16 };

static void chain_batch(zoo_rng *rng, int32_t *ids, int32_t *targets, int32_t *bytes) {
    for (int b = 0; b < CHAIN_B; b++) {
        int32_t w = (int32_t)zoo_rng_below(rng, CHAIN_WORDS), row[CHAIN_T + 1];
        for (int t = 0; t <= CHAIN_T; t++) {
            row[t] = w;
            w = (int32_t)((w * 7 + 1 + 5 * (int32_t)zoo_rng_below(rng, 3)) % CHAIN_WORDS);
        }
        for (int t = 0; t < CHAIN_T; t++) {
            int p = b * CHAIN_T + t;
            ids[p] = row[t], targets[p] = row[t + 1];
            const int32_t spelling[4] = {'a' + row[t] % 5, 'k' + row[t] / 5, 'z', -1};
            memcpy(bytes + p * 4, spelling, sizeof spelling);
        }
    }
}

/* The held-out mean of the two directions' losses (full softmax), and the
 * unigram model's cross-entropy on the same words. */
static void held_out(tiny *t, double *model, double *unigram) {
    int32_t ids[CHAIN_B * CHAIN_T], targets[CHAIN_B * CHAIN_T], bytes[CHAIN_B * CHAIN_T * 4];
    zoo_rng rng;
    zoo_rng_seed(&rng, 999);
    double counts[CHAIN_WORDS] = {0}, total = 0, loss = 0, cross = 0;
    int64_t n = 0;
    zoo_graph *g = zoo_graph_new(0);
    for (int k = 0; k < 20; k++) {
        chain_batch(&rng, ids, targets, bytes);
        for (int i = 0; i < CHAIN_B * CHAIN_T; i++) counts[ids[i]]++, total++;
    }
    zoo_rng_seed(&rng, 999);
    for (int k = 0; k < 20; k++) {
        chain_batch(&rng, ids, targets, bytes);
        zoo_batch batch = {.size = sizeof batch,
                           .B = CHAIN_B,
                           .T = CHAIN_T,
                           .ids = ids,
                           .targets = targets,
                           .token_bytes = bytes,
                           .W = 4};
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, false);
        zoo_tensor *l = NULL;
        ck_assert_int_eq(t->plugin->ops->loss(t->model, g, &batch, &rng, &l, NULL), ZOO_OK);
        loss += zoo_f32(l)[0];
        for (int i = 0; i < CHAIN_B * CHAIN_T; i++) cross -= log(counts[targets[i]] / total), n++;
    }
    zoo_graph_free(g);
    *model = loss / 20, *unigram = cross / (double)n;
}

START_TEST(test_training_beats_the_unigram_model) {
    tiny t = tiny_model("1:4,2:8,3:8", 0, CHAIN_WORDS);
    zoo_optim_config adam = zoo_optim_defaults(ZOO_OPTIM_ADAM);
    int32_t ids[CHAIN_B * CHAIN_T], targets[CHAIN_B * CHAIN_T], bytes[CHAIN_B * CHAIN_T * 4];
    zoo_rng data, drop;
    zoo_rng_seed(&data, 5);
    zoo_rng_seed(&drop, 6);
    zoo_graph *g = zoo_graph_new(0);
    double before, after, unigram;
    held_out(&t, &before, &unigram);
    for (int step = 1; step <= 800; step++) {
        chain_batch(&data, ids, targets, bytes);
        zoo_batch batch = {.size = sizeof batch,
                           .B = CHAIN_B,
                           .T = CHAIN_T,
                           .ids = ids,
                           .targets = targets,
                           .token_bytes = bytes,
                           .W = 4};
        zoo_graph_reset(g);
        zoo_graph_set_recording(g, true);
        zoo_graph_set_training(g, true);
        zoo_params_zero_grad(t.params);
        zoo_tensor *loss = NULL;
        ck_assert_int_eq(t.plugin->ops->loss(t.model, g, &batch, &drop, &loss, NULL), ZOO_OK);
        ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
        ck_assert_int_eq(zoo_optim_step(t.params, &adam, 1e-2f, step), ZOO_OK);
    }
    zoo_graph_free(g);
    held_out(&t, &after, &unigram);
    /* perplexities: the unigram model's about 24, the chain's 3; this tiny model (4 wide)
     * reaches about 6 */
    ck_assert_msg(exp(after) < 0.35 * exp(unigram),
                  "held-out perplexity %.2f (before %.2f), unigram %.2f", exp(after), exp(before),
                  exp(unigram));
    tiny_free(&t);
}
END_TEST

START_TEST(test_bad_input_is_an_error) {
    tiny t = tiny_model("1:2,2:3,3:2", 0, 13);
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *out = NULL;
    int64_t n;
    free(embed_sentence(&t, "fine", 2, &n));
    text_batch tb;
    const char *s = "fine";
    set_rows(&tb, &s, 1, 1, 13);
    ck_assert_int_ne(t.plugin->ops->embed(t.model, g, &tb.batch, 3, &out), ZOO_OK);
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "layers 0..2"));
    zoo_graph_reset(g);
    tb.batch.token_bytes = NULL; /* and no tokenizer: no characters to read */
    ck_assert_int_ne(t.plugin->ops->embed(t.model, g, &tb.batch, 0, &out), ZOO_OK);
    ck_assert_ptr_nonnull(strstr(zoo_graph_error(g), "characters"));
    zoo_graph_free(g);
    tiny_free(&t);
    int64_t w[ELMO_MAX_FILTERS], c[ELMO_MAX_FILTERS];
    ck_assert_int_eq(elmo_parse_filters("1:32,7:1024", w, c), 2);
    ck_assert_int_lt(elmo_parse_filters("1:32,7", w, c), 0);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "bank 2"));
    ck_assert_int_lt(elmo_parse_filters("", w, c), 0);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("elmo");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_char_cnn_equals_core_composition);
    tcase_add_test(tc, test_char_cnn_gradcheck);
    tcase_add_test(tc, test_model_gradcheck_full_softmax);
    tcase_add_test(tc, test_model_gradcheck_sampled_softmax);
    tcase_add_test(tc, test_eval_loss_is_full_softmax);
    tcase_add_test(tc, test_directions_do_not_look_ahead);
    tcase_add_test(tc, test_embed_is_contextual);
    tcase_add_test(tc, test_padded_rows_as_alone);
    tcase_add_test(tc, test_bilstm_is_the_stepped_cell);
    tcase_add_test(tc, test_published_layout_matches_reference);
    tcase_add_test(tc, test_bad_input_is_an_error);
    tcase_add_test(tc, test_training_beats_the_unigram_model);
    suite_add_tcase(s, tc);
    return s;
}
