/* Quantized parameters: how an int8 weight and its scales are stored, how a
 * float32 parameter becomes one, and which parameters a forward allows to be
 * quantized. The products are in ops/linear_q8.c. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/quant.h"

/* A quantized tensor's data is the values of one allocation that starts
 * with this header, 64 bytes before them, and ends with the scales (at the
 * next 64-byte boundary after the values). zoo_tensor itself is unchanged:
 * plugins compiled against it see a tensor of a dtype they do not read. */
#define Q8_MAGIC 0x38713a6f6f7aULL /* "zoo:q8" */
typedef struct q8_header {
    uint64_t magic;
    int64_t channels;
    int32_t axis;
    float *scales;
} q8_header;
#define Q8_HEADER 64
_Static_assert(sizeof(q8_header) <= Q8_HEADER, "the header fits before the values");

static int64_t round_up64(int64_t n) {
    return (n + 63) / 64 * 64;
}

static q8_header *header_of(const zoo_tensor *t) {
    if (!t || t->dtype != ZOO_I8 || !t->data) return NULL;
    q8_header *h = (q8_header *)((char *)t->data - Q8_HEADER);
    return h->magic == Q8_MAGIC ? h : NULL;
}

const float *zoo_q8_scales(const zoo_tensor *t, int *axis) {
    q8_header *h = header_of(t);
    if (h && axis) *axis = h->axis;
    return h ? h->scales : NULL;
}

void zoo_q8_free_data(zoo_tensor *t) {
    q8_header *h = header_of(t);
    free(h ? (void *)h : t->data);
}

/* A new block for a [rows, cols] tensor quantized along axis: values and
 * scales uninitialised. */
static q8_header *q8_block(int64_t numel, int64_t channels, int axis) {
    size_t bytes = (size_t)(Q8_HEADER + round_up64(numel) + round_up64(channels * 4));
    q8_header *h = aligned_alloc(64, bytes);
    if (!h) return NULL;
    *h =
        (q8_header){Q8_MAGIC, channels, axis, (float *)((char *)h + Q8_HEADER + round_up64(numel))};
    return h;
}

static int8_t *values_of(q8_header *h) {
    return (int8_t *)((char *)h + Q8_HEADER);
}

static int check_target(const zoo_param *param, int axis, const char *fn) {
    const zoo_tensor *t = param->value;
    if (t->dtype != ZOO_F32 || t->ndim != 2 || (axis != 0 && axis != 1))
        return zoo_error(ZOO_ERR_ARG,
                         "%s: parameter '%s' cannot be quantized along axis %d (it must be a "
                         "float32 matrix, and the axis 0 or 1)",
                         fn, param->name, axis);
    return ZOO_OK;
}

/* Puts block h in place of param's float32 values. */
static void adopt(zoo_params *p, zoo_param *param, q8_header *h) {
    zoo_tensor *t = param->value;
    zoo_params_adjust_bytes(p, (int64_t)(t->numel + h->channels * 4) - t->numel * 4);
    free(t->data);
    free(t->grad);
    free(param->m);
    free(param->v);
    t->data = values_of(h), t->grad = NULL, param->m = param->v = NULL;
    t->dtype = ZOO_I8;
    t->requires_grad = false;
    param->flags |= ZOO_PARAM_FROZEN;
}

int zoo_params_quantize(zoo_params *p, zoo_param *param, int axis) {
    int st = check_target(param, axis, "zoo_params_quantize");
    if (st) return st;
    zoo_tensor *t = param->value;
    int64_t rows = t->shape[0], cols = t->shape[1], channels = t->shape[axis];
    const float *w = t->data;
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(w[i]))
            return zoo_error(ZOO_ERR_ARG, "zoo_params_quantize: parameter '%s' has %g at %lld",
                             param->name, w[i], (long long)i);
    q8_header *h = q8_block(t->numel, channels, axis);
    if (!h) return zoo_error(ZOO_ERR_NOMEM, "out of memory quantizing '%s'", param->name);
    float *s = h->scales;
    for (int64_t c = 0; c < channels; c++) s[c] = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            float a = fabsf(w[r * cols + c]);
            float *m = &s[axis == 0 ? r : c];
            if (a > *m) *m = a;
        }
    for (int64_t c = 0; c < channels; c++) s[c] /= 127.0f;
    int8_t *q = values_of(h);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            float scale = s[axis == 0 ? r : c];
            float v = scale > 0 ? rintf(w[r * cols + c] / scale) : 0.0f;
            q[r * cols + c] = (int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
        }
    adopt(p, param, h);
    return ZOO_OK;
}

int zoo_params_set_quantized(zoo_params *p, zoo_param *param, int axis, const int8_t *values,
                             const float *scales) {
    int st = check_target(param, axis, "zoo_params_set_quantized");
    if (st) return st;
    zoo_tensor *t = param->value;
    int64_t channels = t->shape[axis];
    for (int64_t c = 0; c < channels; c++)
        if (!isfinite(scales[c]) || scales[c] < 0)
            return zoo_error(ZOO_ERR_ARG,
                             "parameter '%s': scale %lld is %g (scales are finite and >= 0)",
                             param->name, (long long)c, scales[c]);
    q8_header *h = q8_block(t->numel, channels, axis);
    if (!h) return zoo_error(ZOO_ERR_NOMEM, "out of memory loading '%s'", param->name);
    memcpy(values_of(h), values, (size_t)t->numel);
    memcpy(h->scales, scales, (size_t)channels * sizeof(float));
    adopt(p, param, h);
    return ZOO_OK;
}

/* Written for the vectoriser. The largest |x| is taken on the bits: for
 * floats without their sign, the integer order is the float order, with
 * the infinities and then the NaNs above every finite value; an integer
 * maximum vectorises where GCC will not reorder a float one. A NaN or an
 * infinity makes the row's scale NaN, so that the products come out NaN as
 * they would in float32, not as numbers. rintf is one AVX2 instruction. */
ZOO_VECTOR_CLONES static float quantize_row(const float *restrict x, int64_t n, int8_t *restrict q,
                                            int8_t flip) {
    if (n <= 0) return 0;
    uint32_t top = 0;
    for (int64_t k = 0; k < n; k++) {
        uint32_t bits;
        memcpy(&bits, x + k, sizeof bits);
        bits &= 0x7fffffffu;
        top = bits > top ? bits : top;
    }
    float max;
    memcpy(&max, &top, sizeof max);
    if (top >= 0x7f800000u || max == 0) { /* an infinity or a NaN; or zeros */
        memset(q, flip, (size_t)n);
        return max == 0 ? 0 : NAN;
    }
    float inv = 127.0f / max;
    for (int64_t k = 0; k < n; k++) {
        float v = rintf(x[k] * inv);
        v = v > 127.0f ? 127.0f : v;
        q[k] = (int8_t)(v < -127.0f ? -127.0f : v) ^ flip;
    }
    return max / 127.0f;
}

float zoo_q8_quantize_row(const float *x, int64_t n, int8_t *q) {
    return quantize_row(x, n, q, 0);
}

float zoo_q8_quantize_row_u8(const float *x, int64_t n, uint8_t *q) {
    return quantize_row(x, n, (int8_t *)q, (int8_t)0x80); /* q ^ 0x80 is q + 128 */
}

/* --- which parameters a forward allows to quantize ------------------------ */

enum { USE_NONE = 0, USE_LINEAR_0 = 1, USE_LINEAR_1 = 2, USE_LOOKUP = 4, USE_OTHER = 8 };

/* The store's tensors sorted by address, to find a tape entry's input's
 * parameter in log time: a 2,000-layer model has 24,000 parameters and a
 * forward several times as many entries. */
typedef struct tensor_at {
    const zoo_tensor *t;
    int index;
} tensor_at;

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const tensor_at *)a)->t, y = (uintptr_t)((const tensor_at *)b)->t;
    return x < y ? -1 : x > y;
}

static int param_index(const tensor_at *sorted, int n, const zoo_tensor *t) {
    tensor_at key = {t, 0};
    const tensor_at *hit = bsearch(&key, sorted, (size_t)n, sizeof key, by_address);
    return hit ? hit->index : -1;
}

int zoo_quant_axes(const zoo_graph *g, zoo_params *p, int *axes) {
    int n = zoo_params_count(p);
    unsigned char *use = calloc((size_t)n + 1, 1);
    tensor_at *sorted = malloc(((size_t)n + 1) * sizeof *sorted);
    if (!use || !sorted) {
        free(use);
        free(sorted);
        return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) sorted[i] = (tensor_at){zoo_params_at(p, i)->value, i};
    qsort(sorted, (size_t)n, sizeof *sorted, by_address);
    for (const zoo_node *e = g->tape; e; e = e->prev) {
        bool lstm = e->backward == zoo_lstm_backward;
        for (int k = 0; k <= ZOO_OP_MAX_INPUTS; k++) {
            /* an LSTM's projection is not among its entry's inputs */
            const zoo_tensor *t = k < ZOO_OP_MAX_INPUTS ? e->in[k]
                                  : lstm                ? zoo_lstm_projection(e)
                                                        : NULL;
            if (!t || !t->persistent) continue;
            int i = param_index(sorted, n, t);
            if (i < 0) continue;
            if (e->backward == zoo_linear_backward && k == 1)
                use[i] |= e->iarg[3] == ZOO_W_IN_OUT ? USE_LINEAR_1 : USE_LINEAR_0;
            else if (lstm &&
                     (k == 1 || k == 2 || k == ZOO_OP_MAX_INPUTS)) /* [4H,I], [4H,P], [P,H] */
                use[i] |= USE_LINEAR_0;
            else if (e->backward == zoo_embedding_backward && k == 0)
                use[i] |= USE_LOOKUP;
            else
                use[i] |= USE_OTHER;
        }
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
        unsigned u = use[i];
        axes[i] = u == USE_LINEAR_0 || u == (USE_LINEAR_0 | USE_LOOKUP) ? 0
                  : u == USE_LINEAR_1                                   ? 1
                                                                        : -1;
        count += axes[i] >= 0;
    }
    free(use);
    free(sorted);
    return count;
}
