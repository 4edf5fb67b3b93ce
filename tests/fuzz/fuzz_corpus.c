/* Corpus files (host/runs/corpus_files.c) and their encoding for training
 * (host/runs/data.c). The first byte picks the UTF-8 policy (bit 0: replace
 * instead of refuse) and whether lines are kept (bit 1); the rest is one or
 * two files (cut at FUZZ_SEPARATOR). A corpus that opens trains a small
 * "word" tokenizer, which then encodes the files as zoo eval --data does. */
#include "corpus_files.h"
#include "data.h"
#include "fuzz_util.h"
#include "zoo/tokenizer_type.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    zoo_utf8_policy policy = data[0] & 1 ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR;
    bool lines = data[0] & 2;
    size_t n_first, n_second;
    const uint8_t *second;
    fuzz_split(data + 1, size - 1, &n_first, &second, &n_second);
    const char *paths[2] = {fuzz_write("a.txt", data + 1, n_first),
                            fuzz_write("b.txt", second, n_second)};
    zoo_corpus *c = NULL;
    if (zoo_corpus_open(paths, 2, policy, &c) != ZOO_OK) return 0;
    zoo_corpus_bytes(c);
    zoo_corpus_replacements(c);
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = 64;
    zoo_tokenizer *t = NULL;
    if (zoo_tokenizer_train("word", &s, c, &t) == ZOO_OK) {
        zoo_text_ids ids = {0};
        zoo_text_encode_files(t, paths, 2, policy, lines, &ids);
        zoo_text_ids_free(&ids);
    }
    zoo_tokenizer_free(t);
    zoo_corpus_close(c);
    return 0;
}
