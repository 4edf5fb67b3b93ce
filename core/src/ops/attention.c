/* Fused multi-head scaled dot-product attention: forward and backward side by side.
 *
 * Heads are never split into their own tensors: head h of q, k, v is the
 * column block h*hs..(h+1)*hs of a row-major matrix whose rows are ldq (q)
 * or ldkv (k, v) floats apart (C, or 3C when q|k|v are packed), and every
 * product addresses it in place through the BLAS leading dimension. The only
 * thing kept for backward is the attention weights P [B,NH,Tq,L] (L = kv_len
 * keys used); masked entries of P are exactly 0, which is what makes masking,
 * causality and empty rows fall out of the same formulas. Query row t sits at
 * absolute position off+t: with a cache, the queries are the last few
 * positions and the keys all positions so far. */
#include <cblas.h>
#include <math.h>
#include <stddef.h>

#include "internal.h"
#include "zoo/fastmath.h"

/* Rows of a causal head are processed in blocks of this many, so that a block
 * multiplies only against the keys it can see (about half the work for long T). */
#define ATTN_CAUSAL_BLOCK 64

/* Row reductions run in eight lanes so that GCC vectorises them (a float
 * sum or max in one accumulator has an order it must keep). */
#define LANES 8

/* Softmax of rows [t0, t0+rows) of one head's scores in place, rows ldp
 * floats apart. Row t sees key j when j < cols, j <= off+t (causal) and
 * mask[j] != 0 (mask may be NULL). Only columns < cols hold scores; every
 * other entry of the row (up to ldp) is set to 0. */
ZOO_VECTOR_CLONES static void masked_softmax_rows(float *p, // (Tq,ldp) scores, then weights
                                                  const int32_t *mask, // (ldp) or NULL
                                                  int ldp, int t0, int rows, int cols, bool causal,
                                                  int off) {
    for (int t = t0; t < t0 + rows; t++) {
        float *restrict row = p + (int64_t)t * ldp;
        int limit = causal && off + t + 1 < cols ? off + t + 1 : cols, j;
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
        for (; j < ldp; j++) row[j] = 0.0f;
        for (int k = 0; k < LANES; k++) sum += lane[k];
        float inv = limit > 0 ? 1.0f / sum : 0.0f;
        for (j = 0; j < limit; j++) row[j] *= inv;
    }
}

/* Softmax backward over `rows` rows of `cols` columns, rows ldp apart, in
 * place on dP: dS = P * (dP - rowsum(dP * P)). Masked entries (P = 0) give dS = 0. */
ZOO_VECTOR_CLONES static void softmax_backward_rows(const float *p, float *dp, int ldp, int rows,
                                                    int cols) {
    for (int r = 0; r < rows; r++) {
        const float *restrict pr = p + (int64_t)r * ldp;
        float *restrict dr = dp + (int64_t)r * ldp;
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
    const float *q;      // (B,Tq,ldq) head h at columns h*hs
    const float *k, *v;  // (B,Tk,ldkv) each, the first L rows used
    const int32_t *mask; // (B,Tk) or NULL
    float *out;          // (B,Tq,C)
    float *att;          // (B,NH,Tq,L) kept weights, or NULL
    float *scratch;      // per worker: (Tq,L) weights when not kept / (block,L) of dP
    const float *dout;   // (B,Tq,C) backward only
    float *dq;           // (B,Tq,ldq) or NULL
    float *dk, *dv;      // (B,Tk,ldkv) each, or NULL; may alias one another and dq
    int B, Tq, Tk, L, off, C, NH, ldq, ldkv, block; // block: rows per causal block
    bool causal;
    float scale;
} attn_job;

/* The keys a block of rows [t0, t0+rows) can see: all L, or (causal) those
 * up to the block's last position. */
static int block_cols(const attn_job *j, int t0, int rows) {
    int last = j->off + t0 + rows;
    return j->causal && last < j->L ? last : j->L;
}

static void head_forward(const attn_job *j, int b, int h, float *p /* (Tq,L) */) {
    int Tq = j->Tq, L = j->L, C = j->C, hs = C / j->NH;
    const float *qh = j->q + (int64_t)b * Tq * j->ldq + (int64_t)h * hs;
    int64_t kv = (int64_t)b * j->Tk * j->ldkv + (int64_t)h * hs;
    const float *kh = j->k + kv, *vh = j->v + kv;
    const int32_t *mask = j->mask ? j->mask + (int64_t)b * j->Tk : NULL;
    float *oh = j->out + (int64_t)b * Tq * C + (int64_t)h * hs;
    if (Tq == 1) { /* a decoding step: matrix-vector products, which sgemm would pack first */
        int cols = block_cols(j, 0, 1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, cols, hs, j->scale, kh, j->ldkv, qh, 1, 0.0f, p,
                    1);
        masked_softmax_rows(p, mask, L, 0, 1, cols, j->causal, j->off);
        cblas_sgemv(CblasRowMajor, CblasTrans, cols, hs, 1.0f, vh, j->ldkv, p, 1, 0.0f, oh, 1);
        return;
    }
    for (int t0 = 0; t0 < Tq; t0 += j->block) {
        int rows = Tq - t0 < j->block ? Tq - t0 : j->block, cols = block_cols(j, t0, rows);
        float *pb = p + (int64_t)t0 * L;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hs, j->scale,
                    qh + (int64_t)t0 * j->ldq, j->ldq, kh, j->ldkv, 0.0f, pb, L);
        masked_softmax_rows(p, mask, L, t0, rows, cols, j->causal, j->off);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, cols, 1.0f, pb, L, vh,
                    j->ldkv, 0.0f, oh + (int64_t)t0 * C, C);
    }
}

static void head_backward(const attn_job *j, int b, int h, float *dp /* (block,L) */) {
    int Tq = j->Tq, L = j->L, C = j->C, hs = C / j->NH;
    int64_t qo = (int64_t)b * Tq * j->ldq + (int64_t)h * hs;
    int64_t kv = (int64_t)b * j->Tk * j->ldkv + (int64_t)h * hs;
    const float *qh = j->q + qo, *kh = j->k + kv, *vh = j->v + kv;
    const float *doh = j->dout + (int64_t)b * Tq * C + (int64_t)h * hs;
    const float *p = j->att + ((int64_t)b * j->NH + h) * Tq * L;
    for (int t0 = 0; t0 < Tq; t0 += j->block) {
        int rows = Tq - t0 < j->block ? Tq - t0 : j->block, cols = block_cols(j, t0, rows);
        const float *pb = p + (int64_t)t0 * L, *dob = doh + (int64_t)t0 * C;
        if (j->dv) /* dV[0:cols] += P[rows,0:cols]^T dO[rows] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hs, rows, 1.0f, pb, L, dob,
                        C, 1.0f, j->dv + kv, j->ldkv);
        if (!j->dq && !j->dk) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hs, 1.0f, dob, C, vh,
                    j->ldkv, 0.0f, dp, L);
        softmax_backward_rows(pb, dp, L, rows, cols);
        if (j->dq)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, cols, j->scale, dp, L,
                        kh, j->ldkv, 1.0f, j->dq + qo + (int64_t)t0 * j->ldq, j->ldq);
        if (j->dk)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, hs, rows, j->scale, dp, L,
                        qh + (int64_t)t0 * j->ldq, j->ldq, 1.0f, j->dk + kv, j->ldkv);
    }
}

/* The operations of `products` products per block over every (batch, head)
 * pair, each rows x cols x hs as the blocks give them (zoo/flops.h): what
 * head_forward (2) and head_backward (one per gradient, and dP) run. */
static int64_t pass_flops(const attn_job *j, int products) {
    int64_t per_pair = 0, hs = j->C / j->NH;
    for (int t0 = 0; t0 < j->Tq; t0 += j->block) {
        int rows = j->Tq - t0 < j->block ? j->Tq - t0 : j->block;
        per_pair += 2 * (int64_t)rows * block_cols(j, t0, rows) * hs;
    }
    return per_pair * products * j->B * j->NH;
}

static void forward_worker(void *ctx, int index, int n_workers) {
    const attn_job *j = ctx;
    int64_t pair = (int64_t)j->Tq * j->L;
    for (int i = index; i < j->B * j->NH; i += n_workers) {
        float *p = j->att ? j->att + i * pair : j->scratch + index * pair;
        head_forward(j, i / j->NH, i % j->NH, p);
    }
}

static void backward_worker(void *ctx, int index, int n_workers) {
    const attn_job *j = ctx;
    float *dp = j->scratch ? j->scratch + (int64_t)index * j->block * j->L : NULL;
    for (int i = index; i < j->B * j->NH; i += n_workers)
        head_backward(j, i / j->NH, i % j->NH, dp);
}

/* One worker per pool thread, but never more than there are heads to share. */
static int worker_count(const attn_job *j) {
    int n = zoo_threads_count();
    return n < j->B * j->NH ? n : j->B * j->NH;
}

/* The job over q and, when k is NULL, the packed q|k|v in q; everything but
 * the buffers of the result and the weights. */
static attn_job make_job(const zoo_tensor *q, const zoo_tensor *k, const zoo_tensor *v, int n_head,
                         bool causal, int64_t off, int64_t L) {
    int ldq = (int)q->shape[2], C = k ? (int)k->shape[2] : ldq / 3;
    attn_job j = {.q = q->data,
                  .k = k ? k->data : zoo_f32(q) + C,
                  .v = k ? v->data : zoo_f32(q) + 2 * C,
                  .B = (int)q->shape[0],
                  .Tq = (int)q->shape[1],
                  .Tk = k ? (int)k->shape[1] : (int)q->shape[1],
                  .L = (int)L,
                  .off = (int)off,
                  .C = C,
                  .NH = n_head,
                  .ldq = ldq,
                  .ldkv = k ? C : ldq,
                  .causal = causal,
                  .scale = (float)(1.0 / sqrt((double)(C / n_head)))};
    j.block = causal && j.Tq > ATTN_CAUSAL_BLOCK ? ATTN_CAUSAL_BLOCK : j.Tq;
    return j;
}

static void attention_node_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    attn_job j = make_job(q, k, v, (int)n->iarg[0], n->iarg[1] != 0, n->iarg[2], n->iarg[3]);
    j.att = n->saved, j.dout = n->out->grad;
    if (k) { /* separate k, v (q may be a packed q|k|v of which only the queries are read) */
        j.dq = zoo_grad(g, q), j.dk = zoo_grad(g, k), j.dv = zoo_grad(g, v);
    } else { /* packed q|k|v: one gradient buffer, addressed like the data */
        float *d = zoo_grad(g, q);
        j.dq = d, j.dk = d ? d + j.C : NULL, j.dv = d ? d + 2 * j.C : NULL;
    }
    if (g->status) return;
    int workers = worker_count(&j);
    if (j.dq || j.dk) {
        j.scratch = zoo_graph_alloc(g, (size_t)workers * j.block * j.L * sizeof(float));
        if (!j.scratch) return;
    }
    zoo_flops_add(
        pass_flops(&j, (j.dv != NULL) + (j.dq || j.dk) + (j.dq != NULL) + (j.dk != NULL)));
    zoo_parallel_run(workers, backward_worker, &j);
}

/* Checks the arguments; on success *C is the model width and *L the keys used. */
static bool attention_check(zoo_graph *g, const zoo_attention_args *a, int64_t *C_out,
                            int64_t *L_out) {
    const char *op = "zoo_attention";
    const zoo_tensor *q = a->q, *k = a->k, *v = a->v;
    char sq[64];
    zoo_shape_str(q, sq, sizeof sq);
    if (!zoo_check_f32(g, op, q, "q")) return false;
    if (q->ndim != 3) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: q must have 3 dimensions [B,T,C], not %s", op, sq);
        return false;
    }
    if (a->n_head < 1) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: n_head must be at least 1, not %d (q %s)", op,
                       a->n_head, sq);
        return false;
    }
    if (!k != !v) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "%s: k and v must both be given, or both NULL with packed q|k|v (q %s)", op,
                       sq);
        return false;
    }
    int64_t C = q->shape[2], Tk = q->shape[1];
    if (k) {
        if (!zoo_check_f32(g, op, k, "k") || !zoo_check_f32(g, op, v, "v")) return false;
        char sk[64], sv[64];
        zoo_shape_str(k, sk, sizeof sk), zoo_shape_str(v, sv, sizeof sv);
        if (k->ndim != 3 || !zoo_tensor_same_shape(k, v)) {
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: k %s and v %s must have the same shape [B,Tk,C]",
                           op, sk, sv);
            return false;
        }
        C = k->shape[2], Tk = k->shape[1];
        if (k->shape[0] != q->shape[0] || (q->shape[2] != C && q->shape[2] != 3 * C)) {
            zoo_graph_fail(g, ZOO_ERR_SHAPE,
                           "%s: q %s does not fit k %s: expected [%lld,Tq,%lld] (or a packed "
                           "[%lld,Tq,%lld])",
                           op, sq, sk, (long long)k->shape[0], (long long)C, (long long)k->shape[0],
                           (long long)(3 * C));
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
    if (C % a->n_head != 0) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: C = %lld (q %s) is not divisible by n_head = %d", op,
                       (long long)C, sq, a->n_head);
        return false;
    }
    if (a->key_mask) {
        const zoo_tensor *m = a->key_mask;
        if (!zoo_check_i32(g, op, m, "key_mask")) return false;
        if (m->ndim != 2 || m->shape[0] != q->shape[0] || m->shape[1] != Tk) {
            char sm[64];
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: key_mask must be [B,T] = [%lld,%lld], not %s", op,
                           (long long)q->shape[0], (long long)Tk, zoo_shape_str(m, sm, sizeof sm));
            return false;
        }
    }
    if (a->kv_len < 0 || a->kv_len > Tk) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: kv_len %lld is outside [0, %lld] (the keys' T)", op,
                       (long long)a->kv_len, (long long)Tk);
        return false;
    }
    if (a->q_offset < 0 || a->q_offset > INT32_MAX - q->shape[1]) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: q_offset %lld is negative or too large (q %s)", op,
                       (long long)a->q_offset, sq);
        return false;
    }
    *C_out = C;
    *L_out = a->kv_len ? a->kv_len : Tk;
    return true;
}

/* The fields of the first zoo_attention_args; a caller's struct is at least this long. */
#define ARGS_V1_SIZE (offsetof(zoo_attention_args, kv_len) + sizeof(int64_t))

zoo_tensor *zoo_attention_ex(zoo_graph *g, const zoo_attention_args *args) {
    if (!args) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_attention_ex: args is NULL");
        return NULL;
    }
    if (args->size < ARGS_V1_SIZE) {
        zoo_graph_fail(g, ZOO_ERR_ARG,
                       "zoo_attention_ex: args->size is %zu, at least %zu expected (set it to "
                       "sizeof(zoo_attention_args))",
                       args->size, (size_t)ARGS_V1_SIZE);
        return NULL;
    }
    zoo_attention_args a = {0}; /* fields a newer header added read as 0 */
    memcpy(&a, args, args->size < sizeof a ? args->size : sizeof a);
    int64_t C, L;
    if (!a.q || g->status || !attention_check(g, &a, &C, &L)) return NULL;
    attn_job j = make_job(a.q, a.k, a.v, a.n_head, a.causal, a.q_offset, L);
    zoo_tensor *out = zoo_new(g, ZOO_F32, j.B, j.Tq, C);
    if (!out) return NULL;
    j.out = out->data;
    j.mask = a.key_mask ? zoo_i32(a.key_mask) : NULL;
    bool keep = zoo_wants_grad(g, a.q, a.k, a.v, NULL);
    int workers = worker_count(&j);
    /* Without a backward to feed, each worker needs one head's weights at a time. */
    size_t att_floats = (size_t)(keep ? j.B * a.n_head : workers) * j.Tq * L;
    float *att = zoo_graph_alloc(g, att_floats * sizeof(float));
    if (!att) return NULL;
    if (keep)
        j.att = att;
    else
        j.scratch = att;
    zoo_flops_add(pass_flops(&j, 2));
    zoo_parallel_run(workers, forward_worker, &j);
    if (keep) {
        zoo_node *n = zoo_record(g, out, attention_node_backward, a.q, a.k, a.v, NULL);
        if (!n) return NULL;
        n->saved = att;
        n->iarg[0] = a.n_head;
        n->iarg[1] = a.causal;
        n->iarg[2] = a.q_offset;
        n->iarg[3] = L;
    }
    return out;
}

zoo_tensor *zoo_attention(zoo_graph *g, zoo_tensor *q, zoo_tensor *k, zoo_tensor *v, int n_head,
                          bool causal, zoo_tensor *key_mask) {
    if (!q || g->status) return NULL;
    zoo_attention_args a = {.size = sizeof a,
                            .q = q,
                            .k = k,
                            .v = v,
                            .n_head = n_head,
                            .causal = causal,
                            .key_mask = key_mask};
    return zoo_attention_ex(g, &a);
}
