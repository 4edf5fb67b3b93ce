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

/* Size caps by what a format can need. A file past its cap is refused before
 * anything is read, with the cap in the message. */
#define ZOO_READ_MAX_JSON ((uint64_t)64 << 20)    /* configs, registries: 64 MiB */
#define ZOO_READ_MAX_FILE ((uint64_t)4 << 30)     /* zoo_read_file's default: 4 GiB */
#define ZOO_READ_MAX_VECTORS ((uint64_t)64 << 30) /* word-vector files: 64 GiB */

/* Opens path for reading only when it is a regular file of at most max_bytes:
 * opened with O_NONBLOCK (a FIFO cannot block the open) and checked with
 * fstat on the descriptor that is then read (no window between check and
 * use). A device, FIFO, socket or directory is refused naming what it is
 * ("is a character device, not a regular file"). *fd (close-on-exec,
 * blocking again) and *size (may be NULL) on ZOO_OK. */
ZOO_API int zoo_open_regular(const char *path, uint64_t max_bytes, int *fd, uint64_t *size);

/* The whole file, NUL-terminated (the terminator not counted in *len), from
 * malloc; NULL with a message on failure. len may be NULL. Only a regular
 * file is read (zoo_open_regular), of at most ZOO_READ_MAX_FILE bytes;
 * zoo_read_file_max takes the cap. */
ZOO_API char *zoo_read_file(const char *path, size_t *len);
ZOO_API char *zoo_read_file_max(const char *path, size_t *len, uint64_t max_bytes);

/* Writes data to path so that path holds either its old content or all of
 * the new, never a part: a temporary file beside it (PATH.tmp.XXXXXX), fsync,
 * rename, fsync of the directory. On failure the old file is untouched, the
 * temporary removed, and the message names path, the call that failed and
 * why ("PATH: fsync failed: Input/output error"); a failed fsync of the
 * directory, after the rename, is reported too (the new content is in place
 * but may not survive a crash). A process killed part-way leaves the old
 * file and at most a stale PATH.tmp.XXXXXX, never a part under path.
 *
 * The target must be a regular file or not exist yet: a device node, FIFO,
 * socket or directory is refused (renaming over it would replace the node,
 * as root even /dev/null). A symbolic link is written through, not replaced:
 * it is resolved with realpath, the temporary file is made beside the final
 * target and renamed onto it, so the link stays and its target gets the new
 * content (the same rules then apply to that target). A dangling link is
 * refused. */
ZOO_API int zoo_write_file_atomic(const char *path, const void *data, size_t len);

/* The same atomic write for content too large to assemble in memory first
 * (a checkpoint): open creates the temporary file beside `path`, write appends
 * to it through a small buffer (large pieces go straight to the file, never
 * copied), commit syncs it, renames it over `path` and syncs the directory.
 * Until the commit succeeds `path` keeps its old content. The target rules
 * are zoo_write_file_atomic's (checked by open). A failed write is
 * sticky: later writes and the commit return the same error. commit (whether
 * it succeeds or not) and abort remove any temporary file and free the handle.
 * One handle is used by one thread at a time. */
typedef struct zoo_atomic_file zoo_atomic_file;
ZOO_API int zoo_atomic_file_open(const char *path, zoo_atomic_file **out);
ZOO_API int zoo_atomic_file_write(zoo_atomic_file *f, const void *data, size_t len);
ZOO_API int zoo_atomic_file_commit(zoo_atomic_file *f);
ZOO_API void zoo_atomic_file_abort(zoo_atomic_file *f);

/* Makes a file another process wrote (a child's output) take the name `to`
 * as an atomic write would: from's data is synced, from is renamed over to,
 * and the directory synced. Both must be in the same directory. On failure
 * `to` keeps its old content (from may be left for the caller to remove). */
ZOO_API int zoo_rename_synced(const char *from, const char *to);

/* mkdir -p: path and every missing directory above it (mode 0755 less the
 * umask). ZOO_OK when path is a directory afterwards; an error naming the
 * part that could not be made, or path when it exists but is not a
 * directory. */
ZOO_API int zoo_make_dirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
