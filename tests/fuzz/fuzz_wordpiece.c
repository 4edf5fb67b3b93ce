/* BERT's vocab.txt (core/src/tokenizers/tok_wordpiece.c), read with the
 * case decided from the vocabulary (no tokenizer_config.json beside it).
 * A tokenizer that loads encodes and decodes a fixed text. */
#include "fuzz_tokenizer_common.h"
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zoo_tokenizer *t = NULL;
    if (zoo_tokenizer_load_wordpiece(fuzz_write("vocab.txt", data, size),
                                     ZOO_WORDPIECE_LOWERCASE_AUTO, &t) == ZOO_OK) {
        fuzz_exercise_tokenizer(t);
        zoo_ids ids = {0}, types = {0}, mask = {0};
        zoo_pair_settings ps = ZOO_PAIR_SETTINGS_INIT;
        ps.max_len = 16;
        /* a pair: the first line, and the second (cut at a character boundary) */
        const char *b = strchr(fuzz_sample_text, '\n') + 1;
        zoo_tokenizer_encode_pair(t, fuzz_sample_text, (size_t)(b - fuzz_sample_text), b, 20, &ps,
                                  &ids, &types, &mask);
        zoo_ids_free(&ids), zoo_ids_free(&types), zoo_ids_free(&mask);
    }
    zoo_tokenizer_free(t);
    return 0;
}
