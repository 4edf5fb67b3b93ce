/* word2vec: single updates against reference/word2vec_reference.py
 * (numpy, float64), the sampling tables built from the tokenizer's counts,
 * and training steps through the plugin (determinism, threads, errors). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "check_util.h"
#include "loader.h"
#include "model.h"
#include "word2vec.h"
#include "zoo/io.h"

/* ---- one-update fixtures -------------------------------------------------- */

static cJSON *fixture;

static cJSON *load_fixture(void) {
    size_t len = 0;
    char *text = zoo_read_file(ZOO_TEST_DIR "/fixtures/one_update.json", &len);
    ck_assert_ptr_nonnull(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* A [rows][cols] JSON array into floats. */
static float *matrix(const cJSON *a, int64_t rows, int64_t cols) {
    ck_assert_int_eq(cJSON_GetArraySize(a), rows);
    float *m = malloc((size_t)(rows * cols) * sizeof *m);
    for (int64_t r = 0; r < rows; r++) {
        const cJSON *row = cJSON_GetArrayItem(a, (int)r);
        ck_assert_int_eq(cJSON_GetArraySize(row), cols);
        for (int64_t c = 0; c < cols; c++)
            m[r * cols + c] = (float)cJSON_GetArrayItem(row, (int)c)->valuedouble;
    }
    return m;
}

static int ints(const cJSON *a, int32_t *out, int max) {
    int n = cJSON_GetArraySize(a);
    ck_assert_int_le(n, max);
    for (int i = 0; i < n; i++) out[i] = (int32_t)cJSON_GetArrayItem(a, i)->valueint;
    return n;
}

static const cJSON *field(const cJSON *o, const char *name) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(f != NULL, "fixture: no field %s", name);
    return f;
}

/* w2v_huffman_build gives the reference's paths (its own implementation of
 * word2vec.c's tree) for the fixture's counts. */
START_TEST(test_huffman_paths_match_the_reference) {
    cJSON *doc = load_fixture();
    int64_t V = field(doc, "vocab_size")->valueint, counts[16];
    for (int64_t i = 0; i < V; i++)
        counts[i] = cJSON_GetArrayItem(field(doc, "counts"), (int)i)->valueint;
    w2v_huffman h;
    ck_assert_int_eq(w2v_huffman_build(&h, counts, V), ZOO_OK);
    const cJSON *points = field(field(doc, "huffman"), "points");
    const cJSON *codes = field(field(doc, "huffman"), "codes");
    for (int64_t w = 0; w < V; w++) {
        int32_t p[64], c[64];
        int n = ints(cJSON_GetArrayItem(points, (int)w), p, 64);
        ck_assert_int_eq(ints(cJSON_GetArrayItem(codes, (int)w), c, 64), n);
        ck_assert_int_eq(h.length[w], n);
        for (int k = 0; k < n; k++) {
            ck_assert_int_eq(h.points[h.offset[w] + k], p[k]);
            ck_assert_int_eq(h.codes[h.offset[w] + k], c[k]);
        }
    }
    w2v_huffman_free(&h);
    cJSON_Delete(doc);
}
END_TEST

/* Every case of the fixture: the matrices after one centre word's update
 * equal the reference's to 1e-6, and so does the loss (relatively). */
START_TEST(test_one_update_matches_the_reference) {
    fixture = load_fixture();
    int64_t V = field(fixture, "vocab_size")->valueint, dim = field(fixture, "dim")->valueint;
    int64_t counts[16];
    for (int64_t i = 0; i < V; i++)
        counts[i] = cJSON_GetArrayItem(field(fixture, "counts"), (int)i)->valueint;
    w2v_huffman tree;
    ck_assert_int_eq(w2v_huffman_build(&tree, counts, V), ZOO_OK);
    float alpha = (float)field(fixture, "alpha")->valuedouble;
    const cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, field(fixture, "cases")) {
        const char *name = field(c, "name")->valuestring;
        float *W = matrix(field(fixture, "W"), V, dim), *O = matrix(field(fixture, "O"), V, dim);
        float *H = matrix(field(fixture, "H"), V - 1, dim);
        bool cbow = strcmp(field(c, "model")->valuestring, "cbow") == 0;
        w2v_update u = {.dim = dim,
                        .input = W,
                        .output = cJSON_IsTrue(field(c, "negative")) ? O : NULL,
                        .output_hs = H,
                        .tree = cJSON_IsTrue(field(c, "hs")) ? &tree : NULL,
                        .cbow = cbow,
                        .cbow_mean = cJSON_IsTrue(field(c, "mean"))};
        int32_t context[16], neg[64];
        int n_context = ints(field(c, "contexts"), context, 16), n_neg = 0;
        const cJSON *sets = field(c, "negatives"), *set;
        if (cJSON_IsArray(cJSON_GetArrayItem(sets, 0))) { /* skip-gram: a set per context word */
            int j = 0;
            n_neg = cJSON_GetArraySize(cJSON_GetArrayItem(sets, 0));
            cJSON_ArrayForEach(set, sets) ck_assert_int_eq(ints(set, neg + n_neg * j++, 16), n_neg);
            ck_assert_int_eq(j, n_context);
        } else {
            n_neg = ints(sets, neg, 16);
        }
        float work[64];
        int64_t predictions = 0;
        double loss = w2v_update_centre(&u, field(c, "centre")->valueint, context, n_context, neg,
                                        n_neg, alpha, work, &predictions);
        float *want_W = matrix(field(c, "W"), V, dim), *want_O = matrix(field(c, "O"), V, dim);
        float *want_H = matrix(field(c, "H"), V - 1, dim);
        ck_assert_floats_close(W, want_W, V * dim, 1e-6, 0);
        ck_assert_floats_close(O, want_O, V * dim, 1e-6, 0);
        ck_assert_floats_close(H, want_H, (V - 1) * dim, 1e-6, 0);
        double want_loss = field(c, "loss")->valuedouble;
        ck_assert_msg(fabs(loss - want_loss) <= 1e-5 * want_loss, "%s: loss %.9g, reference %.9g",
                      name, loss, want_loss);
        ck_assert_int_gt(predictions, 0);
        free(W), free(O), free(H), free(want_W), free(want_O), free(want_H);
        n_cases++;
    }
    ck_assert_int_eq(n_cases, 6);
    w2v_huffman_free(&tree);
    cJSON_Delete(fixture);
}
END_TEST

/* ---- the plugin ------------------------------------------------------------ */

/* A word tokenizer (with counts) over text. */
static zoo_tokenizer *word_tokenizer(const char *text, int64_t min_count) {
    static const zoo_special unk[] = {ZOO_TOK_UNK};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.min_count = min_count;
    s.specials = unk, s.n_specials = 1;
    return tokenizer_from_text("word", &s, text);
}

typedef struct fixture_model {
    zoo_loaded *plugin;
    zoo_host_model *model;
    zoo_tokenizer *tok;
} fixture_model;

/* A word2vec model over tok with the given --set style settings. */
static int make_model(zoo_tokenizer *tok, const char *const *sets, int n_sets, uint64_t seed,
                      fixture_model *out) {
    out->plugin = load_built_plugin("word2vec");
    out->tok = tok;
    zoo_hparams *hp = zoo_hparams_new(out->plugin->plugin->hparams, out->plugin->plugin->n_hparams);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "vocab_size", zoo_tokenizer_vocab_size(tok)), ZOO_OK);
    for (int i = 0; i < n_sets; i++) {
        const char *eq = strchr(sets[i], '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - sets[i]), sets[i]);
        ck_assert_int_eq(zoo_hparams_set_text(hp, name, eq + 1), ZOO_OK);
    }
    return zoo_host_model_create(out->plugin, hp, seed, tok, &out->model);
}

static void free_model(fixture_model *f) {
    zoo_host_model_destroy(f->model);
    unload_built_plugin(f->plugin);
    zoo_tokenizer_free(f->tok);
}

/* The Zipf-like test text: word k of 40 occurs 400/(k+1) times, one line
 * per 12 words, in an order fixed by a seed. */
static char *zipf_text(int64_t *n_words) {
    int32_t *words = NULL;
    int64_t n = 0;
    for (int k = 0; k < 40; k++) n += 400 / (k + 1);
    words = malloc((size_t)n * sizeof *words);
    n = 0;
    for (int k = 0; k < 40; k++)
        for (int r = 0; r < 400 / (k + 1); r++) words[n++] = k;
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    for (int64_t i = n - 1; i > 0; i--) { /* shuffle */
        int64_t j = (int64_t)zoo_rng_below(&rng, (uint64_t)(i + 1));
        int32_t t = words[i];
        words[i] = words[j], words[j] = t;
    }
    char *text = malloc((size_t)n * 8 + 1), *at = text;
    for (int64_t i = 0; i < n; i++) at += sprintf(at, "w%d%c", words[i], i % 12 == 11 ? '\n' : ' ');
    *at = '\0';
    free(words);
    *n_words = n;
    return text;
}

/* Negatives follow counts^0.75 over the words and never draw a special;
 * sub-sampling keeps a word with word2vec.c's probability. */
START_TEST(test_sampling_tables_follow_the_counts) {
    int64_t n;
    char *text = zipf_text(&n);
    fixture_model f;
    ck_assert_int_eq(
        make_model(word_tokenizer(text, 1), (const char *const[]){"sample=0.01"}, 1, 1, &f),
        ZOO_OK);
    zoo_model *m = f.model->model;
    int64_t V = m->V;
    ck_assert_int_eq(V, 41); /* [UNK] and 40 words */
    double z = 0, *want = calloc((size_t)V, sizeof *want);
    for (int32_t id = 1; id < V; id++)
        z += want[id] = pow((double)zoo_tokenizer_count(f.tok, id), 0.75);
    int64_t draws = 400000, *seen = calloc((size_t)V, sizeof *seen);
    zoo_rng rng;
    zoo_rng_seed(&rng, 9);
    for (int64_t i = 0; i < draws; i++) seen[w2v_alias_draw(&m->noise, &rng)]++;
    ck_assert_int_eq(seen[0], 0); /* [UNK] */
    for (int32_t id = 1; id < V; id++) {
        double p = want[id] / z, sd = sqrt(draws * p * (1 - p));
        ck_assert_msg(fabs((double)seen[id] - draws * p) < 5 * sd,
                      "id %d: %lld draws, expected %.0f", id, (long long)seen[id], draws * p);
    }
    /* keep = (sqrt(c/t) + 1) t/c with t = sample * total words, capped at 1 */
    ck_assert_uint_eq(m->keep[0], 0);
    for (int32_t id = 1; id < V; id++) {
        double c = (double)zoo_tokenizer_count(f.tok, id), t = 0.01 * (double)n;
        double p = fmin(1, (sqrt(c / t) + 1) * t / c);
        ck_assert_msg(fabs((double)m->keep[id] / 4294967296.0 - p) < 1e-9, "id %d", id);
    }
    ck_assert_uint_lt(m->keep[1], 1ULL << 32); /* the most frequent word is sub-sampled */
    free(want), free(seen), free(text);
    free_model(&f);
}
END_TEST

/* The ids of text as one chunk with its sentence marks, as the host's batcher gives. */
typedef struct chunk {
    zoo_ids ids;
    int32_t *types;
    zoo_batch batch;
} chunk;

static void make_chunk(const zoo_tokenizer *tok, const char *text, chunk *c) {
    memset(c, 0, sizeof *c);
    c->types = malloc(strlen(text) * sizeof *c->types);
    int32_t line = 0;
    for (const char *at = text; *at;) {
        const char *nl = strchr(at, '\n');
        size_t len = nl ? (size_t)(nl - at) + 1 : strlen(at);
        int64_t before = c->ids.count;
        ck_assert_int_eq(zoo_tokenizer_encode(tok, at, len, &c->ids), ZOO_OK);
        for (int64_t i = before; i < c->ids.count; i++) c->types[i] = line;
        line++;
        at += len;
    }
    c->batch = (zoo_batch){
        .size = sizeof(zoo_batch), .B = 1, .T = c->ids.count, .ids = c->ids.ids, .types = c->types};
}

static void free_chunk(chunk *c) {
    zoo_ids_free(&c->ids);
    free(c->types);
}

/* Trains `steps` steps of the chunk on `threads` threads; the parameters after. */
static float *train(const char *const *sets, int n_sets, int threads, int steps, double *loss) {
    int64_t n;
    char *text = zipf_text(&n);
    fixture_model f;
    ck_assert_int_eq(make_model(word_tokenizer(text, 1), sets, n_sets, 5, &f), ZOO_OK);
    chunk c;
    make_chunk(f.tok, text, &c);
    zoo_threads_set(threads);
    zoo_rng rng;
    zoo_rng_seed(&rng, 11);
    for (int s = 0; s < steps; s++) {
        zoo_step_stats stats = {.size = sizeof stats};
        ck_assert_int_eq(
            f.plugin->plugin->ops->train_step(f.model->model, &c.batch, 0.025f, &rng, &stats),
            ZOO_OK);
        ck_assert_int_eq(stats.tokens, n);
        ck_assert(isfinite(stats.loss) && stats.loss > 0);
        if (s == 0) loss[0] = stats.loss;
        loss[1] = stats.loss;
    }
    int64_t total = zoo_params_numel(f.model->params);
    float *all = malloc((size_t)total * sizeof *all), *at = all;
    for (int i = 0; i < zoo_params_count(f.model->params); i++) {
        const zoo_tensor *t = zoo_params_at(f.model->params, i)->value;
        memcpy(at, zoo_f32(t), (size_t)t->numel * sizeof *at);
        at += t->numel;
    }
    free_chunk(&c);
    free(text);
    free_model(&f);
    return all;
}

/* One thread and a seed: the same parameters, bit for bit; the loss falls. */
START_TEST(test_one_thread_is_deterministic) {
    static const char *const variants[][3] = {
        {"architecture=skipgram", "negative=5", "hs=false"},
        {"architecture=skipgram", "negative=0", "hs=true"},
        {"architecture=cbow", "negative=5", "hs=true"},
    };
    for (int v = 0; v < 3; v++) {
        double loss_a[2], loss_b[2];
        float *a = train(variants[v], 3, 1, 3, loss_a), *b = train(variants[v], 3, 1, 3, loss_b);
        int64_t V = 41, dim = 100, total = V * dim * (v == 2 ? 3 : 2) - (v ? dim : 0);
        ck_assert_int_eq(memcmp(a, b, (size_t)total * sizeof *a), 0);
        ck_assert_msg(loss_a[1] < loss_a[0], "%s %s: loss %g then %g", variants[v][0],
                      variants[v][1], loss_a[0], loss_a[1]);
        free(a), free(b);
    }
}
END_TEST

/* Hogwild on two threads: not bit-identical, but it trains as well. */
START_TEST(test_threads_train_too) {
    double one[2], two[2];
    float *a = train(NULL, 0, 1, 4, one), *b = train(NULL, 0, 2, 4, two);
    ck_assert_msg(fabs(one[1] - two[1]) < 0.05 * one[1], "loss %g on one thread, %g on two", one[1],
                  two[1]);
    free(a), free(b);
}
END_TEST

START_TEST(test_errors_are_clear) {
    int64_t n;
    char *text = zipf_text(&n);
    fixture_model f;
    /* nothing to train */
    ck_assert_int_eq(
        make_model(word_tokenizer(text, 1), (const char *const[]){"negative=0"}, 1, 1, &f),
        ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "negative is 0 and hs is false"));
    unload_built_plugin(f.plugin);
    zoo_tokenizer_free(f.tok);
    /* a tokenizer without counts */
    zoo_tokenizer *gpt2 = NULL;
    char dir[4096];
    if (shared_data_path("tokenizers/gpt2", dir, sizeof dir) &&
        zoo_tokenizer_load_gpt2(dir, &gpt2) == ZOO_OK) {
        zoo_loaded *p = load_built_plugin("word2vec");
        zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
        zoo_hparams_set_int(hp, "vocab_size", zoo_tokenizer_vocab_size(gpt2));
        zoo_hparams_set_int(hp, "dim", 4);
        zoo_host_model *m = NULL;
        ck_assert_int_eq(zoo_host_model_create(p, hp, 1, gpt2, &m), ZOO_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(zoo_error_message(), "keeps no corpus counts"));
        unload_built_plugin(p);
        zoo_tokenizer_free(gpt2);
    }
    /* training without a tokenizer, and ids outside the vocabulary */
    zoo_loaded *p = load_built_plugin("word2vec");
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    zoo_hparams_set_int(hp, "vocab_size", 10);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(p, hp, 1, NULL, &m), ZOO_OK);
    int32_t ids[3] = {1, 2, 3};
    zoo_batch batch = {.size = sizeof batch, .B = 1, .T = 3, .ids = ids};
    zoo_step_stats stats = {.size = sizeof stats};
    zoo_rng rng;
    zoo_rng_seed(&rng, 1);
    ck_assert_int_eq(p->plugin->ops->train_step(m->model, &batch, 0.025f, &rng, &stats),
                     ZOO_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "no vocabulary counts"));
    zoo_host_model_destroy(m);
    unload_built_plugin(p);
    ck_assert_int_eq(make_model(word_tokenizer(text, 1), NULL, 0, 1, &f), ZOO_OK);
    ids[1] = 41;
    ck_assert_int_eq(
        f.plugin->plugin->ops->train_step(f.model->model, &batch, 0.025f, &rng, &stats),
        ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "word2vec: id 41 at position 1 is outside [0, 41)");
    free_model(&f);
    free(text);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("word2vec");
    TCase *tc = tcase_create("plugin");
    tcase_add_test(tc, test_huffman_paths_match_the_reference);
    tcase_add_test(tc, test_one_update_matches_the_reference);
    tcase_add_test(tc, test_sampling_tables_follow_the_counts);
    tcase_add_test(tc, test_one_thread_is_deterministic);
    tcase_add_test(tc, test_threads_train_too);
    tcase_add_test(tc, test_errors_are_clear);
    suite_add_tcase(s, tc);
    return s;
}
