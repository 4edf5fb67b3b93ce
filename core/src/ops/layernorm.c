/* Layer norm over the last axis, as llm.c writes it: the forward keeps each
 * row's mean and reciprocal standard deviation, all backward needs. Rows are
 * shared out over the pool; the weight and bias gradients, sums over rows,
 * are summed per worker and then added in worker order (deterministic). */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef struct ln_job {
    const float *x, *w, *b, *dy; // (R,C) (C) (C) (R,C)
    float *y, *dx;               // (R,C)
    float *mean, *rstd;          // (R)
    float *partial;              // (workers, 2C): dw then db of each worker's rows
    int64_t R, C;
    float eps;
    bool fresh_dx; /* dx is uninitialised: store, do not add */
} ln_job;

static void rows_of(const ln_job *j, int index, int n, int64_t *r0, int64_t *r1) {
    int64_t per = (j->R + n - 1) / n;
    *r0 = index * per, *r1 = *r0 + per < j->R ? *r0 + per : j->R;
}

/* Row sums run in eight double lanes (a fixed order, so that the loops
 * vectorise and the result does not depend on the thread count). */
#define LANES 8

ZOO_VECTOR_CLONES static void moments(const float *x, int64_t C, float *mean, float *rstd,
                                      float eps) {
    double lane[LANES] = {0}, m = 0, v = 0;
    int64_t c = 0;
    for (; c + LANES <= C; c += LANES)
        for (int k = 0; k < LANES; k++) lane[k] += x[c + k];
    for (; c < C; c++) m += x[c];
    for (int k = 0; k < LANES; k++) m += lane[k], lane[k] = 0;
    m /= (double)C;
    for (c = 0; c + LANES <= C; c += LANES)
        for (int k = 0; k < LANES; k++) lane[k] += ((double)x[c + k] - m) * ((double)x[c + k] - m);
    for (; c < C; c++) v += ((double)x[c] - m) * ((double)x[c] - m);
    for (int k = 0; k < LANES; k++) v += lane[k];
    v /= (double)C;
    *mean = (float)m, *rstd = (float)(1.0 / sqrt(v + eps));
}

ZOO_VECTOR_CLONES static void forward_rows(void *ctx, int index, int n) {
    const ln_job *j = ctx;
    int64_t r0, r1, C = j->C;
    rows_of(j, index, n, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict xr = j->x + r * C, *restrict w = j->w, *restrict b = j->b;
        float *restrict yr = j->y + r * C;
        float mu, s;
        moments(xr, C, &mu, &s, j->eps);
        if (w && b)
            for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - mu) * s * w[c] + b[c];
        else
            for (int64_t c = 0; c < C; c++)
                yr[c] = (xr[c] - mu) * s * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        if (j->mean) j->mean[r] = mu, j->rstd[r] = s;
    }
}

ZOO_VECTOR_CLONES static void backward_rows(void *ctx, int index, int n) {
    const ln_job *j = ctx;
    int64_t r0, r1, C = j->C;
    rows_of(j, index, n, &r0, &r1);
    float *restrict dw = j->partial + (int64_t)index * 2 * C, *restrict db = dw + C;
    memset(dw, 0, (size_t)(2 * C) * sizeof(float));
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict xr = j->x + r * C, *restrict dyr = j->dy + r * C, *restrict w = j->w;
        float mu = j->mean[r], s = j->rstd[r];
        /* two reductions over the row: mean(dnorm) and mean(dnorm * norm) */
        double lane_d[LANES] = {0}, lane_dn[LANES] = {0}, sum_d = 0, sum_dn = 0;
        int64_t c = 0;
        for (; c + LANES <= C; c += LANES)
            for (int k = 0; k < LANES; k++) {
                float norm = (xr[c + k] - mu) * s, dnorm = dyr[c + k] * (w ? w[c + k] : 1.0f);
                lane_d[k] += dnorm;
                lane_dn[k] += dnorm * norm;
            }
        for (; c < C; c++) {
            float norm = (xr[c] - mu) * s, dnorm = dyr[c] * (w ? w[c] : 1.0f);
            sum_d += dnorm;
            sum_dn += dnorm * norm;
        }
        for (int k = 0; k < LANES; k++) sum_d += lane_d[k], sum_dn += lane_dn[k];
        for (c = 0; c < C; c++) {
            float norm = (xr[c] - mu) * s;
            dw[c] += dyr[c] * norm;
            db[c] += dyr[c];
        }
        if (!j->dx) continue;
        float mean_d = (float)(sum_d / (double)C), mean_dn = (float)(sum_dn / (double)C);
        float *restrict dxr = j->dx + r * C;
        if (j->fresh_dx) memset(dxr, 0, (size_t)C * sizeof(float)); /* in cache, then added to */
        for (c = 0; c < C; c++) {
            float norm = (xr[c] - mu) * s;
            float dnorm = dyr[c] * (w ? w[c] : 1.0f);
            dxr[c] += s * (dnorm - mean_d - norm * mean_dn);
        }
    }
}

/* Workers for R rows: one per CPU, but never rows so few that waking one
 * costs more. The CPU count, not the thread count: backward sums the weight
 * and bias gradients in one partial per worker, and that split must not move
 * with --threads. */
static int workers_for(int64_t R, int64_t C) {
    int n = zoo_cpu_count();
    int64_t by_size = R * C / 16384 + 1;
    return (int)(n < by_size ? n : by_size < R ? by_size : R);
}

static void layernorm_backward(zoo_graph *g, zoo_node *n) {
    ln_job j = {.x = n->in[0]->data,
                .w = n->in[1] ? n->in[1]->data : NULL,
                .dy = n->out->grad,
                .mean = n->saved,
                .rstd = n->saved2,
                .C = n->iarg[0]};
    j.R = n->out->numel / j.C;
    j.dx = zoo_grad_write(g, n->in[0], &j.fresh_dx);
    float *dw = zoo_grad(g, n->in[1]), *db = zoo_grad(g, n->in[2]);
    int workers = workers_for(j.R, j.C);
    j.partial = zoo_graph_alloc(g, (size_t)workers * 2 * (size_t)j.C * sizeof(float));
    if (!j.partial) return;
    zoo_parallel_run(workers, backward_rows, &j);
    for (int k = 0; k < workers; k++) {
        const float *pw = j.partial + (int64_t)k * 2 * j.C, *pb = pw + j.C;
        for (int64_t c = 0; dw && c < j.C; c++) dw[c] += pw[c];
        for (int64_t c = 0; db && c < j.C; c++) db[c] += pb[c];
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
    ln_job j = {.x = x->data,
                .w = w ? w->data : NULL,
                .b = b ? b->data : NULL,
                .y = out->data,
                .mean = mean,
                .rstd = rstd,
                .R = R,
                .C = C,
                .eps = eps};
    zoo_parallel_run(workers_for(R, C), forward_rows, &j);
    if (rec) {
        zoo_node *n = zoo_record(g, out, layernorm_backward, x, w, b, NULL);
        if (!n) return NULL;
        n->saved = mean, n->saved2 = rstd;
        n->iarg[0] = C;
    }
    return out;
}
