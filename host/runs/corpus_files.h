/* Corpus files: one or more UTF-8 text files, memory-mapped read-only and checked
 * once, then handed out as text that is known to be valid UTF-8.
 *
 * Real data sets contain stray bytes (TREC.train has one 0xF0), so there are
 * two policies: ZOO_UTF8_ERROR refuses the corpus with a message naming the
 * file, the byte offset and the byte; ZOO_UTF8_REPLACE replaces each maximal
 * invalid subsequence (the Unicode "maximal subpart" practice, the same as
 * Python's errors='replace') with U+FFFD and counts the replacements. Only a
 * file that needs repairs is copied, and only once; every other file is read
 * straight from its mapping, so a large corpus is never held twice. What
 * zoo_corpus_open returns is libzoo's zoo_corpus, the view a tokenizer
 * trainer reads. */
#ifndef ZOO_HOST_CORPUS_FILES_H
#define ZOO_HOST_CORPUS_FILES_H

#include <stdint.h>

#include "zoo/corpus.h"

typedef enum zoo_utf8_policy {
    ZOO_UTF8_ERROR = 0,   /* invalid UTF-8 is an error (the default of data.invalid_utf8) */
    ZOO_UTF8_REPLACE = 1, /* invalid UTF-8 becomes U+FFFD, counted */
} zoo_utf8_policy;

/* Opens the n >= 1 files at paths (each a regular file) in that order.
 * Errors, with *out left NULL:
 *   ZOO_ERR_IO      "PATH: <strerror>" when a file cannot be opened or mapped;
 *   ZOO_ERR_FORMAT  "PATH: invalid UTF-8 at byte offset N (line L, byte 0xXX,
 *                   invalid start byte | invalid continuation byte | truncated at end
 *                   of file)" under ZOO_UTF8_ERROR; N is 0-based within that file;
 *   ZOO_ERR_ARG     when every file is empty ("corpus is empty: PATH, PATH"),
 *                   n < 1 or policy unknown.
 * The paths are copied. */
int zoo_corpus_open(const char *const *paths, int n, zoo_utf8_policy policy, zoo_corpus **out);

/* Unmaps and frees everything; every pointer obtained from c becomes invalid.
 * NULL is ignored. */
void zoo_corpus_close(zoo_corpus *c);

/* The total size of the texts in bytes (after any replacement). */
int64_t zoo_corpus_bytes(const zoo_corpus *c);

/* How many U+FFFD were put in under ZOO_UTF8_REPLACE: over all files, and in
 * file i. Always 0 under ZOO_UTF8_ERROR. */
int64_t zoo_corpus_replacements(const zoo_corpus *c);
int64_t zoo_corpus_file_replacements(const zoo_corpus *c, int i);

#endif
