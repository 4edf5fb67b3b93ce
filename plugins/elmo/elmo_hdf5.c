/* AllenNLP's ELMo directories: options.json (bilm-tf's options), weights.hdf5
 * (bilm-tf's variables, read and written with libhdf5) and, for a model zoo
 * trained, vocab.txt (one word a line, in id order). elmo.h has the names,
 * shapes and conversions; here is how they are read and written.
 *
 * - A directory without options.json is not ours (ZOO_ERR_NOTFOUND); any
 *   other fault is an error naming the file and the field or dataset.
 * - The vocabulary is the tokenizer's: vocab.txt's lines (stripped, as
 *   bilm-tf reads them) or, without one, bilm-tf's <S> </S> <UNK> alone (a
 *   published model embeds any word from its characters). The tokenizer is
 *   zoo's "word" one (whitespace, case kept); <UNK>/[UNK], <S>, </S> and
 *   zoo's own marks take their roles; an unknown-word token is required.
 * - softmax/W and softmax/b are used when the file has them and a vocab.txt
 *   names their rows (the line count must be the row count); otherwise the
 *   model has no softmax and they are ignored.
 * - Import checks every dataset's presence, type and shape before reading
 *   any, so those faults leave the model as it was. Any numeric dtype reads
 *   as float32; export writes little-endian float32.
 * - Export, then import, gives back every bit: the conversions only move
 *   values and negate some (the carry gate), and B is kept as the file has it
 *   (bilm-tf's forget_bias of 1 is added in the cell, elmo_model.c).
 * - Export writes each file under a temporary name (libzoo's
 *   zoo_atomic_file; HDF5 builds weights.hdf5 in memory first), then
 *   renames them (weights.hdf5, vocab.txt, options.json last): a failure
 *   while writing leaves an earlier export whole. Without a tokenizer there
 *   is no vocab.txt, and an earlier one is removed.
 *
 * options.json nests, which libzoo's zoo_json (one flat object) does not
 * read or write: the plugin reads and writes it with cJSON, which it links
 * itself as it links libhdf5 (CMakeLists.txt). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elmo.h"

/* DIR/name into buf; ZOO_ERR_ARG when it does not fit. */
static int join(char *buf, size_t size, const char *dir, const char *name) {
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < size ? ZOO_OK
                                      : zoo_error(ZOO_ERR_ARG, "elmo: path too long: %s", dir);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* zoo_error with the current message behind a prefix ("FILE: FIELD: ..."). */
static int wrap(int st, const char *file, const char *field) {
    char why[512];
    snprintf(why, sizeof why, "%s", zoo_error_message());
    return zoo_error(st, "%s: %s: %s", file, field, why);
}

/* --- options.json ----------------------------------------------------------- */

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
        st = wrap(ZOO_ERR_FORMAT, o->file, path);
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
                st = wrap(st, o->file, field);
            break;
        case F_STRING:
            st = opt_get(o, field, cJSON_IsString, "a string", optional, &n);
            if (!st && n && (st = zoo_hparams_set_string(hp, name, n->valuestring)))
                st = wrap(st, o->file, field);
            break;
        case F_BOOL:
            st = opt_get(o, field, cJSON_IsBool, "true or false", optional, &n);
            if (!st && n && (st = zoo_hparams_set_bool(hp, name, cJSON_IsTrue(n))))
                st = wrap(st, o->file, field);
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
                st = wrap(st, o->file, field);
            break;
        }
    }
    return st;
}

/* --- vocab.txt and the tokenizer ------------------------------------------ */

/* vocab.txt's lines, each stripped of surrounding blanks (as bilm-tf's
 * line.strip()); tokens point into text. */
typedef struct vocab {
    char *text;
    const char **tokens;
    int32_t n;
} vocab;

static void vocab_free(vocab *v) {
    free(v->text);
    free(v->tokens);
    memset(v, 0, sizeof *v);
}

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* DIR/vocab.txt; ZOO_ERR_NOTFOUND, without a message, when there is none. */
static int vocab_read(const char *dir, vocab *v) {
    char file[PATH_MAX];
    memset(v, 0, sizeof *v);
    int st = join(file, sizeof file, dir, "vocab.txt");
    if (st) return st;
    if (!file_exists(file)) return ZOO_ERR_NOTFOUND;
    size_t len, lines = 0;
    if (!(v->text = zoo_read_file(file, &len))) return ZOO_ERR_IO;
    const char *nul = memchr(v->text, '\0', len);
    if (nul)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: a NUL byte at offset %zu", file,
                       (size_t)(nul - v->text));
    for (size_t i = 0; i < len; i++) lines += v->text[i] == '\n';
    lines += len > 0 && v->text[len - 1] != '\n';
    if (!st && lines == 0) st = zoo_error(ZOO_ERR_FORMAT, "%s: empty", file);
    if (!st && lines > INT32_MAX / 2)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %zu lines, too many", file, lines);
    if (!st && !(v->tokens = malloc(lines * sizeof *v->tokens)))
        st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    for (char *s = v->text; !st && v->n < (int32_t)lines;) {
        char *end = strchr(s, '\n'), *next = end ? end + 1 : s + strlen(s);
        if (!end) end = s + strlen(s);
        while (s < end && blank(*s)) s++;
        while (end > s && blank(end[-1])) end--;
        if (s == end)
            st = zoo_error(ZOO_ERR_FORMAT, "%s:%d: an empty line (a token a line)", file,
                           (int)v->n + 1);
        *end = '\0';
        v->tokens[v->n++] = s;
        s = next;
    }
    if (st) vocab_free(v);
    return st;
}

typedef struct line_ref {
    const char *token;
    int32_t line;
} line_ref;

static int by_token(const void *a, const void *b) {
    const line_ref *x = a, *y = b;
    int c = strcmp(x->token, y->token);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A word tokenizer refuses a token twice; say which lines. */
static int no_duplicates(const char *file, const char *const *tokens, int32_t n) {
    line_ref *order = malloc((size_t)n * sizeof *order);
    if (!order) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    for (int32_t i = 0; i < n; i++) order[i] = (line_ref){tokens[i], i + 1};
    qsort(order, (size_t)n, sizeof *order, by_token);
    int st = ZOO_OK;
    for (int32_t i = 1; i < n && !st; i++)
        if (strcmp(order[i - 1].token, order[i].token) == 0)
            st = zoo_error(ZOO_ERR_FORMAT, "%s:%d: '%s' is already line %d", file,
                           (int)order[i].line, order[i].token, (int)order[i - 1].line);
    free(order);
    return st;
}

/* bilm-tf's own marks: a vocabulary of its has them first */
static const char *const bilm_specials[] = {"<S>", "</S>", "<UNK>"};
static const zoo_special bilm_roles[] = {ZOO_TOK_BOS, ZOO_TOK_EOS, ZOO_TOK_UNK};

static const char *const role_names[ZOO_TOK_N_SPECIAL] = {
    [ZOO_TOK_UNK] = "unk", [ZOO_TOK_PAD] = "pad", [ZOO_TOK_MASK] = "mask", [ZOO_TOK_CLS] = "cls",
    [ZOO_TOK_SEP] = "sep", [ZOO_TOK_BOS] = "bos", [ZOO_TOK_EOS] = "eos"};

/* A "word" tokenizer (whitespace, case kept) of these tokens in this order.
 * Each special role goes to the first token spelled as zoo's ("[UNK]") or
 * bilm-tf's ("<UNK>", "<S>", "</S>") mark of it; there must be an unknown. */
static int tokenizer_build(const char *file, const char *const *tokens, int32_t n,
                           zoo_tokenizer **out) {
    int st = no_duplicates(file, tokens, n);
    if (st) return st;
    int32_t role_id[ZOO_TOK_N_SPECIAL];
    for (int r = 0; r < ZOO_TOK_N_SPECIAL; r++) role_id[r] = -1;
    for (int32_t i = 0; i < n; i++) {
        int r = zoo_special_from_token(tokens[i]);
        for (int k = 0; r < 0 && k < 3; k++)
            if (strcmp(tokens[i], bilm_specials[k]) == 0) r = (int)bilm_roles[k];
        if (r >= 0 && role_id[r] < 0) role_id[r] = i;
    }
    if (role_id[ZOO_TOK_UNK] < 0)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: no <UNK> (or [UNK]) line: a word outside the vocabulary would have "
                         "no id",
                         file);
    /* libzoo's tokenizer JSON (an add to a NULL object fails) */
    cJSON *root = cJSON_CreateObject(), *special = cJSON_AddObjectToObject(root, "special");
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON *list = cJSON_CreateStringArray(tokens, (int)n);
    bool ok = cJSON_AddItemToObject(model, "tokens", list);
    if (!ok) cJSON_Delete(list);
    ok = ok && cJSON_AddNumberToObject(root, "version", 1) &&
         cJSON_AddStringToObject(root, "type", "word") &&
         cJSON_AddFalseToObject(model, "lowercase") &&
         cJSON_AddStringToObject(model, "split", "whitespace");
    for (int r = 0; ok && r < ZOO_TOK_N_SPECIAL; r++)
        if (role_id[r] >= 0) ok = cJSON_AddNumberToObject(special, role_names[r], role_id[r]);
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    st = json ? zoo_tokenizer_from_json(json, out)
              : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    cJSON_free(json);
    return st && json ? wrap(st, file, "as a word tokenizer") : st;
}

/* The tokenizer of DIR: its vocab.txt's, or bilm-tf's three marks alone. */
static int tokenizer_of(const char *dir, zoo_tokenizer **out) {
    char file[PATH_MAX];
    *out = NULL;
    vocab v = {0};
    int st = join(file, sizeof file, dir, "vocab.txt");
    if (!st) st = vocab_read(dir, &v);
    if (st == ZOO_ERR_NOTFOUND) return tokenizer_build(file, bilm_specials, 3, out);
    if (!st) st = tokenizer_build(file, v.tokens, v.n, out);
    vocab_free(&v);
    return st;
}

/* ZOO_ERR_NOTFOUND with a message when dir has no options.json. */
static int options_path(const char *dir, char *file, size_t size) {
    int st = join(file, size, dir, "options.json");
    if (!st && !file_exists(file))
        st =
            zoo_error(ZOO_ERR_NOTFOUND, "%s: no options.json: not an AllenNLP ELMo directory", dir);
    return st;
}

int elmo_import_tokenizer(const char *path, zoo_tokenizer **out) {
    char file[PATH_MAX];
    *out = NULL;
    int st = options_path(path, file, sizeof file);
    return st ? st : tokenizer_of(path, out);
}

/* --- weights.hdf5 --------------------------------------------------------- */

/* HDF5 prints its error stack to stderr unless told not to: each entry point
 * silences it for its own duration and puts the caller's handler back. */
typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static h5_quiet h5_silence(void) {
    h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void h5_restore(h5_quiet q) {
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

enum { H5_WHY = 200 };

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *buf) {
    if (n == 0 && e->desc) snprintf(buf, H5_WHY, "%s", e->desc);
    return 0;
}

/* HDF5's own words for the failure just seen ("truncated file: eof = ..."). */
static const char *h5_reason(char *buf) {
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, buf);
    return buf[0] ? buf : "HDF5 gave no reason";
}

static const char *dims_str(char *buf, size_t size, int ndim, const hsize_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

static hid_t h5_access(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    /* lock where the file system can, go on where it cannot (NFS) */
    if (fapl >= 0) H5Pset_file_locking(fapl, true, true);
#endif
    return fapl;
}

static int h5_open(const char *file, hid_t *out) {
    char why[H5_WHY];
    struct stat sb;
    *out = -1;
    if (stat(file, &sb) != 0) return zoo_error(ZOO_ERR_IO, "%s: %s", file, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return zoo_error(ZOO_ERR_IO, "%s: not a file", file);
    hid_t fapl = h5_access();
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(file, fapl);
#else
    htri_t is = H5Fis_hdf5(file);
#endif
    hid_t f = is > 0 ? H5Fopen(file, H5F_ACC_RDONLY, fapl) : -1;
    if (is > 0 && f < 0) h5_reason(why); /* before the next call clears it */
    if (fapl >= 0) H5Pclose(fapl);
    if (is <= 0) return zoo_error(ZOO_ERR_FORMAT, "%s: not an HDF5 file", file);
    if (f < 0)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: cannot open this HDF5 file, truncated or damaged (%s)", file, why);
    *out = f;
    return ZOO_OK;
}

/* Whether the dataset `name` ("CNN/W_cnn_0") is in f, looking at each group
 * on the way (H5Lexists wants the groups to be there). */
static int h5_has(hid_t f, const char *file, const char *name, bool *has) {
    char prefix[128], why[H5_WHY];
    *has = false;
    if (strlen(name) >= sizeof prefix)
        return zoo_error(ZOO_ERR_ARG, "%s: %s: name too long", file, name);
    for (const char *slash = name;; slash++) {
        slash = strchr(slash, '/');
        size_t len = slash ? (size_t)(slash - name) : strlen(name);
        memcpy(prefix, name, len);
        prefix[len] = '\0';
        htri_t e = H5Lexists(f, prefix, H5P_DEFAULT);
        if (e < 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s: %s: cannot look it up (%s)", file, name,
                             h5_reason(why));
        if (e == 0 || !slash) {
            *has = e > 0;
            return ZOO_OK;
        }
    }
}

/* The dataset `name`, opened, with its shape; a missing one, a group, or one
 * that does not hold numbers is an error naming the file and the dataset. */
static int h5_dataset(hid_t f, const char *file, const char *name, hid_t *out, int *ndim,
                      hsize_t dims[H5S_MAX_RANK]) {
    char why[H5_WHY];
    bool has;
    int st = h5_has(f, file, name, &has);
    if (st) return st;
    if (!has) return zoo_error(ZOO_ERR_FORMAT, "%s: %s: no such dataset", file, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return zoo_error(ZOO_ERR_FORMAT, "%s: %s: not a readable dataset (%s)", file, name,
                         h5_reason(why));
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    *ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (*ndim >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) *ndim = -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (*ndim < 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: unreadable shape (%s)", file, name, h5_reason(why));
    else if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: holds neither floats nor integers", file, name);
    if (st)
        H5Dclose(d);
    else
        *out = d;
    return st;
}

/* --- the layout: bilm-tf's datasets and the model's tensors --------------- */

enum { C_COPY, C_CNN, C_HIGHWAY_W, C_HIGHWAY_B, C_TRANSPOSE, C_LSTM_W, C_LSTM_B };

/* One dataset of the file and where its values live in the model. */
typedef struct dataset {
    char name[64];
    int ndim, conv;
    hsize_t dims[4];
    zoo_tensor *t, *t2; /* t2: W_0's hidden rows (w_hh) */
    int part;           /* highway: 0 transform, 1 carry */
} dataset;

/* char_embed, the banks (2 each), the highways (4), the projection (2), the
 * LSTM cells (3 each of two directions), the softmax (2) */
#define ELMO_MAX_DATASETS                                                                          \
    (1 + 2 * ELMO_MAX_FILTERS + 4 * ELMO_MAX_LAYERS + 2 + 6 * ELMO_MAX_LAYERS + 2)

static int64_t ds_numel(const dataset *d) {
    int64_t n = 1;
    for (int i = 0; i < d->ndim; i++) n *= (int64_t)d->dims[i];
    return n;
}

static dataset *ds_add(dataset *ds, int *n, int conv, zoo_tensor *t, int ndim, const hsize_t *dims,
                       const char *name) {
    dataset *d = &ds[(*n)++];
    *d = (dataset){.ndim = ndim, .conv = conv, .t = t};
    snprintf(d->name, sizeof d->name, "%s", name);
    memcpy(d->dims, dims, (size_t)ndim * sizeof *dims);
    return d;
}

#define DIMS(...)                                                                                  \
    ZOO_NDIM(__VA_ARGS__), (const hsize_t[]) {                                                     \
        __VA_ARGS__                                                                                \
    }

/* Every dataset of m's file, in bilm-tf's order; the count. */
static int layout(zoo_model *m, dataset *ds) {
    hsize_t E = (hsize_t)m->E, D = (hsize_t)m->D, P = (hsize_t)m->P, H = (hsize_t)m->H;
    char name[64];
    int n = 0;
    ds_add(ds, &n, C_COPY, m->char_embed, DIMS(ELMO_N_CHARS, E), "char_embed");
    for (int i = 0; i < m->n_filters; i++) {
        hsize_t K = (hsize_t)m->widths[i], F = (hsize_t)m->counts[i];
        snprintf(name, sizeof name, "CNN/W_cnn_%d", i);
        ds_add(ds, &n, C_CNN, m->cnn_w[i], DIMS(1, K, E, F), name);
        snprintf(name, sizeof name, "CNN/b_cnn_%d", i);
        ds_add(ds, &n, C_COPY, m->cnn_b[i], DIMS(F), name);
    }
    static const char *const hw[4] = {"W_carry", "b_carry", "W_transform", "b_transform"};
    for (int k = 0; k < m->n_highway; k++)
        for (int j = 0; j < 4; j++) {
            snprintf(name, sizeof name, "CNN_high_%d/%s", k, hw[j]);
            bool w = j % 2 == 0;
            dataset *d = w ? ds_add(ds, &n, C_HIGHWAY_W, m->highway_w[k], DIMS(D, D), name)
                           : ds_add(ds, &n, C_HIGHWAY_B, m->highway_b[k], DIMS(D), name);
            d->part = j < 2; /* carry: zoo_highway's keep-x half, negated */
        }
    ds_add(ds, &n, C_TRANSPOSE, m->proj_w, DIMS(D, P), "CNN_proj/W_proj");
    ds_add(ds, &n, C_COPY, m->proj_b, DIMS(P), "CNN_proj/b_proj");
    for (int dir = 0; dir < 2; dir++)
        for (int l = 0; l < m->n_layers; l++) {
            const elmo_lstm_layer *L = &m->lstm[dir][l];
            hsize_t in = (hsize_t)L->w_ih->shape[1];
            int k = snprintf(name, sizeof name, "RNN_%d/RNN/MultiRNNCell/Cell%d/LSTMCell/", dir, l);
            snprintf(name + k, sizeof name - (size_t)k, "W_0");
            ds_add(ds, &n, C_LSTM_W, L->w_ih, DIMS(in + P, 4 * H), name)->t2 = L->w_hh;
            snprintf(name + k, sizeof name - (size_t)k, "B");
            ds_add(ds, &n, C_LSTM_B, L->bias, DIMS(4 * H), name);
            snprintf(name + k, sizeof name - (size_t)k, "W_P_0");
            ds_add(ds, &n, C_TRANSPOSE, L->w_proj, DIMS(H, P), name);
        }
    if (m->has_softmax) {
        ds_add(ds, &n, C_COPY, m->softmax_w, DIMS((hsize_t)m->V, P), "softmax/W");
        ds_add(ds, &n, C_COPY, m->softmax_b, DIMS((hsize_t)m->V), "softmax/b");
    }
    return n;
}

/* model = s * file on import, file = s * model on export (s is 1 or -1):
 * exact inverses, -0 included. */
static inline void xfer(float *model, float *file, float s, bool import) {
    if (import)
        *model = s * *file;
    else
        *file = s * *model;
}

/* zoo's gate block g (i, f, g, o) is TensorFlow's block tf_block[g] (i, j, f, o) */
static const int tf_block[4] = {0, 2, 1, 3};

/* Moves one dataset's values between the file's layout (file, ds_numel
 * floats) and the model's tensors, either way. */
static void convert(const dataset *d, float *file, bool import) {
    float *t = zoo_f32(d->t);
    int64_t n = ds_numel(d);
    switch (d->conv) {
    case C_COPY:
        for (int64_t i = 0; i < n; i++) xfer(&t[i], &file[i], 1, import);
        break;
    case C_CNN: { /* file [1, K, E, F] <-> t [F, K, E] */
        int64_t K = (int64_t)d->dims[1], E = (int64_t)d->dims[2], F = (int64_t)d->dims[3];
        for (int64_t k = 0; k < K; k++)
            for (int64_t e = 0; e < E; e++)
                for (int64_t f = 0; f < F; f++)
                    xfer(&t[(f * K + k) * E + e], &file[(k * E + e) * F + f], 1, import);
        break;
    }
    case C_HIGHWAY_W: { /* file [D in, D out] <-> rows part*D.. of t [2D out, D in] */
        int64_t D = (int64_t)d->dims[0];
        float s = d->part ? -1 : 1;
        for (int64_t i = 0; i < D; i++)
            for (int64_t j = 0; j < D; j++)
                xfer(&t[(d->part * D + j) * D + i], &file[i * D + j], s, import);
        break;
    }
    case C_HIGHWAY_B: {
        float s = d->part ? -1 : 1;
        for (int64_t j = 0; j < n; j++) xfer(&t[d->part * n + j], &file[j], s, import);
        break;
    }
    case C_TRANSPOSE: { /* file [R, C] <-> t [C, R] */
        int64_t R = (int64_t)d->dims[0], C = (int64_t)d->dims[1];
        for (int64_t r = 0; r < R; r++)
            for (int64_t c = 0; c < C; c++) xfer(&t[c * R + r], &file[r * C + c], 1, import);
        break;
    }
    case C_LSTM_W: { /* file [in + P, 4H], TF blocks <-> w_ih [4H, in], w_hh [4H, P] */
        int64_t in = d->t->shape[1], P = d->t2->shape[1], H4 = (int64_t)d->dims[1], H = H4 / 4;
        for (int64_t r = 0; r < in + P; r++) {
            float *w = zoo_f32(r < in ? d->t : d->t2);
            int64_t cols = r < in ? in : P, i = r < in ? r : r - in;
            for (int g = 0; g < 4; g++)
                for (int64_t h = 0; h < H; h++)
                    xfer(&w[(g * H + h) * cols + i], &file[r * H4 + tf_block[g] * H + h], 1,
                         import);
        }
        break;
    }
    case C_LSTM_B: { /* B as the file has it, the blocks reordered */
        int64_t H = n / 4;
        for (int g = 0; g < 4; g++)
            for (int64_t h = 0; h < H; h++)
                xfer(&t[g * H + h], &file[tf_block[g] * H + h], 1, import);
        break;
    }
    }
}

static float *grow(float **buf, size_t *cap, int64_t n) {
    if ((size_t)n > *cap) {
        float *b = realloc(*buf, (size_t)n * sizeof *b);
        if (!b) return NULL;
        *buf = b, *cap = (size_t)n;
    }
    return *buf;
}

int elmo_import_weights(zoo_model *m, zoo_params *params, const char *path) {
    (void)params; /* m holds the tensors */
    char file[PATH_MAX], why[H5_WHY], want[96], got[96];
    int st = join(file, sizeof file, path, "weights.hdf5");
    dataset *ds = st ? NULL : malloc(ELMO_MAX_DATASETS * sizeof *ds);
    if (!st && !ds) st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    if (st) return st;
    int n = layout(m, ds);
    h5_quiet q = h5_silence();
    hid_t f = -1;
    st = h5_open(file, &f);
    /* every dataset with its shape first, so that the usual faults leave the
     * model as it was */
    for (int i = 0; !st && i < n; i++) {
        hid_t d;
        int nd;
        hsize_t dims[H5S_MAX_RANK];
        st = h5_dataset(f, file, ds[i].name, &d, &nd, dims);
        if (st) break;
        H5Dclose(d);
        if (nd != ds[i].ndim || memcmp(dims, ds[i].dims, (size_t)nd * sizeof *dims) != 0)
            st = zoo_error(ZOO_ERR_SHAPE, "%s: %s: expected shape %s, got %s", file, ds[i].name,
                           dims_str(want, sizeof want, ds[i].ndim, ds[i].dims),
                           dims_str(got, sizeof got, nd, dims));
    }
    float *buf = NULL;
    size_t cap = 0;
    for (int i = 0; !st && i < n; i++) {
        hid_t d;
        int nd;
        hsize_t dims[H5S_MAX_RANK];
        st = h5_dataset(f, file, ds[i].name, &d, &nd, dims);
        if (st) break;
        if (!grow(&buf, &cap, ds_numel(&ds[i])))
            st = zoo_error(ZOO_ERR_NOMEM, "%s: %s: out of memory", file, ds[i].name);
        else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = zoo_error(ZOO_ERR_FORMAT, "%s: %s: cannot read it (%s)", file, ds[i].name,
                           h5_reason(why));
        else
            convert(&ds[i], buf, true);
        H5Dclose(d);
    }
    free(buf);
    if (f >= 0) H5Fclose(f);
    h5_restore(q);
    free(ds);
    return st;
}

/* Rows of DIR/weights.hdf5's softmax/W, -1 when it has none (or there is no
 * weights.hdf5: import_weights says so). */
static int softmax_rows(const char *dir, int64_t *rows) {
    char file[PATH_MAX];
    *rows = -1;
    int st = join(file, sizeof file, dir, "weights.hdf5");
    if (st || !file_exists(file)) return st;
    h5_quiet q = h5_silence();
    hid_t f, d = -1;
    bool has = false;
    int nd = 0;
    hsize_t dims[H5S_MAX_RANK];
    st = h5_open(file, &f);
    if (!st) st = h5_has(f, file, "softmax/W", &has);
    if (!st && has) st = h5_dataset(f, file, "softmax/W", &d, &nd, dims);
    if (!st && has && nd != 2)
        st =
            zoo_error(ZOO_ERR_SHAPE,
                      "%s: softmax/W: expected 2 dimensions [words, projection], got %d", file, nd);
    if (!st && has) *rows = (int64_t)dims[0];
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    h5_restore(q);
    return st;
}

/* --- import_config --------------------------------------------------------- */

int elmo_import_config(const char *path, zoo_hparams *hp) {
    char file[PATH_MAX], filters[ELMO_MAX_FILTERS * 24];
    int st = options_path(path, file, sizeof file);
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
        st = wrap(st, file, "char_cnn.filters");
    if (!st) st = options_to_hparams(&o, hp);
    cJSON_Delete(o.root);
    /* the model's words are its tokenizer's; a softmax in the file is used
     * only with the vocab.txt that names its rows */
    char vocab_file[PATH_MAX];
    zoo_tokenizer *tok = NULL;
    int64_t V = 0;
    if (!st) st = softmax_rows(path, &rows);
    if (!st) st = join(vocab_file, sizeof vocab_file, path, "vocab.txt");
    if (!st) st = tokenizer_of(path, &tok);
    if (!st) V = zoo_tokenizer_vocab_size(tok);
    zoo_tokenizer_free(tok);
    bool softmax = !st && rows >= 0 && file_exists(vocab_file);
    if (softmax && rows != V)
        st = zoo_error(ZOO_ERR_SHAPE, "%s: %lld lines, but weights.hdf5's softmax/W has %lld rows",
                       vocab_file, (long long)V, (long long)rows);
    if (!st && (st = zoo_hparams_set_bool(hp, "softmax", softmax))) st = wrap(st, path, "softmax");
    if (!st && (st = zoo_hparams_set_int(hp, "vocab_size", V))) st = wrap(st, path, "vocab.txt");
    return st;
}

/* --- export ----------------------------------------------------------------- */

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

/* options.json: bilm-tf's options, with AllenNLP's n_characters of 262 (the
 * padding id 0 and 261 characters); NULL when out of memory. Free it with
 * cJSON_free. */
static char *options_text(const zoo_model *m, const zoo_hparams *hp) {
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

/* vocab.txt: the tokenizer's tokens in id order, one a line. Each must read
 * back as itself (no line break, no surrounding blank) and the whole as a
 * tokenizer (an unknown-word token among them). */
static char *vocab_text(const zoo_tokenizer *tok, size_t *len_out) {
    int32_t n = zoo_tokenizer_vocab_size(tok);
    const char **tokens = malloc((size_t)(n > 0 ? n : 1) * sizeof *tokens);
    char *text = NULL;
    size_t len = 0;
    FILE *f = tokens ? open_memstream(&text, &len) : NULL;
    if (!f) {
        free(tokens);
        zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
        return NULL;
    }
    int st = ZOO_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        size_t k;
        const char *s = zoo_tokenizer_token(tok, i, &k);
        if (!s || k == 0 || strlen(s) != k || strpbrk(s, "\n\r") || blank(s[0]) || blank(s[k - 1]))
            st = zoo_error(ZOO_ERR_ARG,
                           "elmo: export: token %d ('%.*s') cannot be a line of vocab.txt", (int)i,
                           (int)(s && k < 64 ? k : 0), s ? s : "");
        tokens[i] = s;
        fprintf(f, "%s\n", s ? s : "");
    }
    zoo_tokenizer *back = NULL;
    if (!st && (st = tokenizer_build("vocab.txt", tokens, n, &back))) {
        char why[512];
        snprintf(why, sizeof why, "%s", zoo_error_message());
        st = zoo_error(st, "elmo: export: the tokenizer would not read back: %s", why);
    }
    zoo_tokenizer_free(back);
    free(tokens);
    if (fclose(f) != 0 && !st) st = zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
    if (st) {
        free(text);
        return NULL;
    }
    *len_out = len;
    return text;
}

/* mkdir -p */
static int make_dir(const char *path) {
    char buf[PATH_MAX];
    if (!path[0]) return zoo_error(ZOO_ERR_ARG, "elmo: export: an empty directory name");
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return zoo_error(ZOO_ERR_ARG, "elmo: path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return zoo_error(ZOO_ERR_IO, "%s: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return zoo_error(ZOO_ERR_IO, "%s: not a directory", path);
    return ZOO_OK;
}

/* weights.hdf5's bytes (*image, from malloc): HDF5 builds the file in memory
 * (its core driver, no file behind it), so that it reaches the disk as the
 * other files do, through zoo_atomic_file. `file` names it in messages. The
 * cost is the file held twice in memory for a moment (HDF5's and the copy). */
static int weights_image(zoo_model *m, const char *file, void **image, size_t *len) {
    char why[H5_WHY];
    *image = NULL;
    dataset *ds = malloc(ELMO_MAX_DATASETS * sizeof *ds);
    if (!ds) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    int n = layout(m, ds), st = ZOO_OK;
    size_t bytes = 1 << 20; /* HDF5's own structures, generously */
    for (int i = 0; i < n; i++) bytes += (size_t)ds_numel(&ds[i]) * sizeof(float);
    h5_quiet q = h5_silence();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), lcpl = H5Pcreate(H5P_LINK_CREATE), f = -1;
    if (fapl >= 0 && lcpl >= 0 && H5Pset_fapl_core(fapl, bytes, false) >= 0 &&
        H5Pset_create_intermediate_group(lcpl, 1) >= 0) /* "CNN/W_cnn_0" makes "CNN" */
        f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) st = zoo_error(ZOO_ERR_IO, "%s: cannot create it (%s)", file, h5_reason(why));
    float *buf = NULL;
    size_t cap = 0;
    for (int i = 0; !st && i < n; i++) {
        if (!grow(&buf, &cap, ds_numel(&ds[i]))) {
            st = zoo_error(ZOO_ERR_NOMEM, "%s: %s: out of memory", file, ds[i].name);
            break;
        }
        convert(&ds[i], buf, false);
        hid_t space = H5Screate_simple(ds[i].ndim, ds[i].dims, NULL), d = -1;
        if (space >= 0)
            d = H5Dcreate2(f, ds[i].name, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = zoo_error(ZOO_ERR_IO, "%s: %s: cannot write it (%s)", file, ds[i].name,
                           h5_reason(why));
        if (d >= 0) H5Dclose(d);
        if (space >= 0) H5Sclose(space);
    }
    free(buf);
    free(ds);
    /* the superblock's end of file is written only by a flush */
    ssize_t size = -1;
    if (!st && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0) size = H5Fget_file_image(f, NULL, 0);
    if (!st && size > 0 && !(*image = malloc((size_t)size)))
        st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    else if (!st && (size <= 0 || H5Fget_file_image(f, *image, (size_t)size) != size))
        st = zoo_error(ZOO_ERR_IO, "%s: cannot finish it (%s)", file, h5_reason(why));
    if (f >= 0) H5Fclose(f);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (fapl >= 0) H5Pclose(fapl);
    h5_restore(q);
    if (st) free(*image), *image = NULL;
    *len = st ? 0 : (size_t)size;
    return st;
}

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
    for (int i = 0; i < N_FILES && !st; i++) st = join(final[i], PATH_MAX, path, names[i]);
    if (!st && !(data[OPTIONS] = options_text(m, hp)))
        st = zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
    if (!st) len[OPTIONS] = strlen(data[OPTIONS]);
    if (!st && m->tok && !(data[VOCAB] = vocab_text(m->tok, &len[VOCAB])))
        st = ZOO_ERR_ARG; /* vocab_text said why */
    if (!st) st = make_dir(path);
    if (!st) st = weights_image(m, final[WEIGHTS], &data[WEIGHTS], &len[WEIGHTS]);
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
