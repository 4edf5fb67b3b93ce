/* The tokenizer JSON checkpoints carry as zoo.tokenizer
 * (core/src/tokenizers/tokenizer.c and each type's from_json: char, word,
 * gpt2, wordpiece). A tokenizer that loads encodes, decodes and serialises. */
#include "fuzz_tokenizer_common.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    zoo_tokenizer *t = NULL;
    if (zoo_tokenizer_from_json(text, &t) == ZOO_OK) fuzz_exercise_tokenizer(t);
    zoo_tokenizer_free(t);
    free(text);
    return 0;
}
