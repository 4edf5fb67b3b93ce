/* Quantized models (int8 weights, zoo/quant.h) for the inference commands:
 * which parameters of a model to quantize, and quantizing them.
 *
 * The host chooses, not the plugin: one forward of a sequence of two
 * tokens, recorded, shows how the plugin uses each parameter
 * (zoo_quant_axes), and a parameter is quantized when all its uses are as a
 * zoo_linear weight (along its output channels), a tied head's table
 * included. docs/quantization.md. */
#ifndef ZOO_HOST_QUANTIZE_H
#define ZOO_HOST_QUANTIZE_H

#include <stdbool.h>

#include "model.h"

#define ZOO_QUANT_SCHEME "int8"
/* Metadata of a quantized checkpoint: its scheme. */
#define ZOO_QUANT_METADATA "zoo.quantization"
/* A quantized weight W is stored as an I8 tensor W and an F32 tensor
 * W_scale of W's shape with 1 in place of the input axis. */
#define ZOO_QUANT_SCALE_SUFFIX "_scale"

/* *axes: a new array (free it) of the axis each parameter of m is
 * quantized along, -1 for one that is not (zoo_quant_axes). The values do
 * not matter (an empty model will do). ZOO_OK, the forward's error, or
 * ZOO_ERR_ARG naming the plugin when it has nothing to quantize (a model of
 * lookups alone, such as word2vec). */
int zoo_model_quant_axes(zoo_host_model *m, int **axes);
/* Quantizes m's product weights in place; errors as zoo_model_quant_axes. */
int zoo_model_quantize(zoo_host_model *m);
/* How many of m's parameters are quantized. */
int zoo_model_quantized_count(const zoo_host_model *m);

#endif
