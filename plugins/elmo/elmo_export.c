/* export: an AllenNLP directory, its three files written atomically
 * (elmo_allennlp.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elmo_allennlp.h"

int elmo_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp, const char *format,
                const char *path) {
    (void)params; /* m holds the tensors */
    if (strcmp(format, "allennlp") != 0)
        return zoo_error(ZOO_ERR_ARG, "elmo: cannot export to \"%s\" (only allennlp)", format);
    if (m->has_softmax && m->tok && zoo_tokenizer_vocab_size(m->tok) != m->V)
        return zoo_error(ZOO_ERR_ARG,
                         "elmo: export: the tokenizer has %d tokens but the softmax %lld words: "
                         "vocab.txt would not name its rows",
                         (int)zoo_tokenizer_vocab_size(m->tok), (long long)m->V);
    /* options.json last: it is what makes the directory an ELMo one */
    enum { WEIGHTS, VOCAB, OPTIONS, N_FILES };
    static const char *const names[N_FILES] = {"weights.hdf5", "vocab.txt", "options.json"};
    char final[N_FILES][PATH_MAX];
    void *data[N_FILES] = {NULL};
    size_t len[N_FILES] = {0};
    zoo_atomic_file *out[N_FILES] = {NULL};
    int st = ZOO_OK;
    for (int i = 0; i < N_FILES && !st; i++) st = elmo_path(final[i], PATH_MAX, path, names[i]);
    if (!st && !(data[OPTIONS] = elmo_options_text(m, hp)))
        st = zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
    if (!st) len[OPTIONS] = strlen(data[OPTIONS]);
    if (!st && m->tok && !(data[VOCAB] = elmo_vocab_text(m->tok, &len[VOCAB])))
        st = ZOO_ERR_ARG; /* elmo_vocab_text said why */
    if (!st) st = zoo_make_dirs(path);
    if (!st) st = elmo_weights_image(m, final[WEIGHTS], &data[WEIGHTS], &len[WEIGHTS]);
    /* every file written under a temporary name, then each renamed: a
     * failure to write leaves the directory's files as they were */
    for (int i = 0; i < N_FILES && !st; i++) {
        if (!data[i]) continue;
        st = zoo_atomic_file_open(final[i], &out[i]);
        if (!st) st = zoo_atomic_file_write(out[i], data[i], len[i]);
        if (!st && i == OPTIONS) st = zoo_atomic_file_write(out[i], "\n", 1);
    }
    for (int i = 0; i < N_FILES; i++) {
        if (!st && out[i])
            st = zoo_atomic_file_commit(out[i]);
        else
            zoo_atomic_file_abort(out[i]);
    }
    /* a vocab.txt of an earlier export would name another model's words */
    if (!st && !m->tok && unlink(final[VOCAB]) != 0 && errno != ENOENT)
        st = zoo_error(ZOO_ERR_IO, "%s: %s", final[VOCAB], strerror(errno));
    free(data[WEIGHTS]);
    free(data[VOCAB]);
    cJSON_free(data[OPTIONS]);
    return st;
}
