/* File helpers shared by the host and plugins: whole-file reads, atomic
 * writes and directories. Errors come back as a zoo_status with a message naming the file.
 * (The host's own, .npy arrays, SHA-256 and relative paths, are in
 * host/runs/files.h.) */
#ifndef ZOO_IO_H
#define ZOO_IO_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"
#include "zoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The whole file, NUL-terminated (the terminator not counted in *len), from
 * malloc; NULL with a message on failure. len may be NULL. */
ZOO_API char *zoo_read_file(const char *path, size_t *len);

/* Writes data to path so that path holds either its old content or all of
 * the new, never a part: a temporary file beside it, fsync, rename, fsync of
 * the directory. On failure the old file is untouched and the temporary removed. */
ZOO_API int zoo_write_file_atomic(const char *path, const void *data, size_t len);

/* The same atomic write for content too large to assemble in memory first
 * (a checkpoint): open creates the temporary file beside `path`, write appends
 * to it through a small buffer (large pieces go straight to the file, never
 * copied), commit syncs it, renames it over `path` and syncs the directory.
 * Until the commit succeeds `path` keeps its old content. A failed write is
 * sticky: later writes and the commit return the same error. commit (whether
 * it succeeds or not) and abort remove any temporary file and free the handle.
 * One handle is used by one thread at a time. */
typedef struct zoo_atomic_file zoo_atomic_file;
ZOO_API int zoo_atomic_file_open(const char *path, zoo_atomic_file **out);
ZOO_API int zoo_atomic_file_write(zoo_atomic_file *f, const void *data, size_t len);
ZOO_API int zoo_atomic_file_commit(zoo_atomic_file *f);
ZOO_API void zoo_atomic_file_abort(zoo_atomic_file *f);

/* mkdir -p: path and every missing directory above it (mode 0755 less the
 * umask). ZOO_OK when path is a directory afterwards; an error naming the
 * part that could not be made, or path when it exists but is not a
 * directory. */
ZOO_API int zoo_make_dirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
