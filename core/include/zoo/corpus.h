/* A corpus: one or more UTF-8 text files, memory-mapped read-only and checked
 * once, then handed out as text that is known to be valid UTF-8.
 *
 * Real data sets contain stray bytes (TREC.train has one 0xF0), so there are
 * two policies: ZOO_UTF8_ERROR refuses the corpus with a message naming the
 * file, the byte offset and the byte; ZOO_UTF8_REPLACE replaces each maximal
 * invalid subsequence (the Unicode "maximal subpart" practice, the same as
 * Python's errors='replace') with U+FFFD and counts the replacements. Only a
 * file that needs repairs is copied, and only once; every other file is read
 * straight from its mapping, so a large corpus is never held twice. */
#ifndef ZOO_CORPUS_H
#define ZOO_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zoo_utf8_policy {
    ZOO_UTF8_ERROR = 0,   /* invalid UTF-8 is an error (the default of data.invalid_utf8) */
    ZOO_UTF8_REPLACE = 1, /* invalid UTF-8 becomes U+FFFD, counted */
} zoo_utf8_policy;

typedef struct zoo_corpus zoo_corpus;

/* Opens the n >= 1 files at paths (each a regular file) in that order.
 * Errors, with *out left NULL:
 *   ZOO_ERR_IO      "PATH: <strerror>" when a file cannot be opened or mapped;
 *   ZOO_ERR_FORMAT  "PATH: invalid UTF-8 at byte offset N (line L, byte 0xXX,
 *                   invalid start byte | invalid continuation byte | truncated at end
 *                   of file)" under ZOO_UTF8_ERROR; N is 0-based within that file;
 *   ZOO_ERR_ARG     when every file is empty ("corpus is empty: PATH, PATH"),
 *                   n < 1 or policy unknown.
 * The paths are copied. */
ZOO_API int zoo_corpus_open(const char *const *paths, int n, zoo_utf8_policy policy,
                            zoo_corpus **out);

/* Unmaps and frees everything; every pointer obtained from c becomes invalid.
 * NULL is ignored. */
ZOO_API void zoo_corpus_close(zoo_corpus *c);

/* The number of files. */
ZOO_API int zoo_corpus_count(const zoo_corpus *c);

/* The text of file i (0 <= i < count) as valid UTF-8 of *len bytes (len may
 * be NULL). It is NOT NUL-terminated (it may be the file's own mapping) and
 * may contain U+0000; it stays valid until zoo_corpus_close. */
ZOO_API const char *zoo_corpus_file(const zoo_corpus *c, int i, size_t *len);

/* The path of file i as given to zoo_corpus_open. */
ZOO_API const char *zoo_corpus_path(const zoo_corpus *c, int i);

/* The total size of the texts in bytes (after any replacement). */
ZOO_API int64_t zoo_corpus_bytes(const zoo_corpus *c);

/* How many U+FFFD were put in under ZOO_UTF8_REPLACE: over all files, and in
 * file i. Always 0 under ZOO_UTF8_ERROR. */
ZOO_API int64_t zoo_corpus_replacements(const zoo_corpus *c);
ZOO_API int64_t zoo_corpus_file_replacements(const zoo_corpus *c, int i);

/* Thread safety: a corpus is immutable once open; any number of threads may
 * read it concurrently. */

#ifdef __cplusplus
}
#endif
#endif
