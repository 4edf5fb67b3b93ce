/* host/runs/bench.c: what zoo bench measures. Its counts are held to
 * closed forms: a pass's operations to the textbook count of the model's
 * products, its tokens to B·T. */
#include "bench.h"
#include "check_util.h"

/* Each run of an n-cube product is 2n^3 operations, after the warm-up. */
START_TEST(test_sgemm_counts) {
    zoo_bench_phase ph;
    ck_assert_int_eq(zoo_bench_sgemm(64, 1, 0.05, 3, &ph), ZOO_OK);
    ck_assert_int_eq(ph.runs, 3);
    for (int i = 0; i < ph.runs; i++) {
        ck_assert_uint_eq(ph.flops[i], 2 * 64 * 64 * 64);
        ck_assert(ph.seconds[i] > 0);
    }
    ck_assert(ph.gflops.mean > 0 && ph.gflops.sd >= 0);
    ck_assert_int_ne(zoo_bench_sgemm(64, 0, 0, ZOO_BENCH_MAX_REPEAT + 1, &ph), ZOO_OK);
}
END_TEST

/* GPT at T <= 64 (one causal block: every row multiplies all T keys):
 * forward per layer 2·BT·C·3C (qkv) + 2·2·B·T·T·C (QK^T and PV over the
 * heads) + 2·BT·C·C (projection) + 2·2·BT·C·4C (MLP), then the tied head
 * 2·BT·C·V. Training: the loss's forward, backward twice that, and each
 * linear bias's gradient 2·BT·out. block_size follows T. */
START_TEST(test_gpt_counts) {
    zoo_loaded *p = load_built_plugin("gpt");
    const char *sets[] = {"vocab_size=64", "n_layer=2"};
    zoo_bench_opts o = {
        .B = 2, .T = 16, .warmup = 1, .repeat = 2, .seed = 1, .sets = sets, .n_sets = 2};
    zoo_bench_result r;
    ck_assert_msg(zoo_bench_plugin(p, &o, &r) == ZOO_OK, "%s", zoo_error_message());
    const uint64_t B = 2, T = 16, C = 128, L = 2, V = 64, BT = B * T;
    uint64_t layer =
        2 * BT * C * 3 * C + 2 * 2 * B * T * T * C + 2 * BT * C * C + 2 * 2 * BT * C * 4 * C;
    uint64_t forward = L * layer + 2 * BT * C * V;
    uint64_t biases = L * 2 * BT * (3 * C + C + 4 * C + C);
    ck_assert_int_eq(r.B, 2);
    ck_assert_int_eq(r.T, 16);
    ck_assert_ptr_nonnull(strstr(r.config, "block_size=16"));
    ck_assert_ptr_nonnull(strstr(r.config, "n_layer=2"));
    ck_assert_int_eq(r.forward.runs, 2);
    ck_assert_int_eq(r.training.runs, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(r.forward.flops[i], forward);
        ck_assert_uint_eq(r.training.flops[i], 3 * forward + biases);
        ck_assert_int_eq(r.forward.tokens[i], 32);
        ck_assert_int_eq(r.training.tokens[i], 32);
    }
    /* tokens/s and GFLOP/s: each run's ratio, averaged */
    double rate = 0;
    for (int i = 0; i < 2; i++) rate += 32 / r.forward.seconds[i] / 2;
    ck_assert_double_eq_tol(r.forward.tokens_per_s.mean, rate, 1e-6 * rate);
    /* params: embeddings, per layer 12C^2 + 13C, the final norm */
    ck_assert_int_eq(r.params, (int64_t)(V * C + 16 * C + L * (12 * C * C + 13 * C) + 2 * C));
    unload_built_plugin(p);
}
END_TEST

/* block_size shorter than T, an override that is not a hyperparameter: errors, not crashes. */
START_TEST(test_bad_overrides) {
    zoo_loaded *p = load_built_plugin("gpt");
    zoo_bench_result r;
    const char *short_block[] = {"block_size=8", "vocab_size=64"};
    zoo_bench_opts o = {.B = 1, .T = 16, .repeat = 1, .sets = short_block, .n_sets = 2};
    ck_assert_int_ne(zoo_bench_plugin(p, &o, &r), ZOO_OK);
    ck_assert_str_eq(zoo_error_message(), "--set block_size=8 is shorter than --seq-len 16");
    const char *unknown[] = {"n_layers=2"};
    o.sets = unknown, o.n_sets = 1;
    ck_assert_int_ne(zoo_bench_plugin(p, &o, &r), ZOO_OK);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "--set n_layers=2: "));
    unload_built_plugin(p);
}
END_TEST

/* A self-updating plugin: B·T words a step in one chunk, its tokenizer's
 * vocabulary, no products counted; its vocabulary cannot be overridden. */
START_TEST(test_self_updating) {
    zoo_loaded *p = load_built_plugin("word2vec");
    const char *sets[] = {"dim=8"};
    zoo_bench_opts o = {.B = 2, .T = 32, .warmup = 0, .repeat = 2, .sets = sets, .n_sets = 1};
    zoo_bench_result r;
    ck_assert_msg(zoo_bench_plugin(p, &o, &r) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(r.B, 1);
    ck_assert_int_eq(r.T, 64);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r.forward.tokens[i], 64);
        ck_assert_int_eq(r.training.tokens[i], 64);
        ck_assert_uint_eq(r.training.flops[i], 0);
    }
    ck_assert_ptr_null(strstr(r.config, "vocab_size=2 ")); /* set from the tokenizer */
    const char *vocab[] = {"vocab_size=50"};
    o.sets = vocab;
    ck_assert_int_ne(zoo_bench_plugin(p, &o, &r), ZOO_OK);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "--set vocab_size: a self-updating"));
    unload_built_plugin(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("bench");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_sgemm_counts);
    tcase_add_test(tc, test_gpt_counts);
    tcase_add_test(tc, test_bad_overrides);
    tcase_add_test(tc, test_self_updating);
    suite_add_tcase(s, tc);
    return s;
}
