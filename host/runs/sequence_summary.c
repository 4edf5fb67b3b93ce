#include "sequence_summary.h"

#include "zoo/ops.h"

zoo_tensor *zoo_sequence_summary(const zoo_saved_model *m, zoo_graph *g, const zoo_batch *b) {
    zoo_outputs out = {.size = sizeof out};
    if (m->plugin->plugin->ops->forward(m->model->model, g, b, &out) != ZOO_OK || !out.hidden)
        return NULL;
    if (out.pooled) return out.pooled;
    int64_t C = out.hidden->shape[2];
    zoo_tensor *w =
        zoo_new(g, ZOO_F32, b->B, b->T, 1); /* mask / length, so the mean skips padding */
    if (!w) return NULL;
    for (int64_t r = 0; r < b->B; r++) {
        int64_t len = 0;
        for (int64_t t = 0; t < b->T; t++) len += b->mask[r * b->T + t];
        for (int64_t t = 0; t < b->T; t++)
            zoo_f32(w)[r * b->T + t] = b->mask[r * b->T + t] / (float)(len ? len : 1);
    }
    zoo_tensor *weights =
        zoo_matmul(g, zoo_view(g, w, b->B, 1, b->T), out.hidden, false, false); // (B,1,C)
    return zoo_view(g, weights, b->B, C);
}
