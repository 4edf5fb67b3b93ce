#include "w2v_sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"

/* Vose's construction: columns of average height 1, each topped up from
 * one symbol that has weight to spare. */
int w2v_alias_build(w2v_alias_table *t, const double *weights, int64_t n) {
    memset(t, 0, sizeof *t);
    if (n < 1 || n > INT32_MAX)
        return zoo_error(ZOO_ERR_ARG, "w2v_alias_build: %lld symbols", (long long)n);
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(weights[i] >= 0) || !isfinite(weights[i]))
            return zoo_error(ZOO_ERR_ARG, "w2v_alias_build: weight %lld is %g", (long long)i,
                             weights[i]);
        total += weights[i];
    }
    if (!(total > 0)) return zoo_error(ZOO_ERR_ARG, "w2v_alias_build: the weights sum to 0");
    double *scaled = malloc((size_t)n * sizeof *scaled);
    int32_t *small = malloc((size_t)n * sizeof *small), *large = malloc((size_t)n * sizeof *large);
    t->accept = malloc((size_t)n * sizeof *t->accept);
    t->alias = malloc((size_t)n * sizeof *t->alias);
    if (!scaled || !small || !large || !t->accept || !t->alias) {
        free(scaled), free(small), free(large), w2v_alias_free(t);
        return zoo_error(ZOO_ERR_NOMEM, "w2v_alias_build: out of memory for %lld symbols",
                         (long long)n);
    }
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = weights[i] * (double)n / total;
        if (scaled[i] < 1)
            small[ns++] = (int32_t)i;
        else
            large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        t->accept[s] = (float)scaled[s], t->alias[s] = l;
        scaled[l] -= 1 - scaled[s];
        if (scaled[l] < 1) nl--, small[ns++] = l;
    }
    /* what remains is 1 up to rounding */
    while (nl) t->accept[large[nl - 1]] = 1, t->alias[large[nl - 1]] = large[nl - 1], nl--;
    while (ns) t->accept[small[ns - 1]] = 1, t->alias[small[ns - 1]] = small[ns - 1], ns--;
    t->n = n;
    free(scaled), free(small), free(large);
    return ZOO_OK;
}

int32_t w2v_alias_draw(const w2v_alias_table *t, zoo_rng *rng) {
    int32_t column = (int32_t)zoo_rng_below(rng, (uint64_t)t->n);
    return zoo_rng_uniform(rng) < t->accept[column] ? column : t->alias[column];
}

void w2v_alias_free(w2v_alias_table *t) {
    free(t->accept), free(t->alias);
    memset(t, 0, sizeof *t);
}

typedef struct ranked {
    int64_t count;
    int32_t symbol;
} ranked;

static int by_count(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? -1 : 1;
    return (x->symbol > y->symbol) - (x->symbol < y->symbol);
}

/* The classic two-queue construction: leaves in increasing count, inner
 * nodes in the order they are made (also increasing), the two smallest
 * fronts merged each time. */
int w2v_huffman_build(w2v_huffman *h, const int64_t *counts, int64_t n) {
    memset(h, 0, sizeof *h);
    if (n < 1 || n > INT32_MAX)
        return zoo_error(ZOO_ERR_ARG, "w2v_huffman_build: %lld symbols", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (counts[i] < 0)
            return zoo_error(ZOO_ERR_ARG, "w2v_huffman_build: count %lld is %lld", (long long)i,
                             (long long)counts[i]);
    int64_t nodes = 2 * n - 1;
    ranked *order = malloc((size_t)n * sizeof *order);
    int32_t *parent = malloc((size_t)nodes * sizeof *parent);
    int64_t *weight = malloc((size_t)nodes * sizeof *weight);
    uint8_t *bit = calloc((size_t)nodes, 1);
    h->length = calloc((size_t)n, sizeof *h->length);
    h->offset = malloc((size_t)n * sizeof *h->offset);
    int status = ZOO_OK;
    if (!order || !parent || !weight || !bit || !h->length || !h->offset) status = ZOO_ERR_NOMEM;
    for (int64_t i = 0; !status && i < n; i++) {
        order[i] = (ranked){counts[i], (int32_t)i};
        weight[i] = counts[i];
    }
    if (!status) {
        qsort(order, (size_t)n, sizeof *order, by_count);
        int64_t leaf = 0, inner = n; /* fronts of the two queues; inner nodes are n .. */
        for (int64_t made = n; made < nodes; made++) {
            int64_t pick[2];
            for (int k = 0; k < 2; k++) /* a leaf on ties: shallower inner nodes */
                pick[k] = leaf < n && (inner >= made || order[leaf].count <= weight[inner])
                              ? order[leaf++].symbol
                              : inner++;
            weight[made] = weight[pick[0]] + weight[pick[1]];
            parent[pick[0]] = parent[pick[1]] = (int32_t)made;
            bit[pick[1]] = 1;
        }
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) {
            for (int64_t v = i; v != nodes - 1; v = parent[v]) h->length[i]++;
            h->offset[i] = total, total += h->length[i];
        }
        h->points = malloc((size_t)(total ? total : 1) * sizeof *h->points);
        h->codes = malloc((size_t)(total ? total : 1));
        if (!h->points || !h->codes) status = ZOO_ERR_NOMEM;
        for (int64_t i = 0; !status && i < n; i++) { /* walked leaf to root, stored root first */
            int64_t at = h->offset[i] + h->length[i];
            for (int64_t v = i; v != nodes - 1; v = parent[v]) {
                at--;
                h->codes[at] = bit[v];
                h->points[at] = (int32_t)(parent[v] - n);
            }
        }
    }
    free(order), free(parent), free(weight), free(bit);
    h->n = n;
    if (status) {
        w2v_huffman_free(h);
        return zoo_error(ZOO_ERR_NOMEM, "w2v_huffman_build: out of memory for %lld symbols",
                         (long long)n);
    }
    return ZOO_OK;
}

void w2v_huffman_free(w2v_huffman *h) {
    free(h->length), free(h->offset), free(h->points), free(h->codes);
    memset(h, 0, sizeof *h);
}
