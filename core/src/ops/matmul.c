/* matmul and linear: every product goes to OpenBLAS sgemm, row-major,
 * with transposition expressed as flags rather than copies. */
#include <cblas.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

/* C[M,N] = op(A) op(B) + beta * C, row-major, op(A) [M,K], op(B) [K,N].
 * Row strides lda, ldb, ldc: 0 means packed (the stored row's length). */
typedef struct product {
    bool ta, tb;
    int64_t M, N, K;
    const float *A, *B;
    float beta;
    float *C;
    int64_t lda, ldb, ldc;
} product;

static int64_t ld_a(const product *p) {
    return p->lda ? p->lda : p->ta ? p->M : p->K;
}
static int64_t ld_b(const product *p) {
    return p->ldb ? p->ldb : p->tb ? p->K : p->N;
}
static int64_t ld_c(const product *p) {
    return p->ldc ? p->ldc : p->N;
}

/* The sub-product of p: op(A)'s rows [m] and op(B)'s columns [n] that start
 * at a and b, over k of the inner dimension, into c (p's leading dimensions). */
static void sgemm_part(const product *p, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float beta, float *c) {
    cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)ld_a(p), b, (blasint)ld_b(p),
                beta, c, (blasint)ld_c(p));
}

/* OpenBLAS runs single-threaded; a product big enough to share is cut into
 * bands of C, shared out over the pool, so zoo's pool is the only one
 * (OpenBLAS's own threads yield-spin while they wait). Bands run along the
 * longer side of C: each thread then packs only its share of the bigger
 * operand instead of all of it.
 *
 * How many bands depends on the shape and the machine's CPU count, never on
 * the thread count: OpenBLAS's kernels round an element differently at the
 * edge of a call than inside it (seen with its Haswell kernels on AMD EPYC),
 * so a cut that moved with the thread count would change the results. */
typedef struct gemm_job {
    const product *p;
    bool by_columns;
    int64_t band;
    const float *bias; /* [N]: every row of C starts from it instead of beta C, or NULL */
} gemm_job;

/* c[r, 0..n) = bias[0..n) for m rows of stride ld, for a product that then
 * adds onto it (beta 1): OpenBLAS skips its clearing pass for beta 1, so the
 * bias costs one pass over the band and no more. */
ZOO_VECTOR_CLONES static void fill_bias(float *c, const float *bias, int64_t m, int64_t n,
                                        int64_t ld) {
    for (int64_t r = 0; r < m; r++) {
        float *restrict row = c + r * ld;
        const float *restrict b = bias;
        for (int64_t k = 0; k < n; k++) row[k] = b[k];
    }
}

static void gemm_band(const gemm_job *j, int64_t index) {
    const product *p = j->p;
    int64_t total = j->by_columns ? p->N : p->M, first = index * j->band;
    int64_t size = total - first < j->band ? total - first : j->band;
    if (size <= 0) return;
    const float *a = p->A, *b = p->B;
    float *c = p->C;
    int64_t m = p->M, n = p->N;
    if (j->by_columns) { /* columns of op(B): columns of B, or rows of B stored [N,K] */
        b += p->tb ? first * ld_b(p) : first;
        c += first, n = size;
    } else { /* rows of op(A): rows of A, or columns of A stored [K,M] */
        a += p->ta ? first : first * ld_a(p);
        c += first * ld_c(p), m = size;
    }
    if (j->bias) fill_bias(c, j->bias + (j->by_columns ? first : 0), m, n, ld_c(p));
    sgemm_part(p, m, n, p->K, a, b, j->bias ? 1.0f : p->beta, c);
}

static void gemm_band_range(void *ctx, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) gemm_band(ctx, i);
}

#define GEMM_PARALLEL_FLOPS (1 << 21) /* below this, one thread is faster than waking another */
#define GEMM_MIN_BAND 32              /* rows or columns: thinner bands repack too much */

static void gemm_bands(const product *p, const float *bias) {
    bool by_columns = p->N > p->M;
    int64_t side = by_columns ? p->N : p->M;
    int64_t bands = zoo_cpu_count();
    if (bands > side / GEMM_MIN_BAND) bands = side / GEMM_MIN_BAND;
    if (bands < 1 || 2 * p->M * p->N * p->K < GEMM_PARALLEL_FLOPS) bands = 1;
    gemm_job j = {p, by_columns, (side + bands - 1) / bands, bias};
    if (bands == 1)
        gemm_band(&j, 0);
    else
        zoo_parallel_for(bands, 1, gemm_band_range, &j);
}

static void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, const float *B,
                 float beta, float *C) {
    product p = {ta, tb, M, N, K, A, B, beta, C, 0, 0, 0};
    zoo_flops_add(2 * M * N * K);
    gemm_bands(&p, NULL);
}

void zoo_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    product p = {ta, tb, M, N, K, A, B, beta, C, lda, ldb, ldc};
    zoo_flops_add(2 * M * N * K);
    gemm_bands(&p, NULL);
}

/* Gradients of weights are products whose K (the batch's rows) dwarfs M and
 * N. Cut into bands of C, every thread would pack all of the operand the
 * bands share; cut along K instead, every element is packed once, and the
 * parts' partial sums are added at the end. The number of parts depends on
 * the shape alone and the parts are added in order, so the result does not
 * depend on the thread count. */
#define K_PARTS_MAX 8

typedef struct k_split {
    const product *p;
    int64_t part; /* K per part */
    int parts;
    float *partial; /* (parts - 1) x M x N: every part's sum but the first, which goes to C */
} k_split;

static void k_part(void *ctx, int64_t begin, int64_t end) {
    const k_split *s = ctx;
    const product *p = s->p;
    for (int64_t i = begin; i < end; i++) {
        int64_t k0 = i * s->part, k = p->K - k0 < s->part ? p->K - k0 : s->part;
        /* op(A) [M,K] from A [M,K] or [K,M]; op(B) [K,N] from B [K,N] or [N,K] */
        const float *a = p->ta ? p->A + k0 * p->M : p->A + k0;
        const float *b = p->tb ? p->B + k0 : p->B + k0 * p->N;
        if (i == 0)
            sgemm_part(p, p->M, p->N, k, a, b, p->beta, p->C);
        else
            sgemm_part(p, p->M, p->N, k, a, b, 0.0f, s->partial + (i - 1) * p->M * p->N);
    }
}

static void k_sum(void *ctx, int64_t begin, int64_t end) {
    const k_split *s = ctx;
    for (int i = 1; i < s->parts; i++) {
        const float *part = s->partial + (i - 1) * s->p->M * s->p->N;
        for (int64_t e = begin; e < end; e++) s->p->C[e] += part[e];
    }
}

/* gemm for a backward: along K when the shape calls for it (scratch from g's
 * arena), otherwise in bands. */
void zoo_gemm_grad(zoo_graph *g, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A,
                   const float *B, float beta, float *C) {
    product p = {ta, tb, M, N, K, A, B, beta, C, 0, 0, 0};
    zoo_flops_add(2 * M * N * K);
    int64_t side = M > N ? M : N, parts = K / (2 * side);
    if (parts > K_PARTS_MAX) parts = K_PARTS_MAX;
    float *partial = NULL;
    if (parts >= 2 && 2 * M * N * K >= GEMM_PARALLEL_FLOPS)
        partial = zoo_graph_alloc(g, (size_t)((parts - 1) * M * N) * sizeof(float));
    if (!partial) {
        gemm_bands(&p, NULL);
        return;
    }
    k_split s = {&p, (K + parts - 1) / parts, (int)parts, partial};
    zoo_parallel_for(parts, 1, k_part, &s);
    zoo_parallel_for(M * N, ZOO_PARALLEL_GRAIN, k_sum, &s);
}

/* --- matmul ------------------------------------------------------------ */

/* Node arguments: iarg = {batches, M, N, K}, farg unused; transposes in saved flags. */
typedef struct matmul_info {
    bool ta, tb, shared_b;
} matmul_info;

static void matmul_backward(zoo_graph *g, zoo_node *n) {
    const matmul_info *mi = n->saved;
    int64_t Bt = n->iarg[0], M = n->iarg[1], N = n->iarg[2], K = n->iarg[3];
    const float *A = n->in[0]->data, *B = n->in[1]->data, *dC = n->out->grad;
    bool fresh_a, fresh_b; /* a new buffer is written by the first product that reaches it */
    float *dA = zoo_grad_write(g, n->in[0], &fresh_a);
    float *dB = zoo_grad_write(g, n->in[1], &fresh_b);
    for (int64_t b = 0; b < Bt; b++) {
        float beta_a = fresh_a ? 0.0f : 1.0f,
              beta_b = fresh_b && (b == 0 || !mi->shared_b) ? 0.0f : 1.0f;
        const float *a = A + b * M * K, *bb = mi->shared_b ? B : B + b * K * N;
        const float *dc = dC + b * M * N;
        if (dA) {
            float *da = dA + b * M * K;
            if (!mi->ta)
                zoo_gemm_grad(g, false, !mi->tb, M, K, N, dc, bb, beta_a, da); /* dC op(B)^T */
            else
                zoo_gemm_grad(g, mi->tb, true, K, M, N, bb, dc, beta_a, da); /* op(B) dC^T */
        }
        if (dB) {
            float *db = mi->shared_b ? dB : dB + b * K * N;
            if (!mi->tb)
                zoo_gemm_grad(g, !mi->ta, false, K, N, M, a, dc, beta_b, db); /* op(A)^T dC */
            else
                zoo_gemm_grad(g, true, mi->ta, N, K, M, dc, a, beta_b, db); /* dC^T op(A) */
        }
    }
}

zoo_tensor *zoo_matmul(zoo_graph *g, zoo_tensor *a, zoo_tensor *b, bool trans_a, bool trans_b) {
    if (!a || !b || g->status) return NULL;
    if (!zoo_check_f32(g, "zoo_matmul", a, "a") || !zoo_check_f32(g, "zoo_matmul", b, "b"))
        return NULL;
    char sa[64], sb[64];
    bool batched = a->ndim == 3;
    if (!((a->ndim == 2 && b->ndim == 2) || (batched && (b->ndim == 2 || b->ndim == 3)))) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE,
                       "zoo_matmul: expected 2-D or batched 3-D operands, got %s and %s",
                       zoo_shape_str(a, sa, sizeof sa), zoo_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    int ra = a->ndim - 2, rb = b->ndim - 2; /* index of each operand's row axis */
    int64_t Bt = batched ? a->shape[0] : 1;
    int64_t M = trans_a ? a->shape[ra + 1] : a->shape[ra];
    int64_t K = trans_a ? a->shape[ra] : a->shape[ra + 1];
    int64_t Kb = trans_b ? b->shape[rb + 1] : b->shape[rb];
    int64_t N = trans_b ? b->shape[rb] : b->shape[rb + 1];
    if (K != Kb || (b->ndim == 3 && b->shape[0] != Bt)) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_matmul: %s%s and %s%s do not multiply",
                       zoo_shape_str(a, sa, sizeof sa), trans_a ? "^T" : "",
                       zoo_shape_str(b, sb, sizeof sb), trans_b ? "^T" : "");
        return NULL;
    }
    zoo_tensor *out = batched ? zoo_new(g, ZOO_F32, Bt, M, N) : zoo_new(g, ZOO_F32, M, N);
    if (!out) return NULL;
    bool shared_b = b->ndim == 2;
    const float *A = a->data, *B = b->data;
    float *C = out->data;
    if (shared_b && !trans_a) /* one product over all batches stacked as rows */
        gemm(false, trans_b, Bt * M, N, K, A, B, 0.0f, C);
    else
        for (int64_t i = 0; i < Bt; i++)
            gemm(trans_a, trans_b, M, N, K, A + i * M * K, shared_b ? B : B + i * K * N, 0.0f,
                 C + i * M * N);
    if (zoo_wants_grad(g, a, b, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, matmul_backward, a, b, NULL, NULL);
        matmul_info *mi = n ? zoo_graph_alloc(g, sizeof *mi) : NULL;
        if (!mi) return NULL;
        *mi = (matmul_info){trans_a, trans_b, shared_b};
        n->saved = mi;
        n->iarg[0] = Bt, n->iarg[1] = M, n->iarg[2] = N, n->iarg[3] = K;
    }
    return out;
}

/* --- linear ------------------------------------------------------------ */

/* iarg = {rows, in, out, layout} */
void zoo_linear_backward(zoo_graph *g, zoo_node *n) {
    int64_t R = n->iarg[0], Cin = n->iarg[1], Cout = n->iarg[2];
    bool in_out = n->iarg[3] == ZOO_W_IN_OUT;
    const float *x = n->in[0]->data, *w = n->in[1]->data,
                *dy = n->out->grad; /* (R,Cin) (.) (R,Cout) */
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    float *dw = zoo_grad(g, n->in[1]), *db = zoo_grad(g, n->in[2]);
    if (dx)
        zoo_gemm_grad(g, false, in_out, R, Cin, Cout, dy, w, fresh ? 0.0f : 1.0f,
                      dx); /* dy W or dy W^T */
    if (dw) {
        if (in_out)
            zoo_gemm_grad(g, true, false, Cin, Cout, R, x, dy, 1.0f, dw); /* x^T dy  (Cin,Cout) */
        else
            zoo_gemm_grad(g, true, false, Cout, Cin, R, dy, x, 1.0f, dw); /* dy^T x  (Cout,Cin) */
    }
    if (db) { /* column sums of dy as dy^T ones: BLAS's sgemv is vectorised and threaded */
        float *ones = zoo_graph_alloc(g, (size_t)R * sizeof(float));
        if (!ones) return;
        for (int64_t r = 0; r < R; r++) ones[r] = 1.0f;
        zoo_flops_add(2 * R * Cout);
        cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)R, (blasint)Cout, 1.0f, dy, (blasint)Cout,
                    ones, 1, 1.0f, db, 1);
    }
}

zoo_tensor *zoo_linear(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias,
                       zoo_weight_layout layout) {
    if (!x || !w || g->status) return NULL;
    if (!zoo_check_f32(g, "zoo_linear", x, "x") ||
        (w->dtype != ZOO_I8 && !zoo_check_f32(g, "zoo_linear", w, "weight")))
        return NULL;
    bool in_out = layout == ZOO_W_IN_OUT;
    int64_t Cin = x->shape[x->ndim - 1];
    char sx[64], sw[64];
    if (w->ndim != 2 || w->shape[in_out ? 0 : 1] != Cin) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_linear: weight %s (%s) does not fit input %s",
                       zoo_shape_str(w, sw, sizeof sw), in_out ? "[in,out]" : "[out,in]",
                       zoo_shape_str(x, sx, sizeof sx));
        return NULL;
    }
    int64_t Cout = w->shape[in_out ? 1 : 0], R = x->numel / Cin;
    if (bias && (!zoo_check_f32(g, "zoo_linear", bias, "bias") || bias->numel != Cout)) {
        if (!g->status)
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_linear: bias has %lld elements, expected %lld",
                           (long long)bias->numel, (long long)Cout);
        return NULL;
    }
    if (w->dtype == ZOO_I8) return zoo_linear_q8(g, x, w, bias, layout);
    int64_t shape[ZOO_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = Cout;
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, x->ndim, shape);
    if (!out) return NULL;
    float *y = out->data; /* (R,Cout) */
    /* Each band starts its part of y from the bias and the product adds onto it. */
    product p = {false, !in_out, R, Cout, Cin, x->data, w->data, 0.0f, y, 0, 0, 0};
    zoo_flops_add(2 * R * Cout * Cin);
    gemm_bands(&p, bias ? bias->data : NULL);
    if (zoo_wants_grad(g, x, w, bias, NULL)) {
        zoo_node *n = zoo_record(g, out, zoo_linear_backward, x, w, bias, NULL);
        if (!n) return NULL;
        n->iarg[0] = R, n->iarg[1] = Cin, n->iarg[2] = Cout, n->iarg[3] = layout;
    }
    return out;
}
