/* sum and mean over one axis, viewing x as [outer, len, inner]. */
#include "internal.h"

static void reduce_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    int64_t outer = n->iarg[0], len = n->iarg[1], inner = n->iarg[2];
    float scale = n->farg[0];
    const float *dy = n->out->grad; /* (outer, inner) */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++)
                dx[(o * len + l) * inner + i] += scale * dy[o * inner + i];
}

static zoo_tensor *reduce(zoo_graph *g, zoo_tensor *x, int axis, bool mean, const char *op) {
    if (!x || g->status || !zoo_check_f32(g, op, x, "x") || !zoo_check_axis(g, op, x, &axis))
        return NULL;
    int64_t outer = zoo_dims(x, 0, axis), len = x->shape[axis],
            inner = zoo_dims(x, axis + 1, x->ndim);
    int64_t shape[ZOO_MAX_DIMS];
    int ndim = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != axis) shape[ndim++] = x->shape[i];
    if (ndim == 0) shape[ndim++] = 1;
    zoo_tensor *out = zoo_tensor_zeros(g, ZOO_F32, ndim, shape);
    if (!out) return NULL;
    float scale = mean ? 1.0f / (float)len : 1.0f;
    const float *in = x->data;
    float *y = out->data; /* (outer, inner) */
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++) y[o * inner + i] += in[(o * len + l) * inner + i];
        for (int64_t i = 0; i < inner; i++) y[o * inner + i] *= scale;
    }
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, reduce_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->iarg[0] = outer, n->iarg[1] = len, n->iarg[2] = inner;
        n->farg[0] = scale;
    }
    return out;
}

zoo_tensor *zoo_sum(zoo_graph *g, zoo_tensor *x, int axis) {
    return reduce(g, x, axis, false, "zoo_sum");
}
zoo_tensor *zoo_mean(zoo_graph *g, zoo_tensor *x, int axis) {
    return reduce(g, x, axis, true, "zoo_mean");
}
