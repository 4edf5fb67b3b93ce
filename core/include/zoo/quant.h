/* Quantized weights for inference: int8 values with one float32 scale per
 * output channel (symmetric: a weight is value * scale), multiplied on the
 * CPU's integer dot-product units.
 *
 * A quantized parameter keeps its name and its shape; its dtype becomes
 * ZOO_I8 and its data the int8 values, row-major as the float32 values were.
 * The scales (one per index of the quantized axis: the output channels of
 * the linear layers that use it) live in the same allocation and are read
 * with zoo_q8_scales. A quantized parameter takes no gradient: it is for
 * inference, never for an optimizer.
 *
 * Operators that take one: zoo_linear (the weight, quantized along its
 * output axis: 0 for ZOO_W_OUT_IN, 1 for ZOO_W_IN_OUT), zoo_lstm (w_ih, w_hh
 * and w_proj, each quantized per row) and zoo_embedding (a table quantized
 * along axis 0: each row looked up is widened to float32, so a tied output
 * head can be quantized once and serve both). Every other operator refuses
 * ZOO_I8 as it refuses any dtype it does not take.
 *
 * zoo_linear with an int8 weight quantizes its input per row on the fly
 * (dynamic quantization: scale max|x| / 127, values rounded to nearest even
 * and clamped to [-127, 127]), accumulates the products in int32 and rescales:
 *   y[r,n] = (float)(sum_k xq[r,k] wq[k,n]) * (sx[r] * sw[n]) + bias[n].
 * The int32 sums are exact, so both kernels give the same bits: oneDNN's
 * u8s8s32 GEMM where the CPU has AVX512-VNNI and libzoo
 * was built with oneDNN, else a portable one of zoo's own (correct, slower).
 * Both run on zoo's pool (oneDNN single-threaded inside each band). */
#ifndef ZOO_QUANT_H
#define ZOO_QUANT_H

#include "zoo/params.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scales of a quantized tensor (t->shape[*axis] of them) and, when axis
 * is not NULL, the axis they run along; NULL when t is not ZOO_I8. */
ZOO_API const float *zoo_q8_scales(const zoo_tensor *t, int *axis);
static inline int8_t *zoo_i8(const zoo_tensor *t) {
    return (int8_t *)t->data;
}

/* Quantizes a float32 parameter of 2 dimensions in place along axis (0 or
 * 1): per index of that axis, scale = max|w| / 127 (0 for a slice of zeros,
 * whose values are then 0) and value = w / scale rounded to nearest even.
 * Its float32 values, gradient and optimizer state are freed, and it is
 * marked frozen. ZOO_ERR_ARG (with a message naming it) for another dtype,
 * shape or axis, or a value that is not finite; ZOO_ERR_NOMEM. */
ZOO_API int zoo_params_quantize(zoo_params *p, zoo_param *param, int axis);
/* Replaces a float32 parameter of 2 dimensions by given int8 values (numel,
 * row-major) and scales (shape[axis], each finite and >= 0), both copied:
 * loading a quantized checkpoint. Errors as zoo_params_quantize's. */
ZOO_API int zoo_params_set_quantized(zoo_params *p, zoo_param *param, int axis,
                                     const int8_t *values, const float *scales);

/* Quantizes one row of activations as zoo_linear does: q[0..n) in
 * [-127, 127]; returns the scale (0 for a row of zeros; NaN, with q all 0,
 * for a row holding a NaN or an infinity, so that its outputs are NaN). */
ZOO_API float zoo_q8_quantize_row(const float *x, int64_t n, int8_t *q);

/* After a forward recorded on g (recording on, the parameters taking
 * gradients), how each parameter of p may be quantized, by its index in p:
 * axes[i] = 0 or 1 when every use of it the tape saw is as a zoo_linear
 * weight with its output channels along that axis (or a zoo_lstm weight:
 * axis 0), or as a zoo_embedding table whose rows are those channels (axis
 * 0) beside such a use; -1 when
 * it was not used as a linear weight (a lookup table alone gains no speed,
 * and a plugin may read its rows itself), or used by any other operator.
 * Returns how many parameters may be quantized, or ZOO_ERR_NOMEM. */
ZOO_API int zoo_quant_axes(const zoo_graph *g, zoo_params *p, int *axes);

/* The kernel of int8 products. ZOO_Q8_AUTO: oneDNN where it can run,
 * else portable; ZOO_INT8_KERNEL=portable in the environment forces the
 * portable one (tests; read once, at the first product). */
typedef enum zoo_q8_kernel { ZOO_Q8_AUTO = 0, ZOO_Q8_ONEDNN, ZOO_Q8_PORTABLE } zoo_q8_kernel;
/* ZOO_OK, or ZOO_ERR_ARG when ZOO_Q8_ONEDNN is asked of a build without
 * oneDNN or a CPU without VNNI. */
ZOO_API int zoo_q8_set_kernel(zoo_q8_kernel k);
/* The kernel products use now, for people: "oneDNN 2.6.3 (u8s8s32 GEMM,
 * VNNI)", or "portable (WHY)": "libzoo built without oneDNN", "no VNNI on
 * this CPU", "ZOO_INT8_KERNEL=portable", ... */
ZOO_API const char *zoo_q8_kernel_name(void);

#ifdef __cplusplus
}
#endif
#endif
