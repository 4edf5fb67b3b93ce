/* Inverted dropout: the kept elements are scaled at training time so that
 * inference is the identity. The mask is kept as one byte per element. */
#include "internal.h"

static void dropout_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    const unsigned char *keep = n->saved;
    const float *dy = n->out->grad;
    float scale = n->farg[0];
    for (int64_t i = 0; i < n->out->numel; i++)
        if (keep[i]) dx[i] += dy[i] * scale;
}

zoo_tensor *zoo_dropout(zoo_graph *g, zoo_tensor *x, float p, zoo_rng *rng) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_dropout", x, "x")) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_dropout: probability %g is outside [0, 1)", p);
        return NULL;
    }
    if (!g->training || p == 0.0f) return x;
    if (!rng) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_dropout: training mode needs a random generator");
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    unsigned char *keep = zoo_graph_alloc(g, (size_t)x->numel);
    if (!out || !keep) return NULL;
    float scale = 1.0f / (1.0f - p);
    const float *in = x->data;
    float *y = out->data;
    for (int64_t i = 0; i < x->numel; i++) {
        keep[i] = zoo_rng_uniform(rng) >= p;
        y[i] = keep[i] ? in[i] * scale : 0.0f;
    }
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, dropout_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->saved = keep;
        n->farg[0] = scale;
    }
    return out;
}
