#include "vectors_source.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "saved_model.h"
#include "zoo/ops.h"
#include "zoo/status.h"

bool zoo_is_word2vec_file(const char *path) {
    struct stat st;
    size_t len = strlen(path);
    return !(stat(path, &st) == 0 && S_ISDIR(st.st_mode)) &&
           !(len > 12 && strcmp(path + len - 12, ".safetensors") == 0);
}

/* Every word's vector through the plugin's embed: one batch [1, n]. */
static zoo_word_vectors *from_model(const zoo_cli *cli, const char *path, zoo_saved_model *m) {
    const zoo_plugin *d = m->plugin->plugin;
    int32_t V = zoo_tokenizer_vocab_size(m->tokenizer), n = 0;
    int32_t *ids = malloc((size_t)V * sizeof *ids);
    char **words = calloc((size_t)V, sizeof *words);
    zoo_graph *g = zoo_graph_new(0);
    zoo_word_vectors *v = NULL;
    bool ok = ids && words && g;
    for (int32_t id = 0; ok && id < V; id++) {
        if (zoo_tokenizer_is_special(m->tokenizer, id)) continue;
        size_t len;
        const char *text = zoo_tokenizer_token(m->tokenizer, id, &len);
        ok = text && (words[n] = strndup(text, len));
        ids[n] = id;
        n += ok;
    }
    zoo_tensor *out = NULL;
    if (ok && n > 0) {
        zoo_graph_set_recording(g, false);
        zoo_batch batch = {.size = sizeof batch, .B = 1, .T = n, .ids = ids};
        if (d->ops->embed(m->model->model, g, &batch, -1, &out) != ZOO_OK || !out ||
            zoo_graph_status(g))
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: embed: %s", path,
                         zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
        else if (!(v = zoo_word_vectors_new(n, out->shape[out->ndim - 1],
                                            (const char *const *)words, zoo_f32(out))))
            zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %s", path, zoo_error_message());
    } else {
        zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                     ok ? "%s: the vocabulary has no words" : "%s: out of memory", path);
    }
    for (int32_t i = 0; words && i < n; i++) free(words[i]);
    free(words), free(ids);
    zoo_graph_free(g);
    return v;
}

zoo_word_vectors *zoo_vectors_open(const zoo_cli *cli, const char *path) {
    if (zoo_is_word2vec_file(path)) {
        zoo_word_vectors *v = zoo_word_vectors_load(path);
        if (!v) zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        return v;
    }
    zoo_saved_model m;
    zoo_word_vectors *v = NULL;
    if (zoo_cli_open_model(cli, path, ZOO_NEEDS_WORD_VECTORS | ZOO_NEEDS_TOKENIZER, &m) == 0) {
        v = from_model(cli, path, &m);
        zoo_cli_close_model(&m);
    }
    return v;
}
