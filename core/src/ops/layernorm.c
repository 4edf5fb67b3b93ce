/* Layer norm over the last axis, as llm.c writes it: the forward keeps each
 * row's mean and reciprocal standard deviation, all backward needs. */
#include <math.h>

#include "internal.h"

static void layernorm_backward(zoo_graph *g, zoo_node *n) {
    int64_t C = n->iarg[0], R = n->out->numel / C;
    const float *x = n->in[0]->data, *w = n->in[1] ? n->in[1]->data : NULL;
    const float *mean = n->saved, *rstd = n->saved2, *dy = n->out->grad; /* (R) (R) (R,C) */
    float *dx = zoo_grad(g, n->in[0]), *dw = zoo_grad(g, n->in[1]), *db = zoo_grad(g, n->in[2]);
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * C, *dyr = dy + r * C;
        /* two reductions over the row: mean(dnorm) and mean(dnorm * norm) */
        double sum_d = 0, sum_dn = 0;
        for (int64_t c = 0; c < C; c++) {
            float norm = (xr[c] - mean[r]) * rstd[r];
            float dnorm = dyr[c] * (w ? w[c] : 1.0f);
            sum_d += dnorm;
            sum_dn += dnorm * norm;
            if (dw) dw[c] += dyr[c] * norm;
            if (db) db[c] += dyr[c];
        }
        if (!dx) continue;
        float mean_d = (float)(sum_d / (double)C), mean_dn = (float)(sum_dn / (double)C);
        float *dxr = dx + r * C;
        for (int64_t c = 0; c < C; c++) {
            float norm = (xr[c] - mean[r]) * rstd[r];
            float dnorm = dyr[c] * (w ? w[c] : 1.0f);
            dxr[c] += rstd[r] * (dnorm - mean_d - norm * mean_dn);
        }
    }
}

zoo_tensor *zoo_layernorm(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *b, float eps) {
    static const char *op = "zoo_layernorm";
    if (!x || g->status || !zoo_check_f32(g, op, x, "x")) return NULL;
    int64_t C = x->shape[x->ndim - 1], R = x->numel / C;
    for (int k = 0; k < 2; k++) {
        zoo_tensor *p = k ? b : w;
        if (p && (!zoo_check_f32(g, op, p, k ? "bias" : "weight") || p->numel != C)) {
            if (!g->status)
                zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: %s has %lld elements, x's last axis %lld", op,
                               k ? "bias" : "weight", (long long)p->numel, (long long)C);
            return NULL;
        }
    }
    zoo_tensor *out = zoo_like(g, x);
    bool rec = zoo_wants_grad(g, x, w, b, NULL);
    float *mean = rec ? zoo_graph_alloc(g, (size_t)R * sizeof(float)) : NULL;
    float *rstd = rec ? zoo_graph_alloc(g, (size_t)R * sizeof(float)) : NULL;
    if (!out || (rec && (!mean || !rstd))) return NULL;
    const float *in = x->data, *wd = w ? w->data : NULL, *bd = b ? b->data : NULL;
    float *y = out->data;
    for (int64_t r = 0; r < R; r++) {
        const float *xr = in + r * C;
        double m = 0, v = 0;
        for (int64_t c = 0; c < C; c++) m += xr[c];
        m /= (double)C;
        for (int64_t c = 0; c < C; c++) v += (xr[c] - m) * (xr[c] - m);
        v /= (double)C;
        float mu = (float)m, s = (float)(1.0 / sqrt(v + eps));
        for (int64_t c = 0; c < C; c++)
            y[r * C + c] = (xr[c] - mu) * s * (wd ? wd[c] : 1.0f) + (bd ? bd[c] : 0.0f);
        if (rec) mean[r] = mu, rstd[r] = s;
    }
    if (rec) {
        zoo_node *n = zoo_record(g, out, layernorm_backward, x, w, b, NULL);
        if (!n) return NULL;
        n->saved = mean, n->saved2 = rstd;
        n->iarg[0] = C;
    }
    return out;
}
