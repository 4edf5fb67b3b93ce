/* Rotary position embeddings. Each head's channels are taken in pairs and
 * pair i of row t is rotated by the angle (pos_offset + t) theta^(-2i/hs):
 * the pairs are (i, i + hs/2) in HuggingFace LLaMA's rotate_half layout, or
 * (2i, 2i+1) in Meta's original (GPT-J's) interleaved one. The cos and sin of
 * each (t, i) are computed once per call into a [T, hs/2] table in the
 * arena, shared by every batch row and head, and kept for backward, which
 * rotates the gradient back by the same angles. */
#include <math.h>

#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

typedef struct rope_job {
    const float *in;    // (B,T,C)
    float *out;         // (B,T,C)
    float *cos, *sin;   // (T, hs/2)
    const double *freq; // (3, hs/2): theta^(-2i/hs), its cos and sin; table filling only
    int64_t T, C, hs, pos_offset;
    float sign; /* +1 forward, -1 the inverse rotation */
    bool interleaved, accumulate;
} rope_job;

/* The table: libm's sin and cos (in double) at every ANCHOR-th position,
 * and from there to the next anchor a rotation by each pair's angle step,
 * also in double (~15 roundings of 1e-16, far below a float's 6e-8), which
 * vectorises and costs a sixteenth of the calls. Anchors sit at absolute
 * positions (multiples of ANCHOR), so a position's entry does not depend on
 * pos_offset, T or the thread count: a decode step's row equals that row of
 * the whole sequence, bit for bit. */
#define ANCHOR 16
#define PAIRS 64 /* pairs stepped together: the recurrence's state on the stack */

static void table_blocks(void *ctx, int64_t begin, int64_t end) {
    const rope_job *j = ctx;
    int64_t half = j->hs / 2, first = j->pos_offset, last = j->pos_offset + j->T;
    const double *inv_freq = j->freq, *step_c = j->freq + half, *step_s = j->freq + 2 * half;
    for (int64_t b = begin; b < end; b++) {
        int64_t anchor = (first / ANCHOR + b) * ANCHOR;
        for (int64_t i0 = 0; i0 < half; i0 += PAIRS) {
            int64_t n = half - i0 < PAIRS ? half - i0 : PAIRS;
            double c[PAIRS], s[PAIRS];
            for (int64_t i = 0; i < n; i++) {
                double angle = (double)anchor * inv_freq[i0 + i];
                c[i] = cos(angle), s[i] = sin(angle);
            }
            for (int64_t p = anchor; p < anchor + ANCHOR && p < last; p++) {
                if (p >= first) {
                    float *cs = j->cos + (p - first) * half + i0,
                          *sn = j->sin + (p - first) * half + i0;
                    for (int64_t i = 0; i < n; i++) cs[i] = (float)c[i], sn[i] = (float)s[i];
                }
                for (int64_t i = 0; i < n; i++) {
                    double cc = step_c[i0 + i], ss = step_s[i0 + i], c1 = c[i] * cc - s[i] * ss;
                    s[i] = s[i] * cc + c[i] * ss;
                    c[i] = c1;
                }
            }
        }
    }
}

/* One head: out = R(sign * angle) in, added to out when accumulate. */
static inline void rotate_head(const float *restrict in, float *restrict out,
                               const float *restrict cs, const float *restrict sn, int64_t half,
                               float sign, bool interleaved, bool accumulate) {
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

/* cloned as a whole, so that each head's loops are inlined into the row loop */
ZOO_VECTOR_CLONES static void rope_rows(void *ctx, int64_t begin, int64_t end) {
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
    double *freq = zoo_graph_alloc(g, (size_t)(3 * half) * sizeof(double));
    if (!out || !table || !freq) return NULL;
    for (int64_t i = 0; i < half; i++) {
        freq[i] = pow(theta, -2.0 * (double)i / (double)hs);
        freq[half + i] = cos(freq[i]), freq[2 * half + i] = sin(freq[i]);
    }
    rope_job j = {.in = x->data,
                  .out = out->data,
                  .cos = table,
                  .sin = table + T * half,
                  .freq = freq,
                  .T = T,
                  .C = C,
                  .hs = hs,
                  .pos_offset = pos_offset,
                  .sign = 1.0f,
                  .interleaved = interleaved};
    int64_t blocks = (pos_offset + T - 1) / ANCHOR - pos_offset / ANCHOR + 1;
    zoo_parallel_for(blocks, 1 + 1024 / half, table_blocks, &j);
    zoo_parallel_for(x->shape[0] * T, 1 + ZOO_PARALLEL_GRAIN / C, rope_rows, &j);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, rope_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->saved = j.cos, n->saved2 = j.sin;
        n->iarg[0] = hs, n->iarg[1] = interleaved;
    }
    return out;
}
