/* The character encoder's operators (ELMo's char-CNN): a 1-D convolution
 * with max-over-time pooling, and the highway layer. Forward and backward side by side. */
#include <cblas.h>
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"

/* --- conv1d_maxpool: out[n,f] = max_t (bias[f] + w[f] . x[n,t:t+K]) ---- */

static void conv1d_maxpool_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    int64_t N = x->shape[0], W = x->shape[1], E = x->shape[2], F = w->shape[0], K = w->shape[1];
    const int32_t *arg = n->saved;    // (N,F) the winning window of each output
    const float *dout = n->out->grad; // (N,F)
    float *dx = zoo_grad(g, x), *dw = zoo_grad(g, w), *db = zoo_grad(g, bias);
    // Only one window per (n,f) receives a gradient, so these are K*E-long
    // axpys over the winning window rather than dense products: both the window
    // x[n,t:t+K,:] and the filter w[f] are K*E contiguous floats.
    for (int64_t i = 0; i < N; i++) {
        for (int64_t f = 0; f < F; f++) {
            float d = dout[i * F + f];
            int64_t off = (i * W + arg[i * F + f]) * E;
            if (db) db[f] += d;
            if (dw) {
                const float *xw = zoo_f32(x) + off; // (K,E)
                float *dwf = dw + f * K * E;        // (K,E)
                for (int64_t k = 0; k < K * E; k++) dwf[k] += d * xw[k];
            }
            if (dx) {
                const float *wf = zoo_f32(w) + f * K * E; // (K,E)
                float *dxw = dx + off;                    // (K,E)
                for (int64_t k = 0; k < K * E; k++) dxw[k] += d * wf[k];
            }
        }
    }
}

zoo_tensor *zoo_conv1d_maxpool(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias) {
    const char *op = "zoo_conv1d_maxpool";
    if (!x || !w || g->status) return NULL;
    if (!zoo_check_f32(g, op, x, "x") || !zoo_check_f32(g, op, w, "w") ||
        (bias && !zoo_check_f32(g, op, bias, "bias")))
        return NULL;
    char sx[64], sw[64];
    if (x->ndim != 3 || w->ndim != 3 || w->shape[2] != x->shape[2]) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: x must be [N,W,E] and w [F,K,E], got x %s and w %s",
                       op, zoo_shape_str(x, sx, sizeof sx), zoo_shape_str(w, sw, sizeof sw));
        return NULL;
    }
    int64_t N = x->shape[0], W = x->shape[1], E = x->shape[2], F = w->shape[0], K = w->shape[1];
    if (K > W) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE,
                       "%s: filter width %lld exceeds word length %lld (x %s, w %s)", op,
                       (long long)K, (long long)W, zoo_shape_str(x, sx, sizeof sx),
                       zoo_shape_str(w, sw, sizeof sw));
        return NULL;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != F)) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: bias must be [F] = [%lld], got %s", op, (long long)F,
                       zoo_shape_str(bias, sx, sizeof sx));
        return NULL;
    }
    zoo_tensor *out = zoo_new(g, ZOO_F32, N, F);
    int32_t *arg = zoo_graph_alloc(g, (size_t)(N * F) * sizeof(int32_t));   // (N,F)
    float *score = zoo_graph_alloc(g, (size_t)(N * W * F) * sizeof(float)); // (N*W,F)
    if (!out || !arg || !score) return NULL;

    // score[r] = bias + sum_j x[r+j] w[:,j]^T over all N*W rows r = n*W+t: one
    // sgemm per filter offset j instead of an im2col copy (BLAS will not take
    // the overlapping windows as a matrix with lda = E). Rows with t > W-K mix
    // two words and are never read.
    for (int64_t r = 0; r < N * W; r++)
        for (int64_t f = 0; f < F; f++) score[r * F + f] = bias ? zoo_f32(bias)[f] : 0.0f;
    for (int64_t j = 0; j < K; j++) {
        zoo_flops_add(2 * (N * W - j) * F * E);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(N * W - j), (int)F, (int)E, 1.0f,
                    zoo_f32(x) + j * E, (int)E, zoo_f32(w) + j * E, (int)(K * E), 1.0f, score,
                    (int)F);
    }

    float *y = out->data;
    for (int64_t i = 0; i < N; i++) {
        const float *s = score + i * W * F; // (W,F)
        float *yi = y + i * F;
        int32_t *ai = arg + i * F;
        for (int64_t f = 0; f < F; f++) yi[f] = s[f], ai[f] = 0;
        for (int64_t t = 1; t <= W - K; t++)
            for (int64_t f = 0; f < F; f++)
                if (s[t * F + f] > yi[f]) yi[f] = s[t * F + f], ai[f] = (int32_t)t;
    }
    if (zoo_wants_grad(g, x, w, bias, NULL)) {
        zoo_node *n = zoo_record(g, out, conv1d_maxpool_backward, x, w, bias, NULL);
        if (!n) return NULL;
        n->saved = arg;
    }
    return out;
}

/* --- highway: y = t*x + (1-t)*relu(p[:D]),  t = sigmoid(p[D:]) ---------- */

static void highway_backward(zoo_graph *g, zoo_node *n) {
    zoo_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    int64_t D = x->shape[x->ndim - 1], R = x->numel / D;
    const float *act = n->saved;    // (R,2D) relu(p[:D]) | sigmoid(p[D:])
    const float *dy = n->out->grad; // (R,D)
    const float *xv = x->data;      // (R,D)
    float *dx = zoo_grad(g, x), *dw = zoo_grad(g, w), *db = zoo_grad(g, bias);
    float *dp = zoo_graph_alloc(g, (size_t)(R * 2 * D) * sizeof(float)); // (R,2D)
    if (!dp) return;
    for (int64_t r = 0; r < R; r++)
        for (int64_t d = 0; d < D; d++) {
            float h = act[r * 2 * D + d], t = act[r * 2 * D + D + d], gy = dy[r * D + d];
            dp[r * 2 * D + d] = h > 0 ? gy * (1.0f - t) : 0.0f;
            dp[r * 2 * D + D + d] = gy * (xv[r * D + d] - h) * t * (1.0f - t);
            if (dx) dx[r * D + d] += gy * t; // the carry path
        }
    if (dx) zoo_gemm(false, false, R, D, 2 * D, dp, 2 * D, w->data, D, 1.0f, dx, D);
    if (dw) zoo_gemm_grad(g, true, false, 2 * D, D, R, dp, xv, 1.0f, dw);
    if (db)
        for (int64_t r = 0; r < R; r++)
            for (int64_t k = 0; k < 2 * D; k++) db[k] += dp[r * 2 * D + k];
}

/* p (R,2D) -> relu(p[:D]) | sigmoid(p[D:]) in place, and y = t*x + (1-t)*h. */
ZOO_VECTOR_CLONES static void highway_gates(float *p, const float *x, float *y, int64_t R,
                                            int64_t D) {
    for (int64_t r = 0; r < R; r++) {
        float *restrict ph = p + r * 2 * D, *restrict pt = ph + D, *restrict yr = y + r * D;
        const float *restrict xr = x + r * D;
        for (int64_t d = 0; d < D; d++) {
            float h = ph[d] > 0 ? ph[d] : 0.0f, t = 1.0f / (1.0f + zoo_expf(-pt[d]));
            ph[d] = h, pt[d] = t;
            yr[d] = t * xr[d] + (1.0f - t) * h;
        }
    }
}

zoo_tensor *zoo_highway(zoo_graph *g, zoo_tensor *x, zoo_tensor *w, zoo_tensor *bias) {
    const char *op = "zoo_highway";
    if (!x || !w || g->status) return NULL;
    if (!zoo_check_f32(g, op, x, "x") || !zoo_check_f32(g, op, w, "w") ||
        (bias && !zoo_check_f32(g, op, bias, "bias")))
        return NULL;
    int64_t D = x->shape[x->ndim - 1], R = x->numel / D;
    if (w->ndim != 2 || w->shape[0] != 2 * D || w->shape[1] != D) {
        char sx[64], sw[64];
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: w must be [2D,D] = [%lld,%lld] for x %s, got %s", op,
                       (long long)(2 * D), (long long)D, zoo_shape_str(x, sx, sizeof sx),
                       zoo_shape_str(w, sw, sizeof sw));
        return NULL;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != 2 * D)) {
        char sb[64];
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: bias must be [2D] = [%lld], got %s", op,
                       (long long)(2 * D), zoo_shape_str(bias, sb, sizeof sb));
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    float *p = zoo_graph_alloc(g, (size_t)(R * 2 * D) * sizeof(float)); // (R,2D)
    if (!out || !p) return NULL;
    if (bias)
        for (int64_t r = 0; r < R; r++)
            memcpy(p + r * 2 * D, bias->data, (size_t)(2 * D) * sizeof(float));
    zoo_gemm(false, true, R, 2 * D, D, x->data, D, w->data, D, bias ? 1.0f : 0.0f, p, 2 * D);
    highway_gates(p, x->data, out->data, R, D);
    if (zoo_wants_grad(g, x, w, bias, NULL)) {
        zoo_node *n = zoo_record(g, out, highway_backward, x, w, bias, NULL);
        if (!n) return NULL;
        n->saved = p;
    }
    return out;
}
