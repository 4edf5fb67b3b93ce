/* The bert plugin against an independent PyTorch reference
 * (reference/bert_reference.py made fixtures/bert-tiny*): MLM
 * logits, hidden states, pooled output and the pretraining loss and
 * gradients of HuggingFace-style BERT directories in three naming variants
 * (bert. prefix, none, legacy gamma/beta); padding invariance; every
 * layer's hidden state from embed; finite
 * differences on a tiny config; export and re-import. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "files.h"
#include "model.h"

#define FIXTURES ZOO_TEST_DIR "/fixtures"

static zoo_loaded *bert;

static void load_plugin(void) {
    bert = load_built_plugin("bert");
}
static void unload_plugin(void) {
    unload_built_plugin(bert);
}
static zoo_host_model *import_hf(const char *dir) {
    return import_hf_model(bert, dir);
}

static void read_ints(const char *name, int32_t *out, int n) {
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/bert-tiny/%s", name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    for (int i = 0; i < n; i++) ck_assert_int_eq(fscanf(f, "%d", &out[i]), 1);
    fclose(f);
}

/* got vs the .npy, on the rows (of `row` floats) whose mask is 1 when mask is given. */
static void expect_npy(zoo_graph *g, const zoo_tensor *got, const char *file, const int32_t *mask,
                       int64_t row, double atol) {
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/bert-tiny/%s", file);
    zoo_tensor *want = zoo_npy_read(g, path);
    ck_assert_msg(want && want->numel == got->numel, "%s", path);
    for (int64_t r = 0; r < got->numel / row; r++)
        if (!mask || mask[r])
            ck_assert_floats_close(zoo_f32(got) + r * row, zoo_f32(want) + r * row, row, atol, 0);
}

START_TEST(test_forward_matches_reference) {
    load_plugin();
    int32_t ids[20], mask[20], types[20];
    read_ints("ids.txt", ids, 20), read_ints("mask.txt", mask, 20),
        read_ints("types.txt", types, 20);
    const char *dirs[] = {FIXTURES "/bert-tiny", FIXTURES "/bert-tiny-noprefix",
                          FIXTURES "/bert-tiny-legacy"};
    for (int d = 0; d < 3; d++) {
        zoo_host_model *m = import_hf(dirs[d]);
        zoo_graph *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_batch batch = {
            .size = sizeof batch, .B = 2, .T = 10, .ids = ids, .mask = mask, .types = types};
        zoo_outputs out = {.size = sizeof out};
        ck_assert_int_eq(bert->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
        /* padded positions are queries nobody reads: compare real tokens only */
        expect_npy(g, out.logits, "mlm_logits.npy", mask, 61, 1e-4);
        expect_npy(g, out.hidden, "hidden.npy", mask, 16, 1e-4);
        expect_npy(g, out.pooled, "pooled.npy", NULL, 16, 1e-4);
        zoo_graph_free(g);
        zoo_host_model_destroy(m);
    }
    unload_plugin();
}
END_TEST

START_TEST(test_loss_and_gradients_match_reference) {
    load_plugin();
    int32_t ids[20], mask[20], types[20], labels[20], nsp[2] = {0, 1};
    read_ints("ids_masked.txt", ids, 20), read_ints("mask.txt", mask, 20),
        read_ints("types.txt", types, 20);
    read_ints("mlm_labels.txt", labels, 20);
    zoo_host_model *m = import_hf(FIXTURES "/bert-tiny");
    zoo_graph *g = zoo_graph_new(0);
    zoo_batch batch = {.size = sizeof batch,
                       .B = 2,
                       .T = 10,
                       .ids = ids,
                       .mask = mask,
                       .types = types,
                       .targets = labels,
                       .labels = nsp};
    zoo_tensor *loss = NULL;
    zoo_metrics metrics = {.size = sizeof metrics};
    ck_assert_int_eq(bert->plugin->ops->loss(m->model, g, &batch, NULL, &loss, &metrics), ZOO_OK);
    float want = 7.234452f;
    ck_assert_floats_close(zoo_f32(loss), &want, 1, 1e-5, 0);
    ck_assert_int_eq(metrics.count, 2);
    ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
    const char *names[] = {"embeddings.word_embeddings.weight",
                           "embeddings.position_embeddings.weight",
                           "embeddings.token_type_embeddings.weight",
                           "embeddings.LayerNorm.weight",
                           "encoder.layer.0.attention.self.query.weight",
                           "encoder.layer.1.intermediate.dense.bias",
                           "pooler.dense.weight",
                           "cls.predictions.bias",
                           "cls.seq_relationship.weight"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, FIXTURES "/bert-tiny/grads/%s.npy", names[i]);
        zoo_tensor *w = zoo_npy_read(g, path), *p = zoo_params_get(m->params, names[i]);
        ck_assert_msg(w && p && p->grad, "%s", names[i]);
        ck_assert_floats_close(p->grad, zoo_f32(w), p->numel, 1e-4, 0);
    }
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* Padding more positions changes nothing for the real tokens. */
START_TEST(test_padding_invariance) {
    load_plugin();
    zoo_host_model *m = import_hf(FIXTURES "/bert-tiny");
    int32_t ids[6] = {2, 5, 8, 3, 9, 3}, padded[10] = {2, 5, 8, 3, 9, 3, 0, 0, 0, 0};
    int32_t ones[6] = {1, 1, 1, 1, 1, 1}, mask[10] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    int32_t types[6] = {0, 0, 0, 0, 1, 1}, ptypes[10] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0};
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch a = {.size = sizeof a, .B = 1, .T = 6, .ids = ids, .mask = ones, .types = types};
    zoo_batch b = {.size = sizeof b, .B = 1, .T = 10, .ids = padded, .mask = mask, .types = ptypes};
    zoo_outputs oa = {.size = sizeof oa}, ob = {.size = sizeof ob};
    ck_assert_int_eq(bert->plugin->ops->forward(m->model, g, &a, &oa), ZOO_OK);
    ck_assert_int_eq(bert->plugin->ops->forward(m->model, g, &b, &ob), ZOO_OK);
    ck_assert_floats_close(zoo_f32(oa.hidden), zoo_f32(ob.hidden), 6 * 16, 1e-5, 1e-5);
    ck_assert_floats_close(zoo_f32(oa.pooled), zoo_f32(ob.pooled), 16, 1e-5, 1e-5);
    /* fill-mask: logits at the masked positions are the MLM head's there */
    int32_t masked[6] = {2, 5, 4, 3, 4, 3};
    zoo_batch c = {.size = sizeof c, .B = 1, .T = 6, .ids = masked, .mask = ones, .types = types};
    zoo_outputs oc = {.size = sizeof oc};
    zoo_tensor *fm = NULL;
    ck_assert_int_eq(bert->plugin->ops->forward(m->model, g, &c, &oc), ZOO_OK);
    ck_assert_int_eq(bert->plugin->ops->fill_mask(m->model, g, &c, 4, &fm), ZOO_OK);
    ck_assert_int_eq(fm->shape[0], 2);
    ck_assert_floats_close(zoo_f32(fm), zoo_f32(oc.logits) + 2 * 61, 61, 1e-5, 1e-5);
    ck_assert_floats_close(zoo_f32(fm) + 61, zoo_f32(oc.logits) + 4 * 61, 61, 1e-5, 1e-5);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

/* embed with ZOO_EMBED_ALL_LAYERS: HuggingFace's output_hidden_states, the
 * embeddings' output and each layer's, stacked [L,B,T,H]; layer i of the
 * stack is what embed gives for layer i, bit for bit, and the last is the
 * reference's last hidden state. */
START_TEST(test_embed_all_layers) {
    load_plugin();
    int32_t ids[20], mask[20], types[20];
    read_ints("ids.txt", ids, 20), read_ints("mask.txt", mask, 20),
        read_ints("types.txt", types, 20);
    zoo_host_model *m = import_hf(FIXTURES "/bert-tiny");
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {
        .size = sizeof batch, .B = 2, .T = 10, .ids = ids, .mask = mask, .types = types};
    zoo_tensor *all = NULL;
    ck_assert_int_eq(bert->plugin->ops->embed(m->model, g, &batch, ZOO_EMBED_ALL_LAYERS, &all),
                     ZOO_OK);
    ck_assert_int_eq(all->ndim, 4);
    ck_assert_int_eq(all->shape[0], 3); /* num_hidden_layers 2, and the embeddings */
    ck_assert_int_eq(all->shape[1], 2);
    ck_assert_int_eq(all->shape[2], 10);
    ck_assert_int_eq(all->shape[3], 16);
    int64_t n = 2 * 10 * 16;
    for (int l = 0; l < 3; l++) {
        zoo_tensor *one = NULL;
        ck_assert_int_eq(bert->plugin->ops->embed(m->model, g, &batch, l, &one), ZOO_OK);
        ck_assert_int_eq(one->numel, n);
        ck_assert_msg(memcmp(zoo_f32(all) + l * n, zoo_f32(one), (size_t)n * sizeof(float)) == 0,
                      "layer %d of the stack differs from embed(layer = %d)", l, l);
    }
    zoo_tensor *last = zoo_view(g, zoo_slice(g, all, 0, 2, 1), 2, 10, 16);
    expect_npy(g, last, "hidden.npy", mask, 16, 1e-4);
    zoo_tensor *none = NULL; /* another negative layer is still the default: the last */
    ck_assert_int_eq(bert->plugin->ops->embed(m->model, g, &batch, -3, &none), ZOO_OK);
    ck_assert_int_eq(none->ndim, 3);
    ck_assert_int_eq(memcmp(zoo_f32(none), zoo_f32(last), (size_t)n * sizeof(float)), 0);
    ck_assert_int_eq(bert->plugin->ops->embed(m->model, g, &batch, 3, &none), ZOO_ERR_ARG);
    ck_assert(strstr(zoo_error_message(), "bert: layer 3: the model has 2 layers"));
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
    bert->plugin->ops->loss(c->m->model, g, c->batch, NULL, &loss, NULL);
    return loss;
}

START_TEST(test_gradient_finite_differences) {
    load_plugin();
    zoo_hparams *hp = zoo_hparams_new(bert->plugin->hparams, bert->plugin->n_hparams);
    const char *sets[][2] = {{"hidden_size", "8"},
                             {"num_hidden_layers", "2"},
                             {"num_attention_heads", "2"},
                             {"intermediate_size", "12"},
                             {"max_position_embeddings", "8"},
                             {"vocab_size", "13"},
                             {"hidden_dropout_prob", "0"},
                             {"initializer_range", "0.4"},
                             {"layer_norm_eps", "1e-5"}};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        ck_assert_int_eq(zoo_hparams_set_text(hp, sets[i][0], sets[i][1]), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(bert, hp, 3, NULL, &m), ZOO_OK);
    zoo_rng rng;
    zoo_rng_seed(&rng, 4);
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *t = zoo_params_at(m->params, i)->value;
        if (t->ndim == 1) zoo_rng_fill_uniform(&rng, t->data, (size_t)t->numel, -0.5f, 1.5f);
    }
    int32_t ids[12] = {2, 6, 4, 3, 9, 3, 2, 11, 7, 3, 4, 0},
            mask[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    int32_t types[12] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0};
    int32_t targets[12] = {ZOO_IGNORE, 8,          5,  ZOO_IGNORE, ZOO_IGNORE, ZOO_IGNORE,
                           ZOO_IGNORE, ZOO_IGNORE, 12, ZOO_IGNORE, 1,          ZOO_IGNORE};
    int32_t labels[2] = {1, 0};
    zoo_batch batch = {.size = sizeof batch,
                       .B = 2,
                       .T = 6,
                       .ids = ids,
                       .mask = mask,
                       .types = types,
                       .targets = targets,
                       .labels = labels};
    loss_ctx c = {m, &batch};
    gradcheck_opts o = {.max_checks = 16, .eps = 1e-2, .atol = 2e-3, .rtol = 1e-2};
    gradcheck(m->params, build_loss, &c, &o);
    zoo_host_model_destroy(m);
    unload_plugin();
}
END_TEST

START_TEST(test_export_round_trip_and_errors) {
    load_plugin();
    zoo_host_model *m = import_hf(FIXTURES "/bert-tiny-legacy");
    char dir[] = "/tmp/zoo-bert-export.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(bert->plugin->ops->export_checkpoint(m->model, m->params, m->hp, "hf", dir),
                     ZOO_OK);
    zoo_host_model *back = import_hf(dir);
    for (int i = 0; i < zoo_params_count(m->params); i++) {
        zoo_tensor *a = zoo_params_at(m->params, i)->value,
                   *b = zoo_params_at(back->params, i)->value;
        ck_assert_int_eq(memcmp(a->data, b->data, (size_t)a->numel * 4), 0);
    }
    zoo_hparams *hp = zoo_hparams_new(bert->plugin->hparams, bert->plugin->n_hparams);
    char other[] = "/tmp/zoo-bert-other.XXXXXX", other_config[64];
    ck_assert_ptr_nonnull(mkdtemp(other));
    /* a directory without config.json (another format's) is not ours */
    ck_assert_int_eq(bert->plugin->ops->import_config(other, hp), ZOO_ERR_NOTFOUND);
    ck_assert(strstr(zoo_error_message(), "config.json: No such file"));
    snprintf(other_config, sizeof other_config, "%s/config.json", other);
    FILE *f = fopen(other_config, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"model_type\": \"gpt2\", \"n_embd\": 32}\n", f);
    fclose(f);
    ck_assert_int_eq(bert->plugin->ops->import_config(other, hp), ZOO_ERR_NOTFOUND);
    ck_assert(strstr(zoo_error_message(), "model_type is \"gpt2\", not \"bert\""));
    unlink(other_config);
    rmdir(other);
    zoo_hparams_free(hp);
    char path[600];
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

Suite *make_suite(void) {
    Suite *s = suite_create("bert");
    TCase *tc = tcase_create("plugin");
    tcase_add_test(tc, test_forward_matches_reference);
    tcase_add_test(tc, test_loss_and_gradients_match_reference);
    tcase_add_test(tc, test_padding_invariance);
    tcase_add_test(tc, test_embed_all_layers);
    tcase_add_test(tc, test_gradient_finite_differences);
    tcase_add_test(tc, test_export_round_trip_and_errors);
    suite_add_tcase(s, tc);
    return s;
}
