/* A corpus as a tokenizer trainer reads it (zoo_tokenizer_train, a type's
 * train operation in zoo/tokenizer_type.h): one or more texts of valid UTF-8
 * with the paths they came from. The host builds it from files (mapped
 * read-only, checked, invalid bytes refused or replaced as data.invalid_utf8
 * says: host/runs/corpus_files.h); a trainer only reads it.
 *
 * The struct starts with its size and only grows at its end. A corpus is
 * immutable; any number of threads may read it concurrently. */
#ifndef ZOO_CORPUS_H
#define ZOO_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_corpus {
    size_t size;              /* sizeof(zoo_corpus) as its builder was compiled */
    int count;                /* texts, >= 1 */
    const char *const *paths; /* [count] where each text came from */
    const char *const *texts; /* [count] valid UTF-8, NOT NUL-terminated, may hold U+0000 */
    const size_t *lens;       /* [count] bytes of each text */
} zoo_corpus;

/* The number of texts. */
static inline int zoo_corpus_count(const zoo_corpus *c) {
    return c->count;
}

/* Text i (0 <= i < count) and its length in *len (len may be NULL); NULL
 * (and a length of 0) out of range. */
static inline const char *zoo_corpus_file(const zoo_corpus *c, int i, size_t *len) {
    bool in = i >= 0 && i < c->count;
    if (len) *len = in ? c->lens[i] : 0;
    return in ? c->texts[i] : NULL;
}

/* Where text i came from; NULL out of range. */
static inline const char *zoo_corpus_path(const zoo_corpus *c, int i) {
    return i >= 0 && i < c->count ? c->paths[i] : NULL;
}

#ifdef __cplusplus
}
#endif
#endif
