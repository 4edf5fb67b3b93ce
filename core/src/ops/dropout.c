/* Inverted dropout: the kept elements are scaled at training time so that
 * inference is the identity. The mask is kept as one byte per element. */
#include "internal.h"
#include "zoo/fastmath.h"
#include "zoo/threads.h"

ZOO_VECTOR_CLONES static void scale_kept(const float *x, const unsigned char *keep, float scale,
                                         float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = keep[i] ? x[i] * scale : 0.0f;
}

ZOO_VECTOR_CLONES static void add_scaled_kept(const float *dy, const unsigned char *keep,
                                              float scale, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] += keep[i] ? dy[i] * scale : 0.0f;
}

/* The mask is a hash of (seed, element pair): any range of it can be drawn
 * on its own, so the pool shares the drawing out and the mask does not depend
 * on the thread count. One draw from the caller's generator picks the seed. */
static inline uint64_t mix64(uint64_t z) { /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct dropout_job {
    const float *x, *dy;
    float *y, *dx;
    bool fresh; /* backward: dx is uninitialised */
    unsigned char *keep;
    int64_t n;
    uint64_t seed;
    float p, scale;
} dropout_job;

/* Over element pairs [begin, end): two 24-bit uniforms from each 64-bit hash. */
static void forward_range(void *ctx, int64_t begin, int64_t end) {
    const dropout_job *j = ctx;
    int64_t first = 2 * begin, last = 2 * end < j->n ? 2 * end : j->n;
    for (int64_t pair = begin; pair < end; pair++) {
        uint64_t bits = mix64(j->seed + (uint64_t)pair * 0x9e3779b97f4a7c15ull);
        j->keep[2 * pair] = (float)(bits >> 40) * 0x1.0p-24f >= j->p;
        if (2 * pair + 1 < last)
            j->keep[2 * pair + 1] = (float)((bits >> 8) & 0xFFFFFF) * 0x1.0p-24f >= j->p;
    }
    scale_kept(j->x + first, j->keep + first, j->scale, j->y + first, last - first);
}

static void backward_range(void *ctx, int64_t begin, int64_t end) {
    const dropout_job *j = ctx;
    if (j->fresh)
        scale_kept(j->dy + begin, j->keep + begin, j->scale, j->dx + begin, end - begin);
    else
        add_scaled_kept(j->dy + begin, j->keep + begin, j->scale, j->dx + begin, end - begin);
}

static void dropout_backward(zoo_graph *g, zoo_node *n) {
    dropout_job j = {.dy = n->out->grad, .keep = n->saved, .scale = n->farg[0]};
    j.dx = zoo_grad_write(g, n->in[0], &j.fresh);
    if (j.dx) zoo_parallel_for(n->out->numel, ZOO_PARALLEL_GRAIN, backward_range, &j);
}

zoo_tensor *zoo_dropout(zoo_graph *g, zoo_tensor *x, float p, zoo_rng *rng) {
    if (!x || g->status || !zoo_check_f32(g, "zoo_dropout", x, "x")) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_dropout: probability %g is outside [0, 1)", p);
        return NULL;
    }
    if (!g->training || p == 0.0f) return x;
    if (!rng) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_dropout: training mode needs a random generator");
        return NULL;
    }
    zoo_tensor *out = zoo_like(g, x);
    unsigned char *keep = zoo_graph_alloc(g, (size_t)x->numel);
    if (!out || !keep) return NULL;
    dropout_job j = {.x = x->data,
                     .y = out->data,
                     .keep = keep,
                     .n = x->numel,
                     .seed = zoo_rng_u64(rng),
                     .p = p,
                     .scale = 1.0f / (1.0f - p)};
    zoo_parallel_for((x->numel + 1) / 2, ZOO_PARALLEL_GRAIN / 2, forward_range, &j);
    if (zoo_wants_grad(g, x, NULL, NULL, NULL)) {
        zoo_node *n = zoo_record(g, out, dropout_backward, x, NULL, NULL, NULL);
        if (!n) return NULL;
        n->saved = keep;
        n->farg[0] = j.scale;
    }
    return out;
}
