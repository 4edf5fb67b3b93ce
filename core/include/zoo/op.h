/* Writing an operator outside core: what a plugin needs to put a
 * differentiable operation of its own on the autograd tape, with the same
 * guarantees as core's operators (everything in the graph's arena, nothing
 * allocated per step once the arena has grown to the step's size).
 *
 * An operator is a forward function and a backward function. The forward
 * checks its inputs, allocates its output in the graph (zoo_tensor_new),
 * computes it, and, when zoo_op_needs_grad says so, records itself with
 * zoo_op_record, keeping in the node's saved bytes whatever backward needs.
 * The backward reads the output's gradient (zoo_op_output(n)->grad) and adds
 * into each input's gradient (zoo_op_grad). Backward runs newest entry first,
 * only for entries whose output received a gradient.
 *
 *     typedef struct { float cap; } softcap_saved;
 *
 *     static void softcap_backward(zoo_graph *g, zoo_node *n) {
 *         const softcap_saved *s = zoo_op_saved(n);
 *         zoo_tensor *x = zoo_op_input(n, 0), *y = zoo_op_output(n);
 *         float *dx = zoo_op_grad(g, x);           // NULL: x takes no gradient
 *         if (!dx) return;
 *         for (int64_t i = 0; i < x->numel; i++) {  // y = cap * tanh(x / cap)
 *             float t = zoo_f32(y)[i] / s->cap;
 *             dx[i] += y->grad[i] * (1 - t * t);
 *         }
 *     }
 *
 *     zoo_tensor *softcap(zoo_graph *g, zoo_tensor *x, float cap) {
 *         if (!zoo_op_begin(g, "softcap", &x, 1)) return NULL;
 *         zoo_tensor *y = zoo_tensor_new(g, ZOO_F32, x->ndim, x->shape);
 *         if (!y) return NULL;
 *         for (int64_t i = 0; i < x->numel; i++)
 *             zoo_f32(y)[i] = cap * tanhf(zoo_f32(x)[i] / cap);
 *         if (zoo_op_needs_grad(g, &x, 1)) {
 *             zoo_node *n = zoo_op_record(g, y, softcap_backward, &x, 1, sizeof(softcap_saved));
 *             if (!n) return NULL;
 *             ((softcap_saved *)zoo_op_saved(n))->cap = cap;
 *         }
 *         return y;
 *     }
 *
 * zoo/gradcheck.h checks such a backward against finite differences.
 * Long loops may be shared out with zoo_parallel_for (zoo/threads.h).
 *
 * Thread safety: a graph is used by one thread at a time; the functions here
 * may be called from inside zoo_parallel_for tasks only for different
 * tensors' gradients that already exist (zoo_op_grad allocates on first use). */
#ifndef ZOO_OP_H
#define ZOO_OP_H

#include <stdbool.h>
#include <stddef.h>

#include "zoo/export.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most inputs one tape entry remembers. */
#define ZOO_OP_MAX_INPUTS 4

/* A backward: adds the gradient of n's output into its inputs' gradients. */
typedef void (*zoo_op_backward_fn)(zoo_graph *g, zoo_node *n);

/* The start of an operator's forward: false when it must return NULL at
 * once, because the graph has already failed (errors are sticky) or an input
 * is NULL (an earlier operator failed), or an input is not float32 (the graph
 * then fails with "NAME: input i is int32, expected float32"). */
ZOO_API bool zoo_op_begin(zoo_graph *g, const char *name, zoo_tensor *const *inputs, int n_inputs);

/* True when the operator must record itself: the graph is recording and one
 * of the inputs (NULLs ignored) requires a gradient. */
ZOO_API bool zoo_op_needs_grad(const zoo_graph *g, zoo_tensor *const *inputs, int n_inputs);

/* Adds a tape entry: `out` was computed from inputs[0..n_inputs) (at most
 * ZOO_OP_MAX_INPUTS; NULL entries allowed), backward will compute their
 * gradients. saved_bytes of arena memory (64-byte aligned, uninitialised, 0
 * for none) are reserved for backward: zoo_op_saved. out then requires a
 * gradient. NULL, with the graph failed, when out of memory or given more
 * inputs than fit. */
ZOO_API zoo_node *zoo_op_record(zoo_graph *g, zoo_tensor *out, zoo_op_backward_fn backward,
                                zoo_tensor *const *inputs, int n_inputs, size_t saved_bytes);

/* The entry's saved bytes (NULL when none were asked for), its i-th input
 * (NULL when out of range or recorded as NULL), its output. */
ZOO_API void *zoo_op_saved(const zoo_node *n);
ZOO_API zoo_tensor *zoo_op_input(const zoo_node *n, int i);
ZOO_API zoo_tensor *zoo_op_output(const zoo_node *n);

/* In backward: the gradient buffer of t to add into, zeroed when it is new;
 * NULL when t takes no gradient (or memory ran out: the graph has failed).
 * A parameter's gradient lives with the parameter; an activation's in the arena. */
ZOO_API float *zoo_op_grad(zoo_graph *g, zoo_tensor *t);
/* As zoo_op_grad, for a backward that writes every element: when the buffer
 * is new it is not zeroed and *fresh is true, and the backward stores its
 * values instead of adding them (saving a pass over memory). */
ZOO_API float *zoo_op_grad_fresh(zoo_graph *g, zoo_tensor *t, bool *fresh);

#ifdef __cplusplus
}
#endif
#endif
