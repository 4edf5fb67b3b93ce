/* Tensors and the graph they live in.
 *
 * A zoo_tensor is float32 or int32 (or a quantized int8 weight, zoo/quant.h),
 * up to 4 dimensions, contiguous row-major.
 * Activations are allocated from a zoo_graph: an arena plus the autograd tape
 * of one step. zoo_graph_reset() drops every tensor of the step at once and
 * keeps the memory, so a training loop allocates nothing after its first step.
 * Parameters are not graph tensors: they live in a zoo_params store.
 *
 * Errors are sticky per graph: an operator given a NULL input returns NULL,
 * and one that fails (shape mismatch, out of memory) records the message in
 * the graph and returns NULL. A model composes operators freely and checks
 * once, at the end, with zoo_graph_status(). */
#ifndef ZOO_TENSOR_H
#define ZOO_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZOO_MAX_DIMS 4

/* ZOO_I8: a quantized weight of a parameter store, never a graph tensor
 * (int8 values with float32 scales: zoo/quant.h). */
typedef enum zoo_dtype { ZOO_F32 = 0, ZOO_I32 = 1, ZOO_I8 = 2 } zoo_dtype;

typedef struct zoo_graph zoo_graph;
typedef struct zoo_node zoo_node;

typedef struct zoo_tensor {
    zoo_dtype dtype;
    int ndim;
    int64_t shape[ZOO_MAX_DIMS];
    int64_t numel;
    void *data;         /* numel elements of dtype, row-major */
    float *grad;        /* same shape as data; NULL until backward reaches it */
    bool requires_grad; /* a parameter, or computed from one on a recording graph */
    bool persistent;    /* owned by a zoo_params store, not by a graph */
    zoo_node *node;     /* the tape entry that produced it, or NULL */
} zoo_tensor;

/* --- graphs ------------------------------------------------------------ */

/* A new graph whose arena starts with `initial_bytes` (0: a default); it
 * grows on demand and, after a reset, keeps one block as large as the
 * largest step so far. Recording (autograd) is on, training mode off. */
ZOO_API zoo_graph *zoo_graph_new(size_t initial_bytes);
ZOO_API void zoo_graph_free(zoo_graph *g);
/* Forgets every tensor and tape entry of the graph and clears its error. */
ZOO_API void zoo_graph_reset(zoo_graph *g);

/* With recording off (inference) operators build no tape and keep nothing for backward. */
ZOO_API void zoo_graph_set_recording(zoo_graph *g, bool on);
ZOO_API bool zoo_graph_recording(const zoo_graph *g);
/* Training mode turns dropout on. */
ZOO_API void zoo_graph_set_training(zoo_graph *g, bool on);
ZOO_API bool zoo_graph_training(const zoo_graph *g);
/* Data-parallel training (the host's, over MPI): each process's graph holds
 * a slice of one global batch, and a mean loss must divide by the global
 * number of targets, not the slice's. When set, zoo_cross_entropy passes
 * its count of targets through sum (which returns the total over every
 * process, or a negative value on failure, failing the graph) and divides by
 * that: each process's loss is then its share, and the shares and their
 * gradients add up to the global batch's mean. Every process must make the
 * same sequence of zoo_cross_entropy calls while it is set. NULL unsets it;
 * zoo_graph_reset keeps it. */
typedef int64_t (*zoo_count_sum_fn)(void *ctx, int64_t local);
ZOO_API void zoo_graph_set_count_sum(zoo_graph *g, zoo_count_sum_fn sum, void *ctx);

/* ZOO_OK, or the status of the first failed operator since the last reset;
 * its message is zoo_graph_error(). */
ZOO_API int zoo_graph_status(const zoo_graph *g);
ZOO_API const char *zoo_graph_error(const zoo_graph *g);
/* Records a failure in the graph (first one wins) and in the thread's
 * message; returns status. For operators written outside core. */
ZOO_API int zoo_graph_fail(zoo_graph *g, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bytes currently reserved by the arena, and bytes used by this step. */
ZOO_API size_t zoo_graph_capacity(const zoo_graph *g);
ZOO_API size_t zoo_graph_used(const zoo_graph *g);
/* Scratch memory from the arena, 64-byte aligned, valid until reset; NULL (and
 * a graph error) when out of memory. */
ZOO_API void *zoo_graph_alloc(zoo_graph *g, size_t bytes);

/* --- tensors ----------------------------------------------------------- */

/* A new uninitialised tensor in the graph's arena, ZOO_F32 or ZOO_I32 (ZOO_I8
 * is refused: it is a parameter store's alone). */
ZOO_API zoo_tensor *zoo_tensor_new(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape);
/* Same, zero-filled. */
ZOO_API zoo_tensor *zoo_tensor_zeros(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape);
/* A tensor over caller-owned memory (input ids, a mask); never takes a gradient. */
ZOO_API zoo_tensor *zoo_tensor_wrap(zoo_graph *g, zoo_dtype dtype, int ndim, const int64_t *shape,
                                    void *data);

/* zoo_new(g, ZOO_F32, B, T, C): a shape written inline. */
#define ZOO_SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define ZOO_NDIM(...) ((int)(sizeof(ZOO_SHAPE(__VA_ARGS__)) / sizeof(int64_t)))
#define zoo_new(g, dtype, ...)                                                                     \
    zoo_tensor_new((g), (dtype), ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__))
#define zoo_zeros(g, dtype, ...)                                                                   \
    zoo_tensor_zeros((g), (dtype), ZOO_NDIM(__VA_ARGS__), ZOO_SHAPE(__VA_ARGS__))

/* Product of the dimensions; 0 for an invalid shape (ndim out of 1..4, a dim
 * < 1, or more than ZOO_MAX_NUMEL elements: 2^60, so that a byte count of
 * up to 8 bytes an element never overflows an int64_t). */
#define ZOO_MAX_NUMEL ((int64_t)1 << 60)
ZOO_API int64_t zoo_shape_numel(int ndim, const int64_t *shape);
ZOO_API bool zoo_tensor_same_shape(const zoo_tensor *a, const zoo_tensor *b);
/* "[2,3,4]" into buf; returns buf. */
ZOO_API const char *zoo_shape_str(const zoo_tensor *t, char *buf, size_t size);

static inline float *zoo_f32(const zoo_tensor *t) {
    return (float *)t->data;
}
static inline int32_t *zoo_i32(const zoo_tensor *t) {
    return (int32_t *)t->data;
}

/* --- autograd ---------------------------------------------------------- */

/* Runs the tape backwards from a one-element loss (seed gradient 1), adding
 * into the .grad of every tensor that requires it (parameters included).
 * Returns ZOO_OK or the graph's error. */
ZOO_API int zoo_backward(zoo_graph *g, zoo_tensor *loss);
/* Same from any tensor, with the seed gradient given (numel floats). */
ZOO_API int zoo_backward_from(zoo_graph *g, zoo_tensor *out, const float *seed);

#ifdef __cplusplus
}
#endif
#endif
