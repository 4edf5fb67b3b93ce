#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void zoo_metric_means_add(zoo_metric_means *a, const zoo_metrics *m, double weight) {
    for (int i = 0; m && i < m->count && i < ZOO_MAX_METRICS; i++) {
        int k = 0;
        while (k < a->count && strcmp(a->names[k], m->items[i].name) != 0) k++;
        if (k == a->count) {
            if (a->count == ZOO_MAX_METRICS) continue;
            a->names[a->count++] = m->items[i].name;
        }
        a->sums[k] += weight * m->items[i].value;
        a->weights[k] += weight;
    }
}

void zoo_metric_means_get(const zoo_metric_means *a, zoo_metrics *out) {
    *out = (zoo_metrics){.size = sizeof *out};
    for (int k = 0; k < a->count; k++)
        zoo_metrics_add(out, a->names[k], a->weights[k] > 0 ? a->sums[k] / a->weights[k] : NAN);
}

static bool has(const zoo_metrics *m, const char *name) {
    for (int i = 0; i < m->count && i < ZOO_MAX_METRICS; i++)
        if (strcmp(m->items[i].name, name) == 0) return true;
    return false;
}

void zoo_metrics_each(const zoo_metrics *m, void (*fn)(void *ctx, const char *name, double value),
                      void *ctx) {
    static const char suffix[] = "_loss";
    for (int i = 0; m && i < m->count && i < ZOO_MAX_METRICS; i++) {
        const char *name = m->items[i].name;
        fn(ctx, name, m->items[i].value);
        size_t len = strlen(name), n = sizeof suffix - 1;
        char derived[256];
        if (len <= n || strcmp(name + len - n, suffix) != 0 ||
            snprintf(derived, sizeof derived, "%.*s_perplexity", (int)(len - n), name) >=
                (int)sizeof derived ||
            has(m, derived))
            continue;
        fn(ctx, derived, exp(m->items[i].value));
    }
}
