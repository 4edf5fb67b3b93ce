/* RMS norm over the last axis, in the order of HuggingFace's LlamaRMSNorm:
 * y = (x * r) * w with r = 1 / sqrt(mean(x^2) + eps). One pass over the row
 * for the statistic, one to write y; the forward keeps r per row, all the
 * backward needs. The weight's gradient, a sum over rows, is summed per part
 * of the rows and the parts added in order; the parts are fixed by the
 * shape and the CPU count, so it does not move with the thread count. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef struct rms_job {
    const float *x, *w, *dy; // (R,C) (C: ones in backward when there is no weight) (R,C)
    float *y, *dx;           // (R,C)
    float *rstd;             // (R)
    float *partial;          // (parts, C): dw of each part's rows, or NULL
    int64_t R, C;
    float eps;
    bool fresh_dx; /* dx is uninitialised: store, do not add */
} rms_job;

/* Row sums in eight double lanes: a fixed order that vectorises. */
#define LANES 8

ZOO_VECTOR_CLONES static float inv_rms(const float *x, int64_t C, float eps) {
    double lane[LANES] = {0}, s = 0;
    int64_t c = 0;
    for (; c + LANES <= C; c += LANES)
        for (int k = 0; k < LANES; k++) lane[k] += (double)x[c + k] * x[c + k];
    for (; c < C; c++) s += (double)x[c] * x[c];
    for (int k = 0; k < LANES; k++) s += lane[k];
    return (float)(1.0 / sqrt(s / (double)C + eps));
}

ZOO_VECTOR_CLONES static void forward_rows(void *ctx, int64_t begin, int64_t end) {
    const rms_job *j = ctx;
    int64_t C = j->C;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict xr = j->x + r * C, *restrict w = j->w;
        float *restrict yr = j->y + r * C;
        float s = inv_rms(xr, C, j->eps);
        if (w)
            for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] * s) * w[c];
        else
            for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * s;
        if (j->rstd) j->rstd[r] = s;
    }
}

/* With n = x r and dn = dy w: dx = r (dn - n mean(dn n)), dw = sum over rows of dy n. */
ZOO_VECTOR_CLONES static void backward_rows(void *ctx, int part, int parts) {
    const rms_job *j = ctx;
    int64_t C = j->C, per = (j->R + parts - 1) / parts;
    int64_t r0 = part * per, r1 = r0 + per < j->R ? r0 + per : j->R;
    float *restrict dw = j->partial ? j->partial + (int64_t)part * C : NULL;
    if (dw) memset(dw, 0, (size_t)C * sizeof(float));
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict xr = j->x + r * C, *restrict dyr = j->dy + r * C, *restrict w = j->w;
        float s = j->rstd[r];
        if (dw)
            for (int64_t c = 0; c < C; c++) dw[c] += dyr[c] * (xr[c] * s);
        if (!j->dx) continue;
        double lane[LANES] = {0}, sum = 0;
        int64_t c = 0;
        for (; c + LANES <= C; c += LANES)
            for (int k = 0; k < LANES; k++) lane[k] += (dyr[c + k] * w[c + k]) * (xr[c + k] * s);
        for (; c < C; c++) sum += (dyr[c] * w[c]) * (xr[c] * s);
        for (int k = 0; k < LANES; k++) sum += lane[k];
        float mean_dn = (float)(sum / (double)C);
        float *restrict dxr = j->dx + r * C;
        if (j->fresh_dx)
            for (c = 0; c < C; c++) dxr[c] = s * (dyr[c] * w[c] - (xr[c] * s) * mean_dn);
        else
            for (c = 0; c < C; c++) dxr[c] += s * (dyr[c] * w[c] - (xr[c] * s) * mean_dn);
    }
}

static void rmsnorm_backward(zoo_graph *g, zoo_node *n) {
    rms_job j = {.x = n->in[0]->data,
                 .w = n->in[1] ? n->in[1]->data : NULL,
                 .dy = n->out->grad,
                 .rstd = n->saved,
                 .C = n->iarg[0]};
    j.R = n->out->numel / j.C;
    j.dx = zoo_grad_write(g, n->in[0], &j.fresh_dx);
    float *dw = zoo_grad(g, n->in[1]);
    if (!j.w) { /* no weight: a row of ones keeps the loops free of branches */
        float *ones = zoo_graph_alloc(g, (size_t)j.C * sizeof(float));
        if (!ones) return;
        for (int64_t c = 0; c < j.C; c++) ones[c] = 1.0f;
        j.w = ones;
    }
    /* parts: one per CPU, never rows so few that waking a thread costs more */
    int64_t parts = zoo_cpu_count(), by_size = j.R * j.C / 16384 + 1;
    parts = parts < by_size ? parts : by_size;
    parts = parts < j.R ? parts : j.R;
    if (dw) {
        j.partial = zoo_graph_alloc(g, (size_t)(parts * j.C) * sizeof(float));
        if (!j.partial) return;
    }
    if (!j.dx && !dw) return;
    zoo_parallel_run((int)parts, backward_rows, &j);
    for (int64_t k = 0; dw && k < parts; k++)
        for (int64_t c = 0; c < j.C; c++) dw[c] += j.partial[k * j.C + c];
}

zoo_tensor *zoo_rmsnorm(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, float eps) {
    static const char *op = "zoo_rmsnorm";
    if (!x || g->status || !zoo_check_f32(g, op, x, "x")) return NULL;
    int64_t C = x->shape[x->ndim - 1], R = x->numel / C;
    if (w && !zoo_check_f32(g, op, w, "weight")) return NULL;
    if (w && w->numel != C) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: weight has %lld elements, x's last axis %lld", op,
                       (long long)w->numel, (long long)C);
        return NULL;
    }
    if (!(eps >= 0) || isinf(eps)) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: eps must be finite and >= 0, not %g", op, eps);
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    bool rec = zoo_wants_grad(g, x, w, NULL, NULL);
    float *rstd = rec ? zoo_graph_alloc(g, (size_t)R * sizeof(float)) : NULL;
    if (!out || (rec && !rstd)) return NULL;
    rms_job j = {.x = x->data,
                 .w = w ? w->data : NULL,
                 .y = out->data,
                 .rstd = rstd,
                 .R = R,
                 .C = C,
                 .eps = eps};
    zoo_parallel_for(R, 1 + ZOO_PARALLEL_GRAIN / C, forward_rows, &j);
    if (rec) {
        zoo_node *n = zoo_record(g, out, rmsnorm_backward, x, w, NULL, NULL);
        if (!n) return NULL;
        n->saved = rstd;
        n->iarg[0] = C;
    }
    return out;
}
