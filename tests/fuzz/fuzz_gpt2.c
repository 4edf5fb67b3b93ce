/* GPT-2's tokenizer files (core/src/tokenizers/tok_gpt2.c): one input is
 * vocab.json, FUZZ_SEPARATOR, merges.txt. A tokenizer that loads encodes
 * and decodes a fixed text. */
#include "fuzz_tokenizer_common.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n_vocab, n_merges;
    const uint8_t *merges;
    fuzz_split(data, size, &n_vocab, &merges, &n_merges);
    const char *vocab_path = fuzz_write("vocab.json", data, n_vocab);
    const char *merges_path = fuzz_write("merges.txt", merges, n_merges);
    zoo_tokenizer *t = NULL;
    if (zoo_tokenizer_load_gpt2_files(vocab_path, merges_path, &t) == ZOO_OK)
        fuzz_exercise_tokenizer(t);
    zoo_tokenizer_free(t);
    return 0;
}
