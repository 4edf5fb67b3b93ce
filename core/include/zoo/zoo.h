/* libzoo: tensors, autograd, operators, optimizers, data, tokenizers and file
 * formats. Include this one header. */
#ifndef ZOO_ZOO_H
#define ZOO_ZOO_H

#include "zoo/corpus.h"
#include "zoo/export.h"
#include "zoo/flops.h"
#include "zoo/gradcheck.h"
#include "zoo/hf_dir.h"
#include "zoo/hparams.h"
#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/kv_cache.h"
#include "zoo/op.h"
#include "zoo/ops.h"
#include "zoo/optim.h"
#include "zoo/params.h"
#include "zoo/plugin.h"
#include "zoo/probe.h"
#include "zoo/quant.h"
#include "zoo/rng.h"
#include "zoo/safetensors.h"
#include "zoo/status.h"
#include "zoo/tensor.h"
#include "zoo/threads.h"
#include "zoo/tokenizer.h"
#include "zoo/tokenizer_type.h"
#include "zoo/word_vectors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0": the library's version (the plugin ABI has its own). */
ZOO_API const char *zoo_version(void);

#ifdef __cplusplus
}
#endif
#endif
