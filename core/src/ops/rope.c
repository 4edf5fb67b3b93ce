/* Rotary position embeddings. Each head's channels are taken in pairs and
 * pair i of row t is rotated by the angle (pos_offset + t) theta^(-2i/hs):
 * the pairs are (i, i + hs/2) in HuggingFace LLaMA's rotate_half layout, or
 * (2i, 2i+1) in Meta's original (GPT-J's) interleaved one. The cos and sin of
 * each (t, i) are computed once per call, in double, into a [T, hs/2] table
 * in the arena, shared by every batch row and head, and kept for backward,
 * which rotates the gradient back by the same angles. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef struct rope_job {
    const float *in;        // (B,T,C)
    float *out;             // (B,T,C)
    float *cos, *sin;       // (T, hs/2)
    const double *inv_freq; // (hs/2): table filling only
    int64_t T, C, hs, pos_offset;
    float sign; /* +1 forward, -1 the inverse rotation */
    bool interleaved, accumulate;
} rope_job;

static void table_rows(void *ctx, int64_t begin, int64_t end) {
    const rope_job *j = ctx;
    int64_t half = j->hs / 2;
    float *cs = j->cos, *sn = j->sin;
    for (int64_t t = begin; t < end; t++)
        for (int64_t i = 0; i < half; i++) {
            double angle = (double)(j->pos_offset + t) * j->inv_freq[i];
            cs[t * half + i] = (float)cos(angle);
            sn[t * half + i] = (float)sin(angle);
        }
}

/* One head: out = R(sign * angle) in, added to out when accumulate. */
ZOO_VECTOR_CLONES static void rotate_head(const float *restrict in, float *restrict out,
                                          const float *restrict cs, const float *restrict sn,
                                          int64_t half, float sign, bool interleaved,
                                          bool accumulate) {
    if (!interleaved) {
        const float *x1 = in, *x2 = in + half;
        float *y1 = out, *y2 = out + half;
        if (accumulate)
            for (int64_t i = 0; i < half; i++) {
                float s = sign * sn[i];
                y1[i] += x1[i] * cs[i] - x2[i] * s;
                y2[i] += x2[i] * cs[i] + x1[i] * s;
            }
        else
            for (int64_t i = 0; i < half; i++) {
                float s = sign * sn[i];
                y1[i] = x1[i] * cs[i] - x2[i] * s;
                y2[i] = x2[i] * cs[i] + x1[i] * s;
            }
    } else if (accumulate) {
        for (int64_t i = 0; i < half; i++) {
            float s = sign * sn[i], x1 = in[2 * i], x2 = in[2 * i + 1];
            out[2 * i] += x1 * cs[i] - x2 * s;
            out[2 * i + 1] += x2 * cs[i] + x1 * s;
        }
    } else {
        for (int64_t i = 0; i < half; i++) {
            float s = sign * sn[i], x1 = in[2 * i], x2 = in[2 * i + 1];
            out[2 * i] = x1 * cs[i] - x2 * s;
            out[2 * i + 1] = x2 * cs[i] + x1 * s;
        }
    }
}

static void rope_rows(void *ctx, int64_t begin, int64_t end) {
    const rope_job *j = ctx;
    int64_t half = j->hs / 2;
    for (int64_t r = begin; r < end; r++) {
        const float *cs = j->cos + r % j->T * half, *sn = j->sin + r % j->T * half;
        for (int64_t h = 0; h < j->C; h += j->hs)
            rotate_head(j->in + r * j->C + h, j->out + r * j->C + h, cs, sn, half, j->sign,
                        j->interleaved, j->accumulate);
    }
}

static void rope_backward(zoo_graph *g, zoo_node *n) {
    bool fresh;
    float *dx = zoo_grad_write(g, n->in[0], &fresh);
    if (!dx) return;
    const zoo_tensor *x = n->in[0];
    rope_job j = {.in = n->out->grad,
                  .out = dx,
                  .cos = n->saved,
                  .sin = n->saved2,
                  .T = x->shape[1],
                  .C = x->shape[2],
                  .hs = n->iarg[0],
                  .sign = -1.0f,
                  .interleaved = n->iarg[1],
                  .accumulate = !fresh};
    zoo_parallel_for(x->shape[0] * j.T, 1 + ZOO_PARALLEL_GRAIN / j.C, rope_rows, &j);
}

zoo_tensor *zoo_rope(zoo_graph *g, zoo_tensor *x, int n_head, int64_t pos_offset, float theta,
                     bool interleaved) {
    static const char *op = "zoo_rope";
    if (!x || g->status || !zoo_check_f32(g, op, x, "x")) return NULL;
    char s[64];
    if (x->ndim != 3) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: x must be [B,T,C], not %s", op,
                       zoo_shape_str(x, s, sizeof s));
        return NULL;
    }
    int64_t T = x->shape[1], C = x->shape[2];
    if (n_head < 1 || C % n_head || (C / n_head) % 2) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: C %lld must be n_head (%d) times an even head size",
                       op, (long long)C, n_head);
        return NULL;
    }
    if (pos_offset < 0) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: pos_offset %lld is negative", op,
                       (long long)pos_offset);
        return NULL;
    }
    if (!(theta > 0) || isinf(theta)) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "%s: theta must be finite and > 0, not %g", op, theta);
        return NULL;
    }
    int64_t hs = C / n_head, half = hs / 2;
    zoo_tensor *out = zoo_like(g, x);
    float *table = zoo_graph_alloc(g, (size_t)(2 * T * half) * sizeof(float));
    double *inv_freq = zoo_graph_alloc(g, (size_t)half * sizeof(double));
    if (!out || !table || !inv_freq) return NULL;
    for (int64_t i = 0; i < half; i++) inv_freq[i] = pow(theta, -2.0 * (double)i / (double)hs);
    rope_job j = {.in = x->data,
                  .out = out->data,
                  .cos = table,
                  .sin = table + T * half,
                  .inv_freq = inv_freq,
                  .T = T,
                  .C = C,
                  .hs = hs,
                  .pos_offset = pos_offset,
                  .sign = 1.0f,
                  .interleaved = interleaved};
    /* a pair of double sin and cos costs as much as rotating dozens of floats: a long table is
     * shared out over the pool too */
    zoo_parallel_for(T, 1 + 4096 / half, table_rows, &j);
    zoo_parallel_for(x->shape[0] * T, 1 + ZOO_PARALLEL_GRAIN / C, rope_rows, &j);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, rope_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->saved = j.cos, n->saved2 = j.sin;
        n->iarg[0] = hs, n->iarg[1] = interleaved;
    }
    return out;
}
