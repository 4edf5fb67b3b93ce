/* Windows over long texts (host/runs/token_windows.h), against a reference
 * that asks every window of every token: each token is supplied by exactly
 * one window, the one where it is farthest from an edge (the later on a
 * tie), every window is as long as asked, and no window is one too many. */
#include "check_util.h"
#include "token_windows.h"

/* The window of token j by brute force: the most tokens on its nearer side. */
static int64_t best_window(int64_t n, int64_t size, int64_t j) {
    int64_t best = -1, best_d = -1;
    for (int64_t k = 0; k < zoo_windows_count(n, size); k++) {
        int64_t start, len, from, to;
        zoo_window_at(n, size, k, &start, &len, &from, &to);
        if (j < start || j >= start + len) continue;
        int64_t d = j - start < start + len - 1 - j ? j - start : start + len - 1 - j;
        if (d >= best_d) best = k, best_d = d; /* >=: the later window on a tie */
    }
    return best;
}

START_TEST(test_example_of_the_header) {
    /* n = 10, size = 4: [0,4) [2,6) [4,8) [6,10), spans [0,3) [3,5) [5,7) [7,10) */
    const int64_t starts[] = {0, 2, 4, 6}, froms[] = {0, 3, 5, 7}, tos[] = {3, 5, 7, 10};
    ck_assert_int_eq(zoo_windows_count(10, 4), 4);
    for (int64_t k = 0; k < 4; k++) {
        int64_t start, len, from, to;
        zoo_window_at(10, 4, k, &start, &len, &from, &to);
        ck_assert_int_eq(start, starts[k]);
        ck_assert_int_eq(len, 4);
        ck_assert_int_eq(from, froms[k]);
        ck_assert_int_eq(to, tos[k]);
    }
}
END_TEST

START_TEST(test_one_window) {
    int64_t start, len, from, to;
    const int64_t cases[][2] = {{0, 0}, {0, 4}, {7, 0}, {7, 7}, {7, 100}, {1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t n = cases[i][0], size = cases[i][1];
        ck_assert_int_eq(zoo_windows_count(n, size), 1);
        zoo_window_at(n, size, 0, &start, &len, &from, &to);
        ck_assert_int_eq(start, 0);
        ck_assert_int_eq(len, n);
        ck_assert_int_eq(from, 0);
        ck_assert_int_eq(to, n);
    }
}
END_TEST

START_TEST(test_against_every_window) {
    for (int64_t size = 1; size <= 12; size++)
        for (int64_t n = size + 1; n <= 60; n++) {
            int64_t count = zoo_windows_count(n, size), stride = size / 2 > 0 ? size / 2 : 1;
            ck_assert_int_gt(count, 1);
            int64_t prev_start = -1, prev_to = 0;
            for (int64_t k = 0; k < count; k++) {
                int64_t start, len, from, to;
                zoo_window_at(n, size, k, &start, &len, &from, &to);
                ck_assert_msg(len == size && start >= 0 && start + len <= n,
                              "n %lld size %lld: window %lld is [%lld,+%lld)", (long long)n,
                              (long long)size, (long long)k, (long long)start, (long long)len);
                ck_assert_int_gt(start, prev_start);
                if (k > 0 && k < count - 1) ck_assert_int_eq(start - prev_start, stride);
                if (k == 0) ck_assert_int_eq(start, 0);
                if (k == count - 1) ck_assert_int_eq(start + len, n);
                /* the spans follow each other and lie in their windows */
                ck_assert_int_eq(from, prev_to);
                ck_assert_int_le(from, to);
                for (int64_t j = from; j < to; j++)
                    ck_assert_msg(best_window(n, size, j) == k,
                                  "n %lld size %lld: token %lld from window %lld, not %lld",
                                  (long long)n, (long long)size, (long long)j, (long long)k,
                                  (long long)best_window(n, size, j));
                prev_start = start, prev_to = to;
            }
            ck_assert_int_eq(prev_to, n);
            /* one fewer window would not reach the end */
            ck_assert_int_lt((count - 2) * stride + size, n);
        }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("token_windows");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_example_of_the_header);
    tcase_add_test(tc, test_one_window);
    tcase_add_test(tc, test_against_every_window);
    suite_add_tcase(s, tc);
    return s;
}
