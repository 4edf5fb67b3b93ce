/* safetensors checkpoints, HuggingFace's format: an 8-byte little-endian
 * length N, N bytes of UTF-8 JSON header, then the data buffer. The header maps
 * each tensor name to {"dtype": "F32", "shape": [2,3], "data_offsets": [BEGIN,
 * END]} (offsets into the data buffer, which the tensors cover exactly, without
 * gaps or overlaps) and may hold "__metadata__": {"key": "string value", ...}.
 * Tensor data is row-major and little-endian.
 *
 * Little-endian hosts only (x86-64, ARM64): tensor bytes are copied as they lie.
 *
 * Writing streams each tensor from the caller's memory into a temporary file
 * that replaces the target atomically (see zoo_atomic_file_open in io.h), so
 * a 500 MB checkpoint is never assembled in memory. Reading memory-maps the
 * file and validates the whole header and the layout of the data buffer up
 * front; after a successful zoo_st_open only a caller's mistake (a wrong dtype
 * or buffer size) can make a read fail. Every message names the file and what
 * is wrong with it ("m.safetensors: tensor 'x': shape [2,3] of F32 needs 24
 * bytes, data_offsets give 20"). */
#ifndef ZOO_SAFETENSORS_H
#define ZOO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- writing ------------------------------------------------------------ */

/* A list of tensors and metadata to write. The output is deterministic: the
 * header is compact JSON as HuggingFace's writer produces it ("__metadata__"
 * first when there is any, then the tensors in insertion order, each with its
 * dtype, shape and data_offsets), padded with spaces to a multiple of 8 bytes;
 * the data follows in the same order. One writer is used by one thread at a time. */
typedef struct zoo_st_writer zoo_st_writer;

/* NULL (with a message) when out of memory. */
ZOO_API zoo_st_writer *zoo_st_writer_new(void);
ZOO_API void zoo_st_writer_free(zoo_st_writer *w);

/* Adds a tensor of dtype ZOO_F32 ("F32"), ZOO_I32 ("I32") or ZOO_I8 ("I8", the
 * values of a quantized weight; its scales are a separate F32 tensor), 0 to ZOO_MAX_DIMS
 * dimensions (each >= 0), row-major. `data` is referenced, not copied: it must
 * stay valid and hold the intended values until zoo_st_writer_write returns
 * (it may be NULL for a tensor of 0 elements). ZOO_ERR_ARG for an empty name,
 * a name that is not UTF-8, "__metadata__", a name already added, another
 * dtype or an invalid shape. */
ZOO_API int zoo_st_writer_add(zoo_st_writer *w, const char *name, zoo_dtype dtype, int ndim,
                              const int64_t *shape, const void *data);

/* Adds "__metadata__" entry key: value (both copied, both UTF-8). ZOO_ERR_ARG
 * for a key already added or text that is not UTF-8. */
ZOO_API int zoo_st_writer_add_metadata(zoo_st_writer *w, const char *key, const char *value);

/* Writes everything added so far to path, atomically: on failure path keeps
 * its old content and no temporary file is left. May be called again. */
ZOO_API int zoo_st_writer_write(const zoo_st_writer *w, const char *path);

/* --- reading ------------------------------------------------------------ */

/* An open, validated file. It is memory-mapped: the file must not be truncated
 * or rewritten in place while open (zoo's own writes replace files by rename,
 * which is safe). Nothing changes after zoo_st_open, so any number of threads
 * may read from one file at once. Tensors are numbered 0 .. count-1 in the
 * order of the header. */
typedef struct zoo_st_file zoo_st_file;

/* Opens and validates path; *out is NULL on failure. ZOO_ERR_IO when it cannot
 * be read; ZOO_ERR_FORMAT when it is not a valid safetensors file: shorter than
 * 8 bytes; truncated (a header length beyond the end of the file, or a tensor
 * beyond the data buffer); a header over 100 MB, not UTF-8, not JSON or not an
 * object; a tensor entry without a string dtype, an array of integers >= 0 as
 * shape or [begin, end] as data_offsets; an unknown dtype (known: BOOL, U8, I8,
 * F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64);
 * offsets that do not span exactly the bytes the shape and dtype need;
 * tensors that overlap, a name that appears twice, bytes of the data buffer
 * that belong to no tensor; "__metadata__" that is not an object of strings.
 * Keys of a tensor entry other than the three are ignored, as HuggingFace does. */
ZOO_API int zoo_st_open(const char *path, zoo_st_file **out);
ZOO_API void zoo_st_close(zoo_st_file *f);

ZOO_API int zoo_st_count(const zoo_st_file *f);
/* NULL when i is out of range. Valid until zoo_st_close, as is every pointer below. */
ZOO_API const char *zoo_st_name(const zoo_st_file *f, int i);
/* The index of the tensor called name, or -1. O(log count). */
ZOO_API int zoo_st_find(const zoo_st_file *f, const char *name);
/* The dtype as the file spells it ("F32", "BF16", ...), the number of
 * dimensions and the shape (each may be NULL if not wanted). ZOO_ERR_ARG when
 * i is out of range. A tensor of more dimensions than a zoo tensor has (the
 * format sets no limit) gets its true ndim, its first ZOO_MAX_DIMS sizes and
 * ZOO_ERR_SHAPE with a message; zoo_st_shape has them all. */
ZOO_API int zoo_st_info(const zoo_st_file *f, int i, const char **dtype, int *ndim,
                        int64_t shape[ZOO_MAX_DIMS]);
/* All zoo_st_info's ndim sizes of tensor i; NULL when i is out of range. */
ZOO_API const int64_t *zoo_st_shape(const zoo_st_file *f, int i);
/* Elements of tensor i (1 for a 0-dimensional one); -1 when i is out of range. */
ZOO_API int64_t zoo_st_numel(const zoo_st_file *f, int i);
/* The raw little-endian bytes of tensor i inside the mapping, and their count;
 * NULL when i is out of range. Not necessarily aligned for the dtype. */
ZOO_API const void *zoo_st_data(const zoo_st_file *f, int i, size_t *nbytes);

/* Lets the kernel drop tensor i's pages from memory once it has been copied
 * out: they stay readable (read again from the file if touched). A file is
 * mapped, so without it a loaded model costs its size twice, the copy and
 * the mapped pages. */
ZOO_API void zoo_st_evict(const zoo_st_file *f, int i);
/* Copies tensor i into out[numel] as float32: F32 as is, F16 and BF16 widened
 * exactly, F64 rounded to nearest (NaN and infinities kept). ZOO_ERR_SHAPE
 * when numel is not the tensor's element count or its dtype is another one;
 * ZOO_ERR_FORMAT for a finite F64 value beyond float32's range; ZOO_ERR_ARG
 * when i is out of range. After an error out may be partly written. */
ZOO_API int zoo_st_read_f32(const zoo_st_file *f, int i, float *out, int64_t numel);
/* The same into int32 from I32, or from I64 when every value fits (else
 * ZOO_ERR_FORMAT naming the first element that does not). */
ZOO_API int zoo_st_read_i32(const zoo_st_file *f, int i, int32_t *out, int64_t numel);

/* The "__metadata__" value under key, or NULL when there is none. */
ZOO_API const char *zoo_st_metadata(const zoo_st_file *f, const char *key);

/* Reads tensor i into t (float32), after checking that its shape is t's;
 * the message names the file, the tensor and both shapes. t is a model's
 * weight (or its optimizer state), so a NaN or infinite value is refused as
 * zoo_st_check_finite does. */
ZOO_API int zoo_st_read_into(const zoo_st_file *f, int i, zoo_tensor *t);
/* ZOO_OK when v[numel], tensor i's values as read, are all finite; else
 * ZOO_ERR_FORMAT naming the file, the tensor and the first element that is
 * NaN or infinite: weights that are would make every output NaN (cosines of
 * -nan, a loss of NaN) far from the cause. */
ZOO_API int zoo_st_check_finite(const zoo_st_file *f, int i, const float *v, int64_t numel);

/* Opens DIR/model.safetensors, the weights of a HuggingFace directory. A
 * directory with only pytorch_model.bin is refused with a message: zoo never
 * unpickles. */
ZOO_API int zoo_st_open_model_dir(const char *dir, zoo_st_file **out);
/* Enumeration of the metadata in header order: the key of entry i (NULL when
 * out of range), its value through *value when value is not NULL. */
ZOO_API int zoo_st_metadata_count(const zoo_st_file *f);
ZOO_API const char *zoo_st_metadata_at(const zoo_st_file *f, int i, const char **value);

#ifdef __cplusplus
}
#endif
#endif
