/* Word-vector files (core/src/formats/word_vectors.c), word2vec's text and
 * binary formats: the reader tells them apart by content, so one source
 * serves both targets (fuzz_word2vec_text, fuzz_word2vec_bin), which differ
 * by their seed corpus. What loads is queried as zoo similar and zoo analogy
 * do. */
#include "fuzz_util.h"
#include "zoo/word_vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zoo_word_vectors *v = zoo_word_vectors_load(fuzz_write("vectors", data, size));
    if (!v) return 0;
    int64_t rows[3];
    float cos[3];
    if (v->count > 0) {
        const char *one[] = {v->words[0]};
        zoo_word_vectors_query(v, one, 1, 3, rows, cos);
    }
    if (v->count > 2) {
        const char *three[] = {v->words[0], v->words[1], v->words[2]};
        zoo_word_vectors_query(v, three, 3, 3, rows, cos);
    }
    zoo_word_vectors_free(v);
    return 0;
}
