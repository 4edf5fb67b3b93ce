#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "corpus_files.h"
#include "model.h"

zoo_tensor *rand_param(zoo_params *p, zoo_rng *rng, const char *name, int ndim,
                       const int64_t *shape, float lo, float hi) {
    zoo_tensor *t = zoo_params_add(p, name, ndim, shape, 0);
    ck_assert_msg(t != NULL, "rand_param %s: %s", name, zoo_error_message());
    zoo_rng_fill_uniform(rng, t->data, (size_t)t->numel, lo, hi);
    return t;
}

void assert_floats_close_at(const char *file, int line, const float *a, const float *b, int64_t n,
                            double atol, double rtol) {
    for (int64_t i = 0; i < n; i++) {
        double x = a[i], y = b[i];
        double tol = atol + rtol * fmax(fabs(x), fabs(y));
        if (!(fabs(x - y) <= tol))
            ck_abort_msg("%s:%d: element %lld: %.7g vs %.7g (tolerance %.3g)", file, line,
                         (long long)i, x, y, tol);
    }
}

void gradcheck(zoo_params *inputs, gradcheck_build_fn build, void *ctx, const gradcheck_opts *o) {
    zoo_gradcheck_opts opts = {.size = sizeof opts};
    if (o) /* 0 keeps zoo_gradcheck's default, as it always did here */
        opts.eps = o->eps, opts.atol = o->atol, opts.rtol = o->rtol,
        opts.max_checks = o->max_checks;
    ck_assert_msg(zoo_gradcheck(inputs, build, ctx, &opts, NULL) == ZOO_OK, "%s",
                  zoo_error_message());
}

const char *shared_data_path(const char *rel, char *buf, size_t size) {
    const char *root = getenv("ZOO_SHARED_DATA");
    snprintf(buf, size, "%s/%s", root && *root ? root : "../shared/data", rel);
    struct stat st;
    return stat(buf, &st) == 0 ? buf : NULL;
}

static zoo_registry *built_registry;

zoo_loaded *load_built_plugin(const char *name) {
    zoo_registry_sources src = {.registry_files =
                                    (const char *const[]){ZOO_BINARY_DIR "/registry/registry.json"},
                                .n_registry_files = 1};
    built_registry = zoo_registry_load(&src);
    zoo_loaded *p = NULL;
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(built_registry, name), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    return p;
}

void unload_built_plugin(zoo_loaded *p) {
    zoo_plugin_unload(p);
    zoo_registry_free(built_registry);
    built_registry = NULL;
}

zoo_host_model *import_hf_model(zoo_loaded *p, const char *dir) {
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    ck_assert_msg(p->plugin->ops->import_config(dir, hp) == ZOO_OK, "%s", zoo_error_message());
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(p, hp, 0, NULL, &m), ZOO_OK);
    ck_assert_msg(p->plugin->ops->import_weights(m->model, m->params, dir) == ZOO_OK, "%s",
                  zoo_error_message());
    return m;
}

void write_temp_file(char *path, size_t size, const char *stem, const char *text) {
    snprintf(path, size, "/tmp/%s.XXXXXX", stem);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

void make_temp_dir(char *dir, size_t size, const char *stem) {
    snprintf(dir, size, "/tmp/%s.XXXXXX", stem);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void remove_temp_dir(const char *dir) {
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *write_in_dir(const char *dir, const char *name, const char *text) {
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

zoo_tokenizer *tokenizer_from_text(const char *type, const zoo_tokenizer_settings *s,
                                   const char *text) {
    char path[64];
    write_temp_file(path, sizeof path, "zoo-check-text", text);
    zoo_corpus *corpus = NULL;
    zoo_tokenizer *tok = NULL;
    ck_assert_int_eq(zoo_corpus_open((const char *const[]){path}, 1, ZOO_UTF8_ERROR, &corpus),
                     ZOO_OK);
    ck_assert_msg(zoo_tokenizer_train(type, s, corpus, &tok) == ZOO_OK, "%s", zoo_error_message());
    zoo_corpus_close(corpus);
    unlink(path);
    return tok;
}
