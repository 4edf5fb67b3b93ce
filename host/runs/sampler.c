#include "sampler.h"

#include <math.h>
#include <stdlib.h>

static int by_probability(const void *a, const void *b, void *keys) {
    const float *p = keys;
    float x = p[*(const int32_t *)a], y = p[*(const int32_t *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b; /* ties: the lower id first, deterministic */
}

int32_t zoo_sample(const zoo_sampler *s, const float *logits, int64_t V, zoo_rng *rng, float *probs,
                   int32_t *order) {
    int32_t best = 0;
    for (int64_t v = 1; v < V; v++)
        if (logits[v] > logits[best]) best = (int32_t)v;
    if (s->temperature <= 0) return best;
    double sum = 0;
    for (int64_t v = 0; v < V; v++) {
        probs[v] = (float)exp((logits[v] - logits[best]) / s->temperature);
        sum += probs[v];
        order[v] = (int32_t)v;
    }
    /* the candidates, most probable first: top-k keeps k of them, top-p the
     * smallest prefix whose probability reaches p */
    qsort_r(order, (size_t)V, sizeof *order, by_probability, probs);
    int64_t keep = s->top_k > 0 && s->top_k < V ? s->top_k : V;
    if (s->top_p < 1) {
        double mass = 0;
        for (int64_t i = 0; i < keep; i++) {
            mass += probs[order[i]] / sum;
            if (mass >= s->top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    double kept = 0;
    for (int64_t i = 0; i < keep; i++) kept += probs[order[i]];
    double u = zoo_rng_uniform(rng) * kept, acc = 0;
    for (int64_t i = 0; i < keep; i++) {
        acc += probs[order[i]];
        if (u < acc) return order[i];
    }
    return order[keep - 1];
}
