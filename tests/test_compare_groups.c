/* zoo compare's groups of ranks (host/runs/compare_groups.h): for every job
 * of 1 to 16 ranks and 0 to 40 trials, the plan seen from each rank is
 * checked against a partition counted here: each group's ranks are
 * consecutive, the groups' sizes differ by at most one (the larger first),
 * world rank 0 leads group 0, and every trial runs in exactly one group, in
 * round-robin. Also: out-of-range sizes refused, and the idle waits of
 * host/dist a no-op in a process that no launcher started. */
#include <stdint.h>
#include <string.h>

#include "check_util.h"
#include "compare_groups.h"
#include "dist.h"
#include "zoo/status.h"

START_TEST(test_partition) {
    for (int W = 1; W <= 16; W++)
        for (int T = 0; T <= 40; T++) {
            int G = T < W ? (T > 0 ? T : 1) : W;
            int size[16] = {0}, first[16], last_group = 0;
            for (int r = 0; r < W; r++) {
                zoo_compare_groups g;
                ck_assert_int_eq(zoo_compare_groups_plan(W, r, T, &g), ZOO_OK);
                ck_assert_int_eq(g.n_groups, G);
                ck_assert(g.group >= 0 && g.group < G);
                /* consecutive ranks: the group never goes back */
                ck_assert(g.group == last_group || g.group == last_group + 1);
                if (size[g.group]++ == 0) first[g.group] = r;
                ck_assert_int_eq(g.first_rank, first[g.group]);
                last_group = g.group;
            }
            ck_assert_int_eq(last_group, G - 1);
            for (int k = 0; k < G; k++) {
                ck_assert(size[k] == W / G || size[k] == W / G + 1);
                if (k > 0) ck_assert_int_le(size[k], size[k - 1]); /* the larger first */
                zoo_compare_groups g;
                zoo_compare_groups_plan(W, first[k], T, &g);
                ck_assert_int_eq(g.group_size, size[k]);
            }
            for (int t = 0; t < T; t++) {
                int runs = 0;
                for (int k = 0; k < G; k++) {
                    zoo_compare_groups g;
                    zoo_compare_groups_plan(W, first[k], T, &g);
                    if (zoo_compare_groups_runs(&g, t)) {
                        runs++;
                        ck_assert_int_eq(k, t % G);
                    }
                }
                ck_assert_int_eq(runs, 1);
            }
        }
}
END_TEST

START_TEST(test_one_model_per_group) {
    /* 3 ranks, 2 models: the first model's group has ranks 0 and 1 */
    zoo_compare_groups g;
    ck_assert_int_eq(zoo_compare_groups_plan(3, 1, 2, &g), ZOO_OK);
    ck_assert_int_eq(g.group, 0);
    ck_assert_int_eq(g.group_size, 2);
    ck_assert_int_eq(g.first_rank, 0);
    ck_assert_int_eq(zoo_compare_groups_plan(3, 2, 2, &g), ZOO_OK);
    ck_assert_int_eq(g.group, 1);
    ck_assert_int_eq(g.group_size, 1);
    ck_assert_int_eq(g.first_rank, 2);
    ck_assert(zoo_compare_groups_runs(&g, 1) && zoo_compare_groups_runs(&g, 3));
    ck_assert(!zoo_compare_groups_runs(&g, 0) && !zoo_compare_groups_runs(&g, 2));
}
END_TEST

START_TEST(test_refused) {
    zoo_compare_groups g;
    ck_assert_int_eq(zoo_compare_groups_plan(0, 0, 1, &g), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_compare_groups_plan(2, 2, 1, &g), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_compare_groups_plan(2, -1, 1, &g), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_compare_groups_plan(2, 0, -1, &g), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "rank 0 of 2"));
}
END_TEST

START_TEST(test_idle_waits_alone) {
    /* no launcher started this process: a job of one, every wait returns at once */
    ck_assert_int_eq(zoo_dist_world_size(), 1);
    int64_t v[2] = {3, -4};
    ck_assert_int_eq(zoo_dist_sum_i64_idle(v, 2, 0), ZOO_OK);
    ck_assert_int_eq(zoo_dist_max_i64_idle(v, 2, 1.0), ZOO_OK);
    ck_assert(v[0] == 3 && v[1] == -4);
    char bytes[4] = "abc";
    ck_assert_int_eq(zoo_dist_broadcast_idle(bytes, sizeof bytes), ZOO_OK);
    ck_assert_str_eq(bytes, "abc");
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("compare_groups");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_partition);
    tcase_add_test(tc, test_one_model_per_group);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_idle_waits_alone);
    suite_add_tcase(s, tc);
    return s;
}
