/* Embedding lookup: rows of a table gathered by id. The backward adds into
 * the rows that were used and touches no other row. */
#include "internal.h"
#include "zoo/quant.h"

void zoo_embedding_backward(zoo_graph *g, zoo_node *n) {
    float *dtable = zoo_grad(g, n->in[0]);
    if (!dtable) return;
    int64_t C = n->in[0]->shape[1];
    const int32_t *ids = n->in[1]->data;
    const float *dy = n->out->grad; /* (N,C) */
    for (int64_t i = 0; i < n->in[1]->numel; i++) {
        float *row = dtable + (int64_t)ids[i] * C;
        for (int64_t c = 0; c < C; c++) row[c] += dy[i * C + c];
    }
}

zoo_tensor *zoo_embedding(zoo_graph *g, zoo_tensor *table, zoo_tensor *ids) {
    static const char *op = "zoo_embedding";
    if (!table || !ids || g->status) return NULL;
    int axis = 0;
    const float *scales = zoo_q8_scales(table, &axis);
    if ((!scales && !zoo_check_f32(g, op, table, "table")) || !zoo_check_i32(g, op, ids, "ids"))
        return NULL;
    if (scales && axis != 0) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: an int8 table must be quantized per row (axis 0)",
                       op);
        return NULL;
    }
    char st[64];
    if (table->ndim != 2 || ids->ndim >= ZOO_MAX_DIMS) {
        zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: table must be [V,C] (got %s) and ids at most %d-D",
                       op, zoo_shape_str(table, st, sizeof st), ZOO_MAX_DIMS - 1);
        return NULL;
    }
    int64_t V = table->shape[0], C = table->shape[1];
    const int32_t *id = ids->data;
    for (int64_t i = 0; i < ids->numel; i++)
        if (id[i] < 0 || id[i] >= V) {
            zoo_graph_fail(g, ZOO_ERR_ARG, "%s: id %d at position %lld is outside [0, %lld)", op,
                           id[i], (long long)i, (long long)V);
            return NULL;
        }
    int64_t shape[ZOO_MAX_DIMS];
    memcpy(shape, ids->shape, (size_t)ids->ndim * sizeof *shape);
    shape[ids->ndim] = C;
    zoo_tensor *out = zoo_tensor_new(g, ZOO_F32, ids->ndim + 1, shape);
    if (!out) return NULL;
    float *y = out->data;
    for (int64_t i = 0; i < ids->numel; i++)
        if (scales) /* a quantized table's row, widened: value * its row's scale */
            for (int64_t c = 0; c < C; c++)
                y[i * C + c] = (float)zoo_i8(table)[(int64_t)id[i] * C + c] * scales[id[i]];
        else
            memcpy(y + i * C, (const float *)table->data + (int64_t)id[i] * C,
                   (size_t)C * sizeof(float));
    if (zoo_wants_grad(g, table, NULL, NULL, NULL))
        zoo_record(g, out, zoo_embedding_backward, table, ids, NULL, NULL);
    return out;
}
