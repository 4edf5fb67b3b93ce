/* The elmo plugin's AllenNLP directories (elmo_allennlp.h): options.json to
 * hyperparameters; weights.hdf5 to parameters, checked entry by entry against
 * the raw datasets read here with libhdf5 and the conversions written out
 * again (transposes, TensorFlow's gate order, B kept without bilm-tf's
 * forget_bias, the negated carry gate); export then import gives back the
 * same bits, softmax and
 * vocabulary included; vocab.txt to a tokenizer; and hostile files (missing
 * or misshapen datasets, truncated, damaged or foreign files, bad options)
 * give errors naming the file and the dataset or field. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <ftw.h>
#include <hdf5.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "elmo.h"

#define FIXTURES ZOO_TEST_DIR "/fixtures"
#define TINY_A FIXTURES "/elmo-tiny-a"
#define TINY_B FIXTURES "/elmo-tiny-b"

const zoo_plugin *zoo_plugin_entry(void);

/* --- helpers ------------------------------------------------------------- */

static char tmp[64];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/zoo-elmo-hdf5.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the test's own HDF5 calls fail quietly too */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmp(void) {
    nftw(tmp, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* DIR/NAME in one of eight rotating buffers: keep a path that must last in
 * a buffer of its own */
static const char *in(const char *dir, const char *name) {
    static char buf[8][600];
    static int k;
    char d[256];
    snprintf(d, sizeof d, "%s", dir);
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", d, name);
    return b;
}

static char *slurp(const char *path, size_t *len) {
    char *text = zoo_read_file(path, len);
    ck_assert_msg(text != NULL, "%s", zoo_error_message());
    return text;
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *path, const char *text) {
    write_file(path, text, strlen(text));
}

static void copy_file(const char *from, const char *to) {
    size_t len;
    char *data = slurp(from, &len);
    write_file(to, data, len);
    free(data);
}

/* tmp/NAME, a copy of a fixture's options.json and weights.hdf5 */
static const char *copy_fixture(const char *fixture, const char *name) {
    static char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    copy_file(in(fixture, "options.json"), in(dir, "options.json"));
    copy_file(in(fixture, "weights.hdf5"), in(dir, "weights.hdf5"));
    return dir;
}

/* text with the first `from` replaced by `to` (which must be there) */
static char *replaced(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' is not in the text", from);
    size_t a = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    memcpy(out, text, a);
    strcpy(out + a, to);
    strcat(out, at + strlen(from));
    return out;
}

/* A raw dataset of a file, read here with libhdf5 (float32, row-major). */
typedef struct raw {
    float *v;
    int ndim;
    hsize_t dims[4];
} raw;

static raw read_raw(const char *dir, const char *name) {
    raw r = {0};
    hid_t f = H5Fopen(in(dir, "weights.hdf5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "%s: cannot open", dir);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "%s: no dataset %s", dir, name);
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    ck_assert_msg(H5Tequal(type, H5T_IEEE_F32LE) > 0, "%s: %s is not float32", dir, name);
    r.ndim = H5Sget_simple_extent_ndims(space);
    ck_assert_int_le(r.ndim, 4);
    H5Sget_simple_extent_dims(space, r.dims, NULL);
    hsize_t n = 1;
    for (int i = 0; i < r.ndim; i++) n *= r.dims[i];
    r.v = malloc(n * sizeof *r.v);
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, r.v), 0);
    H5Tclose(type), H5Sclose(space), H5Dclose(d), H5Fclose(f);
    return r;
}

static bool has_dataset(const char *dir, const char *name) {
    hid_t f = H5Fopen(in(dir, "weights.hdf5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(f >= 0);
    char prefix[128];
    bool has = true;
    for (const char *s = name; has; s++) { /* each group on the way, then the dataset */
        s = strchr(s, '/');
        size_t n = s ? (size_t)(s - name) : strlen(name);
        memcpy(prefix, name, n);
        prefix[n] = '\0';
        has = H5Lexists(f, prefix, H5P_DEFAULT) > 0;
        if (!s) break;
    }
    H5Fclose(f);
    return has;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) /* temporaries ("weights.hdf5.tmp.XXXXXX") count */
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* the same float, bit for bit (0 and -0 differ) */
#define ck_same(a, b, ...)                                                                         \
    do {                                                                                           \
        float a_ = (a), b_ = (b);                                                                  \
        ck_assert_msg(memcmp(&a_, &b_, sizeof a_) == 0, __VA_ARGS__);                              \
    } while (0)

/* A model of the elmo plugin from hp, in params. */
static zoo_model *create(const zoo_hparams *hp, zoo_params *params, uint64_t seed) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    zoo_model *m = NULL;
    int st = zoo_plugin_entry()->ops->create(hp, params, &rng, &m);
    ck_assert_msg(st == ZOO_OK, "create: %s", zoo_error_message());
    return m;
}

static zoo_hparams *new_hparams(void) {
    const zoo_plugin *p = zoo_plugin_entry();
    zoo_hparams *hp = zoo_hparams_new(p->hparams, p->n_hparams);
    ck_assert_ptr_nonnull(hp);
    return hp;
}

/* A model imported from an AllenNLP directory. */
typedef struct imported {
    zoo_hparams *hp;
    zoo_params *params;
    zoo_model *m;
} imported;

static imported import_dir(const char *dir) {
    imported x = {new_hparams(), zoo_params_new(), NULL};
    ck_assert_msg(elmo_import_config(dir, x.hp) == ZOO_OK, "%s", zoo_error_message());
    x.m = create(x.hp, x.params, 99);
    ck_assert_msg(elmo_import_weights(x.m, x.params, dir) == ZOO_OK, "%s", zoo_error_message());
    return x;
}

static void imported_free(imported *x) {
    zoo_plugin_entry()->ops->destroy(x->m);
    zoo_params_free(x->params);
    zoo_hparams_free(x->hp);
}

/* --- the model against the file, entry by entry ------------------------- */

/* Every converted tensor of m against dir's weights.hdf5, with the
 * conversions spelled out once more: a bank's W_cnn [1, K, E, F] is
 * cnn.weight [F, K, E]; a highway's rows are W_transform^T, then -W_carry^T;
 * projections are transposed; W_0's TensorFlow blocks i, j, f, o become the
 * rows i, f, g(=j), o of w_ih (the input rows of W_0) and w_hh (the rest);
 * the bias is B in the same order, with no +1 on the forget block (the
 * model adds it in the cell). */
static void check_against_file(const zoo_model *m, const char *dir) {
    char name[128];
    raw r = read_raw(dir, "char_embed");
    for (int64_t i = 0; i < ELMO_N_CHARS * m->E; i++)
        ck_same(zoo_f32(m->char_embed)[i], r.v[i], "char_embed[%lld]", (long long)i);
    free(r.v);
    for (int b = 0; b < m->n_filters; b++) {
        snprintf(name, sizeof name, "CNN/W_cnn_%d", b);
        r = read_raw(dir, name);
        int64_t K = m->widths[b], E = m->E, F = m->counts[b];
        ck_assert(r.ndim == 4 && r.dims[0] == 1 && (int64_t)r.dims[1] == K &&
                  (int64_t)r.dims[2] == E && (int64_t)r.dims[3] == F);
        const float *w = zoo_f32(m->cnn_w[b]);
        for (int64_t f = 0; f < F; f++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t e = 0; e < E; e++)
                    ck_same(w[(f * K + k) * E + e], r.v[(k * E + e) * F + f],
                            "%s [0,%lld,%lld,%lld]", name, (long long)k, (long long)e,
                            (long long)f);
        free(r.v);
        snprintf(name, sizeof name, "CNN/b_cnn_%d", b);
        r = read_raw(dir, name);
        for (int64_t f = 0; f < F; f++) ck_same(zoo_f32(m->cnn_b[b])[f], r.v[f], "%s", name);
        free(r.v);
    }
    int64_t D = m->D, P = m->P, H = m->H;
    for (int k = 0; k < m->n_highway; k++) {
        raw wt, wc, bt, bc;
        snprintf(name, sizeof name, "CNN_high_%d/W_transform", k), wt = read_raw(dir, name);
        snprintf(name, sizeof name, "CNN_high_%d/W_carry", k), wc = read_raw(dir, name);
        snprintf(name, sizeof name, "CNN_high_%d/b_transform", k), bt = read_raw(dir, name);
        snprintf(name, sizeof name, "CNN_high_%d/b_carry", k), bc = read_raw(dir, name);
        const float *w = zoo_f32(m->highway_w[k]), *bias = zoo_f32(m->highway_b[k]);
        for (int64_t out = 0; out < D; out++) {
            for (int64_t x = 0; x < D; x++) {
                ck_same(w[out * D + x], wt.v[x * D + out], "highway %d transform", k);
                ck_same(w[(D + out) * D + x], -wc.v[x * D + out], "highway %d carry", k);
            }
            ck_same(bias[out], bt.v[out], "highway %d b_transform", k);
            ck_same(bias[D + out], -bc.v[out], "highway %d b_carry", k);
        }
        free(wt.v), free(wc.v), free(bt.v), free(bc.v);
    }
    r = read_raw(dir, "CNN_proj/W_proj");
    ck_assert(r.ndim == 2 && (int64_t)r.dims[0] == D && (int64_t)r.dims[1] == P);
    for (int64_t p = 0; p < P; p++)
        for (int64_t d = 0; d < D; d++)
            ck_same(zoo_f32(m->proj_w)[p * D + d], r.v[d * P + p], "W_proj");
    free(r.v);
    r = read_raw(dir, "CNN_proj/b_proj");
    for (int64_t p = 0; p < P; p++) ck_same(zoo_f32(m->proj_b)[p], r.v[p], "b_proj");
    free(r.v);
    for (int dir_ = 0; dir_ < 2; dir_++)
        for (int l = 0; l < m->n_layers; l++) {
            const elmo_lstm_layer *L = &m->lstm[dir_][l];
            char cell[96];
            snprintf(cell, sizeof cell, "RNN_%d/RNN/MultiRNNCell/Cell%d/LSTMCell", dir_, l);
            raw w0, b, wp;
            snprintf(name, sizeof name, "%s/W_0", cell), w0 = read_raw(dir, name);
            snprintf(name, sizeof name, "%s/B", cell), b = read_raw(dir, name);
            snprintf(name, sizeof name, "%s/W_P_0", cell), wp = read_raw(dir, name);
            ck_assert(w0.ndim == 2 && (int64_t)w0.dims[0] == 2 * P && (int64_t)w0.dims[1] == 4 * H);
            /* file column blocks */
            const int64_t tf_i = 0, tf_j = H, tf_f = 2 * H, tf_o = 3 * H;
            /* zoo row blocks */
            const int64_t z_i = 0, z_f = H, z_g = 2 * H, z_o = 3 * H;
            const int64_t pairs[4][2] = {{z_i, tf_i}, {z_f, tf_f}, {z_g, tf_j}, {z_o, tf_o}};
            const float *ih = zoo_f32(L->w_ih), *hh = zoo_f32(L->w_hh), *bias = zoo_f32(L->bias);
            for (int q = 0; q < 4; q++) {
                int64_t zr = pairs[q][0], tc = pairs[q][1];
                for (int64_t h = 0; h < H; h++) {
                    for (int64_t x = 0; x < P; x++) {
                        ck_same(ih[(zr + h) * P + x], w0.v[x * 4 * H + tc + h], "%s w_ih", cell);
                        ck_same(hh[(zr + h) * P + x], w0.v[(P + x) * 4 * H + tc + h], "%s w_hh",
                                cell);
                    }
                    ck_same(bias[zr + h], b.v[tc + h], "%s bias gate %d unit %lld", cell, q,
                            (long long)h);
                }
            }
            for (int64_t p = 0; p < P; p++)
                for (int64_t h = 0; h < H; h++)
                    ck_same(zoo_f32(L->w_proj)[p * H + h], wp.v[h * P + p], "%s W_P_0", cell);
            free(w0.v), free(b.v), free(wp.v);
        }
    if (m->has_softmax) {
        r = read_raw(dir, "softmax/W");
        ck_assert(r.ndim == 2 && (int64_t)r.dims[0] == m->V && (int64_t)r.dims[1] == P);
        for (int64_t i = 0; i < m->V * P; i++)
            ck_same(zoo_f32(m->softmax_w)[i], r.v[i], "softmax/W");
        free(r.v);
        r = read_raw(dir, "softmax/b");
        for (int64_t i = 0; i < m->V; i++) ck_same(zoo_f32(m->softmax_b)[i], r.v[i], "softmax/b");
        free(r.v);
    }
}

/* --- import of the fixtures ------------------------------------------- */

START_TEST(test_import_config_reads_the_options) {
    zoo_hparams *hp = new_hparams();
    ck_assert_msg(elmo_import_config(TINY_A, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_hparams_int(hp, "char_dim"), 4);
    ck_assert_int_eq(zoo_hparams_int(hp, "max_characters_per_token"), 50);
    ck_assert_str_eq(zoo_hparams_string(hp, "filters"), "1:4,2:4,3:8");
    ck_assert_str_eq(zoo_hparams_string(hp, "activation"), "relu");
    ck_assert_int_eq(zoo_hparams_int(hp, "n_highway"), 1);
    ck_assert_int_eq(zoo_hparams_int(hp, "projection_dim"), 8);
    ck_assert_int_eq(zoo_hparams_int(hp, "dim"), 16);
    ck_assert_int_eq(zoo_hparams_int(hp, "n_layers"), 2);
    ck_assert_double_eq(zoo_hparams_float(hp, "cell_clip"), 3.0);
    ck_assert_double_eq(zoo_hparams_float(hp, "proj_clip"), 3.0);
    ck_assert(zoo_hparams_bool(hp, "use_skip_connections"));
    /* published: no softmax, and the vocabulary is bilm-tf's three marks */
    ck_assert(!zoo_hparams_bool(hp, "softmax"));
    ck_assert_int_eq(zoo_hparams_int(hp, "vocab_size"), 3);
    zoo_hparams_free(hp);

    hp = new_hparams();
    ck_assert_msg(elmo_import_config(TINY_B, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_hparams_int(hp, "char_dim"), 3);
    ck_assert_str_eq(zoo_hparams_string(hp, "filters"), "2:6,3:6,5:4");
    ck_assert_str_eq(zoo_hparams_string(hp, "activation"), "tanh");
    ck_assert_int_eq(zoo_hparams_int(hp, "n_highway"), 2);
    ck_assert_int_eq(zoo_hparams_int(hp, "projection_dim"), 6);
    ck_assert_int_eq(zoo_hparams_int(hp, "dim"), 12);
    ck_assert_double_eq(zoo_hparams_float(hp, "cell_clip"), 0.6);
    ck_assert_double_eq(zoo_hparams_float(hp, "proj_clip"), 0.35);
    zoo_hparams_free(hp);
}
END_TEST

START_TEST(test_import_weights_converts_every_tensor) {
    const char *dirs[2] = {TINY_A, TINY_B};
    for (int k = 0; k < 2; k++) {
        imported x = import_dir(dirs[k]);
        ck_assert(!x.m->has_softmax);
        check_against_file(x.m, dirs[k]);
        imported_free(&x);
    }
}
END_TEST

/* A few entries by hand (fixture a: E 4, banks 1:4 2:4 3:8 so D 16, P 8,
 * H 16), so that a slip made twice, in elmo_hdf5.c and in
 * check_against_file, still shows. */
START_TEST(test_import_weights_picked_entries) {
    imported x = import_dir(TINY_A);
    zoo_model *m = x.m;
    raw w = read_raw(TINY_A, "CNN/W_cnn_2"); /* [1, 3, 4, 8] */
    ck_same(zoo_f32(m->cnn_w[2])[(5 * 3 + 2) * 4 + 1], w.v[(2 * 4 + 1) * 8 + 5], "cnn 2");
    free(w.v);
    raw c = read_raw(TINY_A, "CNN_high_0/W_carry"), t = read_raw(TINY_A, "CNN_high_0/W_transform");
    /* row 16 + 3 of the highway is minus the carry's column 3 */
    ck_same(zoo_f32(m->highway_w[0])[(16 + 3) * 16 + 7], -c.v[7 * 16 + 3], "carry");
    ck_same(zoo_f32(m->highway_w[0])[3 * 16 + 7], t.v[7 * 16 + 3], "transform");
    free(c.v), free(t.v);
    raw w0 = read_raw(TINY_A, "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_0"); /* [16, 64] */
    raw b = read_raw(TINY_A, "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/B");
    const elmo_lstm_layer *L = &m->lstm[1][1];
    /* zoo's f rows 16..31 are TF's f columns 32..47 */
    ck_same(zoo_f32(L->w_ih)[(16 + 3) * 8 + 2], w0.v[2 * 64 + 32 + 3], "f input");
    /* zoo's g rows 32..47 are TF's j columns 16..31; hidden rows of W_0 from 8 */
    ck_same(zoo_f32(L->w_hh)[(32 + 5) * 8 + 7], w0.v[(8 + 7) * 64 + 16 + 5], "g hidden");
    /* i and o stay where they are */
    ck_same(zoo_f32(L->w_ih)[0 * 8 + 0], w0.v[0], "i");
    ck_same(zoo_f32(L->w_hh)[(48 + 15) * 8 + 7], w0.v[15 * 64 + 63], "o");
    ck_same(zoo_f32(L->bias)[16], b.v[32], "forget bias, no +1");
    ck_same(zoo_f32(L->bias)[32], b.v[16], "g bias");
    ck_same(zoo_f32(L->bias)[48 + 9], b.v[48 + 9], "o bias");
    free(w0.v), free(b.v);
    imported_free(&x);
}
END_TEST

/* --- export, then import ------------------------------------------------ */

static zoo_tokenizer *word_tokenizer(void) {
    zoo_tokenizer *tok = NULL;
    int st = zoo_tokenizer_from_json(
        "{\"version\": 1, \"type\": \"word\", \"special\": {\"unk\": 0, \"pad\": 1}, \"model\": "
        "{\"lowercase\": false, \"split\": \"whitespace\", \"tokens\": [\"[UNK]\", \"[PAD]\", "
        "\"the\", \"bank\", \"na\\u00efve\", \"a\\\"b\\\\c\", \"<S>\"]}}",
        &tok);
    ck_assert_msg(st == ZOO_OK, "%s", zoo_error_message());
    return tok;
}

/* A small model with a softmax, every parameter random, zeros of both signs
 * in a highway. */
static imported random_model(const zoo_tokenizer *tok, uint64_t seed) {
    imported x = {new_hparams(), zoo_params_new(), NULL};
    const char *set[][2] = {{"char_dim", "3"},
                            {"max_characters_per_token", "9"},
                            {"filters", "1:2,3:3"},
                            {"activation", "tanh"},
                            {"n_highway", "2"},
                            {"projection_dim", "4"},
                            {"dim", "5"},
                            {"n_layers", "3"},
                            {"cell_clip", "0.5"},
                            {"proj_clip", "0"},
                            {"use_skip_connections", "false"},
                            {"dropout", "0.25"},
                            {"sampled_softmax", "7"},
                            {"softmax", "true"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        ck_assert_msg(zoo_hparams_set_text(x.hp, set[i][0], set[i][1]) == ZOO_OK, "%s",
                      zoo_error_message());
    ck_assert_int_eq(zoo_hparams_set_int(x.hp, "vocab_size", zoo_tokenizer_vocab_size(tok)), 0);
    x.m = create(x.hp, x.params, seed);
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int i = 0; i < zoo_params_count(x.params); i++) {
        zoo_tensor *t = zoo_params_at(x.params, i)->value;
        zoo_rng_fill_normal(&rng, zoo_f32(t), (size_t)t->numel, 0, 1);
    }
    zoo_f32(x.m->highway_w[1])[0] = -0.0f;                   /* transform */
    zoo_f32(x.m->highway_w[1])[x.m->D * x.m->D + 1] = -0.0f; /* carry */
    zoo_f32(x.m->highway_w[1])[x.m->D * x.m->D + 2] = 0.0f;
    ck_assert_int_eq(zoo_plugin_entry()->ops->set_tokenizer(x.m, tok), ZOO_OK);
    return x;
}

static void check_same_params(zoo_params *a, zoo_params *b) {
    ck_assert_int_eq(zoo_params_count(a), zoo_params_count(b));
    for (int i = 0; i < zoo_params_count(a); i++) {
        const zoo_param *p = zoo_params_at(a, i), *q = zoo_params_at(b, i);
        ck_assert_str_eq(p->name, q->name);
        ck_assert_int_eq(p->value->numel, q->value->numel);
        ck_assert_msg(memcmp(zoo_f32(p->value), zoo_f32(q->value),
                             (size_t)p->value->numel * sizeof(float)) == 0,
                      "%s differs after export and import", p->name);
    }
}

START_TEST(test_export_import_is_bit_identical) {
    make_tmp();
    zoo_tokenizer *tok = word_tokenizer();
    imported a = random_model(tok, 7);
    char out[256];
    snprintf(out, sizeof out, "%s/%s", tmp, "nested/export");
    const zoo_plugin_ops *ops = zoo_plugin_entry()->ops;
    for (int round = 0; round < 2; round++) { /* the second over the first's files */
        ck_assert_msg(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", out) == ZOO_OK, "%s",
                      zoo_error_message());
        /* the published layout, converted as on import */
        check_against_file(a.m, out);
        imported b = import_dir(out);
        /* every hyperparameter comes back but init_std, which a file cannot tell */
        for (int i = 0; i < zoo_hparams_count(a.hp); i++) {
            const char *name = zoo_hparams_spec(a.hp, i)->name;
            char x[128], y[128];
            if (strcmp(name, "init_std") == 0) continue;
            ck_assert_msg(strcmp(zoo_hparams_text(a.hp, i, x, sizeof x),
                                 zoo_hparams_text(b.hp, i, y, sizeof y)) == 0,
                          "%s: %s exported, %s imported", name, x, y);
        }
        check_same_params(a.params, b.params);
        imported_free(&b);
        /* nothing left behind but the three files */
        size_t len;
        char *options = slurp(in(out, "options.json"), &len);
        cJSON *json = cJSON_Parse(options);
        const cJSON *n_chars = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(json, "char_cnn"), "n_characters");
        ck_assert_msg(cJSON_IsNumber(n_chars) && n_chars->valuedouble == 262, "%s", options);
        cJSON_Delete(json);
        free(options);
        ck_assert_int_eq(count_entries(out), 3);
    }
    /* vocab.txt: the tokens in id order, and the same tokenizer back */
    size_t len;
    char *vocab = slurp(in(out, "vocab.txt"), &len);
    ck_assert_str_eq(vocab, "[UNK]\n[PAD]\nthe\nbank\nna\xc3\xafve\na\"b\\c\n<S>\n");
    free(vocab);
    zoo_tokenizer *back = NULL;
    ck_assert_msg(elmo_import_tokenizer(out, &back) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_tokenizer_vocab_size(back), zoo_tokenizer_vocab_size(tok));
    for (int32_t i = 0; i < zoo_tokenizer_vocab_size(tok); i++)
        ck_assert_str_eq(zoo_tokenizer_token(back, i, NULL), zoo_tokenizer_token(tok, i, NULL));
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_UNK), 0);
    ck_assert_int_eq(zoo_tokenizer_special(back, ZOO_TOK_PAD), 1);
    zoo_tokenizer_free(back);
    imported_free(&a);
    zoo_tokenizer_free(tok);
    remove_tmp();
}
END_TEST

/* The forget block of B is written as the model holds it, no 1 taken off,
 * and read back so: values that a -1 then +1 would have changed (rounded,
 * flushed to 0, -0 to +0) keep every bit, in the file and in the model. */
START_TEST(test_forget_bias_is_stored_as_is) {
    make_tmp();
    zoo_tokenizer *tok = word_tokenizer();
    imported a = random_model(tok, 11);
    int64_t H = a.m->H;
    float *fb = zoo_f32(a.m->lstm[0][0].bias) + H; /* zoo's forget block */
    const float v[5] = {0.1f, -3.3f, 1e-8f, 1e-40f, -0.0f};
    for (int i = 0; i < 5; i++) fb[i] = v[i];
    char out[256];
    snprintf(out, sizeof out, "%s/%s", tmp, "bias");
    ck_assert_int_eq(
        zoo_plugin_entry()->ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", out), ZOO_OK);
    raw b = read_raw(out, "RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/B");
    for (int i = 0; i < 5; i++) /* TensorFlow's f block is the third */
        ck_same(b.v[2 * H + i], v[i], "file's forget bias %d (%g)", i, (double)v[i]);
    free(b.v);
    imported back = import_dir(out);
    const float *got = zoo_f32(back.m->lstm[0][0].bias) + H;
    for (int i = 0; i < 5; i++) ck_same(got[i], v[i], "forget bias %d (%g)", i, (double)v[i]);
    imported_free(&back);
    imported_free(&a);
    zoo_tokenizer_free(tok);
    remove_tmp();
}
END_TEST

/* A published file through import and export: every dataset back bit for
 * bit. */
START_TEST(test_fixture_export_reproduces_the_file) {
    make_tmp();
    const char *fixtures[2] = {TINY_A, TINY_B};
    for (int k = 0; k < 2; k++) {
        imported x = import_dir(fixtures[k]);
        char out[256];
        snprintf(out, sizeof out, "%s/%s", tmp, k ? "b" : "a");
        ck_assert_msg(zoo_plugin_entry()->ops->export_checkpoint(x.m, x.params, x.hp, "allennlp",
                                                                 out) == ZOO_OK,
                      "%s", zoo_error_message());
        ck_assert_int_eq(access(in(out, "vocab.txt"), F_OK), -1); /* no tokenizer */
        ck_assert(!has_dataset(out, "softmax/W"));
        const char *names[] = {"char_embed",
                               "CNN/W_cnn_0",
                               "CNN/b_cnn_2",
                               "CNN_high_0/W_carry",
                               "CNN_high_0/b_carry",
                               "CNN_high_0/W_transform",
                               "CNN_proj/W_proj",
                               "RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0",
                               "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_P_0",
                               "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/B"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            raw want = read_raw(fixtures[k], names[i]), got = read_raw(out, names[i]);
            ck_assert_int_eq(want.ndim, got.ndim);
            hsize_t n = 1;
            for (int d = 0; d < want.ndim; d++) {
                ck_assert_uint_eq(want.dims[d], got.dims[d]);
                n *= want.dims[d];
            }
            for (hsize_t j = 0; j < n; j++)
                ck_same(want.v[j], got.v[j], "%s[%llu]", names[i], (unsigned long long)j);
            free(want.v), free(got.v);
        }
        imported_free(&x);
    }
    remove_tmp();
}
END_TEST

START_TEST(test_export_refuses_what_it_cannot_write) {
    make_tmp();
    zoo_tokenizer *tok = word_tokenizer();
    imported a = random_model(tok, 3);
    const zoo_plugin_ops *ops = zoo_plugin_entry()->ops;
    ck_assert_int_eq(ops->export_checkpoint(a.m, a.params, a.hp, "hf", in(tmp, "x")), ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "allennlp"));
    /* a tokenizer that does not name the softmax's rows */
    a.m->V++;
    ck_assert_int_eq(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", in(tmp, "x")),
                     ZOO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "tokenizer"));
    a.m->V--;
    /* a file where the directory should be */
    write_text(in(tmp, "file"), "x");
    ck_assert_int_ne(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", in(tmp, "file")),
                     ZOO_OK);
    /* a failure leaves a directory's earlier export as it was */
    char out[256];
    snprintf(out, sizeof out, "%s/%s", tmp, "good");
    ck_assert_int_eq(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", out), ZOO_OK);
    size_t len0, len1;
    char *before = slurp(in(out, "weights.hdf5"), &len0);
    ck_assert_int_eq(chmod(out, 0555), 0);
    if (access(out, W_OK) != 0) { /* root writes anyway: nothing to see then */
        ck_assert_int_eq(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", out), ZOO_ERR_IO);
        ck_assert_ptr_nonnull(strstr(zoo_error_message(), out));
    }
    ck_assert_int_eq(chmod(out, 0755), 0);
    char *after = slurp(in(out, "weights.hdf5"), &len1);
    ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
    free(before), free(after);
    /* without a tokenizer, no vocab.txt (an earlier one goes) */
    a.m->tok = NULL;
    ck_assert_int_eq(ops->export_checkpoint(a.m, a.params, a.hp, "allennlp", out), ZOO_OK);
    ck_assert_int_eq(access(in(out, "vocab.txt"), F_OK), -1);
    ck_assert(has_dataset(out, "softmax/W"));
    imported_free(&a);
    zoo_tokenizer_free(tok);
    remove_tmp();
}
END_TEST

/* --- vocab.txt and the tokenizer ---------------------------------------- */

static int32_t encode_one(const zoo_tokenizer *tok, const char *word) {
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(tok, word, strlen(word), &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 1);
    int32_t id = ids.ids[0];
    zoo_ids_free(&ids);
    return id;
}

START_TEST(test_tokenizer_of_a_published_directory) {
    zoo_tokenizer *tok = NULL;
    ck_assert_msg(elmo_import_tokenizer(TINY_A, &tok) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_tokenizer_vocab_size(tok), 3);
    ck_assert_str_eq(zoo_tokenizer_token(tok, 0, NULL), "<S>");
    ck_assert_str_eq(zoo_tokenizer_token(tok, 1, NULL), "</S>");
    ck_assert_str_eq(zoo_tokenizer_token(tok, 2, NULL), "<UNK>");
    ck_assert_int_eq(zoo_tokenizer_special(tok, ZOO_TOK_UNK), 2);
    ck_assert_int_eq(zoo_tokenizer_special(tok, ZOO_TOK_BOS), 0);
    ck_assert_int_eq(zoo_tokenizer_special(tok, ZOO_TOK_EOS), 1);
    ck_assert_int_eq(encode_one(tok, "bank"), 2); /* every word is unknown: ELMo reads characters */
    zoo_tokenizer_free(tok);
}
END_TEST

/* dir with a softmax/W of `rows` rows (P columns) added to its weights */
static void add_softmax(const char *dir, hsize_t rows, hsize_t P) {
    hid_t f = H5Fopen(in(dir, "weights.hdf5"), H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert(f >= 0);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    float *v = calloc(rows * P, sizeof *v);
    for (hsize_t i = 0; i < rows * P; i++) v[i] = (float)i / 8;
    const char *names[2] = {"softmax/W", "softmax/b"};
    for (int k = 0; k < 2; k++) {
        hid_t space = H5Screate_simple(k ? 1 : 2, (hsize_t[]){rows, P}, NULL);
        hid_t d = H5Dcreate2(f, names[k], H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        ck_assert(d >= 0);
        ck_assert(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        H5Dclose(d), H5Sclose(space);
    }
    free(v);
    H5Pclose(lcpl), H5Fclose(f);
}

START_TEST(test_vocab_txt_tokenizer_and_softmax) {
    make_tmp();
    const char *dir = copy_fixture(TINY_A, "v");
    /* bilm-tf's layout, stripped lines, CRLF */
    write_text(in(dir, "vocab.txt"), "<S>\n</S>\r\n<UNK>\nthe \n\tbank\nBank");
    zoo_tokenizer *tok = NULL;
    ck_assert_msg(elmo_import_tokenizer(dir, &tok) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_tokenizer_vocab_size(tok), 6);
    ck_assert_int_eq(encode_one(tok, "the"), 3);
    ck_assert_int_eq(encode_one(tok, "bank"), 4);
    ck_assert_int_eq(encode_one(tok, "Bank"), 5); /* case kept */
    ck_assert_int_eq(encode_one(tok, "BANK"), 2); /* unknown */
    ck_assert_int_eq(encode_one(tok, "</S>"), 1);
    zoo_tokenizer_free(tok);
    /* no softmax in the file: the vocabulary is still the tokenizer's */
    zoo_hparams *hp = new_hparams();
    ck_assert_msg(elmo_import_config(dir, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert(!zoo_hparams_bool(hp, "softmax"));
    ck_assert_int_eq(zoo_hparams_int(hp, "vocab_size"), 6);
    zoo_hparams_free(hp);
    /* with one, the softmax names vocab.txt's words */
    add_softmax(dir, 6, 8);
    hp = new_hparams();
    ck_assert_msg(elmo_import_config(dir, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert(zoo_hparams_bool(hp, "softmax"));
    ck_assert_int_eq(zoo_hparams_int(hp, "vocab_size"), 6);
    zoo_params *params = zoo_params_new();
    zoo_model *m = create(hp, params, 1);
    ck_assert_msg(elmo_import_weights(m, params, dir) == ZOO_OK, "%s", zoo_error_message());
    check_against_file(m, dir);
    zoo_plugin_entry()->ops->destroy(m);
    zoo_params_free(params);
    /* a softmax with no vocab.txt names nothing: imported without it */
    ck_assert_int_eq(unlink(in(dir, "vocab.txt")), 0);
    ck_assert_int_eq(elmo_import_config(dir, hp), ZOO_OK);
    ck_assert(!zoo_hparams_bool(hp, "softmax"));
    ck_assert_int_eq(zoo_hparams_int(hp, "vocab_size"), 3);
    /* rows and lines disagree */
    write_text(in(dir, "vocab.txt"), "<S>\n</S>\n<UNK>\nthe\nbank\n");
    ck_assert_int_eq(elmo_import_config(dir, hp), ZOO_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "vocab.txt: 5 lines"));
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "softmax/W has 6 rows"));
    zoo_hparams_free(hp);
    remove_tmp();
}
END_TEST

START_TEST(test_bad_vocab_txt) {
    make_tmp();
    const char *dir = copy_fixture(TINY_A, "v");
    const struct {
        const char *text, *says;
    } cases[] = {
        {"<S>\n</S>\n<UNK>\nthe\nbank\nthe\n", "vocab.txt:6: 'the' is already line 4"},
        {"<UNK>\n\nthe\n", "vocab.txt:2: an empty line"},
        {"the\nbank\n", "vocab.txt: no <UNK>"},
        {"", "vocab.txt: empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(in(dir, "vocab.txt"), cases[i].text);
        zoo_tokenizer *tok = NULL;
        ck_assert_int_eq(elmo_import_tokenizer(dir, &tok), ZOO_ERR_FORMAT);
        ck_assert_ptr_null(tok);
        ck_assert_msg(strstr(zoo_error_message(), cases[i].says) &&
                          strstr(zoo_error_message(), dir),
                      "case %zu: %s", i, zoo_error_message());
        zoo_hparams *hp = new_hparams();
        ck_assert_int_eq(elmo_import_config(dir, hp), ZOO_ERR_FORMAT);
        ck_assert_ptr_nonnull(strstr(zoo_error_message(), cases[i].says));
        zoo_hparams_free(hp);
    }
    remove_tmp();
}
END_TEST

/* --- not ours, and bad options.json ------------------------------------- */

START_TEST(test_a_directory_without_options_is_not_ours) {
    make_tmp();
    zoo_hparams *hp = new_hparams();
    zoo_tokenizer *tok = NULL;
    ck_assert_int_eq(elmo_import_config(tmp, hp), ZOO_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "options.json"));
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), tmp));
    ck_assert_int_eq(elmo_import_tokenizer(tmp, &tok), ZOO_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "options.json"));
    zoo_hparams_free(hp);
    remove_tmp();
}
END_TEST

START_TEST(test_bad_options_json) {
    make_tmp();
    const char *dir = copy_fixture(TINY_A, "o");
    size_t len;
    char *good = slurp(in(TINY_A, "options.json"), &len);
    const struct {
        const char *from, *to, *says;
    } cases[] = {
        /* malformed: cJSON's position is just past the second brace */
        {"\"lstm\": {", "\"lstm\": {{", "options.json:25:13: malformed JSON"},
        {"\"dim\": 16", "\"dim\": \"16\"", "lstm.dim: expected a number, got a string"},
        {"\"dim\": 16", "\"dim\": 16.5", "lstm.dim: expected a whole number"},
        {"\"n_highway\": 1", "\"n_highwy\": 1", "char_cnn.n_highway: missing"},
        {"\"n_characters\": 262", "\"n_characters\": 300", "char_cnn.n_characters: 300"},
        {"\"n_characters\": 262", "\"n_characters\": true",
         "char_cnn.n_characters: expected a number"},
        {"\"activation\": \"relu\"", "\"activation\": \"gelu\"", "char_cnn.activation"},
        {"\"n_layers\": 2", "\"n_layers\": 9", "lstm.n_layers"},
        {"\"use_skip_connections\": true", "\"use_skip_connections\": 1",
         "lstm.use_skip_connections: expected true or false"},
        {"\"cell_clip\": 3.0", "\"cell_clip\": \"3\"", "lstm.cell_clip: expected a number"},
        {"\"cell_clip\": 3.0", "\"cell_clip\": -1", "lstm.cell_clip"},
        {"\"cell_clip\": 3.0", "\"cell_clip\": 1e999", "lstm.cell_clip: expected a finite number"},
        {"[\n        1,\n        4\n      ]", "[1]",
         "char_cnn.filters[0]: expected [width, count]"},
        {"[\n        3,\n        8\n      ]", "[3, 0]", "char_cnn.filters[2]"},
        {"\"embedding\": {\n      \"dim\": 4\n    }", "\"embedding\": 4",
         "char_cnn.embedding: expected an object, got a number"},
        {"\"max_characters_per_token\": 50", "\"max_characters_per_token\": 2",
         "char_cnn.max_characters_per_token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = replaced(good, cases[i].from, cases[i].to);
        write_text(in(dir, "options.json"), text);
        free(text);
        zoo_hparams *hp = new_hparams();
        int st = elmo_import_config(dir, hp);
        ck_assert_msg(st != ZOO_OK && st != ZOO_ERR_NOTFOUND, "case %zu: status %d", i, st);
        ck_assert_msg(strstr(zoo_error_message(), cases[i].says) != NULL &&
                          strstr(zoo_error_message(), "/o/options.json") != NULL,
                      "case %zu: %s", i, zoo_error_message());
        zoo_hparams_free(hp);
    }
    const char *whole_files[][2] = {
        {"[1, 2]", "not a JSON object"},
        {"{\"a\": 1} x", "text after the object"},
        {"", "unexpected end"},
        {"{\"a\": \"\\ud800\"}", "options.json:1:8: malformed JSON"}, /* a lone surrogate */
        {"{\"a\": [1,\n 2", "options.json:2:3: malformed JSON (unexpected end"},
        {"{\"char_cnn\": 1}", "char_cnn: expected an object"}};
    for (size_t i = 0; i < sizeof whole_files / sizeof whole_files[0]; i++) {
        write_text(in(dir, "options.json"), whole_files[i][0]);
        zoo_hparams *hp = new_hparams();
        ck_assert_int_eq(elmo_import_config(dir, hp), ZOO_ERR_FORMAT);
        ck_assert_msg(strstr(zoo_error_message(), whole_files[i][1]) != NULL, "%s",
                      zoo_error_message());
        zoo_hparams_free(hp);
    }
    /* null and absent clips are no clipping; unknown keys are bilm-tf's own */
    char *text = replaced(good, "\"cell_clip\": 3.0,", "\"unroll_steps\": 20,");
    char *text2 = replaced(text, "\"proj_clip\": 3.0", "\"proj_clip\": null");
    write_text(in(dir, "options.json"), text2);
    free(text), free(text2);
    zoo_hparams *hp = new_hparams();
    ck_assert_msg(elmo_import_config(dir, hp) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_double_eq(zoo_hparams_float(hp, "cell_clip"), 0);
    ck_assert_double_eq(zoo_hparams_float(hp, "proj_clip"), 0);
    zoo_hparams_free(hp);
    free(good);
    remove_tmp();
}
END_TEST

/* --- hostile weights.hdf5 ---------------------------------------------- */

/* Imports dir's weights into a model of its options: the status, and the
 * message must name the weights file and `names` (a dataset, an expected
 * shape...); a model refused before any read keeps its values. */
static void expect_refused(const char *dir, const char *const *names, int n, bool untouched) {
    zoo_hparams *hp = new_hparams();
    ck_assert_msg(elmo_import_config(TINY_A, hp) == ZOO_OK, "%s", zoo_error_message());
    zoo_params *params = zoo_params_new();
    zoo_model *m = create(hp, params, 5);
    int64_t total = zoo_params_numel(params), k = 0;
    float *before = malloc((size_t)total * sizeof *before);
    for (int i = 0; i < zoo_params_count(params); i++) {
        zoo_tensor *t = zoo_params_at(params, i)->value;
        memcpy(before + k, zoo_f32(t), (size_t)t->numel * sizeof *before), k += t->numel;
    }
    int st = elmo_import_weights(m, params, dir);
    ck_assert_msg(st != ZOO_OK, "%s: accepted", dir);
    const char *msg = zoo_error_message();
    ck_assert_msg(strstr(msg, in(dir, "weights.hdf5")) != NULL, "no file name in: %s", msg);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strstr(msg, names[i]) != NULL, "'%s' not in: %s", names[i], msg);
    if (untouched) {
        k = 0;
        for (int i = 0; i < zoo_params_count(params); i++) {
            zoo_tensor *t = zoo_params_at(params, i)->value;
            ck_assert(memcmp(before + k, zoo_f32(t), (size_t)t->numel * sizeof *before) == 0);
            k += t->numel;
        }
    }
    free(before);
    zoo_plugin_entry()->ops->destroy(m);
    zoo_params_free(params);
    zoo_hparams_free(hp);
}

static hid_t open_rw(const char *dir) {
    hid_t f = H5Fopen(in(dir, "weights.hdf5"), H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert(f >= 0);
    return f;
}

START_TEST(test_missing_datasets) {
    make_tmp();
    const char *dir = copy_fixture(TINY_A, "missing");
    hid_t f = open_rw(dir);
    ck_assert(H5Ldelete(f, "CNN_proj/W_proj", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(dir, (const char *[]){"CNN_proj/W_proj", "no such dataset"}, 2, true);
    /* a whole group, deep in the names */
    dir = copy_fixture(TINY_A, "missing-group");
    f = open_rw(dir);
    ck_assert(H5Ldelete(f, "RNN_1/RNN/MultiRNNCell/Cell1", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(dir, (const char *[]){"RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_0"}, 1, true);
    /* and the file itself */
    ck_assert_int_eq(unlink(in(dir, "weights.hdf5")), 0);
    expect_refused(dir, (const char *[]){"No such file"}, 1, true);
    remove_tmp();
}
END_TEST

/* dir's dataset `name` replaced by one of this shape and type */
static void replace_dataset(const char *dir, const char *name, int ndim, const hsize_t *dims,
                            hid_t type) {
    hid_t f = open_rw(dir);
    ck_assert(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
    hid_t space = H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0);
    H5Dclose(d), H5Sclose(space), H5Fclose(f);
}

START_TEST(test_misshapen_datasets) {
    make_tmp();
    const char *dir = copy_fixture(TINY_A, "shape");
    replace_dataset(dir, "CNN/W_cnn_1", 4, (hsize_t[]){1, 2, 4, 5}, H5T_IEEE_F32LE);
    expect_refused(dir,
                   (const char *[]){"CNN/W_cnn_1", "expected shape [1, 2, 4, 4], got [1, 2, 4, 5]"},
                   2, true);
    dir = copy_fixture(TINY_A, "rank");
    replace_dataset(dir, "RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/B", 2, (hsize_t[]){64, 1},
                    H5T_IEEE_F32LE);
    expect_refused(dir, (const char *[]){"Cell0/LSTMCell/B", "expected shape [64], got [64, 1]"}, 2,
                   true);
    /* not numbers */
    dir = copy_fixture(TINY_A, "type");
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    replace_dataset(dir, "CNN/b_cnn_0", 1, (hsize_t[]){4}, str);
    H5Tclose(str);
    expect_refused(dir, (const char *[]){"CNN/b_cnn_0", "neither floats nor integers"}, 2, true);
    /* a group where a dataset should be */
    dir = copy_fixture(TINY_A, "group");
    hid_t f = open_rw(dir);
    ck_assert(H5Ldelete(f, "char_embed", H5P_DEFAULT) >= 0);
    H5Gclose(H5Gcreate2(f, "char_embed", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    expect_refused(dir, (const char *[]){"char_embed", "not a readable dataset"}, 2, true);
    /* float64 and integers convert, as the file's dtype is free */
    dir = copy_fixture(TINY_A, "f64");
    replace_dataset(dir, "CNN/b_cnn_0", 1, (hsize_t[]){4}, H5T_IEEE_F64BE);
    imported x = import_dir(dir);
    for (int i = 0; i < 4; i++) ck_assert_float_eq(zoo_f32(x.m->cnn_b[0])[i], 0);
    imported_free(&x);
    remove_tmp();
}
END_TEST

START_TEST(test_truncated_damaged_and_foreign_files) {
    make_tmp();
    size_t len;
    char *bytes = slurp(in(TINY_A, "weights.hdf5"), &len);
    const char *dir = copy_fixture(TINY_A, "cut");
    const size_t cuts[] = {0, 7, 512, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(in(dir, "weights.hdf5"), bytes, cuts[i]);
        /* HDF5's own words, behind ours */
        expect_refused(dir, (const char *[]){cuts[i] < 8 ? "not an HDF5 file" : "truncated file"},
                       1, true);
    }
    write_text(in(dir, "weights.hdf5"), "{\"these are\": \"not HDF5 weights\"}\n");
    expect_refused(dir, (const char *[]){"not an HDF5 file"}, 1, true);
    /* import_config looks for a softmax in the file: the same message */
    zoo_hparams *hp = new_hparams();
    ck_assert_int_eq(elmo_import_config(dir, hp), ZOO_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "weights.hdf5: not an HDF5 file"));
    zoo_hparams_free(hp);
    /* a dataset's object header overwritten: that dataset is named */
    dir = copy_fixture(TINY_A, "damaged");
    hid_t f = H5Fopen(in(dir, "weights.hdf5"), H5F_ACC_RDONLY, H5P_DEFAULT);
#if H5_VERSION_GE(1, 12, 0)
    H5O_info1_t info;
    ck_assert(H5Oget_info_by_name1(f, "CNN_high_0/W_carry", &info, H5P_DEFAULT) >= 0);
#else
    H5O_info_t info;
    ck_assert(H5Oget_info_by_name(f, "CNN_high_0/W_carry", &info, H5P_DEFAULT) >= 0);
#endif
    H5Fclose(f);
    ck_assert_uint_lt(info.addr + 64, len);
    char *damaged = malloc(len);
    memcpy(damaged, bytes, len);
    memset(damaged + info.addr, 0xa5, 64);
    write_file(in(dir, "weights.hdf5"), damaged, len);
    expect_refused(dir, (const char *[]){"CNN_high_0/W_carry"}, 1, true);
    free(damaged);
    free(bytes);
    remove_tmp();
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("elmo_hdf5");
    TCase *tc = tcase_create("elmo_hdf5");
    tcase_add_test(tc, test_import_config_reads_the_options);
    tcase_add_test(tc, test_import_weights_converts_every_tensor);
    tcase_add_test(tc, test_import_weights_picked_entries);
    tcase_add_test(tc, test_export_import_is_bit_identical);
    tcase_add_test(tc, test_forget_bias_is_stored_as_is);
    tcase_add_test(tc, test_fixture_export_reproduces_the_file);
    tcase_add_test(tc, test_export_refuses_what_it_cannot_write);
    tcase_add_test(tc, test_tokenizer_of_a_published_directory);
    tcase_add_test(tc, test_vocab_txt_tokenizer_and_softmax);
    tcase_add_test(tc, test_bad_vocab_txt);
    tcase_add_test(tc, test_a_directory_without_options_is_not_ours);
    tcase_add_test(tc, test_bad_options_json);
    tcase_add_test(tc, test_missing_datasets);
    tcase_add_test(tc, test_misshapen_datasets);
    tcase_add_test(tc, test_truncated_damaged_and_foreign_files);
    suite_add_tcase(s, tc);
    return s;
}
