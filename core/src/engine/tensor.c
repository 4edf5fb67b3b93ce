#include <stdio.h>

#include "internal.h"
#include "zoo/threads.h"

int64_t zoo_shape_numel(int ndim, const int64_t *shape) {
    if (ndim < 1 || ndim > ZOO_MAX_DIMS) return 0;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        /* shapes come from files: a product past ZOO_MAX_NUMEL would overflow
         * here or in a caller's byte count (numel * 8) */
        if (shape[i] < 1 || shape[i] > ZOO_MAX_NUMEL / n) return 0;
        n *= shape[i];
    }
    return n;
}

static zoo_tensor *tensor_header(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape) {
    if (dtype != ZOO_F32 && dtype != ZOO_I32) { /* ZOO_I8 is a store's quantized weight alone */
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_tensor_new: a graph tensor is float32 or int32");
        return NULL;
    }
    int64_t numel = zoo_shape_numel(ndim, shape);
    if (numel == 0) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "zoo_tensor_new: invalid shape (%d dimensions)", ndim);
        return NULL;
    }
    zoo_tensor *t = zoo_graph_alloc(g, sizeof *t);
    if (!t) return NULL;
    *t = (zoo_tensor){.dtype = dtype, .ndim = ndim, .numel = numel};
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    return t;
}

zoo_tensor *zoo_tensor_new(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape) {
    if (!g || g->status) return NULL;
    zoo_tensor *t = tensor_header(g, dtype, ndim, shape);
    if (!t) return NULL;
    t->data = zoo_graph_alloc(g, (size_t)t->numel * 4); /* both dtypes are 4 bytes */
    return t->data ? t : NULL;
}

static void zero_range(void *ctx, int64_t begin, int64_t end) {
    memset((float *)ctx + begin, 0, (size_t)(end - begin) * sizeof(float));
}

/* Gradients are zeroed every step (tens of megabytes for a vocabulary-sized
 * table): one thread alone leaves the others idle for milliseconds. */
void zoo_zero_floats(float *x, int64_t n) {
    zoo_parallel_for(n, 1 << 18, zero_range, x);
}

zoo_tensor *zoo_tensor_zeros(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape) {
    zoo_tensor *t = zoo_tensor_new(g, dtype, ndim, shape);
    if (t) memset(t->data, 0, (size_t)t->numel * 4);
    return t;
}

zoo_tensor *zoo_tensor_wrap(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape,
                            void *data) {
    if (!g || g->status) return NULL;
    zoo_tensor *t = tensor_header(g, dtype, ndim, shape);
    if (t) t->data = data;
    return t;
}

zoo_tensor *zoo_like(zoo_graph *g, const zoo_tensor *t) {
    return zoo_tensor_new(g, ZOO_F32, t->ndim, t->shape);
}

bool zoo_tensor_same_shape(const zoo_tensor *a, const zoo_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *zoo_shape_str(const zoo_tensor *t, char *buf, size_t size) {
    size_t len = 0;
    len += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && len < size; i++)
        len +=
            (size_t)snprintf(buf + len, size - len, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

bool zoo_check_f32(zoo_graph *g, const char *op, const zoo_tensor *t, const char *what) {
    if (t->dtype == ZOO_F32) return true;
    zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: %s must be float32", op, what);
    return false;
}

bool zoo_check_i32(zoo_graph *g, const char *op, const zoo_tensor *t, const char *what) {
    if (t->dtype == ZOO_I32) return true;
    zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: %s must be int32", op, what);
    return false;
}

bool zoo_check_axis(zoo_graph *g, const char *op, const zoo_tensor *t, int *axis) {
    int a = *axis < 0 ? *axis + t->ndim : *axis;
    if (a < 0 || a >= t->ndim) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: axis %d out of range for %d dimensions", op, *axis,
                       t->ndim);
        return false;
    }
    *axis = a;
    return true;
}
