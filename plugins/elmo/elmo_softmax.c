/* Sampled softmax (see elmo_softmax.h). */
#include "elmo_softmax.h"

#include <math.h>
#include <stdlib.h>

/* The cumulative unigram distribution over the vocabulary, from the
 * tokenizer's corpus counts (+1, so every word can be drawn); uniform
 * without counts. */
static int build_cdf(zoo_model *m) {
    m->sample_cdf = malloc((size_t)m->V * sizeof *m->sample_cdf);
    if (!m->sample_cdf) return zoo_error(ZOO_ERR_NOMEM, "elmo: out of memory");
    double total = 0;
    int64_t counted = m->tok ? zoo_tokenizer_vocab_size(m->tok) : 0;
    for (int64_t v = 0; v < m->V; v++) {
        int64_t c = v < counted ? zoo_tokenizer_count(m->tok, (int32_t)v) : 0;
        total += (double)(c > 0 ? c : 0) + 1.0;
        m->sample_cdf[v] = total;
    }
    for (int64_t v = 0; v < m->V; v++) m->sample_cdf[v] /= total;
    return ZOO_OK;
}

static int32_t draw(const double *cdf, int64_t V, zoo_rng *rng) {
    double u = (double)(zoo_rng_u64(rng) >> 11) * 0x1.0p-53;
    int64_t lo = 0, hi = V - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (int32_t)lo;
}

int elmo_sampled_softmax(zoo_model *m, zoo_graph *g, zoo_tensor *const h[2],
                         const int32_t *const targets[2], int64_t N, zoo_rng *rng,
                         zoo_tensor *ce[2]) {
    if (!m->sample_cdf && build_cdf(m))
        return zoo_graph_fail(g, ZOO_ERR_NOMEM, "%s", zoo_error_message());
    int64_t V = m->V, S = m->samples;
    int32_t *slot = zoo_graph_alloc(g, (size_t)V * sizeof *slot); /* word -> candidate, -1 */
    int32_t *cand = zoo_graph_alloc(g, (size_t)(2 * N + S) * sizeof *cand);
    int32_t *remapped = zoo_graph_alloc(g, (size_t)(2 * N) * sizeof *remapped);
    if (!slot || !cand || !remapped) return zoo_graph_status(g);
    for (int64_t v = 0; v < V; v++) slot[v] = -1;
    int64_t M = 0;
    for (int d = 0; d < 2; d++)
        for (int64_t i = 0; i < N; i++) {
            int32_t t = targets[d][i];
            if (t == ZOO_IGNORE) {
                remapped[d * N + i] = ZOO_IGNORE;
                continue;
            }
            if (t < 0 || t >= V)
                return zoo_graph_fail(g, ZOO_ERR_ARG,
                                      "elmo: target %d outside the vocabulary [0,%lld)", t,
                                      (long long)V);
            if (slot[t] < 0) slot[t] = (int32_t)M, cand[M++] = t;
            remapped[d * N + i] = slot[t];
        }
    for (int64_t k = 0; k < S; k++) {
        int32_t w = draw(m->sample_cdf, V, rng);
        if (slot[w] < 0) slot[w] = (int32_t)M, cand[M++] = w;
    }
    zoo_tensor *ids = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(M), cand);
    zoo_tensor *correction = zoo_new(g, ZOO_F32, M);
    if (!correction) return zoo_graph_status(g);
    for (int64_t j = 0; j < M; j++) { /* log P(drawn at least once in S draws) */
        int32_t w = cand[j];
        double q = m->sample_cdf[w] - (w ? m->sample_cdf[w - 1] : 0.0);
        zoo_f32(correction)[j] = -(float)log(-expm1((double)S * log1p(-q)));
    }
    zoo_tensor *w = zoo_embedding(g, m->softmax_w, ids); /* [M,P] */
    zoo_tensor *b = zoo_view(g, zoo_embedding(g, zoo_view(g, m->softmax_b, V, 1), ids), M);
    zoo_tensor *bias = zoo_add(g, b, correction); /* [M] */
    for (int d = 0; d < 2; d++) {
        zoo_tensor *logits = zoo_bias_add(g, zoo_matmul(g, h[d], w, false, true), bias);
        zoo_tensor *tg = zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(N), remapped + d * N);
        ce[d] = zoo_cross_entropy(g, logits, tg, ZOO_IGNORE);
    }
    return zoo_graph_status(g);
}

void elmo_softmax_free(zoo_model *m) {
    free(m->sample_cdf);
    m->sample_cdf = NULL;
}
