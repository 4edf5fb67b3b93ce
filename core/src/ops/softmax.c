/* softmax, log-softmax and the fused softmax cross-entropy, all over the
 * last axis, with the max subtracted before exponentiating. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

/* A row's log-sum-exp kept as two parts, max and log(sum(exp(x - max))):
 * folded into one float, a large max would cost the result its low bits. */
typedef struct row_lse {
    float max, log_sum;
} row_lse;

/* Eight independent lanes, so the loops vectorise (a single running max or
 * sum is a chain the compiler may not reorder); the sum gathers each block
 * of 256 in float and the blocks in double, which keeps it as accurate as a
 * double sum for rows as long as a vocabulary. */
#define LANES 8
#define SUM_BLOCK 256

ZOO_VECTOR_CLONES static row_lse row_logsumexp(const float *x, int64_t V) {
    float lane_max[LANES];
    for (int k = 0; k < LANES; k++) lane_max[k] = x[0];
    int64_t v = 0;
    for (; v + LANES <= V; v += LANES)
        for (int k = 0; k < LANES; k++)
            lane_max[k] = x[v + k] > lane_max[k] ? x[v + k] : lane_max[k];
    float mx = x[0];
    for (; v < V; v++) mx = x[v] > mx ? x[v] : mx;
    for (int k = 0; k < LANES; k++) mx = lane_max[k] > mx ? lane_max[k] : mx;
    double sum = 0;
    for (int64_t block = 0; block < V; block += SUM_BLOCK) {
        int64_t end = block + SUM_BLOCK < V ? block + SUM_BLOCK : V;
        float lane_sum[LANES] = {0}, tail = 0;
        for (v = block; v + LANES <= end; v += LANES)
            for (int k = 0; k < LANES; k++) lane_sum[k] += zoo_expf(x[v + k] - mx);
        for (; v < end; v++) tail += zoo_expf(x[v] - mx);
        for (int k = 0; k < LANES; k++) tail += lane_sum[k];
        sum += tail;
    }
    /* sum >= 1: the max term is exp(0); rows are never empty (V >= 1) */
    // cppcheck-suppress invalidFunctionArg
    return (row_lse){mx, (float)log(sum)};
}

/* log softmax of x[v] given its row's lse */
static inline float log_prob(float x, row_lse l) {
    return (x - l.max) - l.log_sum;
}

/* --- softmax / log_softmax --------------------------------------------- */

typedef struct rows_args {
    const float *x;
    float *y;
    int64_t V;
    bool log;
} rows_args;

static void softmax_rows(void *ctx, int64_t begin, int64_t end) {
    rows_args *a = ctx;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * a->V;
        float *y = a->y + r * a->V;
        row_lse l = row_logsumexp(x, a->V);
        for (int64_t v = 0; v < a->V; v++)
            y[v] = a->log ? log_prob(x[v], l) : zoo_expf(log_prob(x[v], l));
    }
}

static void softmax_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    bool log = n->iarg[1];
    int64_t V = n->iarg[0], R = n->out->numel / V;
    const float *y = n->out->data, *dy = n->out->grad;
    for (int64_t r = 0; r < R; r++) {
        const float *yr = y + r * V, *dyr = dy + r * V;
        float *dxr = dx + r * V;
        double dot = 0;
        if (log) { /* dx = dy - softmax * sum(dy) */
            for (int64_t v = 0; v < V; v++) dot += dyr[v];
            for (int64_t v = 0; v < V; v++) dxr[v] += dyr[v] - zoo_expf(yr[v]) * (float)dot;
        } else { /* dx = y * (dy - sum(dy * y)) */
            for (int64_t v = 0; v < V; v++) dot += dyr[v] * yr[v];
            for (int64_t v = 0; v < V; v++) dxr[v] += yr[v] * (dyr[v] - (float)dot);
        }
    }
}

static zoo_tensor *softmax_op(zoo_graph *g, zoo_tensor *x, bool log) {
    const char *op = log ? "zoo_log_softmax" : "zoo_softmax";
    if (!x || g->status || !zoo_check_f32(g, op, x, "x")) return NULL;
    zoo_tensor *out = zoo_like(g, x);
    if (!out) return NULL;
    int64_t V = x->shape[x->ndim - 1];
    rows_args a = {x->data, out->data, V, log};
    zoo_parallel_for(x->numel / V, 1 + ZOO_PARALLEL_GRAIN / V, softmax_rows, &a);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, softmax_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->iarg[0] = V, n->iarg[1] = log;
    }
    return out;
}

zoo_tensor *zoo_softmax(zoo_graph *g, zoo_tensor *x) {
    return softmax_op(g, x, false);
}
zoo_tensor *zoo_log_softmax(zoo_graph *g, zoo_tensor *x) {
    return softmax_op(g, x, true);
}

/* --- cross_entropy ------------------------------------------------------ */

/* Keeps only each row's log-sum-exp; the backward recomputes the softmax
 * from the logits rather than storing [R,V] probabilities. */
typedef struct ce_args {
    const float *logits;
    const int32_t *targets;
    row_lse *lse;       /* (R) */
    float *row_loss;    /* (R) */
    const float *dloss; /* backward: the loss gradient / count */
    float *dlogits;     /* (R,V) */
    bool fresh;         /* dlogits is uninitialised: store, do not add */
    int64_t V;
    int32_t ignore_index;
} ce_args;

static void ce_forward_rows(void *ctx, int64_t begin, int64_t end) {
    ce_args *a = ctx;
    for (int64_t r = begin; r < end; r++) {
        int32_t t = a->targets[r];
        if (t == a->ignore_index) {
            a->row_loss[r] = 0;
            continue;
        }
        const float *x = a->logits + r * a->V;
        a->lse[r] = row_logsumexp(x, a->V);
        a->row_loss[r] = -log_prob(x[t], a->lse[r]);
    }
}

ZOO_VECTOR_CLONES static void ce_backward_rows(void *ctx, int64_t begin, int64_t end) {
    ce_args *a = ctx;
    float d = *a->dloss;
    for (int64_t r = begin; r < end; r++) {
        int32_t t = a->targets[r];
        float *restrict dx = a->dlogits + r * a->V;
        if (t == a->ignore_index) {
            if (a->fresh) memset(dx, 0, (size_t)a->V * sizeof(float));
            continue;
        }
        const float *restrict x = a->logits + r * a->V;
        row_lse lse = a->lse[r];
        if (a->fresh)
            for (int64_t v = 0; v < a->V; v++) dx[v] = d * zoo_expf(log_prob(x[v], lse));
        else
            for (int64_t v = 0; v < a->V; v++) dx[v] += d * zoo_expf(log_prob(x[v], lse));
        dx[t] -= d;
    }
}

static void cross_entropy_backward(zoo_graph *g, zoo_node *n) {
    if (n->iarg[1] == 0) { /* every target ignored: a zero gradient */
        zoo_grad(g, n->in[0]);
        return;
    }
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    if (!dx) return;
    int64_t V = n->iarg[0], R = n->in[0]->numel / V;
    float d = n->out->grad[0] / (float)n->iarg[1];
    ce_args a = {.logits = n->in[0]->data,
                 .targets = n->in[1]->data,
                 .lse = n->saved,
                 .dloss = &d,
                 .dlogits = dx,
                 .fresh = fresh,
                 .V = V,
                 .ignore_index = (int32_t)n->iarg[2]};
    zoo_parallel_for(R, 1 + ZOO_PARALLEL_GRAIN / V, ce_backward_rows, &a);
}

zoo_tensor *zoo_cross_entropy(zoo_graph *g, zoo_tensor *logits, zoo_tensor *targets,
                              int32_t ignore_index) {
    static const char *op = "zoo_cross_entropy";
    if (!logits || !targets || g->status) return NULL;
    if (!zoo_check_f32(g, op, logits, "logits") || !zoo_check_i32(g, op, targets, "targets"))
        return NULL;
    int64_t V = logits->shape[logits->ndim - 1], R = logits->numel / V;
    char sl[64], st[64];
    if (targets->numel != R || targets->ndim != (logits->ndim > 1 ? logits->ndim - 1 : 1)) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: targets %s do not match logits %s", op,
                       zoo_shape_str(targets, st, sizeof st), zoo_shape_str(logits, sl, sizeof sl));
        return NULL;
    }
    const int32_t *t = targets->data;
    int64_t count = 0;
    for (int64_t r = 0; r < R; r++) {
        if (t[r] == ignore_index) continue;
        if (t[r] < 0 || t[r] >= V) {
            zoo_graph_fail(g, ZOO_ERR_ARG, "%s: target %d at position %lld is outside [0, %lld)",
                           op, t[r], (long long)r, (long long)V);
            return NULL;
        }
        count++;
    }
    if (g->count_sum) { /* a slice of a global batch: divide by the global count */
        count = g->count_sum(g->count_sum_ctx, count);
        if (count < 0) {
            zoo_graph_fail(g, ZOO_ERR_IO, "%s: summing the count of targets over the processes: %s",
                           op, zoo_error_message());
            return NULL;
        }
    }
    zoo_tensor *out = zoo_new(g, ZOO_F32, 1);
    row_lse *lse = zoo_graph_alloc(g, (size_t)R * sizeof *lse);
    float *row_loss = zoo_graph_alloc(g, (size_t)R * sizeof(float));
    if (!out || !lse || !row_loss) return NULL;
    ce_args a = {.logits = logits->data,
                 .targets = t,
                 .lse = lse,
                 .row_loss = row_loss,
                 .V = V,
                 .ignore_index = ignore_index};
    zoo_parallel_for(R, 1 + ZOO_PARALLEL_GRAIN / V, ce_forward_rows, &a);
    double total = 0;
    for (int64_t r = 0; r < R; r++) total += row_loss[r];
    zoo_f32(out)[0] = count ? (float)(total / (double)count) : 0.0f;
    if (zoo_wants_grad(g, logits, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, cross_entropy_backward, logits, targets, NULL, NULL);
        if (!n) return NULL;
        n->saved = lse;
        n->iarg[0] = V, n->iarg[1] = count, n->iarg[2] = ignore_index;
    }
    return out;
}
