/* The reverse-mode tape: operators push entries as they run; backward walks
 * them newest first, each entry adding its output's gradient into its inputs'. */
#include <stdlib.h>

#include "internal.h"

bool zoo_wants_grad(const zoo_graph *g, const zoo_tensor *a, const zoo_tensor *b,
                    const zoo_tensor *c, const zoo_tensor *d) {
    if (!g->recording) return false;
    return (a && a->requires_grad) || (b && b->requires_grad) || (c && c->requires_grad) ||
           (d && d->requires_grad);
}

zoo_node *zoo_record(zoo_graph *g, zoo_tensor *out, zoo_backward_fn fn, zoo_tensor *a,
                     zoo_tensor *b, zoo_tensor *c, zoo_tensor *d) {
    zoo_node *n = zoo_graph_alloc(g, sizeof *n);
    if (!n) return NULL;
    *n = (zoo_node){.prev = g->tape, .backward = fn, .out = out, .in = {a, b, c, d}};
    g->tape = n;
    out->requires_grad = true;
    out->node = n;
    return n;
}

float *zoo_grad(zoo_graph *g, zoo_tensor *t) {
    if (!t || !t->requires_grad) return NULL;
    if (t->grad) return t->grad;
    size_t bytes = (size_t)t->numel * sizeof(float);
    if (t->persistent) { /* a parameter's gradient outlives the step */
        t->grad = calloc((size_t)t->numel, sizeof(float));
        if (!t->grad)
            zoo_graph_fail(g, ZOO_ERR_NOMEM, "cannot allocate a gradient of %zu bytes", bytes);
    } else {
        t->grad = zoo_graph_alloc(g, bytes);
        if (t->grad) zoo_zero_floats(t->grad, t->numel);
    }
    return t->grad;
}

float *zoo_grad_write(zoo_graph *g, zoo_tensor *t, bool *fresh) {
    *fresh = false;
    if (!t || !t->requires_grad || t->grad || t->persistent) return zoo_grad(g, t);
    t->grad = zoo_graph_alloc(g, (size_t)t->numel * sizeof(float));
    *fresh = t->grad != NULL;
    return t->grad;
}

int zoo_backward_from(zoo_graph *g, zoo_tensor *out, const float *seed) {
    if (!g) return zoo_error(ZOO_ERR_ARG, "zoo_backward: no graph");
    if (g->status) return zoo_error(g->status, "%s", g->error);
    if (!out) return zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_backward: no output tensor");
    if (!out->requires_grad) return ZOO_OK; /* nothing upstream takes a gradient */
    size_t bytes = (size_t)out->numel * sizeof(float);
    if (!out->grad && !out->persistent) { /* a fresh buffer: copy the seed, no zeroing pass */
        out->grad = zoo_graph_alloc(g, bytes);
        if (!out->grad) return g->status;
        memcpy(out->grad, seed, bytes);
    } else {
        float *grad = zoo_grad(g, out);
        if (!grad) return g->status;
        for (int64_t i = 0; i < out->numel; i++) grad[i] += seed[i];
    }
    for (zoo_node *n = out->node; n && !g->status; n = n->prev)
        if (n->out->grad) n->backward(g, n);
    return g->status;
}

int zoo_backward(zoo_graph *g, zoo_tensor *loss) {
    if (loss && loss->numel != 1)
        return zoo_graph_fail(g, ZOO_ERR_SHAPE,
                              "zoo_backward: the loss must have one element, not %lld",
                              (long long)loss->numel);
    const float one = 1.0f;
    return zoo_backward_from(g, loss, &one);
}
