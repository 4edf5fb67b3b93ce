/* Static word vectors: one row per word, as word2vec writes them. Reads and
 * writes Google's two formats (a header line "COUNT DIM", then per word its
 * text and DIM numbers in the text format, or "word " and DIM little-endian
 * float32 in the binary one; fastText's .vec is the text format), and
 * answers the usual queries over them: cosine nearest neighbours, analogies
 * (b - a + c). (The two standard evaluations are the host's.) Rows keep the file's order,
 * which word2vec writes by descending frequency: "the N most frequent" is
 * the first N. */
#ifndef ZOO_WORD_VECTORS_H
#define ZOO_WORD_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Made only by load and new, which also build the lookup tables find uses:
 * read the fields, do not change the words. */
typedef struct zoo_word_vectors {
    int64_t count, dim;
    char **words; /* [count], each NUL-terminated UTF-8 */
    float *data;  /* [count, dim] as read */
    float *unit;  /* [count, dim] each row scaled to length 1 (zero rows stay zero) */
} zoo_word_vectors;

/* Reads PATH in either format, told apart by content (the binary format's
 * rows are not text). Errors name the file and what is wrong: a bad header,
 * a row with too few numbers or a number that does not parse, a truncated
 * binary row (with its index), invalid UTF-8 in a word, a duplicate word,
 * a NaN or infinite number (with its word and position: it would make every
 * cosine with that row NaN).
 * NULL on failure (zoo_error_message says why). */
ZOO_API zoo_word_vectors *zoo_word_vectors_load(const char *path);

/* Builds vectors from count words and a [count, dim] array (both copied).
 * NULL with a message for a duplicate word, a word that could not be
 * saved and read back (empty, not UTF-8, or holding whitespace), or a NaN or
 * infinite number. */
ZOO_API zoo_word_vectors *zoo_word_vectors_new(int64_t count, int64_t dim, const char *const *words,
                                               const float *data);
ZOO_API void zoo_word_vectors_free(zoo_word_vectors *v);

/* Writes v atomically in Google's binary format, or the text format when
 * !binary (numbers printed so they read back to the same float32). */
ZOO_API int zoo_word_vectors_save(const zoo_word_vectors *v, const char *path, bool binary);

/* The row of word among the first `restrict_to` rows (<= 0: all), or -1.
 * Exact match first; when ignore_case, otherwise the first row whose
 * Unicode lower-case (utf8proc) equals the word's. */
ZOO_API int64_t zoo_word_vectors_find(const zoo_word_vectors *v, const char *word,
                                      int64_t restrict_to, bool ignore_case);

/* The n rows most cosine-similar to `query` (a [dim] vector, any length)
 * among the first restrict_to rows (<= 0: all), skipping the rows in
 * exclude[n_exclude]; best first into rows[] and cosines[]. Returns how many
 * were written (fewer than n when there are fewer candidates), or a
 * negative status with a message (out of memory). */
ZOO_API int64_t zoo_word_vectors_nearest(const zoo_word_vectors *v, const float *query,
                                         int64_t restrict_to, const int64_t *exclude, int n_exclude,
                                         int64_t n, int64_t *rows, float *cosines);

/* The analogy a : b :: c : ?, answered as the row nearest to
 * unit(b) - unit(a) + unit(c), the three inputs excluded (word2vec's
 * compute-accuracy and gensim's most_similar rule); n best as above, a row
 * out of range being an error. */
ZOO_API int64_t zoo_word_vectors_analogy(const zoo_word_vectors *v, int64_t a, int64_t b, int64_t c,
                                         int64_t restrict_to, int64_t n, int64_t *rows,
                                         float *cosines);

/* The query behind `zoo similar` and `zoo analogy`: n_words = 1, the rows
 * nearest to that word (itself excluded); n_words = 3, the analogy
 * words[0] : words[1] :: words[2] : ?. The words are found ignoring case
 * (zoo_word_vectors_find). Returns how many rows were written, as above, or
 * a negative status: ZOO_ERR_NOTFOUND "'WORD' is not among the N words",
 * ZOO_ERR_ARG for another n_words. */
ZOO_API int64_t zoo_word_vectors_query(const zoo_word_vectors *v, const char *const *words,
                                       int n_words, int64_t n, int64_t *rows, float *cosines);

#ifdef __cplusplus
}
#endif

#endif
