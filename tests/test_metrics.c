/* The host's handling of a plugin's metrics (host/runs/metrics.h): weighted
 * means matched by name, and the perplexity reported beside every metric
 * that is a loss, from the loss as averaged. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "metrics.h"

typedef struct seen {
    int n;
    char names[2 * ZOO_MAX_METRICS][64];
    double values[2 * ZOO_MAX_METRICS];
} seen;

static void record(void *ctx, const char *name, double value) {
    seen *s = ctx;
    ck_assert_int_lt(s->n, 2 * ZOO_MAX_METRICS);
    snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    s->values[s->n++] = value;
}

START_TEST(test_means_by_name_and_weight) {
    zoo_metric_means a = {0};
    zoo_metrics m1 = {.size = sizeof m1}, m2 = {.size = sizeof m2}, out;
    zoo_metrics_add(&m1, "acc", 0.5);
    zoo_metrics_add(&m1, "x_loss", 2.0);
    zoo_metrics_add(&m2, "x_loss", 4.0); /* another order, and acc left out */
    zoo_metrics_add(&m2, "new", 7.0);
    zoo_metric_means_add(&a, &m1, 3);
    zoo_metric_means_add(&a, &m2, 1);
    zoo_metric_means_add(&a, NULL, 5); /* a batch without metrics changes nothing */
    zoo_metric_means_get(&a, &out);
    ck_assert_int_eq(out.size, sizeof out);
    ck_assert_int_eq(out.count, 3); /* in the order first seen */
    ck_assert_str_eq(out.items[0].name, "acc");
    ck_assert_double_eq(out.items[0].value, 0.5); /* over the batch that reported it */
    ck_assert_str_eq(out.items[1].name, "x_loss");
    ck_assert_double_eq_tol(out.items[1].value, (3 * 2.0 + 1 * 4.0) / 4, 1e-15);
    ck_assert_str_eq(out.items[2].name, "new");
    ck_assert_double_eq(out.items[2].value, 7.0);
    zoo_metric_means empty = {0};
    zoo_metric_means_get(&empty, &out);
    ck_assert_int_eq(out.count, 0);
}
END_TEST

START_TEST(test_more_names_than_fit) {
    static const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    zoo_metric_means a = {0};
    zoo_metrics m = {.size = sizeof m}, out;
    for (int i = 0; i < ZOO_MAX_METRICS; i++) zoo_metrics_add(&m, names[i], i);
    zoo_metric_means_add(&a, &m, 1);
    m = (zoo_metrics){.size = sizeof m};
    zoo_metrics_add(&m, names[ZOO_MAX_METRICS], 1); /* one more name: no room, left out */
    zoo_metrics_add(&m, names[0], 2);
    zoo_metric_means_add(&a, &m, 1);
    zoo_metric_means_get(&a, &out);
    ck_assert_int_eq(out.count, ZOO_MAX_METRICS);
    ck_assert_double_eq(out.items[0].value, 1); /* (0 + 2) / 2 */
}
END_TEST

START_TEST(test_perplexity_beside_each_loss) {
    zoo_metrics m = {.size = sizeof m};
    zoo_metrics_add(&m, "forward_loss", 2.0);
    zoo_metrics_add(&m, "accuracy", 0.25);
    zoo_metrics_add(&m, "backward_loss", 3.5);
    zoo_metrics_add(&m, "own_loss", 1.0);
    zoo_metrics_add(&m, "own_perplexity", 99.0); /* the plugin's own is kept, not doubled */
    zoo_metrics_add(&m, "_loss", 1.0);           /* no prefix: nothing to name */
    zoo_metrics_add(&m, "lossy", 1.0);
    seen s = {0};
    zoo_metrics_each(&m, record, &s);
    const char *want[] = {
        "forward_loss", "forward_perplexity", "accuracy", "backward_loss", "backward_perplexity",
        "own_loss",     "own_perplexity",     "_loss",    "lossy"};
    ck_assert_int_eq(s.n, 9);
    for (int i = 0; i < 9; i++) ck_assert_str_eq(s.names[i], want[i]);
    ck_assert_double_eq(s.values[1], exp(2.0));
    ck_assert_double_eq(s.values[4], exp(3.5));
    ck_assert_double_eq(s.values[6], 99.0);
    s.n = 0;
    zoo_metrics_each(NULL, record, &s);
    ck_assert_int_eq(s.n, 0);
}
END_TEST

/* The perplexity of a mean loss is exp of the mean, not the mean of exps. */
START_TEST(test_perplexity_of_the_averaged_loss) {
    zoo_metric_means a = {0};
    zoo_metrics m = {.size = sizeof m}, out;
    zoo_metrics_add(&m, "x_loss", 1.0);
    zoo_metric_means_add(&a, &m, 1);
    m.items[0].value = 3.0;
    zoo_metric_means_add(&a, &m, 1);
    zoo_metric_means_get(&a, &out);
    seen s = {0};
    zoo_metrics_each(&out, record, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_double_eq(s.values[1], exp(2.0)); /* not (e + e^3) / 2 */
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_means_by_name_and_weight);
    tcase_add_test(tc, test_more_names_than_fit);
    tcase_add_test(tc, test_perplexity_beside_each_loss);
    tcase_add_test(tc, test_perplexity_of_the_averaged_loss);
    suite_add_tcase(s, tc);
    return s;
}
