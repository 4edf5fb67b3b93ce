/* The llama example's own suite, written against the installed SDK alone
 * (libzoo's public headers, and Check): its operator against a reference
 * and finite differences, its tokenizer type, and its model's decoding
 * against its forward pass. The conformance suite (zoo check-plugin llama)
 * checks the rest. Every suite defines make_suite(); tests/main.c runs it
 * out of tree, zoo's own runner in tree. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"
#include "zoo/gradcheck.h"
#include "zoo/zoo.h"

Suite *make_suite(void);
const zoo_plugin *zoo_plugin_entry(void); /* the plugin's, linked in */

typedef struct {
    zoo_tensor *a, *b;
} pair;

static zoo_tensor *build_swiglu(zoo_graph *g, void *ctx) {
    pair *p = ctx;
    return llama_swiglu(g, p->a, p->b);
}

static zoo_tensor *add_random(zoo_params *p, zoo_rng *rng, const char *name, int64_t r, int64_t c) {
    zoo_tensor *t = zoo_params_add(p, name, 2, ZOO_SHAPE(r, c), 0);
    zoo_rng_fill_uniform(rng, t->data, (size_t)t->numel, -3, 3);
    return t;
}

START_TEST(test_swiglu_matches_reference_and_finite_differences) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 7);
    zoo_params *p = zoo_params_new();
    pair in = {add_random(p, &rng, "gate", 9, 37), add_random(p, &rng, "up", 9, 37)};
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *y = llama_swiglu(g, in.a, in.b);
    ck_assert_ptr_nonnull(y);
    for (int64_t i = 0; i < y->numel; i++) {
        double a = zoo_f32(in.a)[i], want = a / (1 + exp(-a)) * zoo_f32(in.b)[i];
        ck_assert_double_eq_tol(zoo_f32(y)[i], want, 1e-5 * (1 + fabs(want)));
    }
    zoo_graph_free(g);
    zoo_gradcheck_report report = {.size = sizeof report};
    ck_assert_msg(zoo_gradcheck(p, build_swiglu, &in, NULL, &report) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(report.params, 2);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_swiglu_refuses_different_shapes) {
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *a = zoo_zeros(g, ZOO_F32, 2, 3), *b = zoo_zeros(g, ZOO_F32, 3, 2);
    ck_assert_ptr_null(llama_swiglu(g, a, b));
    ck_assert_str_eq(zoo_graph_error(g), "llama_swiglu: gate [2,3] and up [3,2] differ");
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_bytes_tokenizer) {
    zoo_tokenizer *t = NULL;
    ck_assert_int_eq(llama_bytes_type.from_json("{}", &t), ZOO_OK);
    const char text[] = "h\xC3\xA9llo\n\x00!";
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(t, text, sizeof text - 1, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, (int64_t)sizeof text - 1);
    ck_assert_int_eq(ids.ids[1], 0xC3);
    ck_assert_int_eq(ids.ids[7], 0);
    size_t len;
    char *back = zoo_tokenizer_decode(t, ids.ids, ids.count, &len);
    ck_assert_uint_eq(len, sizeof text - 1);
    ck_assert_mem_eq(back, text, len);
    free(back);
    /* a character cut in two decodes to U+FFFD, so the text stays UTF-8 */
    back = zoo_tokenizer_decode(t, ids.ids, 2, &len);
    ck_assert_str_eq(back, "h\xEF\xBF\xBD");
    free(back);
    size_t token_len;
    ck_assert_mem_eq(zoo_tokenizer_token(t, 0xC3, &token_len), "\xC3", 2);
    ck_assert_uint_eq(token_len, 1);
    ck_assert_int_eq(zoo_tokenizer_id(t, "A", 1), 'A');
    ck_assert_int_eq(zoo_tokenizer_id(t, "AB", 2), -1);
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 256);
    char *json = zoo_tokenizer_to_json(t);
    zoo_tokenizer *again = NULL;
    ck_assert_int_eq(llama_bytes_type.from_json("{\"lowercase\": true}", &again), ZOO_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(json, "\"llama_bytes\""));
    zoo_ids_free(&ids);
    free(json);
    zoo_tokenizer_free(t);
}
END_TEST

/* Cached decoding, one position at a time, equals the forward pass over the
 * whole sequence, row by row: the cache is only a faster path. */
START_TEST(test_decode_matches_forward) {
    const zoo_plugin *d = zoo_plugin_entry();
    zoo_hparams *hp = zoo_hparams_new(d->hparams, d->n_hparams);
    zoo_hparams_set_int(hp, "n_layer", 2), zoo_hparams_set_int(hp, "n_head", 2);
    zoo_hparams_set_int(hp, "n_embd", 24), zoo_hparams_set_int(hp, "block_size", 16);
    zoo_hparams_set_int(hp, "vocab_size", 40);
    zoo_params *params = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_model *m = NULL;
    ck_assert_int_eq(d->ops->create(hp, params, &rng, &m), ZOO_OK);
    enum { B = 2, T = 9 };
    int32_t ids[B * T];
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)((i * 7 + 3) % 40);
    zoo_graph *g = zoo_graph_new(0);
    zoo_graph_set_recording(g, false);
    zoo_batch batch = {.size = sizeof batch, .B = B, .T = T, .ids = ids};
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(d->ops->forward(m, g, &batch, &out), ZOO_OK);
    float *full = malloc((size_t)out.logits->numel * sizeof(float));
    memcpy(full, out.logits->data, (size_t)out.logits->numel * sizeof(float));
    void *cache = NULL;
    ck_assert_int_eq(d->ops->cache_new(m, B, T, &cache), ZOO_OK);
    for (int t = 0; t < T; t++) {
        zoo_graph_reset(g);
        int32_t step[B] = {ids[t], ids[T + t]};
        zoo_tensor *logits = NULL;
        ck_assert_int_eq(d->ops->decode_step(m, g, cache, step, B, &logits), ZOO_OK);
        for (int b = 0; b < B; b++)
            for (int v = 0; v < 40; v++) {
                float want = full[(b * T + t) * 40 + v], got = zoo_f32(logits)[b * 40 + v];
                ck_assert_msg(fabsf(got - want) <= 1e-5f * (1 + fabsf(want)),
                              "position %d, sequence %d, token %d: %g vs %g", t, b, v, got, want);
            }
    }
    d->ops->cache_free(m, cache);
    free(full);
    zoo_graph_free(g);
    d->ops->destroy(m);
    zoo_params_free(params);
    zoo_hparams_free(hp);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("llama");
    TCase *tc = tcase_create("plugin");
    tcase_add_test(tc, test_swiglu_matches_reference_and_finite_differences);
    tcase_add_test(tc, test_swiglu_refuses_different_shapes);
    tcase_add_test(tc, test_bytes_tokenizer);
    tcase_add_test(tc, test_decode_matches_forward);
    suite_add_tcase(s, tc);
    return s;
}
