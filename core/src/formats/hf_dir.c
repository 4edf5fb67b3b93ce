#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/hf_dir.h"
#include "zoo/io.h"
#include "zoo/safetensors.h"
#include "zoo/status.h"

/* A HuggingFace tensor name is a dotted module path; longer ones are a mistake. */
#define NAME_SIZE 512

/* DIR/NAME into buf; ZOO_ERR_ARG when it does not fit. */
static int join(char *buf, size_t size, const char *dir, const char *name) {
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < size ? ZOO_OK : zoo_error(ZOO_ERR_ARG, "%s: path too long", dir);
}

/* --- config.json ------------------------------------------------------- */

int zoo_hf_config_load(const char *dir, zoo_json **out) {
    char file[4096];
    *out = NULL;
    int st = join(file, sizeof file, dir, "config.json");
    if (st) return st;
    /* zoo_json_load tells no status: an unreadable file is told apart here */
    if (access(file, R_OK) != 0)
        return zoo_error(errno == ENOENT ? ZOO_ERR_NOTFOUND : ZOO_ERR_IO, "%s: %s", file,
                         strerror(errno));
    *out = zoo_json_load(file);
    return *out ? ZOO_OK : ZOO_ERR_FORMAT;
}

int zoo_hf_config_check_type(const zoo_json *cfg, const char *model_type, const char *legacy_key) {
    const char *file = zoo_json_path(cfg);
    if (!zoo_json_has(cfg, "model_type")) {
        if (!legacy_key)
            return zoo_error(ZOO_ERR_NOTFOUND, "%s: model_type is missing, not \"%s\"", file,
                             model_type);
        if (zoo_json_has(cfg, legacy_key)) return ZOO_OK;
        return zoo_error(ZOO_ERR_NOTFOUND,
                         "%s: model_type is missing and so is %s: not a \"%s\" config", file,
                         legacy_key, model_type);
    }
    const char *type = zoo_json_string(cfg, "model_type");
    if (!type) return zoo_error(ZOO_ERR_FORMAT, "%s: model_type: expected a string", file);
    if (strcmp(type, model_type) != 0)
        return zoo_error(ZOO_ERR_NOTFOUND, "%s: model_type is \"%s\", not \"%s\"", file, type,
                         model_type);
    return ZOO_OK;
}

int zoo_hf_config_check_choice(const zoo_json *cfg, const char *key, const char *const *allowed,
                               const char *what) {
    if (!zoo_json_has(cfg, key)) return ZOO_OK;
    const char *value = zoo_json_string(cfg, key);
    if (!value)
        return zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected a string", zoo_json_path(cfg), key);
    for (int i = 0; allowed[i]; i++)
        if (strcmp(value, allowed[i]) == 0) return ZOO_OK;
    return zoo_error(ZOO_ERR_FORMAT, "%s: %s \"%s\" is not %s", zoo_json_path(cfg), key, value,
                     what);
}

static const zoo_hparam_spec *field_spec(const zoo_hparams *hp, const zoo_hf_field *f) {
    const zoo_hparam_spec *spec = zoo_hparams_find(hp, f->hparam);
    if (!spec)
        zoo_error(ZOO_ERR_ARG, "config.json field %s: '%s' is no hyperparameter of the schema",
                  f->key, f->hparam);
    return spec;
}

int zoo_hf_config_to_hparams(const zoo_json *cfg, const zoo_hf_field *fields, zoo_hparams *hp) {
    const char *file = zoo_json_path(cfg);
    for (const zoo_hf_field *f = fields; f->key; f++) {
        const zoo_hparam_spec *spec = field_spec(hp, f);
        if (!spec) return ZOO_ERR_ARG;
        if (!zoo_json_has(cfg, f->key)) {
            if (f->flags & ZOO_HF_OPTIONAL) continue;
            return zoo_error(ZOO_ERR_FORMAT, "%s: %s: missing", file, f->key);
        }
        /* the JSON type first (its message names file and key), then the schema's check */
        int st;
        if (spec->type == ZOO_HP_INT || spec->type == ZOO_HP_FLOAT) {
            double v;
            if ((st = zoo_json_number(cfg, f->key, &v))) return st;
            st = zoo_hparams_set_float(hp, f->hparam, v);
        } else if (spec->type == ZOO_HP_BOOL) {
            bool v;
            if ((st = zoo_json_bool(cfg, f->key, &v))) return st;
            st = zoo_hparams_set_bool(hp, f->hparam, v);
        } else {
            const char *v = zoo_json_string(cfg, f->key);
            if (!v) return zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected a string", file, f->key);
            st = zoo_hparams_set_string(hp, f->hparam, v);
        }
        if (st) { /* the schema's message begins with the hyperparameter's name: once when
                   * it is the key's, both when they differ ("hidden_size: n_embd: ...") */
            const char *why = zoo_error_message();
            size_t n = strlen(f->key);
            bool named = strncmp(why, f->key, n) == 0 && strncmp(why + n, ": ", 2) == 0;
            return zoo_error(ZOO_ERR_FORMAT, "%s: %s%s%s", file, named ? "" : f->key,
                             named ? "" : ": ", why);
        }
    }
    return ZOO_OK;
}

int zoo_hf_config_from_hparams(zoo_json *cfg, const zoo_hf_field *fields, const zoo_hparams *hp) {
    int st = ZOO_OK;
    for (const zoo_hf_field *f = fields; !st && f->key; f++) {
        const zoo_hparam_spec *spec = field_spec(hp, f);
        if (!spec) return ZOO_ERR_ARG;
        if (spec->type == ZOO_HP_INT)
            st = zoo_json_set_number(cfg, f->key, (double)zoo_hparams_int(hp, f->hparam));
        else if (spec->type == ZOO_HP_FLOAT)
            st = zoo_json_set_number(cfg, f->key, zoo_hparams_float(hp, f->hparam));
        else if (spec->type == ZOO_HP_BOOL)
            st = zoo_json_set_bool(cfg, f->key, zoo_hparams_bool(hp, f->hparam));
        else
            st = zoo_json_set_string(cfg, f->key, zoo_hparams_string(hp, f->hparam));
    }
    return st;
}

/* --- the name map ------------------------------------------------------ */

/* A parameter's rule and what its pattern's '*' matched: name[at, at+len). */
typedef struct resolved {
    const zoo_hf_name *rule;
    size_t at, len;
} resolved;

static bool at_most_one_star(const char *s) {
    const char *star = strchr(s, '*');
    return !star || !strchr(star + 1, '*');
}

static int check_rule(const zoo_hf_name *r) {
    if (!at_most_one_star(r->zoo))
        return zoo_error(ZOO_ERR_ARG, "name map: pattern '%s' has more than one '*'", r->zoo);
    if (!r->hf[0]) return zoo_error(ZOO_ERR_ARG, "name map: pattern '%s' has no spelling", r->zoo);
    bool star = strchr(r->zoo, '*');
    for (int k = 0; k < ZOO_HF_MAX_SPELLINGS && r->hf[k]; k++) {
        if (!at_most_one_star(r->hf[k]))
            return zoo_error(ZOO_ERR_ARG,
                             "name map: pattern '%s': spelling '%s' has more than one '*'", r->zoo,
                             r->hf[k]);
        if (!star && strchr(r->hf[k], '*'))
            return zoo_error(ZOO_ERR_ARG,
                             "name map: pattern '%s' has no '*' for spelling '%s' to stand for",
                             r->zoo, r->hf[k]);
    }
    return ZOO_OK;
}

/* Every rule checked up front, so a malformed one is found whether or not a
 * parameter reaches it. */
static int check_map(const zoo_hf_name *map) {
    int st = ZOO_OK;
    for (const zoo_hf_name *r = map; !st && r->zoo; r++) st = check_rule(r);
    return st;
}

static int resolve(const zoo_hf_name *map, const char *name, resolved *out) {
    size_t n = strlen(name);
    for (const zoo_hf_name *r = map; r->zoo; r++) {
        const char *star = strchr(r->zoo, '*');
        bool match;
        if (!star) {
            match = strcmp(r->zoo, name) == 0;
            *out = (resolved){r, 0, 0};
        } else {
            size_t pre = (size_t)(star - r->zoo), post = strlen(star + 1);
            match = n >= pre + post && strncmp(name, r->zoo, pre) == 0 &&
                    strcmp(name + n - post, star + 1) == 0;
            *out = (resolved){r, pre, n - pre - post};
        }
        if (match) return ZOO_OK;
    }
    return zoo_error(ZOO_ERR_ARG, "name map: parameter '%s' matches no rule", name);
}

/* Spelling k of the resolved parameter `name` into buf[NAME_SIZE]. */
static int spell(const resolved *r, const char *name, int k, char *buf) {
    const char *t = NULL; /* the spellings end at the first NULL */
    for (int j = 0; j <= k && j < ZOO_HF_MAX_SPELLINGS; j++)
        if (!(t = r->rule->hf[j])) break;
    if (!t || k >= ZOO_HF_MAX_SPELLINGS)
        return zoo_error(ZOO_ERR_NOTFOUND, "name map: pattern '%s' has no spelling %d",
                         r->rule->zoo, k);
    const char *star = strchr(t, '*');
    int n = star ? snprintf(buf, NAME_SIZE, "%.*s%.*s%s", (int)(star - t), t, (int)r->len,
                            name + r->at, star + 1)
                 : snprintf(buf, NAME_SIZE, "%s", t);
    if (n < 0 || n >= NAME_SIZE)
        return zoo_error(ZOO_ERR_ARG, "name map: spelling '%s' of '%s' is too long", t, name);
    return ZOO_OK;
}

int zoo_hf_name_of(const zoo_hf_name *map, const char *name, int k, char *buf, size_t size) {
    resolved r;
    char spelled[NAME_SIZE];
    int st = check_map(map);
    if (!st) st = resolve(map, name, &r);
    if (!st) st = spell(&r, name, k, spelled);
    if (!st && strlen(spelled) >= size)
        st = zoo_error(ZOO_ERR_ARG, "name map: '%s' does not fit a buffer of %zu bytes", spelled,
                       size);
    if (!st) memcpy(buf, spelled, strlen(spelled) + 1);
    return st;
}

/* --- model.safetensors ------------------------------------------------- */

/* dst[cols,rows] = src[rows,cols] transposed, in tiles that stay in cache. */
static void transpose(float *dst, const float *src, int64_t rows, int64_t cols) {
    enum { TILE = 32 };
    for (int64_t r0 = 0; r0 < rows; r0 += TILE)
        for (int64_t c0 = 0; c0 < cols; c0 += TILE)
            for (int64_t r = r0; r < r0 + TILE && r < rows; r++)
                for (int64_t c = c0; c < c0 + TILE && c < cols; c++)
                    dst[c * rows + r] = src[r * cols + c];
}

/* "[3,2]" into buf. */
static const char *shape_text(const int64_t *shape, int ndim, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, d ? ",%lld" : "%lld", (long long)shape[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

/* Tensor i of f, the parameter t transposed, into t. */
static int read_transposed(const zoo_st_file *f, const char *file, int i, const zoo_param *p) {
    const zoo_tensor *t = p->value;
    if (t->ndim != 2)
        return zoo_error(ZOO_ERR_ARG, "name map: parameter '%s' is transposed but not 2-D",
                         p->name);
    int ndim = 0;
    const int64_t *shape = zoo_st_shape(f, i);
    zoo_st_info(f, i, NULL, &ndim, NULL);
    if (ndim != 2 || shape[0] != t->shape[1] || shape[1] != t->shape[0]) {
        char got[128], want[64];
        int64_t flipped[2] = {t->shape[1], t->shape[0]};
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: tensor '%s' has shape %s, the model expects %s (its '%s' "
                         "[%lld,%lld], transposed)",
                         file, zoo_st_name(f, i), shape_text(shape, ndim, got, sizeof got),
                         shape_text(flipped, 2, want, sizeof want), p->name, (long long)t->shape[0],
                         (long long)t->shape[1]);
    }
    float *tmp = malloc(sizeof *tmp * (size_t)(t->numel ? t->numel : 1));
    if (!tmp) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    int st = zoo_st_read_f32(f, i, tmp, t->numel);
    if (!st) st = zoo_st_check_finite(f, i, tmp, t->numel);
    if (!st) transpose(zoo_f32(t), tmp, shape[0], shape[1]);
    free(tmp);
    return st;
}

static int load_param(const zoo_st_file *f, const char *file, const zoo_hf_name *map,
                      const zoo_param *p) {
    resolved r;
    int st = resolve(map, p->name, &r);
    if (st) return st;
    char names[ZOO_HF_MAX_SPELLINGS][NAME_SIZE];
    int k = 0, i = -1;
    for (; i < 0 && k < ZOO_HF_MAX_SPELLINGS && r.rule->hf[k]; k++) {
        if ((st = spell(&r, p->name, k, names[k]))) return st;
        i = zoo_st_find(f, names[k]);
    }
    if (i >= 0)
        return r.rule->flags & ZOO_HF_TRANSPOSED ? read_transposed(f, file, i, p)
                                                 : zoo_st_read_into(f, i, p->value);
    if (r.rule->flags & ZOO_HF_OPTIONAL) return ZOO_OK;
    char others[1024] = "";
    for (int j = 1; j < k; j++) {
        size_t n = strlen(others);
        snprintf(others + n, sizeof others - n, "%s'%s'", j > 1 ? ", " : " (or ", names[j]);
    }
    if (k > 1) strncat(others, ")", sizeof others - strlen(others) - 1);
    return zoo_error(ZOO_ERR_FORMAT, "%s: tensor '%s'%s is missing", file, names[0], others);
}

int zoo_hf_weights_load(const char *dir, const zoo_hf_name *map, zoo_params *params) {
    char file[4096];
    zoo_st_file *f = NULL;
    int st = check_map(map);
    if (!st) st = join(file, sizeof file, dir, "model.safetensors");
    if (!st) st = zoo_st_open_model_dir(dir, &f);
    for (int i = 0; !st && i < zoo_params_count(params); i++)
        st = load_param(f, file, map, zoo_params_at(params, i));
    zoo_st_close(f);
    return st;
}

int zoo_hf_dir_write(const char *dir, const zoo_json *config, const zoo_hf_name *map,
                     const zoo_params *params) {
    char weights[4096], config_file[4096];
    int st = check_map(map);
    if (!st) st = join(weights, sizeof weights, dir, "model.safetensors");
    if (!st) st = join(config_file, sizeof config_file, dir, "config.json");
    if (st) return st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return zoo_error(ZOO_ERR_IO, "%s: %s", dir, strerror(errno));
    zoo_params *ps = (zoo_params *)params; /* zoo_params_at hands out writable entries */
    int n = zoo_params_count(ps);
    zoo_st_writer *w = zoo_st_writer_new();
    float **flipped = calloc((size_t)n + 1, sizeof *flipped); /* the writer references data */
    st = !w || !flipped ? zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", dir)
                        : zoo_st_writer_add_metadata(w, "format", "pt");
    for (int i = 0; !st && i < n; i++) {
        const zoo_param *p = zoo_params_at(ps, i);
        const zoo_tensor *t = p->value;
        resolved r;
        char name[NAME_SIZE];
        if ((st = resolve(map, p->name, &r)) || (st = spell(&r, p->name, 0, name))) break;
        if (!(r.rule->flags & ZOO_HF_TRANSPOSED)) {
            st = zoo_st_writer_add(w, name, ZOO_F32, t->ndim, t->shape, t->data);
        } else if (t->ndim != 2) {
            st = zoo_error(ZOO_ERR_ARG, "name map: parameter '%s' is transposed but not 2-D",
                           p->name);
        } else if (!(flipped[i] = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1)))) {
            st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", dir);
        } else {
            int64_t shape[2] = {t->shape[1], t->shape[0]};
            transpose(flipped[i], zoo_f32(t), t->shape[0], t->shape[1]);
            st = zoo_st_writer_add(w, name, ZOO_F32, 2, shape, flipped[i]);
        }
    }
    if (!st) st = zoo_st_writer_write(w, weights);
    if (!st) st = zoo_json_write(config, config_file);
    for (int i = 0; flipped && i < n; i++) free(flipped[i]);
    free(flipped);
    zoo_st_writer_free(w);
    return st;
}
