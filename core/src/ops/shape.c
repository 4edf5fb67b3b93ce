/* Shape operators: reshape (a view), permute/transpose, concat, slice, split.
 * Along an axis a tensor is viewed as [outer, len, inner]: a block of
 * len*inner contiguous floats per outer index. */
#include "internal.h"

/* --- reshape ----------------------------------------------------------- */

static void reshape_backward(zoo_graph *g, zoo_node *n) {
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    if (!dx) return;
    const float *dy = n->out->grad;
    if (fresh)
        memcpy(dx, dy, (size_t)n->out->numel * sizeof(float));
    else
        for (int64_t i = 0; i < n->out->numel; i++) dx[i] += dy[i];
}

zoo_tensor *zoo_reshape(zoo_graph *g, zoo_tensor *x, int ndim, const int64_t *shape) {
    if (!x || g->status) return NULL;
    int64_t numel = zoo_shape_numel(ndim, shape);
    if (numel != x->numel) {
        char sx[64];
        zoo_graph_fail(
            g, ZOO_ERR_SHAPE, "zoo_reshape: cannot view %s (%lld elements) as %d-D shape of %lld",
            zoo_shape_str(x, sx, sizeof sx), (long long)x->numel, ndim, (long long)numel);
        return NULL;
    }
    zoo_tensor *out = zoo_graph_alloc(g, sizeof *out);
    if (!out) return NULL;
    *out = (zoo_tensor){.dtype = x->dtype, .ndim = ndim, .numel = numel, .data = x->data};
    memcpy(out->shape, shape, (size_t)ndim * sizeof *shape);
    /* The view shares data but has its own gradient, added back into x's. */
    if (zoo_wants_grad(g, x, NULL, NULL, NULL))
        zoo_record(g, out, reshape_backward, x, NULL, NULL, NULL);
    return out;
}

/* --- permute ----------------------------------------------------------- */

/* Copies src into dst where dst's axis i is src's axis perm[i]; with
 * accumulate, adds dst's elements back into src instead (the backward). */
static void permute_copy(const zoo_tensor *src, const int *perm, float *s, float *d,
                         bool backward) {
    int64_t shape[ZOO_MAX_DIMS] = {1, 1, 1, 1}, stride[ZOO_MAX_DIMS] = {0, 0, 0, 0};
    int64_t src_stride[ZOO_MAX_DIMS];
    int nd = src->ndim;
    src_stride[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--) src_stride[i] = src_stride[i + 1] * src->shape[i + 1];
    int off = ZOO_MAX_DIMS - nd; /* pad to 4 dimensions on the left */
    for (int i = 0; i < nd; i++) {
        shape[off + i] = src->shape[perm[i]];
        stride[off + i] = src_stride[perm[i]];
    }
    int64_t k = 0;
    for (int64_t a = 0; a < shape[0]; a++)
        for (int64_t b = 0; b < shape[1]; b++)
            for (int64_t c = 0; c < shape[2]; c++)
                for (int64_t e = 0; e < shape[3]; e++, k++) {
                    int64_t j = a * stride[0] + b * stride[1] + c * stride[2] + e * stride[3];
                    if (backward)
                        s[j] += d[k];
                    else
                        d[k] = s[j];
                }
}

static void permute_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    int perm[ZOO_MAX_DIMS];
    for (int i = 0; i < n->in[0]->ndim; i++) perm[i] = (int)n->iarg[i];
    permute_copy(n->in[0], perm, dx, n->out->grad, true);
}

zoo_tensor *zoo_permute(zoo_graph *g, zoo_tensor *x, const int *perm) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_permute", x, "x")) return NULL;
    bool seen[ZOO_MAX_DIMS] = {false};
    int64_t shape[ZOO_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]) {
            zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_permute: not a permutation of %d axes (axis %d)",
                           x->ndim, perm[i]);
            return NULL;
        }
        seen[perm[i]] = true;
        shape[i] = x->shape[perm[i]];
    }
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, x->ndim, shape);
    if (!out) return NULL;
    permute_copy(x, perm, x->data, out->data, false);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, permute_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        for (int i = 0; i < x->ndim; i++) n->iarg[i] = perm[i];
    }
    return out;
}

zoo_tensor *zoo_transpose(zoo_graph *g, zoo_tensor *x, int axis0, int axis1) {
    if (!x || g->status) return NULL;
    if (!zoo_check_axis(g, "zoo_transpose", x, &axis0) ||
        !zoo_check_axis(g, "zoo_transpose", x, &axis1))
        return NULL;
    int perm[ZOO_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[axis0] = axis1, perm[axis1] = axis0;
    return zoo_permute(g, x, perm);
}

/* --- slice ------------------------------------------------------------- */

/* iarg = {outer, axis length, inner, start}; out's axis length is its own. */
static void slice_backward(zoo_graph *g, zoo_node *n) {
    float *dx = zoo_grad(g, n->in[0]);
    if (!dx) return;
    int64_t outer = n->iarg[0], len = n->iarg[1], inner = n->iarg[2], start = n->iarg[3];
    int64_t block = n->out->numel / outer; /* slice length * inner */
    const float *dy = n->out->grad;
    for (int64_t o = 0; o < outer; o++) {
        float *dst = dx + (o * len + start) * inner;
        for (int64_t i = 0; i < block; i++) dst[i] += dy[o * block + i];
    }
}

zoo_tensor *zoo_slice(zoo_graph *g, zoo_tensor *x, int axis, int64_t start, int64_t len) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_slice", x, "x") ||
        !zoo_check_axis(g, "zoo_slice", x, &axis))
        return NULL;
    if (start < 0 || len < 1 || start + len > x->shape[axis]) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_slice: [%lld, %lld) is outside axis %d of length %lld",
                       (long long)start, (long long)(start + len), axis, (long long)x->shape[axis]);
        return NULL;
    }
    int64_t shape[ZOO_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = len;
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, x->ndim, shape);
    if (!out) return NULL;
    int64_t outer = zoo_dims(x, 0, axis), inner = zoo_dims(x, axis + 1, x->ndim);
    int64_t full = x->shape[axis], block = len * inner;
    const float *in = x->data;
    float *y = out->data;
    for (int64_t o = 0; o < outer; o++)
        memcpy(y + o * block, in + (o * full + start) * inner, (size_t)block * sizeof(float));
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, slice_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->iarg[0] = outer, n->iarg[1] = full, n->iarg[2] = inner, n->iarg[3] = start;
    }
    return out;
}

int zoo_split(zoo_graph *g, zoo_tensor *x, int axis, const int64_t *sizes, int n,
              zoo_tensor **out) {
    if (!x || g->status)
        return g->status ? g->status : zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_split: no input");
    if (!zoo_check_axis(g, "zoo_split", x, &axis)) return g->status;
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += sizes[i];
    if (n < 1 || total != x->shape[axis])
        return zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_split: sizes add up to %lld, axis %d has %lld",
                              (long long)total, axis, (long long)x->shape[axis]);
    int64_t start = 0;
    for (int i = 0; i < n; i++) {
        out[i] = zoo_slice(g, x, axis, start, sizes[i]);
        start += sizes[i];
    }
    return g->status;
}

/* --- concat ------------------------------------------------------------ */

typedef struct concat_info {
    zoo_tensor **parts;
    int n;
    int64_t outer, inner;
} concat_info;

static void concat_backward(zoo_graph *g, zoo_node *n) {
    const concat_info *ci = n->saved;
    int64_t out_block = n->out->numel / ci->outer, offset = 0;
    for (int k = 0; k < ci->n; k++) {
        zoo_tensor *p = ci->parts[k];
        int64_t block = p->numel / ci->outer;
        float *dp = zoo_grad(g, p);
        for (int64_t o = 0; dp && o < ci->outer; o++) {
            const float *src = n->out->grad + o * out_block + offset;
            for (int64_t i = 0; i < block; i++) dp[o * block + i] += src[i];
        }
        offset += block;
    }
}

zoo_tensor *zoo_concat(zoo_graph *g, zoo_tensor *const *xs, int n, int axis) {
    if (g->status) return NULL;
    if (n < 1) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_concat: nothing to concatenate");
        return NULL;
    }
    for (int k = 0; k < n; k++)
        if (!xs[k]) return NULL;
    zoo_tensor *first = xs[0];
    if (!zoo_check_axis(g, "zoo_concat", first, &axis)) return NULL;
    int64_t shape[ZOO_MAX_DIMS];
    memcpy(shape, first->shape, sizeof shape);
    shape[axis] = 0;
    bool rec = false;
    for (int k = 0; k < n; k++) {
        zoo_tensor *p = xs[k];
        bool fits = p->dtype == ZOO_F32 && p->ndim == first->ndim;
        for (int i = 0; fits && i < p->ndim; i++)
            fits = i == axis || p->shape[i] == first->shape[i];
        if (!fits) {
            char s0[64], sk[64];
            zoo_graph_fail(
                g, ZOO_ERR_SHAPE, "zoo_concat: part %d %s does not fit part 0 %s along axis %d", k,
                zoo_shape_str(p, sk, sizeof sk), zoo_shape_str(first, s0, sizeof s0), axis);
            return NULL;
        }
        shape[axis] += p->shape[axis];
        rec = rec || zoo_wants_grad(g, p, NULL, NULL, NULL);
    }
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, first->ndim, shape);
    if (!out) return NULL;
    int64_t outer = zoo_dims(first, 0, axis), inner = zoo_dims(first, axis + 1, first->ndim);
    int64_t out_block = shape[axis] * inner, offset = 0;
    for (int k = 0; k < n; k++) {
        int64_t block = xs[k]->shape[axis] * inner;
        for (int64_t o = 0; o < outer; o++)
            memcpy(zoo_f32(out) + o * out_block + offset, zoo_f32(xs[k]) + o * block,
                   (size_t)block * sizeof(float));
        offset += block;
    }
    if (rec) {
        zoo_node *node = zoo_record(g, out, concat_backward, NULL, NULL, NULL, NULL);
        concat_info *ci = node ? zoo_graph_alloc(g, sizeof *ci) : NULL;
        zoo_tensor **parts = ci ? zoo_graph_alloc(g, (size_t)n * sizeof *parts) : NULL;
        if (!parts) return NULL;
        memcpy(parts, xs, (size_t)n * sizeof *parts);
        *ci = (concat_info){parts, n, outer, inner};
        node->saved = ci;
    }
    return out;
}
