/* The word2vec plugin: schema, model, the tables built from the tokenizer's
 * counts, the operations the host calls, word2vec formats and the extras
 * declared in registry/registry.json. Training itself is in w2v_train.c. */
#include "word2vec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const zoo_hparam_spec w2v_hparams[] = {
    {.name = "vocab_size",
     .type = ZOO_HP_INT,
     .help = "words (set from the tokenizer)",
     .default_number = 2,
     .has_min = true,
     .min = 2},
    {.name = "dim",
     .type = ZOO_HP_INT,
     .help = "vector size",
     .default_number = 100,
     .has_min = true,
     .min = 1,
     .has_max = true,
     .max = 100000},
    {.name = "architecture",
     .type = ZOO_HP_ENUM,
     .help = "skipgram: each context word predicts the centre; cbow: the context together does",
     .default_string = "skipgram",
     .choices = (const char *const[]){"skipgram", "cbow", NULL}},
    {.name = "cbow_mean",
     .type = ZOO_HP_BOOL,
     .help = "CBOW's context is the mean of its vectors (false: their sum)",
     .default_number = 1},
    {.name = "window",
     .type = ZOO_HP_INT,
     .help = "context words on each side, at most (each centre draws a window from 1 to this)",
     .default_number = 5,
     .has_min = true,
     .min = 1,
     .has_max = true,
     .max = 1000},
    {.name = "negative",
     .type = ZOO_HP_INT,
     .help = "noise words per prediction in negative sampling (0: none)",
     .default_number = 5,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 1000},
    {.name = "hs",
     .type = ZOO_HP_BOOL,
     .help = "hierarchical softmax over a Huffman tree of the word counts",
     .default_number = 0},
    {.name = "sample",
     .type = ZOO_HP_FLOAT,
     .help = "sub-sampling threshold: words more frequent than this are dropped at random (0: "
             "none)",
     .default_number = 1e-3,
     .has_min = true,
     .min = 0},
    {.name = "ns_exponent",
     .type = ZOO_HP_FLOAT,
     .help = "noise distribution: counts to this power",
     .default_number = 0.75},
};

static int w2v_create(const zoo_hparams *hp, zoo_params *params, zoo_rng *rng, zoo_model **out) {
    zoo_model *m = calloc(1, sizeof *m);
    if (!m) return zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory");
    m->V = zoo_hparams_int(hp, "vocab_size");
    m->dim = zoo_hparams_int(hp, "dim");
    m->cbow = strcmp(zoo_hparams_string(hp, "architecture"), "cbow") == 0;
    m->cbow_mean = zoo_hparams_bool(hp, "cbow_mean");
    m->window = (int)zoo_hparams_int(hp, "window");
    m->negative = (int)zoo_hparams_int(hp, "negative");
    m->hs = zoo_hparams_bool(hp, "hs");
    m->sample = zoo_hparams_float(hp, "sample");
    m->ns_exponent = zoo_hparams_float(hp, "ns_exponent");
    if (m->negative == 0 && !m->hs) {
        free(m);
        return zoo_error(ZOO_ERR_ARG, "word2vec: negative is 0 and hs is false: nothing to train "
                                      "(set negative > 0, hs = true, or both)");
    }
    int64_t V = m->V, dim = m->dim;
    m->input = zoo_params_add(params, "input", 2, ZOO_SHAPE(V, dim), 0);
    if (m->input && m->negative > 0)
        m->output = zoo_params_add(params, "output", 2, ZOO_SHAPE(V, dim), 0);
    if (m->input && m->hs)
        m->output_hs = zoo_params_add(params, "output_hs", 2, ZOO_SHAPE(V - 1, dim), 0);
    if (!m->input || (m->negative > 0 && !m->output) || (m->hs && !m->output_hs)) {
        free(m);
        return ZOO_ERR_ARG; /* zoo_params_add left the message */
    }
    /* word2vec.c's start: input uniform in [-0.5, 0.5)/dim, the output layers at zero */
    zoo_rng_fill_uniform(rng, zoo_f32(m->input), (size_t)(V * dim), -0.5f / (float)dim,
                         0.5f / (float)dim);
    *out = m;
    return ZOO_OK;
}

static void w2v_destroy(zoo_model *m) {
    w2v_alias_free(&m->noise);
    w2v_huffman_free(&m->tree);
    free(m->keep);
    free(m);
}

/* The sampling tables from the tokenizer's corpus counts. Specials (and
 * [UNK], which stands for the words min_count cut) are never trained, as
 * word2vec.c drops the words outside its vocabulary. */
static int w2v_set_tokenizer(zoo_model *m, const zoo_tokenizer *tok) {
    int64_t V = m->V;
    if (zoo_tokenizer_vocab_size(tok) != V)
        return zoo_error(ZOO_ERR_ARG, "word2vec: the tokenizer has %d tokens, the model %lld",
                         zoo_tokenizer_vocab_size(tok), (long long)V);
    int64_t *counts = calloc((size_t)V, sizeof *counts);
    double *weights = calloc((size_t)V, sizeof *weights);
    uint64_t *keep = calloc((size_t)V, sizeof *keep);
    int st =
        counts && weights && keep ? ZOO_OK : zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory");
    int64_t total = 0;
    for (int32_t id = 0; !st && id < V; id++) {
        int64_t c = zoo_tokenizer_count(tok, id);
        if (c < 0)
            st = zoo_error(ZOO_ERR_ARG,
                           "word2vec: the %s tokenizer keeps no corpus counts; word2vec needs a "
                           "word tokenizer trained on the corpus (data.tokenizer.type: word)",
                           zoo_tokenizer_type(tok));
        else if (!zoo_tokenizer_is_special(tok, id))
            counts[id] = c, total += c;
    }
    if (!st && total == 0)
        st =
            zoo_error(ZOO_ERR_ARG, "word2vec: the tokenizer counted no words outside its specials");
    for (int32_t id = 0; !st && id < V; id++) {
        if (zoo_tokenizer_is_special(tok, id)) { /* never trained: no information, not noise */
            memset(zoo_f32(m->input) + id * m->dim, 0, (size_t)m->dim * sizeof(float));
            continue;
        }
        weights[id] = pow((double)counts[id], m->ns_exponent);
        /* word2vec.c's sub-sampling: keep with (sqrt(c/t) + 1) t/c, t = sample * total */
        double t = m->sample * (double)total, c = (double)counts[id];
        double p = m->sample > 0 && c > 0 ? (sqrt(c / t) + 1) * t / c : 1;
        keep[id] = p >= 1 ? 1ULL << 32 : (uint64_t)(p * 4294967296.0);
        if (keep[id] == 0) keep[id] = 1;
    }
    w2v_alias_free(&m->noise);
    w2v_huffman_free(&m->tree);
    if (!st && m->negative > 0) st = w2v_alias_build(&m->noise, weights, V);
    if (!st && m->hs) st = w2v_huffman_build(&m->tree, counts, V);
    free(counts), free(weights);
    if (st) {
        free(keep);
        return st;
    }
    free(m->keep);
    m->keep = keep;
    m->tok = tok;
    return ZOO_OK;
}

/* The word vectors of the batch's ids: [B,T,dim]. */
static zoo_tensor *vectors_of(zoo_model *m, zoo_graph *g, const zoo_batch *batch) {
    zoo_tensor *ids =
        zoo_tensor_wrap(g, ZOO_I32, 2, ZOO_SHAPE(batch->B, batch->T), (void *)batch->ids);
    return zoo_embedding(g, m->input, ids);
}

static int w2v_forward(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_outputs *out) {
    out->hidden = vectors_of(m, g, batch);
    return zoo_graph_status(g);
}

static int w2v_embed(zoo_model *m, zoo_graph *g, const zoo_batch *batch, int layer,
                     zoo_tensor **out) {
    (void)layer;
    *out = vectors_of(m, g, batch);
    return zoo_graph_status(g);
}

/* The training objective on a chunk, without updating anything: the mean
 * loss per binary prediction (the host's validation). */
static int w2v_loss(zoo_model *m, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                    zoo_tensor **loss, zoo_metrics *metrics) {
    (void)metrics;
    zoo_step_stats stats = {.size = sizeof stats};
    int st = w2v_train_chunk(m, batch, 0, rng, false, &stats);
    if (st) return st;
    *loss = zoo_new(g, ZOO_F32, 1);
    if (*loss) zoo_f32(*loss)[0] = (float)stats.loss;
    return zoo_graph_status(g);
}

static int w2v_train_step(zoo_model *m, const zoo_batch *batch, float lr, zoo_rng *rng,
                          zoo_step_stats *stats) {
    return w2v_train_chunk(m, batch, lr, rng, true, stats);
}

/* The trained words (no specials) and their input vectors, in id order:
 * the word tokenizer's ids run from the most frequent word down. */
static zoo_word_vectors *word_vectors_of(const zoo_model *m) {
    if (!m->tok) {
        zoo_error(ZOO_ERR_STATE, "word2vec: the model has no tokenizer, so no words");
        return NULL;
    }
    /* the tokenizer's strings are not NUL-terminated: copies */
    char **words = calloc((size_t)m->V, sizeof *words);
    float *rows = malloc((size_t)(m->V * m->dim) * sizeof *rows);
    int64_t n = 0;
    bool ok = words && rows;
    for (int32_t id = 0; ok && id < m->V; id++) {
        if (zoo_tokenizer_is_special(m->tok, id)) continue;
        size_t len;
        const char *text = zoo_tokenizer_token(m->tok, id, &len);
        ok = text && (words[n] = strndup(text, len));
        memcpy(rows + n * m->dim, zoo_f32(m->input) + (int64_t)id * m->dim,
               (size_t)m->dim * sizeof *rows);
        n += ok;
    }
    zoo_word_vectors *v =
        ok ? zoo_word_vectors_new(n, m->dim, (const char *const *)words, rows) : NULL;
    if (!ok) zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory");
    for (int64_t i = 0; words && i < n; i++) free(words[i]);
    free(words), free(rows);
    return v;
}

static int w2v_export(zoo_model *m, const zoo_params *params, const zoo_hparams *hp,
                      const char *format, const char *path) {
    (void)params, (void)hp;
    bool binary = strcmp(format, "word2vec-bin") == 0;
    if (!binary && strcmp(format, "word2vec-text") != 0)
        return zoo_error(ZOO_ERR_ARG, "word2vec: unknown format \"%s\"", format);
    zoo_word_vectors *v = word_vectors_of(m);
    if (!v) return ZOO_ERR_STATE;
    int st = zoo_word_vectors_save(v, path, binary);
    zoo_word_vectors_free(v);
    return st;
}

static const zoo_plugin_ops w2v_ops = {
    .size = sizeof(zoo_plugin_ops),
    .create = w2v_create,
    .destroy = w2v_destroy,
    .forward = w2v_forward,
    .loss = w2v_loss,
    .embed = w2v_embed,
    .export_checkpoint = w2v_export,
    .train_step = w2v_train_step,
    .set_tokenizer = w2v_set_tokenizer,
};

static const char *const w2v_formats[] = {"word2vec-bin", "word2vec-text", NULL};

static const zoo_plugin w2v_plugin = {
    .size = sizeof(zoo_plugin),
    .abi_major = ZOO_ABI_MAJOR,
    .abi_minor = ZOO_ABI_MINOR,
    .name = "word2vec",
    .version = "0.1.0",
    .summary =
        "word2vec: skip-gram and CBOW word vectors, negative sampling or hierarchical softmax",
    .objective = ZOO_OBJ_WORD_VECTORS,
    .hparams = w2v_hparams,
    .n_hparams = (int)(sizeof w2v_hparams / sizeof w2v_hparams[0]),
    .capabilities = ZOO_CAP_EXPORT | ZOO_CAP_SELF_UPDATE | ZOO_CAP_TOKENIZER,
    .formats = w2v_formats,
    .ops = &w2v_ops,
};

ZOO_PLUGIN_EXPORT const zoo_plugin *zoo_plugin_entry(void) {
    return &w2v_plugin;
}

/* --- extras, declared in word2vec.json, called through libffi ------------ */

/* "word cosine" lines for the rows found, or NULL with a message. */
static char *format_results(const zoo_word_vectors *v, const int64_t *rows, const float *cosines,
                            int64_t n) {
    size_t size = 1;
    for (int64_t i = 0; i < n; i++) size += strlen(v->words[rows[i]]) + 16;
    char *text = malloc(size), *at = text;
    if (!text) {
        zoo_error(ZOO_ERR_NOMEM, "word2vec: out of memory");
        return NULL;
    }
    *at = '\0';
    for (int64_t i = 0; i < n; i++)
        at += snprintf(at, size - (size_t)(at - text), "%s %.4f\n", v->words[rows[i]], cosines[i]);
    return text;
}

/* The top words nearest to b - a + c (similar: to a alone, b = c = NULL). */
static char *query(zoo_model *m, const char *a, const char *b, const char *c, int64_t top) {
    if (top < 1 || top > 10000) {
        zoo_error(ZOO_ERR_ARG, "word2vec: top must be in [1, 10000], got %lld", (long long)top);
        return NULL;
    }
    zoo_word_vectors *v = word_vectors_of(m);
    if (!v) return NULL;
    const char *words[3] = {a, b, c};
    int64_t *rows = malloc((size_t)top * sizeof *rows);
    float *cosines = malloc((size_t)top * sizeof *cosines);
    char *text = NULL;
    int64_t found = rows && cosines
                        ? zoo_word_vectors_query(v, words, b ? 3 : 1, top, rows, cosines)
                        : zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (found >= 0)
        text = format_results(v, rows, cosines, found);
    else
        zoo_error(found, "word2vec: %s", zoo_error_message());
    free(rows), free(cosines);
    zoo_word_vectors_free(v);
    return text;
}

ZOO_PLUGIN_EXPORT char *word2vec_similar(zoo_model *m, const char *word, int64_t top) {
    return query(m, word, NULL, NULL, top);
}

ZOO_PLUGIN_EXPORT char *word2vec_analogy(zoo_model *m, const char *a, const char *b, const char *c,
                                         int64_t top) {
    return query(m, a, b, c, top);
}
