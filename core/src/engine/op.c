/* The public face of the tape (zoo/op.h): what core's own operators do
 * through internal.h, offered to operators written in plugins. */
#include "zoo/op.h"

#include "internal.h"

bool zoo_op_begin(zoo_graph *g, const char *name, zoo_tensor *const *inputs, int n_inputs) {
    if (!g || g->status) return false;
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i]) return false;
        if (inputs[i]->dtype != ZOO_F32) {
            zoo_graph_fail(g, ZOO_ERR_SHAPE, "%s: input %d is int32, expected float32", name, i);
            return false;
        }
    }
    return true;
}

bool zoo_op_needs_grad(const zoo_graph *g, zoo_tensor *const *inputs, int n_inputs) {
    if (!g->recording) return false;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] && inputs[i]->requires_grad) return true;
    return false;
}

zoo_node *zoo_op_record(zoo_graph *g, zoo_tensor *out, zoo_op_backward_fn backward,
                        zoo_tensor *const *inputs, int n_inputs, size_t saved_bytes) {
    if (n_inputs < 0 || n_inputs > ZOO_OP_MAX_INPUTS) {
        zoo_graph_fail(g, ZOO_ERR_ARG, "zoo_op_record: %d inputs, at most %d fit a tape entry",
                       n_inputs, ZOO_OP_MAX_INPUTS);
        return NULL;
    }
    zoo_tensor *in[ZOO_OP_MAX_INPUTS] = {0};
    for (int i = 0; i < n_inputs; i++) in[i] = inputs[i];
    void *saved = NULL;
    if (saved_bytes && !(saved = zoo_graph_alloc(g, saved_bytes))) return NULL;
    zoo_node *n = zoo_record(g, out, backward, in[0], in[1], in[2], in[3]);
    if (n) n->saved = saved;
    return n;
}

void *zoo_op_saved(const zoo_node *n) {
    return n->saved;
}

zoo_tensor *zoo_op_input(const zoo_node *n, int i) {
    return i >= 0 && i < ZOO_OP_MAX_INPUTS ? n->in[i] : NULL;
}

zoo_tensor *zoo_op_output(const zoo_node *n) {
    return n->out;
}

float *zoo_op_grad(zoo_graph *g, zoo_tensor *t) {
    return zoo_grad(g, t);
}

float *zoo_op_grad_fresh(zoo_graph *g, zoo_tensor *t, bool *fresh) {
    return zoo_grad_write(g, t, fresh);
}
