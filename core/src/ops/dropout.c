/* Inverted dropout: the kept elements are scaled at training time so that
 * inference is the identity. The mask is kept as one byte per element. */
#include "zoo/fastmath.h"
#include "internal.h"

ZOO_VECTOR_CLONES static void scale_kept(const float *x, const unsigned char *keep, float scale,
                                         float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = keep[i] ? x[i] * scale : 0.0f;
}

ZOO_VECTOR_CLONES static void add_scaled_kept(const float *dy, const unsigned char *keep,
                                              float scale, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] += keep[i] ? dy[i] * scale : 0.0f;
}

static void dropout_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    add_scaled_kept(n->out->grad, n->saved, n->farg[0], dx, n->out->numel);
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
    /* two 24-bit uniforms from each 64-bit draw: the generator was most of the op's time */
    for (int64_t i = 0; i < x->numel; i += 2) {
        uint64_t bits = zoo_rng_u64(rng);
        keep[i] = (float)(bits >> 40) * 0x1.0p-24f >= p;
        if (i + 1 < x->numel) keep[i + 1] = (float)((bits >> 8) & 0xFFFFFF) * 0x1.0p-24f >= p;
    }
    scale_kept(x->data, keep, scale, out->data, x->numel);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, dropout_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->saved = keep;
        n->farg[0] = scale;
    }
    return out;
}
