/* The key/value cache (zoo/kv_cache.h): decoding in steps of any size gives
 * the rows of full causal attention; what it holds, its errors, and the
 * gradient that still reaches the queries. */

#include "check_util.h"

enum { L_ = 2, B = 2, NH = 2, HS = 3, C = NH * HS, T = 10 };

/* Rows [t0, t0+n) of x [B,T,w] as a new tensor [B,n,w]. */
static zoo_tensor *rows_of(zoo_graph *g, const zoo_tensor *x, int t0, int n) {
    int64_t w = x->shape[2];
    zoo_tensor *y = zoo_new(g, ZOO_F32, B, n, w);
    for (int b = 0; b < B; b++)
        memcpy(zoo_f32(y) + (int64_t)b * n * w, zoo_f32(x) + ((int64_t)b * T + t0) * w,
               (size_t)(n * w) * sizeof(float));
    return y;
}

/* Columns [c0, c0+C) of x [B,n,3C] as a new tensor [B,n,C]. */
static zoo_tensor *cols_of(zoo_graph *g, const zoo_tensor *x, int c0) {
    int64_t n = x->shape[1];
    zoo_tensor *y = zoo_new(g, ZOO_F32, B, n, C);
    for (int64_t r = 0; r < B * n; r++)
        memcpy(zoo_f32(y) + r * C, zoo_f32(x) + r * 3 * C + c0, C * sizeof(float));
    return y;
}

/* Prefill of 3 positions, then steps of 1, 1, 4 and 1, through two layers,
 * with a packed q|k|v and with separate q, k, v: every step's output is the
 * matching rows of zoo_attention over the whole sequence. */
START_TEST(test_steps_equal_full_attention) {
    const int steps[] = {3, 1, 1, 4, 1};
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    for (int packed = 0; packed < 2; packed++) {
        zoo_graph *hold = zoo_graph_new(0), *g = zoo_graph_new(0);
        zoo_graph_set_recording(g, false);
        zoo_tensor *qkv[L_], *full[L_];
        for (int l = 0; l < L_; l++) {
            qkv[l] = zoo_new(hold, ZOO_F32, B, T, 3 * C);
            zoo_rng_fill_uniform(&rng, zoo_f32(qkv[l]), (size_t)qkv[l]->numel, -2, 2);
            full[l] = zoo_attention(hold, qkv[l], NULL, NULL, NH, true, NULL);
        }
        ck_assert_msg(full[L_ - 1], "%s", zoo_graph_error(hold));
        zoo_kv_cache *c;
        ck_assert_int_eq(zoo_kv_cache_new(L_, B, 12, C, &c), ZOO_OK);
        ck_assert_int_eq(zoo_kv_cache_max_len(c), 12);
        ck_assert_int_eq(zoo_kv_cache_batch(c), B);
        int t0 = 0;
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            int n = steps[s];
            zoo_graph_reset(g);
            for (int l = 0; l < L_; l++) {
                zoo_tensor *x = rows_of(g, qkv[l], t0, n), *a;
                if (packed)
                    a = zoo_kv_cache_attend(g, c, l, x, NULL, NULL, NH);
                else
                    a = zoo_kv_cache_attend(g, c, l, cols_of(g, x, 0), cols_of(g, x, C),
                                            cols_of(g, x, 2 * C), NH);
                ck_assert_msg(a, "%s", zoo_graph_error(g));
                ck_assert(a->ndim == 3 && a->shape[0] == B && a->shape[1] == n && a->shape[2] == C);
                zoo_tensor *want = rows_of(g, full[l], t0, n);
                ck_assert_floats_close(zoo_f32(a), zoo_f32(want), a->numel, 1e-6, 1e-6);
            }
            ck_assert_int_eq(zoo_kv_cache_len(c), t0);
            ck_assert_int_eq(zoo_kv_cache_advance(c, n), ZOO_OK);
            t0 += n;
            ck_assert_int_eq(zoo_kv_cache_len(c), t0);
        }
        /* what the cache holds: the keys and values of every position so far */
        zoo_tensor *k, *v;
        ck_assert_int_eq(zoo_kv_cache_view(g, c, 1, &k, &v), ZOO_OK);
        ck_assert(k->ndim == 3 && k->shape[0] == B && k->shape[1] == 12 && k->shape[2] == C);
        ck_assert(!k->requires_grad && !v->requires_grad);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *src = zoo_f32(qkv[1]) + ((int64_t)b * T + t) * 3 * C;
                ck_assert(memcmp(zoo_f32(k) + ((int64_t)b * 12 + t) * C, src + C,
                                 C * sizeof(float)) == 0);
                ck_assert(memcmp(zoo_f32(v) + ((int64_t)b * 12 + t) * C, src + 2 * C,
                                 C * sizeof(float)) == 0);
            }
        /* clear: the same first step again gives the same first rows */
        zoo_kv_cache_clear(c);
        ck_assert_int_eq(zoo_kv_cache_len(c), 0);
        zoo_graph_reset(g);
        zoo_tensor *a = zoo_kv_cache_attend(g, c, 0, rows_of(g, qkv[0], 0, 2), NULL, NULL, NH);
        ck_assert_msg(a, "%s", zoo_graph_error(g));
        ck_assert_floats_close(zoo_f32(a), zoo_f32(rows_of(g, full[0], 0, 2)), a->numel, 1e-6,
                               1e-6);
        zoo_kv_cache_free(c);
        zoo_graph_free(g);
        zoo_graph_free(hold);
    }
}
END_TEST

/* A step that fails leaves the cache as it was: the positions written by
 * its earlier layers are not held until advance. */
START_TEST(test_failed_step_keeps_length) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 2);
    zoo_graph *g = zoo_graph_new(0);
    zoo_kv_cache *c;
    ck_assert_int_eq(zoo_kv_cache_new(2, B, 4, C, &c), ZOO_OK);
    zoo_tensor *x = zoo_new(g, ZOO_F32, B, 3, 3 * C);
    zoo_rng_fill_uniform(&rng, zoo_f32(x), (size_t)x->numel, -1, 1);
    ck_assert_ptr_nonnull(zoo_kv_cache_attend(g, c, 0, x, NULL, NULL, NH));
    ck_assert_ptr_nonnull(zoo_kv_cache_attend(g, c, 1, x, NULL, NULL, NH));
    ck_assert_int_eq(zoo_kv_cache_advance(c, 3), ZOO_OK);
    /* two more positions do not fit in 4 */
    zoo_tensor *two = zoo_new(g, ZOO_F32, B, 2, 3 * C);
    zoo_rng_fill_uniform(&rng, zoo_f32(two), (size_t)two->numel, -1, 1);
    ck_assert_ptr_null(zoo_kv_cache_attend(g, c, 0, two, NULL, NULL, NH));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_graph_error(g), "zoo_kv_cache_append: the cache is full: 3 positions "
                                         "held and 2 new exceed its 4");
    ck_assert_int_eq(zoo_kv_cache_len(c), 3);
    ck_assert_int_eq(zoo_kv_cache_advance(c, 2), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "zoo_kv_cache_advance: 3 positions held, 2 more exceed the cache's 4");
    ck_assert_int_eq(zoo_kv_cache_advance(c, -1), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_kv_cache_len(c), 3);
    zoo_graph_reset(g);
    zoo_tensor *one = zoo_new(g, ZOO_F32, B, 1, 3 * C);
    zoo_rng_fill_uniform(&rng, zoo_f32(one), (size_t)one->numel, -1, 1);
    ck_assert_ptr_nonnull(zoo_kv_cache_attend(g, c, 0, one, NULL, NULL, NH));
    ck_assert_int_eq(zoo_kv_cache_advance(c, 1), ZOO_OK);
    ck_assert_int_eq(zoo_kv_cache_len(c), 4);
    zoo_kv_cache_free(c);
    zoo_graph_free(g);
}
END_TEST

typedef struct {
    zoo_kv_cache *c;
    zoo_tensor *prefix, *q, *k, *v; /* prefix [B,P,3C]: cached first, as constants */
} grad_ctx;

static zoo_tensor *build_cached_step(zoo_graph *g, void *arg) {
    grad_ctx *x = arg;
    zoo_kv_cache_clear(x->c);
    if (zoo_kv_cache_append(g, x->c, 0, x->prefix, NULL) != ZOO_OK ||
        zoo_kv_cache_advance(x->c, x->prefix->shape[1]) != ZOO_OK)
        return NULL;
    return zoo_kv_cache_attend(g, x->c, 0, x->q, x->k, x->v, NH);
}

/* On a recording graph the queries of a cached step take their gradient;
 * the cached keys and values are constants. */
START_TEST(test_gradient_reaches_queries) {
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    zoo_params *p = zoo_params_new();
    zoo_graph *hold = zoo_graph_new(0);
    grad_ctx x = {.prefix = zoo_new(hold, ZOO_F32, B, 4, 3 * C),
                  .k = zoo_new(hold, ZOO_F32, B, 2, C),
                  .v = zoo_new(hold, ZOO_F32, B, 2, C)};
    zoo_rng_fill_uniform(&rng, zoo_f32(x.prefix), (size_t)x.prefix->numel, -1, 1);
    zoo_rng_fill_uniform(&rng, zoo_f32(x.k), (size_t)x.k->numel, -1, 1);
    zoo_rng_fill_uniform(&rng, zoo_f32(x.v), (size_t)x.v->numel, -1, 1);
    x.q = RAND_PARAM(p, &rng, "q", -1, 1, B, 2, C);
    ck_assert_int_eq(zoo_kv_cache_new(1, B, 8, C, &x.c), ZOO_OK);
    gradcheck(p, build_cached_step, &x, NULL);
    zoo_kv_cache_free(x.c);
    zoo_graph_free(hold);
    zoo_params_free(p);
}
END_TEST

START_TEST(test_errors) {
    zoo_kv_cache *c = (zoo_kv_cache *)&c;
    ck_assert_int_eq(zoo_kv_cache_new(0, 1, 1, 1, &c), ZOO_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(zoo_error_message(), "zoo_kv_cache_new: n_layer 0, B 1, max_len 1 and C 1 "
                                          "must all be at least 1");
    ck_assert_int_eq(zoo_kv_cache_new(1, 1, 0, 1, &c), ZOO_ERR_ARG);
    zoo_kv_cache_free(NULL);

    ck_assert_int_eq(zoo_kv_cache_new(2, B, 8, C, &c), ZOO_OK);
    zoo_graph *g = zoo_graph_new(0);
    static float data[3 * B * 4 * 3 * C];
    static int32_t ids[B * 4 * 3 * C];
#define F(...) zoo_tensor_wrap(g, ZOO_F32, ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__), data)
    struct {
        int status;
        const char *message;
    } want[] = {
        {ZOO_ERR_ARG, "zoo_kv_cache_append: layer 2 is outside [0, 2)"},
        {ZOO_ERR_SHAPE, "zoo_kv_cache_append: k [2,3,6] and v NULL do not fit the cache: "
                        "expected k and v [2,Tn,6], or a packed k [2,Tn,18] and v NULL"},
        {ZOO_ERR_SHAPE, "zoo_kv_cache_append: k [3,1,6] and v [3,1,6] do not fit the cache: "
                        "expected k and v [2,Tn,6], or a packed k [2,Tn,18] and v NULL"},
        {ZOO_ERR_SHAPE, "zoo_kv_cache_append: k [2,2,6] and v [2,1,6] do not fit the cache: "
                        "expected k and v [2,Tn,6], or a packed k [2,Tn,18] and v NULL"},
        {ZOO_ERR_SHAPE, "zoo_kv_cache_append: k must be float32"},
        {ZOO_ERR_ARG, "zoo_kv_cache_append: the cache is full: 0 positions held and 9 new "
                      "exceed its 8"},
        {ZOO_ERR_ARG, "zoo_kv_cache_attend: k and v must both be given, or both NULL with a "
                      "packed q|k|v"},
        {ZOO_ERR_SHAPE, "zoo_kv_cache_attend: q [2,2,6] and k [2,1,6] must be [B,Tn,...] with "
                        "the same Tn"},
        {ZOO_ERR_SHAPE, "zoo_attention: C = 6 (q [2,1,18]) is not divisible by n_head = 4"},
        {ZOO_ERR_ARG, "zoo_kv_cache_view: layer -1 is outside [0, 2)"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        zoo_tensor *k = NULL, *v = NULL;
        int st = ZOO_OK;
        switch (i) {
        case 0:
            st = zoo_kv_cache_append(g, c, 2, F(B, 1, 3 * C), NULL);
            break;
        case 1:
            st = zoo_kv_cache_append(g, c, 0, F(B, 3, C), NULL);
            break;
        case 2:
            st = zoo_kv_cache_append(g, c, 0, F(3, 1, C), F(3, 1, C));
            break;
        case 3:
            st = zoo_kv_cache_append(g, c, 0, F(B, 2, C), F(B, 1, C));
            break;
        case 4:
            st = zoo_kv_cache_append(
                g, c, 0, zoo_tensor_wrap(g, ZOO_I32, 3, ZOO_SHAPE(B, 1, 3 * C), ids), NULL);
            break;
        case 5:
            st = zoo_kv_cache_append(g, c, 0, F(B, 9, C), F(B, 9, C));
            break;
        case 6:
            ck_assert_ptr_null(zoo_kv_cache_attend(g, c, 0, F(B, 1, C), F(B, 1, C), NULL, NH));
            st = zoo_graph_status(g);
            break;
        case 7:
            ck_assert_ptr_null(
                zoo_kv_cache_attend(g, c, 0, F(B, 2, C), F(B, 1, C), F(B, 1, C), NH));
            st = zoo_graph_status(g);
            break;
        case 8:
            ck_assert_ptr_null(zoo_kv_cache_attend(g, c, 0, F(B, 1, 3 * C), NULL, NULL, 4));
            st = zoo_graph_status(g);
            break;
        case 9:
            st = zoo_kv_cache_view(g, c, -1, &k, &v);
            ck_assert(!k && !v);
            break;
        }
        ck_assert_int_eq(st, want[i].status);
        ck_assert_str_eq(zoo_graph_error(g), want[i].message);
        ck_assert_int_eq(zoo_kv_cache_len(c), 0);
        zoo_graph_reset(g);
    }
#undef F
    /* a NULL input (an earlier failure) adds no error of its own */
    ck_assert_int_eq(zoo_kv_cache_append(g, c, 0, NULL, NULL), ZOO_OK);
    ck_assert_ptr_null(zoo_kv_cache_attend(g, c, 0, NULL, NULL, NULL, NH));
    ck_assert_int_eq(zoo_graph_status(g), ZOO_OK);
    zoo_graph_free(g);
    zoo_kv_cache_free(c);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("kv_cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_steps_equal_full_attention);
    tcase_add_test(tc, test_failed_step_keeps_length);
    tcase_add_test(tc, test_gradient_reaches_queries);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
