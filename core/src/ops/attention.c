/* Fused multi-head scaled dot-product attention: forward and backward side by side.
 *
 * Heads are never split into their own tensors: head h of q, k, v is the
 * column block h*hs..(h+1)*hs of a [T, ld] matrix (ld = C, or 3C when q|k|v
 * are packed), and every product addresses it in place through the BLAS
 * leading dimension. The only thing kept for backward is the attention
 * weights P [B,NH,T,T]; masked entries of P are exactly 0, which is what
 * makes masking, causality and empty rows fall out of the same formulas. */
#include <cblas.h>
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"

/* Rows of a causal head are processed in blocks of this many, so that a block
 * multiplies only against the keys it can see (about half the work for long T). */
#define ATTN_CAUSAL_BLOCK 64

/* Row reductions run in eight lanes so that GCC vectorises them (a float
 * sum or max in one accumulator has an order it must keep). */
#define LANES 8

/* Softmax of rows [t0, t0+rows) of one head's scores in place. Row t sees key j
 * when j <= t (causal) and mask[j] != 0 (mask may be NULL). Only columns
 * < cols hold scores; every other entry of the row is set to 0. */
ZOO_VECTOR_CLONES static void masked_softmax_rows(float *p,            // (T,T) scores, then weights
                                                  const int32_t *mask, // (T) or NULL
                                                  int T, int t0, int rows, int cols, bool causal) {
    for (int t = t0; t < t0 + rows; t++) {
        float *restrict row = p + (int64_t)t * T;
        int limit = causal ? t + 1 : cols, j;
        float lane[LANES], maxv = -INFINITY, sum = 0.0f;
        for (int k = 0; k < LANES; k++) lane[k] = -INFINITY;
        for (j = 0; j + LANES <= limit; j += LANES)
            for (int k = 0; k < LANES; k++) {
                float v = !mask || mask[j + k] ? row[j + k] : -INFINITY;
                lane[k] = v > lane[k] ? v : lane[k];
            }
        for (; j < limit; j++)
            if ((!mask || mask[j]) && row[j] > maxv) maxv = row[j];
        for (int k = 0; k < LANES; k++) maxv = lane[k] > maxv ? lane[k] : maxv, lane[k] = 0.0f;
        if (maxv == -INFINITY) limit = 0; /* no visible key: the row and its output stay 0 */
        for (j = 0; j + LANES <= limit; j += LANES)
            for (int k = 0; k < LANES; k++) {
                float e = !mask || mask[j + k] ? zoo_expf(row[j + k] - maxv) : 0.0f;
                row[j + k] = e;
                lane[k] += e;
            }
        for (; j < limit; j++) {
            row[j] = !mask || mask[j] ? zoo_expf(row[j] - maxv) : 0.0f;
            sum += row[j];
        }
        for (; j < T; j++) row[j] = 0.0f;
        for (int k = 0; k < LANES; k++) sum += lane[k];
        float inv = limit > 0 ? 1.0f / sum : 0.0f;
        for (j = 0; j < limit; j++) row[j] *= inv;
    }
}

/* Softmax backward over `rows` rows of `cols` columns, in place on dP:
 * dS = P * (dP - rowsum(dP * P)). Masked entries (P = 0) give dS = 0. */
ZOO_VECTOR_CLONES static void softmax_backward_rows(const float *p, float *dp, int T, int rows,
                                                    int cols) {
    for (int r = 0; r < rows; r++) {
        const float *restrict pr = p + (int64_t)r * T;
        float *restrict dr = dp + (int64_t)r * T;
        float lane[LANES] = {0}, dot = 0.0f;
        int c = 0;
        for (; c + LANES <= cols; c += LANES)
            for (int k = 0; k < LANES; k++) lane[k] += dr[c + k] * pr[c + k];
        for (; c < cols; c++) dot += dr[c] * pr[c];
        for (int k = 0; k < LANES; k++) dot += lane[k];
        for (c = 0; c < cols; c++) dr[c] = pr[c] * (dr[c] - dot);
    }
}

/* Everything one (batch, head) pair needs; pairs are independent (they
 * write disjoint blocks of out, att and the gradients), so workers of the
 * pool take them in turn. */
typedef struct attn_job {
    const float *q, *k, *v;     // (B,T,ld) head h at columns h*hs
    const int32_t *mask;        // (B,T) or NULL
    float *out;                 // (B,T,C)
    float *att;                 // (B,NH,T,T) kept weights, or NULL
    float *scratch;             // per worker: (T,T) weights when not kept / (block,T) of dP
    const float *dout;          // (B,T,C) backward only
    float *dq, *dk, *dv;        // (B,T,ld) each, or NULL; may alias one another
    int B, T, C, NH, ld, block; // block: rows per causal block
    bool causal;
    float scale;
} attn_job;

static void head_forward(const attn_job *j, int b, int h, float *p /* (T,T) */) {
    int T = j->T, C = j->C, ld = j->ld, hs = C / j->NH;
    int64_t off = (int64_t)b * T * ld + (int64_t)h * hs;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off;
    const int32_t *mask = j->mask ? j->mask + (int64_t)b * T : NULL;
    float *oh = j->out + (int64_t)b * T * C + (int64_t)h * hs;
    for (int t0 = 0; t0 < T; t0 += j->block) {
        int rows = T - t0 < j->block ? T - t0 : j->block;
        int cols = j->causal ? t0 + rows : T;
        float *pb = p + (int64_t)t0 * T;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hs, j->scale,
                    qh + (int64_t)t0 * ld, ld, kh, ld, 0.0f, pb, T);
        masked_softmax_rows(p, mask, T, t0, rows, cols, j->causal);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, cols, 1.0f, pb, T, vh, ld,
                    0.0f, oh + (int64_t)t0 * C, C);
    }
}

static void head_backward(const attn_job *j, int b, int h, float *dp /* (block,T) */) {
    int T = j->T, C = j->C, ld = j->ld, hs = C / j->NH;
    int64_t off = (int64_t)b * T * ld + (int64_t)h * hs;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off;
    const float *doh = j->dout + (int64_t)b * T * C + (int64_t)h * hs;
    const float *p = j->att + ((int64_t)b * j->NH + h) * T * T;
    for (int t0 = 0; t0 < T; t0 += j->block) {
        int rows = T - t0 < j->block ? T - t0 : j->block;
        int cols = j->causal ? t0 + rows : T;
        const float *pb = p + (int64_t)t0 * T, *dob = doh + (int64_t)t0 * C;
        if (j->dv) /* dV[0:cols] += P[rows,0:cols]^T dO[rows] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hs, rows, 1.0f, pb, T, dob,
                        C, 1.0f, j->dv + off, ld);
        if (!j->dq && !j->dk) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hs, 1.0f, dob, C, vh, ld,
                    0.0f, dp, T);
        softmax_backward_rows(pb, dp, T, rows, cols);
        if (j->dq)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, cols, j->scale, dp, T,
                        kh, ld, 1.0f, j->dq + off + (int64_t)t0 * ld, ld);
        if (j->dk)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hs, rows, j->scale, dp, T,
                        qh + (int64_t)t0 * ld, ld, 1.0f, j->dk + off, ld);
    }
}

static void forward_worker(void *ctx, int index, int n_workers) {
    const attn_job *j = ctx;
    for (int i = index; i < j->B * j->NH; i += n_workers) {
        float *p =
            j->att ? j->att + (int64_t)i * j->T * j->T : j->scratch + (int64_t)index * j->T * j->T;
        head_forward(j, i / j->NH, i % j->NH, p);
    }
}

static void backward_worker(void *ctx, int index, int n_workers) {
    const attn_job *j = ctx;
    float *dp = j->scratch ? j->scratch + (int64_t)index * j->block * j->T : NULL;
    for (int i = index; i < j->B * j->NH; i += n_workers)
        head_backward(j, i / j->NH, i % j->NH, dp);
}

/* One worker per pool thread, but never more than there are heads to share. */
static int worker_count(const attn_job *j) {
    int n = zoo_threads_count();
    return n < j->B * j->NH ? n : j->B * j->NH;
}

static void attention_node_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    attn_job j = {.q = q->data,
                  .att = n->saved,
                  .dout = n->out->grad,
                  .B = (int)q->shape[0],
                  .T = (int)q->shape[1],
                  .ld = (int)q->shape[2],
                  .C = (int)n->out->shape[2],
                  .NH = (int)n->iarg[0],
                  .causal = n->iarg[1] != 0,
                  .scale = n->farg[0]};
    if (k) { /* separate q, k, v */
        j.k = k->data, j.v = v->data;
        j.dq = zoo_grad(g, q), j.dk = zoo_grad(g, k), j.dv = zoo_grad(g, v);
    } else { /* packed q|k|v: one gradient buffer, addressed like the data */
        j.k = j.q + j.C, j.v = j.q + 2 * j.C;
        float *d = zoo_grad(g, q);
        j.dq = d, j.dk = d ? d + j.C : NULL, j.dv = d ? d + 2 * j.C : NULL;
    }
    if (g->status) return;
    j.block = j.causal && j.T > ATTN_CAUSAL_BLOCK ? ATTN_CAUSAL_BLOCK : j.T;
    int workers = worker_count(&j);
    if (j.dq || j.dk) {
        j.scratch = zoo_graph_alloc(g, (size_t)workers * j.block * j.T * sizeof(float));
        if (!j.scratch) return;
    }
    zoo_parallel_run(workers, backward_worker, &j);
}

static bool attention_check(zoo_graph *g, const zoo_tensor *q, const zoo_tensor *k,
                            const zoo_tensor *v, int n_head, const zoo_tensor *key_mask) {
    const char *op = "zoo_attention";
    char sq[64];
    zoo_shape_str(q, sq, sizeof sq);
    if (!zoo_check_f32(g, op, q, "q")) return false;
    if (q->ndim != 3) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: q must have 3 dimensions [B,T,C], not %s", op, sq);
        return false;
    }
    if (n_head < 1) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: n_head must be at least 1, not %d (q %s)", op, n_head,
                       sq);
        return false;
    }
    if (!k != !v) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "%s: k and v must both be given, or both NULL with packed q|k|v (q %s)", op,
                       sq);
        return false;
    }
    int64_t C = q->shape[2];
    if (k) {
        if (!zoo_check_f32(g, op, k, "k") || !zoo_check_f32(g, op, v, "v")) return false;
        if (!zoo_tensor_same_shape(q, k) || !zoo_tensor_same_shape(q, v)) {
            char sk[64], sv[64];
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: q %s, k %s and v %s must have the same shape", op,
                           sq, zoo_shape_str(k, sk, sizeof sk), zoo_shape_str(v, sv, sizeof sv));
            return false;
        }
    } else {
        if (C % 3 != 0) {
            zoo_graph_fail(g, ZOO_ERR_SHAPE,
                           "%s: packed q|k|v %s: last axis %lld is not divisible by 3", op, sq,
                           (long long)C);
            return false;
        }
        C /= 3;
    }
    if (C % n_head != 0) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: C = %lld (q %s) is not divisible by n_head = %d", op,
                       (long long)C, sq, n_head);
        return false;
    }
    if (key_mask) {
        if (!zoo_check_i32(g, op, key_mask, "key_mask")) return false;
        if (key_mask->ndim != 2 || key_mask->shape[0] != q->shape[0] ||
            key_mask->shape[1] != q->shape[1]) {
            char sm[64];
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: key_mask must be [B,T] = [%lld,%lld], not %s", op,
                           (long long)q->shape[0], (long long)q->shape[1],
                           zoo_shape_str(key_mask, sm, sizeof sm));
            return false;
        }
    }
    return true;
}

zoo_tensor *zoo_attention(zoo_graph *g, zoo_tensor *q, zoo_tensor *k, zoo_tensor *v, int n_head,
                          bool causal, zoo_tensor *key_mask) {
    if (!q || g->status || !attention_check(g, q, k, v, n_head, key_mask)) return NULL;
    int B = (int)q->shape[0], T = (int)q->shape[1], ld = (int)q->shape[2];
    int C = k ? ld : ld / 3;
    zoo_tensor *out = zoo_new(g, ZOO_F32, B, T, C);
    if (!out) return NULL;
    bool keep = zoo_wants_grad(g, q, k, v, NULL);
    attn_job j = {.q = q->data,
                  .k = k ? k->data : zoo_f32(q) + C,
                  .v = k ? v->data : zoo_f32(q) + 2 * C,
                  .mask = key_mask ? zoo_i32(key_mask) : NULL,
                  .out = out->data,
                  .B = B,
                  .T = T,
                  .C = C,
                  .NH = n_head,
                  .ld = ld,
                  .block = causal ? ATTN_CAUSAL_BLOCK : T,
                  .causal = causal,
                  .scale = (float)(1.0 / sqrt((double)(C / n_head)))};
    int workers = worker_count(&j);
    /* Without a backward to feed, each worker needs one head's weights at a time. */
    size_t att_floats = keep ? (size_t)B * n_head * T * T : (size_t)workers * T * T;
    float *att = zoo_graph_alloc(g, att_floats * sizeof(float));
    if (!att) return NULL;
    if (keep)
        j.att = att;
    else
        j.scratch = att;
    zoo_parallel_run(workers, forward_worker, &j);
    if (keep) {
        zoo_node *n = zoo_record(g, out, attention_node_backward, q, k, v, NULL);
        if (!n) return NULL;
        n->saved = att;
        n->iarg[0] = n_head;
        n->iarg[1] = causal;
        n->farg[0] = j.scale;
    }
    return out;
}
