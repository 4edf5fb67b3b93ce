#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "w2v_sampling.h"

/* Frequencies of 1e6 draws against the weights: within 4 standard errors. */
static void check_draws(const double *w, int64_t n, uint64_t seed) {
    w2v_alias_table t;
    ck_assert_int_eq(w2v_alias_build(&t, w, n), ZOO_OK);
    double total = 0;
    for (int64_t i = 0; i < n; i++) total += w[i];
    int64_t *hits = calloc((size_t)n, sizeof *hits), draws = 1000000;
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int64_t d = 0; d < draws; d++) {
        int32_t s = w2v_alias_draw(&t, &rng);
        ck_assert(s >= 0 && s < n);
        hits[s]++;
    }
    for (int64_t i = 0; i < n; i++) {
        double p = w[i] / total, got = (double)hits[i] / (double)draws;
        double se = sqrt(p * (1 - p) / (double)draws);
        if (p == 0) ck_assert_int_eq(hits[i], 0);
        ck_assert_msg(fabs(got - p) <= 4 * se + 1e-9, "symbol %lld: drawn %.5f, weight %.5f",
                      (long long)i, got, p);
    }
    free(hits);
    w2v_alias_free(&t);
}

START_TEST(test_alias_matches_weights) {
    const double skewed[] = {1, 2, 3, 4, 0, 90};
    check_draws(skewed, 6, 1);
    const double one[] = {5};
    check_draws(one, 1, 2);
    /* word2vec's negative-sampling distribution: unigram counts to the 3/4 */
    double unigram[50];
    for (int i = 0; i < 50; i++) unigram[i] = pow(1000.0 / (i + 1), 0.75);
    check_draws(unigram, 50, 3);
}
END_TEST

START_TEST(test_alias_rejects_bad_weights) {
    w2v_alias_table t;
    const double negative[] = {1, -1}, zeros[] = {0, 0}, nan_weight[] = {1, NAN},
                 inf_weight[] = {INFINITY, 1};
    ck_assert_int_eq(w2v_alias_build(&t, negative, 2), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "weight 1 is -1"));
    ck_assert_int_eq(w2v_alias_build(&t, zeros, 2), ZOO_ERR_ARG);
    ck_assert_int_eq(w2v_alias_build(&t, nan_weight, 2), ZOO_ERR_ARG);
    ck_assert_int_eq(w2v_alias_build(&t, inf_weight, 2), ZOO_ERR_ARG);
    ck_assert_int_eq(w2v_alias_build(&t, zeros, 0), ZOO_ERR_ARG);
}
END_TEST

/* The code of symbol i as a string of '0'/'1'. */
static void code_of(const w2v_huffman *h, int64_t i, char *out) {
    for (int32_t k = 0; k < h->length[i]; k++) out[k] = (char)('0' + h->codes[h->offset[i] + k]);
    out[h->length[i]] = '\0';
}

/* A valid Huffman code: root first, prefix-free, complete (Kraft sum 1), the
 * bits of a node's two children differ, and larger counts never deeper. */
static void check_code(const w2v_huffman *h, const int64_t *counts) {
    char a[64], b[64];
    double kraft = 0;
    for (int64_t i = 0; i < h->n; i++) {
        kraft += ldexp(1, -h->length[i]);
        if (h->n > 1) ck_assert_int_eq(h->points[h->offset[i]], h->n - 2);
        for (int32_t k = 0; k < h->length[i]; k++)
            ck_assert(h->points[h->offset[i] + k] >= 0 && h->points[h->offset[i] + k] < h->n - 1);
        code_of(h, i, a);
        for (int64_t j = 0; j < h->n; j++) {
            if (j == i) continue;
            code_of(h, j, b);
            ck_assert_msg(strncmp(a, b, strlen(a)) != 0, "code %s of %lld is a prefix of %s", a,
                          (long long)i, b);
            if (counts[i] > counts[j]) ck_assert_int_le(h->length[i], h->length[j]);
        }
    }
    ck_assert_double_eq_tol(kraft, 1.0, 1e-12);
}

START_TEST(test_huffman_known_distribution) {
    /* the textbook example: f:45 e:9 d:16 c:12 b:13 a:5 -> lengths 1, 4, 3, 3, 3, 4; 224 bits */
    const int64_t counts[] = {45, 9, 16, 12, 13, 5};
    const int32_t lengths[] = {1, 4, 3, 3, 3, 4};
    w2v_huffman h;
    ck_assert_int_eq(w2v_huffman_build(&h, counts, 6), ZOO_OK);
    int64_t bits = 0;
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(h.length[i], lengths[i]);
        bits += counts[i] * h.length[i];
    }
    ck_assert_int_eq(bits, 224);
    check_code(&h, counts);
    /* the two deepest symbols share their path but for the last bit */
    ck_assert_int_eq(memcmp(h.points + h.offset[1], h.points + h.offset[5], 4 * sizeof(int32_t)),
                     0);
    ck_assert_int_ne(h.codes[h.offset[1] + 3], h.codes[h.offset[5] + 3]);
    w2v_huffman_free(&h);
}
END_TEST

START_TEST(test_huffman_edge_cases) {
    w2v_huffman h;
    const int64_t one[] = {7};
    ck_assert_int_eq(w2v_huffman_build(&h, one, 1), ZOO_OK);
    ck_assert_int_eq(h.length[0], 0);
    w2v_huffman_free(&h);
    const int64_t equal[] = {3, 3, 3, 3, 3, 3, 3, 3}; /* a full tree: 3 bits each */
    ck_assert_int_eq(w2v_huffman_build(&h, equal, 8), ZOO_OK);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(h.length[i], 3);
    check_code(&h, equal);
    w2v_huffman_free(&h);
    int64_t zipf[300]; /* word counts as a corpus has them, zeros included */
    for (int i = 0; i < 300; i++) zipf[i] = i < 290 ? 100000 / (i + 1) : 0;
    ck_assert_int_eq(w2v_huffman_build(&h, zipf, 300), ZOO_OK);
    check_code(&h, zipf);
    w2v_huffman_free(&h);
    const int64_t bad[] = {1, -2};
    ck_assert_int_eq(w2v_huffman_build(&h, bad, 2), ZOO_ERR_ARG);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("sampling");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_alias_matches_weights);
    tcase_add_test(tc, test_alias_rejects_bad_weights);
    tcase_add_test(tc, test_huffman_known_distribution);
    tcase_add_test(tc, test_huffman_edge_cases);
    suite_add_tcase(s, tc);
    return s;
}
