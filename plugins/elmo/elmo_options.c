/* options.json <-> the hyperparameters (elmo_allennlp.h), and import_config,
 * which also asks weights.hdf5 and vocab.txt whether there is a softmax and
 * how many words. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elmo_allennlp.h"

int elmo_options_path(const char *dir, char *file, size_t size) {
    int st = elmo_path(file, size, dir, "options.json");
    if (!st && !elmo_file_exists(file))
        st =
            zoo_error(ZOO_ERR_NOTFOUND, "%s: no options.json: not an AllenNLP ELMo directory", dir);
    return st;
}

/* options.json, parsed: the root object and the file's name for messages. */
typedef struct options {
    const char *file;
    cJSON *root;
} options;

/* Line and column (from 1, in bytes) of p in text. */
static void line_col(const char *text, const char *p, int *line, int *col) {
    *line = *col = 1;
    for (const char *q = text; q < p; q++) *col = *q == '\n' ? ((*line)++, 1) : *col + 1;
}

static int options_load(options *o, const char *file) {
    size_t len;
    *o = (options){file, NULL};
    char *text = zoo_read_file(file, &len);
    if (!text) return ZOO_ERR_IO;
    /* the terminator is part of the buffer, so that a text cut short fails
     * on it; cJSON says where it failed, not why */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, false);
    const char *at = end ? end : text;
    if (root) at += strspn(at, " \t\r\n"); /* end is just past the value */
    int line, col, st = ZOO_OK;
    line_col(text, at, &line, &col);
    if (!root)
        st = zoo_error(ZOO_ERR_FORMAT, "%s:%d:%d: malformed JSON%s", file, line, col,
                       at >= text + len ? " (unexpected end of the file)" : "");
    else if (!cJSON_IsObject(root))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: not a JSON object", file);
    else if (at < text + len)
        st = zoo_error(ZOO_ERR_FORMAT, "%s:%d:%d: malformed JSON (text after the object)", file,
                       line, col);
    free(text);
    if (st)
        cJSON_Delete(root);
    else
        o->root = root;
    return st;
}

static const char *type_name(const cJSON *n) {
    return cJSON_IsNull(n)     ? "null"
           : cJSON_IsBool(n)   ? "true or false"
           : cJSON_IsNumber(n) ? "a number"
           : cJSON_IsString(n) ? "a string"
           : cJSON_IsArray(n)  ? "an array"
                               : "an object";
}

/* The value at a dotted path ("char_cnn.embedding.dim"), NULL when absent;
 * an error when a step on the way is not an object. */
static int opt_find(const options *o, const char *path, const cJSON **out) {
    const cJSON *n = o->root;
    char key[64];
    *out = NULL;
    for (const char *s = path; *s;) {
        size_t len = strcspn(s, ".");
        if (!cJSON_IsObject(n))
            return zoo_error(ZOO_ERR_FORMAT, "%s: %.*s: expected an object, got %s", o->file,
                             (int)(s - 1 - path), path, type_name(n));
        snprintf(key, sizeof key, "%.*s", (int)len, s);
        if (!(n = cJSON_GetObjectItemCaseSensitive(n, key))) return ZOO_OK;
        s += len + (s[len] == '.');
    }
    *out = n;
    return ZOO_OK;
}

/* The value at path, of the type `is` tells (`what` in messages): a missing
 * one (unless optional: then *out = NULL) or one of another type is an error
 * naming the file and the path (never ZOO_ERR_NOTFOUND, which says "not an
 * ELMo directory"). */
static int opt_get(const options *o, const char *path, cJSON_bool (*is)(const cJSON *),
                   const char *what, bool optional, const cJSON **out) {
    int st = opt_find(o, path, out);
    if (!st && !*out && !optional) st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: missing", o->file, path);
    if (!st && *out && !is(*out))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected %s, got %s", o->file, path, what,
                       type_name(*out));
    if (!st && *out && cJSON_IsNumber(*out) && !isfinite((*out)->valuedouble))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected a finite number", o->file, path);
    return st;
}

static bool whole(double v) {
    return v == floor(v) && fabs(v) <= 9007199254740992.0;
}

/* A whole number at path; *found false when optional and absent. */
static int opt_int(const options *o, const char *path, bool optional, int64_t *v, bool *found) {
    const cJSON *n;
    int st = opt_get(o, path, cJSON_IsNumber, "a number", optional, &n);
    *found = !st && n;
    if (*found && !whole(n->valuedouble))
        return zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected a whole number, got %.17g", o->file,
                         path, n->valuedouble);
    if (*found) *v = (int64_t)n->valuedouble;
    return st;
}

/* The char-CNN's banks, [[width, count], ...], as elmo_parse_filters' text. */
static int opt_filters(const options *o, char *buf, size_t size) {
    const char *path = "char_cnn.filters";
    const cJSON *a;
    int st = opt_get(o, path, cJSON_IsArray, "an array", false, &a);
    size_t used = 0;
    buf[0] = '\0';
    int i = 0;
    for (const cJSON *e = a ? a->child : NULL; !st && e; e = e->next, i++) {
        const cJSON *w = cJSON_IsArray(e) ? e->child : NULL, *c = w ? w->next : NULL;
        if (!c || c->next || !cJSON_IsNumber(w) || !cJSON_IsNumber(c) || !whole(w->valuedouble) ||
            !whole(c->valuedouble) || w->valuedouble < 1 || c->valuedouble < 1 ||
            w->valuedouble > 1e6 || c->valuedouble > 1e9)
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s: %s[%d]: expected [width, count], two positive whole numbers",
                             o->file, path, i);
        int n = snprintf(buf + used, size - used, "%s%.0f:%.0f", i ? "," : "", w->valuedouble,
                         c->valuedouble);
        if (n < 0 || (size_t)n >= size - used)
            return zoo_error(ZOO_ERR_FORMAT, "%s: %s: too many banks", o->file, path);
        used += (size_t)n;
    }
    if (!st && i == 0) st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: no bank", o->file, path);
    int64_t widths[ELMO_MAX_FILTERS], counts[ELMO_MAX_FILTERS];
    if (!st && elmo_parse_filters(buf, widths, counts) < 0)
        st = elmo_rewrap(ZOO_ERR_FORMAT, o->file, path);
    return st;
}

/* options.json key -> hyperparameter */
enum { F_INT, F_STRING, F_BOOL, F_CLIP, F_FLOAT };
static const struct {
    const char *field, *hparam;
    int kind;
    bool optional;
} option_fields[] = {
    {"char_cnn.embedding.dim", "char_dim", F_INT, false},
    {"char_cnn.max_characters_per_token", "max_characters_per_token", F_INT, false},
    {"char_cnn.activation", "activation", F_STRING, false},
    {"char_cnn.n_highway", "n_highway", F_INT, false},
    {"lstm.projection_dim", "projection_dim", F_INT, false},
    {"lstm.dim", "dim", F_INT, false},
    {"lstm.n_layers", "n_layers", F_INT, false},
    {"lstm.cell_clip", "cell_clip", F_CLIP, true}, /* null or absent: no clipping */
    {"lstm.proj_clip", "proj_clip", F_CLIP, true},
    {"lstm.use_skip_connections", "use_skip_connections", F_BOOL, false},
    /* bilm-tf's training options, kept for training on */
    {"dropout", "dropout", F_FLOAT, true},
    {"n_negative_samples_batch", "sampled_softmax", F_INT, true},
};

static int options_to_hparams(const options *o, zoo_hparams *hp) {
    int st = ZOO_OK;
    for (size_t i = 0; !st && i < sizeof option_fields / sizeof option_fields[0]; i++) {
        const char *field = option_fields[i].field, *name = option_fields[i].hparam;
        bool optional = option_fields[i].optional, found;
        const cJSON *n = NULL;
        int64_t v = 0;
        switch (option_fields[i].kind) {
        case F_INT:
            st = opt_int(o, field, optional, &v, &found);
            if (!st && found && (st = zoo_hparams_set_int(hp, name, v)))
                st = elmo_rewrap(st, o->file, field);
            break;
        case F_STRING:
            st = opt_get(o, field, cJSON_IsString, "a string", optional, &n);
            if (!st && n && (st = zoo_hparams_set_string(hp, name, n->valuestring)))
                st = elmo_rewrap(st, o->file, field);
            break;
        case F_BOOL:
            st = opt_get(o, field, cJSON_IsBool, "true or false", optional, &n);
            if (!st && n && (st = zoo_hparams_set_bool(hp, name, cJSON_IsTrue(n))))
                st = elmo_rewrap(st, o->file, field);
            break;
        case F_CLIP:
        case F_FLOAT:
            st = opt_find(o, field, &n);
            if (!st && option_fields[i].kind == F_CLIP && cJSON_IsNull(n))
                n = NULL; /* AllenNLP: a null clip is no clip */
            else if (!st)
                st = opt_get(o, field, cJSON_IsNumber, "a number", optional, &n);
            if (!st && (n || option_fields[i].kind == F_CLIP) &&
                (st = zoo_hparams_set_float(hp, name, n ? n->valuedouble : 0)))
                st = elmo_rewrap(st, o->file, field);
            break;
        }
    }
    return st;
}

int elmo_import_config(const char *path, zoo_hparams *hp) {
    char file[PATH_MAX], filters[ELMO_MAX_FILTERS * 24];
    int st = elmo_options_path(path, file, sizeof file);
    if (st) return st;
    options o;
    if ((st = options_load(&o, file))) return st;
    int64_t n_chars = 0, rows = -1;
    bool found;
    st = opt_int(&o, "char_cnn.n_characters", false, &n_chars, &found);
    if (!st && n_chars != 261 && n_chars != 262)
        st = zoo_error(ZOO_ERR_FORMAT,
                       "%s: char_cnn.n_characters: %lld, expected 261 (bilm-tf training) or 262 "
                       "(published options)",
                       file, (long long)n_chars);
    if (!st) st = opt_filters(&o, filters, sizeof filters);
    if (!st && (st = zoo_hparams_set_string(hp, "filters", filters)))
        st = elmo_rewrap(st, file, "char_cnn.filters");
    if (!st) st = options_to_hparams(&o, hp);
    cJSON_Delete(o.root);
    /* the model's words are its tokenizer's; a softmax in the file is used
     * only with the vocab.txt that names its rows */
    char vocab_file[PATH_MAX];
    zoo_tokenizer *tok = NULL;
    int64_t V = 0;
    if (!st) st = elmo_softmax_rows(path, &rows);
    if (!st) st = elmo_path(vocab_file, sizeof vocab_file, path, "vocab.txt");
    if (!st) st = elmo_vocab_tokenizer(path, &tok);
    if (!st) V = zoo_tokenizer_vocab_size(tok);
    zoo_tokenizer_free(tok);
    bool softmax = !st && rows >= 0 && elmo_file_exists(vocab_file);
    if (softmax && rows != V)
        st = zoo_error(ZOO_ERR_SHAPE, "%s: %lld lines, but weights.hdf5's softmax/W has %lld rows",
                       vocab_file, (long long)V, (long long)rows);
    if (!st && (st = zoo_hparams_set_bool(hp, "softmax", softmax)))
        st = elmo_rewrap(st, path, "softmax");
    if (!st && (st = zoo_hparams_set_int(hp, "vocab_size", V)))
        st = elmo_rewrap(st, path, "vocab.txt");
    return st;
}

/* --- writing --------------------------------------------------------------- */

/* key: v in the fewest digits that read back to it ("0.1", "3"): cJSON's
 * own 15 digits need only read back to within an ulp. */
static cJSON *add_exact(cJSON *object, const char *key, double v) {
    char buf[32];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return cJSON_AddRawToObject(object, key, buf);
}

char *elmo_options_text(const zoo_model *m, const zoo_hparams *hp) {
    cJSON *root = cJSON_CreateObject(), *cnn = NULL, *filters = NULL, *lstm = NULL;
    /* an add to a NULL object fails: a failure anywhere shows in ok */
    bool ok =
        cJSON_AddTrueToObject(root, "bidirectional") &&
        (cnn = cJSON_AddObjectToObject(root, "char_cnn")) &&
        cJSON_AddStringToObject(cnn, "activation", m->tanh_activation ? "tanh" : "relu") &&
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(cnn, "embedding"), "dim", (double)m->E) &&
        (filters = cJSON_AddArrayToObject(cnn, "filters"));
    for (int i = 0; ok && i < m->n_filters; i++) {
        const double bank[2] = {(double)m->widths[i], (double)m->counts[i]};
        cJSON *pair = cJSON_CreateDoubleArray(bank, 2);
        if (!(ok = cJSON_AddItemToArray(filters, pair))) cJSON_Delete(pair);
    }
    ok = ok && cJSON_AddNumberToObject(cnn, "max_characters_per_token", (double)m->max_chars) &&
         cJSON_AddNumberToObject(cnn, "n_characters", 262) &&
         cJSON_AddNumberToObject(cnn, "n_highway", (double)m->n_highway) &&
         add_exact(root, "dropout", hp ? zoo_hparams_float(hp, "dropout") : m->dropout) &&
         (lstm = cJSON_AddObjectToObject(root, "lstm")) &&
         add_exact(lstm, "cell_clip", hp ? zoo_hparams_float(hp, "cell_clip") : m->cell_clip) &&
         cJSON_AddNumberToObject(lstm, "dim", (double)m->H) &&
         cJSON_AddNumberToObject(lstm, "n_layers", (double)m->n_layers) &&
         add_exact(lstm, "proj_clip", hp ? zoo_hparams_float(hp, "proj_clip") : m->proj_clip) &&
         cJSON_AddNumberToObject(lstm, "projection_dim", (double)m->P) &&
         cJSON_AddBoolToObject(lstm, "use_skip_connections", m->skip) &&
         cJSON_AddNumberToObject(root, "n_negative_samples_batch", (double)m->samples) &&
         (!m->has_softmax || cJSON_AddNumberToObject(root, "n_tokens_vocab", (double)m->V));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}
