/* The tokenizer interface: the wrapper around a type's operations, what
 * dispatches by type name (training, files, JSON; the types themselves are
 * in tok_registry.c), the JSON envelope, and the shared vocabulary. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_registry.h"
#include "zoo/tokenizer_type.h"

struct zoo_tokenizer {
    zoo_tokenizer_ops ops; /* the type's table, absent operations NULL */
    void *state;
    int32_t special[ZOO_TOK_N_SPECIAL];
    zoo_tok_type *registered; /* the registered type counting t as alive, or NULL */
};

static const char *const special_tokens[ZOO_TOK_N_SPECIAL] = {"[UNK]", "[PAD]", "[MASK]", "[CLS]",
                                                              "[SEP]", "[BOS]", "[EOS]"};
static const char *const special_roles[ZOO_TOK_N_SPECIAL] = {"unk", "pad", "mask", "cls",
                                                             "sep", "bos", "eos"};

/* ---- ids ---------------------------------------------------------------- */

int zoo_ids_reserve(zoo_ids *ids, int64_t extra) {
    if (extra < 0 || ids->count > INT64_MAX / 4 - extra)
        return zoo_error(ZOO_ERR_ARG, "zoo_ids: cannot grow by %lld", (long long)extra);
    int64_t need = ids->count + extra;
    if (need <= ids->cap) return ZOO_OK;
    int64_t cap = ids->cap ? ids->cap : 1024;
    while (cap < need) cap *= 2;
    int32_t *grown = realloc(ids->ids, (size_t)cap * sizeof *grown);
    if (!grown) return zoo_error(ZOO_ERR_NOMEM, "zoo_ids: no memory for %lld ids", (long long)cap);
    ids->ids = grown;
    ids->cap = cap;
    return ZOO_OK;
}

int zoo_spans_reserve(zoo_spans *spans, int64_t extra) {
    if (extra < 0 || spans->count > INT64_MAX / 32 - extra)
        return zoo_error(ZOO_ERR_ARG, "zoo_spans: cannot grow by %lld", (long long)extra);
    int64_t need = spans->count + extra;
    if (need <= spans->cap) return ZOO_OK;
    int64_t cap = spans->cap ? spans->cap : 1024;
    while (cap < need) cap *= 2;
    zoo_span *grown = realloc(spans->spans, (size_t)cap * sizeof *grown);
    if (!grown)
        return zoo_error(ZOO_ERR_NOMEM, "zoo_spans: no memory for %lld spans", (long long)cap);
    spans->spans = grown;
    spans->cap = cap;
    return ZOO_OK;
}

void zoo_spans_free(zoo_spans *spans) {
    free(spans->spans);
    spans->spans = NULL;
    spans->count = spans->cap = 0;
}

void zoo_ids_free(zoo_ids *ids) {
    free(ids->ids);
    ids->ids = NULL;
    ids->count = ids->cap = 0;
}

const char *zoo_special_token(zoo_special s) {
    return (int)s >= 0 && s < ZOO_TOK_N_SPECIAL ? special_tokens[s] : NULL;
}

int zoo_special_from_token(const char *token) {
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        if (token && strcmp(token, special_tokens[s]) == 0) return s;
    return -1;
}

/* ---- the wrapper -------------------------------------------------------- */

int zoo_tokenizer_new(const zoo_tokenizer_ops *ops, void *state, zoo_tokenizer **out) {
    *out = NULL;
    if (!ops || ops->size < offsetof(zoo_tokenizer_ops, free) + sizeof ops->free)
        return zoo_error(ZOO_ERR_ARG, "tokenizer: the operations table is missing or too short");
    zoo_tokenizer_ops full = {0};
    memcpy(&full, ops, ops->size < sizeof full ? ops->size : sizeof full);
    const char *missing = !full.type         ? "type"
                          : !full.encode     ? "encode"
                          : !full.decode     ? "decode"
                          : !full.vocab_size ? "vocab_size"
                          : !full.token      ? "token"
                          : !full.id         ? "id"
                          : !full.to_json    ? "to_json"
                          : !full.free       ? "free"
                                             : NULL;
    if (missing)
        return zoo_error(ZOO_ERR_ARG, "tokenizer '%s': the required operation '%s' is missing",
                         full.type ? full.type : "?", missing);
    zoo_tokenizer *t = malloc(sizeof *t);
    if (!t) return zoo_error(ZOO_ERR_NOMEM, "tokenizer: out of memory");
    t->ops = full;
    t->ops.size = sizeof full;
    t->state = state;
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++) t->special[s] = -1;
    t->registered = zoo_tok_type_acquire(full.type);
    *out = t;
    return ZOO_OK;
}

void *zoo_tokenizer_state(const zoo_tokenizer *t) {
    return t->state;
}

int zoo_tokenizer_set_special(zoo_tokenizer *t, zoo_special s, int32_t id) {
    if ((int)s < 0 || s >= ZOO_TOK_N_SPECIAL)
        return zoo_error(ZOO_ERR_ARG, "tokenizer: unknown special role %d", (int)s);
    int32_t n = t->ops.vocab_size(t);
    if (id < -1 || id >= n)
        return zoo_error(ZOO_ERR_ARG, "tokenizer: %s id %d is outside [0, %d)", special_tokens[s],
                         (int)id, (int)n);
    t->special[s] = id;
    return ZOO_OK;
}

void zoo_tokenizer_free(zoo_tokenizer *t) {
    if (!t) return;
    zoo_tok_type *registered = t->registered;
    t->ops.free(t->state);
    free(t);
    zoo_tok_type_release(registered); /* last: the type's code ran until here */
}

const char *zoo_tokenizer_type(const zoo_tokenizer *t) {
    return t->ops.type;
}

int32_t zoo_tokenizer_vocab_size(const zoo_tokenizer *t) {
    return t->ops.vocab_size(t);
}

int zoo_tokenizer_encode(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out) {
    if (!text && len > 0) return zoo_error(ZOO_ERR_ARG, "tokenizer: text is NULL");
    int64_t before = out->count;
    int st = t->ops.encode(t, text ? text : "", len, out);
    if (st != ZOO_OK) out->count = before;
    return st;
}

int zoo_tokenizer_encode_spans(const zoo_tokenizer *t, const char *text, size_t len, zoo_ids *out,
                               zoo_spans *spans) {
    if (!text && len > 0) return zoo_error(ZOO_ERR_ARG, "tokenizer: text is NULL");
    if (!spans) return zoo_error(ZOO_ERR_ARG, "tokenizer: spans is NULL");
    int64_t before = out->count, spans_before = spans->count;
    int st;
    if (t->ops.encode_spans) {
        st = t->ops.encode_spans(t, text ? text : "", len, out, spans);
        if (st == ZOO_OK && spans->count - spans_before != out->count - before)
            st = zoo_error(ZOO_ERR_STATE,
                           "tokenizer '%s': encode_spans gave %lld spans for %lld ids", t->ops.type,
                           (long long)(spans->count - spans_before),
                           (long long)(out->count - before));
    } else {
        /* the type cannot tell where its tokens are: none has a place */
        st = t->ops.encode(t, text ? text : "", len, out);
        if (st == ZOO_OK) st = zoo_spans_reserve(spans, out->count - before);
        for (int64_t i = before; st == ZOO_OK && i < out->count; i++)
            spans->spans[spans->count++] = (zoo_span){-1, -1};
    }
    if (st != ZOO_OK) out->count = before, spans->count = spans_before;
    return st;
}

int zoo_tokenizer_encode_special(const zoo_tokenizer *t, const char *text, size_t len,
                                 zoo_ids *out) {
    if (!text && len > 0) return zoo_error(ZOO_ERR_ARG, "tokenizer: text is NULL");
    const char *str[ZOO_TOK_N_SPECIAL];
    size_t n_str[ZOO_TOK_N_SPECIAL];
    int32_t id[ZOO_TOK_N_SPECIAL];
    int n = 0;
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        if (t->special[s] >= 0 && (str[n] = t->ops.token(t, t->special[s], &n_str[n])) &&
            n_str[n] > 0)
            id[n++] = t->special[s];
    int64_t before = out->count;
    int st = ZOO_OK;
    size_t from = 0;
    for (size_t at = 0; at < len && st == ZOO_OK; at++) {
        int best = -1;
        for (int k = 0; k < n; k++)
            if (n_str[k] <= len - at && memcmp(text + at, str[k], n_str[k]) == 0 &&
                (best < 0 || n_str[k] > n_str[best]))
                best = k;
        if (best < 0) continue;
        if (at > from) st = t->ops.encode(t, text + from, at - from, out);
        if (st == ZOO_OK) st = zoo_ids_push(out, id[best]);
        from = at + n_str[best];
        at = from - 1;
    }
    if (st == ZOO_OK && len > from) st = t->ops.encode(t, text + from, len - from, out);
    if (st != ZOO_OK) out->count = before;
    return st;
}

char *zoo_tokenizer_decode(const zoo_tokenizer *t, const int32_t *ids, int64_t n, size_t *len) {
    int32_t v = t->ops.vocab_size(t);
    if (n < 0 || (n > 0 && !ids)) {
        zoo_error(ZOO_ERR_ARG, "tokenizer: decode of %lld ids from %p", (long long)n,
                  (const void *)ids);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= v) {
            zoo_error(ZOO_ERR_ARG, "tokenizer: id %d at position %lld is outside [0, %d)",
                      (int)ids[i], (long long)i, (int)v);
            return NULL;
        }
    return t->ops.decode(t, ids, n, len);
}

const char *zoo_tokenizer_token(const zoo_tokenizer *t, int32_t id, size_t *len) {
    int32_t v = t->ops.vocab_size(t);
    if (id < 0 || id >= v) {
        zoo_error(ZOO_ERR_ARG, "tokenizer: id %d is outside [0, %d)", (int)id, (int)v);
        return NULL;
    }
    return t->ops.token(t, id, len);
}

int32_t zoo_tokenizer_id(const zoo_tokenizer *t, const char *token, size_t len) {
    return token ? t->ops.id(t, token, len) : -1;
}

int32_t zoo_tokenizer_special(const zoo_tokenizer *t, zoo_special s) {
    return (int)s >= 0 && s < ZOO_TOK_N_SPECIAL ? t->special[s] : -1;
}

bool zoo_tokenizer_is_special(const zoo_tokenizer *t, int32_t id) {
    for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
        if (id >= 0 && t->special[s] == id) return true;
    return false;
}

int64_t zoo_tokenizer_count(const zoo_tokenizer *t, int32_t id) {
    if (!t->ops.count || id < 0 || id >= t->ops.vocab_size(t)) return -1;
    return t->ops.count(t, id);
}

/* ---- dispatch by type --------------------------------------------------- */

/* What a type's operation `op` returned, checked: a tokenizer of the type
 * itself, since that is what keeps the type registered while it lives. */
static int made(const zoo_tokenizer_def *ty, const char *op, int st, zoo_tokenizer **out) {
    if (st != ZOO_OK) {
        *out = NULL;
        return st;
    }
    if (!*out)
        return zoo_error(ZOO_ERR_STATE, "tokenizer type '%s': %s returned no tokenizer", ty->name,
                         op);
    if (strcmp((*out)->ops.type, ty->name) != 0) {
        st = zoo_error(ZOO_ERR_STATE, "tokenizer type '%s': %s made a tokenizer of type '%s'",
                       ty->name, op, (*out)->ops.type);
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}

int zoo_tok_complete_settings(const zoo_tokenizer_settings *in, zoo_tokenizer_settings *s) {
    *s = (zoo_tokenizer_settings)ZOO_TOKENIZER_SETTINGS_INIT;
    if (in) {
        if (in->size < sizeof in->size || in->size > sizeof *s)
            return zoo_error(ZOO_ERR_ARG,
                             "tokenizer settings: size is %zu; set it to "
                             "sizeof(zoo_tokenizer_settings) (%zu in this libzoo)",
                             in->size, sizeof *s);
        memcpy(s, in, in->size);
        s->size = sizeof *s;
    }
    if (s->split != ZOO_SPLIT_WHITESPACE && s->split != ZOO_SPLIT_PUNCTUATION)
        return zoo_error(ZOO_ERR_ARG, "tokenizer settings: unknown split %d", (int)s->split);
    if (s->min_count < 1) s->min_count = 1;
    if (s->max_size < 0)
        return zoo_error(ZOO_ERR_ARG, "tokenizer settings: max_size %d is negative",
                         (int)s->max_size);
    if (s->n_specials < 0 || s->n_specials > ZOO_TOK_N_SPECIAL || (s->n_specials && !s->specials))
        return zoo_error(ZOO_ERR_ARG, "tokenizer settings: %d specials from %p", s->n_specials,
                         (const void *)s->specials);
    for (int i = 0; i < s->n_specials; i++) {
        if ((int)s->specials[i] < 0 || s->specials[i] >= ZOO_TOK_N_SPECIAL)
            return zoo_error(ZOO_ERR_ARG, "tokenizer settings: specials[%d] = %d is not a role", i,
                             (int)s->specials[i]);
        for (int j = 0; j < i; j++)
            if (s->specials[j] == s->specials[i])
                return zoo_error(ZOO_ERR_ARG, "tokenizer settings: %s is listed twice",
                                 special_tokens[s->specials[i]]);
    }
    return ZOO_OK;
}

int zoo_tokenizer_train(const char *type, const zoo_tokenizer_settings *settings,
                        const zoo_corpus *c, zoo_tokenizer **out) {
    *out = NULL;
    const zoo_tokenizer_def *ty = zoo_tok_find_type(type);
    if (!ty) return ZOO_ERR_NOTFOUND;
    if (!ty->train)
        return zoo_error(ZOO_ERR_ARG, "tokenizer type '%s' is not trained; it is loaded", ty->name);
    zoo_tokenizer_settings s;
    int st = zoo_tok_complete_settings(settings, &s);
    if (st != ZOO_OK) return st;
    if (!c) return zoo_error(ZOO_ERR_ARG, "tokenizer '%s': no corpus to train on", ty->name);
    return made(ty, "train", ty->train(&s, c, out), out);
}

/* The types that have operation `load` (or save), for a message. */
static void types_with(bool save, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    const char *name;
    for (int i = 0; (name = zoo_tokenizer_type_name(i)) && used < size; i++) {
        const zoo_tokenizer_def *ty = zoo_tok_find_type(name);
        if (ty && (save ? ZOO_TOK_DEF_OP(ty, save) != NULL : ZOO_TOK_DEF_OP(ty, load) != NULL))
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
    }
}

int zoo_tokenizer_load(const char *type, const char *path, const zoo_tokenizer_load_opts *opts,
                       zoo_tokenizer **out) {
    *out = NULL;
    const zoo_tokenizer_def *ty = zoo_tok_find_type(type);
    if (!ty) return ZOO_ERR_NOTFOUND;
    if (!ZOO_TOK_DEF_OP(ty, load)) {
        char loading[512];
        types_with(false, loading, sizeof loading);
        return zoo_error(ZOO_ERR_ARG,
                         "tokenizer type '%s' does not load from files (types that do: %s)",
                         ty->name, loading);
    }
    zoo_tokenizer_load_opts o = ZOO_TOKENIZER_LOAD_OPTS_INIT;
    if (opts) {
        if (opts->size < sizeof opts->size || opts->size > sizeof o)
            return zoo_error(ZOO_ERR_ARG,
                             "tokenizer load options: size is %zu; set it to "
                             "sizeof(zoo_tokenizer_load_opts) (%zu in this libzoo)",
                             opts->size, sizeof o);
        memcpy(&o, opts, opts->size);
        o.size = sizeof o;
    }
    if (o.lowercase < 0) o.lowercase = ZOO_TOKENIZER_LOWERCASE_AUTO;
    if (!path) return zoo_error(ZOO_ERR_ARG, "tokenizer '%s': no path to load from", ty->name);
    return made(ty, "load", ty->load(path, &o, out), out);
}

static const zoo_tokenizer_def *saver(const zoo_tokenizer *t) {
    /* a registered type is known while its tokenizers live; a type that
     * was never registered (zoo_tokenizer_new with a name of its own) has no
     * definition, so nothing to save with */
    if (!zoo_tokenizer_type_known(t->ops.type)) return NULL;
    const zoo_tokenizer_def *ty = zoo_tok_find_type(t->ops.type);
    return ty && ZOO_TOK_DEF_OP(ty, save) ? ty : NULL;
}

bool zoo_tokenizer_can_save(const zoo_tokenizer *t) {
    return saver(t) != NULL;
}

int zoo_tokenizer_save(const zoo_tokenizer *t, const char *dir) {
    const zoo_tokenizer_def *ty = saver(t);
    if (!ty) {
        char saving[512];
        types_with(true, saving, sizeof saving);
        return zoo_error(ZOO_ERR_ARG,
                         "tokenizer type '%s' has no file form to save (types that have: %s)",
                         t->ops.type, saving);
    }
    if (!dir) return zoo_error(ZOO_ERR_ARG, "tokenizer '%s': no directory to save to", ty->name);
    return ty->save(t, dir);
}

/* ---- JSON --------------------------------------------------------------- */

char *zoo_tokenizer_to_json(const zoo_tokenizer *t) {
    char *model = t->ops.to_json(t);
    if (!model) return NULL;
    cJSON *root = cJSON_CreateObject(), *special = cJSON_CreateObject();
    char *text = NULL;
    if (root && special && cJSON_AddNumberToObject(root, "version", 1) &&
        cJSON_AddStringToObject(root, "type", t->ops.type)) {
        cJSON_AddItemToObject(root, "special", special);
        special = NULL;
        bool ok = true;
        cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "special");
        for (int s = 0; s < ZOO_TOK_N_SPECIAL && ok; s++)
            if (t->special[s] >= 0)
                ok = cJSON_AddNumberToObject(sp, special_roles[s], t->special[s]) != NULL;
        /* the type's own member is already JSON text: spliced in as it is */
        if (ok && cJSON_AddRawToObject(root, "model", model)) text = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(special);
    cJSON_Delete(root);
    free(model);
    if (!text) zoo_error(ZOO_ERR_NOMEM, "tokenizer '%s': out of memory writing JSON", t->ops.type);
    return text;
}

static int json_fail(const char *what) {
    return zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: %s", what);
}

static int read_specials(zoo_tokenizer *t, const cJSON *special) {
    if (!cJSON_IsObject(special)) return json_fail("'special' must be an object");
    int32_t n = t->ops.vocab_size(t);
    for (const cJSON *e = special->child; e; e = e->next) {
        int role = -1;
        for (int s = 0; s < ZOO_TOK_N_SPECIAL; s++)
            if (strcmp(e->string, special_roles[s]) == 0) role = s;
        if (role < 0)
            return zoo_error(ZOO_ERR_FORMAT,
                             "tokenizer JSON: special.%s: unknown role (known: unk, pad, mask, "
                             "cls, sep, bos, eos)",
                             e->string);
        double id = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(id >= 0 && id < n) || id != (double)(int32_t)id) /* range before the cast */
            return zoo_error(ZOO_ERR_FORMAT,
                             "tokenizer JSON: special.%s: expected an id in [0, %d)", e->string,
                             (int)n);
        t->special[role] = (int32_t)id;
    }
    return ZOO_OK;
}

int zoo_tokenizer_from_json(const char *json, zoo_tokenizer **out) {
    *out = NULL;
    if (!json) return json_fail("no text");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, true);
    if (!root)
        return zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: not valid JSON (at byte %lld)",
                         (long long)(end ? end - json : 0));
    int st = cJSON_IsObject(root) ? ZOO_OK : json_fail("expected an object");
    const cJSON *version = NULL, *type = NULL, *special = NULL, *model = NULL;
    for (const cJSON *e = root->child; e && st == ZOO_OK; e = e->next) {
        if (strcmp(e->string, "version") == 0)
            version = e;
        else if (strcmp(e->string, "type") == 0)
            type = e;
        else if (strcmp(e->string, "special") == 0)
            special = e;
        else if (strcmp(e->string, "model") == 0)
            model = e;
        else
            st = zoo_error(ZOO_ERR_FORMAT, "tokenizer JSON: unknown key '%s'", e->string);
    }
    if (st == ZOO_OK && (!cJSON_IsNumber(version) || version->valuedouble != 1))
        st = json_fail("'version' must be 1");
    if (st == ZOO_OK && !cJSON_IsString(type)) st = json_fail("'type' must be a string");
    if (st == ZOO_OK && !cJSON_IsObject(model)) st = json_fail("'model' must be an object");
    const zoo_tokenizer_def *ty = NULL;
    if (st == ZOO_OK && !(ty = zoo_tok_find_type(type->valuestring))) st = ZOO_ERR_NOTFOUND;
    zoo_tokenizer *t = NULL;
    if (st == ZOO_OK) {
        char *text = cJSON_PrintUnformatted(model);
        st = text ? made(ty, "from_json", ty->from_json(text, &t), &t) : json_fail("out of memory");
        free(text);
    }
    if (st == ZOO_OK && special) st = read_specials(t, special);
    cJSON_Delete(root);
    if (st != ZOO_OK) {
        zoo_tokenizer_free(t);
        return st;
    }
    *out = t;
    return ZOO_OK;
}

/* ---- the shared vocabulary ---------------------------------------------- */

struct zoo_vocab {
    char *chars; /* every token, NUL-terminated, back to back */
    size_t chars_len, chars_cap;
    size_t *offset;
    uint32_t *length, *hash;
    int32_t n, cap;
    int32_t *slots; /* open addressing, linear probing; -1 = empty */
    size_t mask;    /* slots - 1; slots is a power of two at least twice n */
};

/* FNV-1a: tokens are short, so a simple byte loop is as fast as anything. */
static uint32_t hash_bytes(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

zoo_vocab *zoo_vocab_new(void) {
    zoo_vocab *v = calloc(1, sizeof *v);
    if (v) v->slots = malloc(16 * sizeof *v->slots);
    if (!v || !v->slots) {
        free(v);
        zoo_error(ZOO_ERR_NOMEM, "vocabulary: out of memory");
        return NULL;
    }
    memset(v->slots, 0xff, 16 * sizeof *v->slots);
    v->mask = 15;
    return v;
}

void zoo_vocab_free(zoo_vocab *v) {
    if (!v) return;
    free(v->chars);
    free(v->offset);
    free(v->length);
    free(v->hash);
    free(v->slots);
    free(v);
}

int32_t zoo_vocab_size(const zoo_vocab *v) {
    return v->n;
}

const char *zoo_vocab_token(const zoo_vocab *v, int32_t id, size_t *len) {
    if (len) *len = v->length[id];
    return v->chars + v->offset[id];
}

static int32_t lookup(const zoo_vocab *v, const char *s, size_t len, uint32_t h, size_t *slot) {
    size_t i = h & v->mask;
    for (;; i = (i + 1) & v->mask) {
        int32_t id = v->slots[i];
        if (id < 0) break;
        if (v->hash[id] == h && v->length[id] == len &&
            memcmp(v->chars + v->offset[id], s, len) == 0)
            return id;
    }
    if (slot) *slot = i;
    return -1;
}

int32_t zoo_vocab_find(const zoo_vocab *v, const char *s, size_t len) {
    return lookup(v, s, len, hash_bytes(s, len), NULL);
}

static bool grow_slots(zoo_vocab *v) {
    size_t n_slots = (v->mask + 1) * 2;
    int32_t *slots = malloc(n_slots * sizeof *slots);
    if (!slots) return false;
    memset(slots, 0xff, n_slots * sizeof *slots);
    for (int32_t id = 0; id < v->n; id++) {
        size_t i = v->hash[id] & (n_slots - 1);
        while (slots[i] >= 0) i = (i + 1) & (n_slots - 1);
        slots[i] = id;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = n_slots - 1;
    return true;
}

static bool grow_arrays(zoo_vocab *v) {
    int32_t cap = v->cap ? (v->cap > INT32_MAX / 2 ? INT32_MAX : v->cap * 2) : 64;
    size_t *offset = realloc(v->offset, (size_t)cap * sizeof *offset);
    if (offset) v->offset = offset;
    uint32_t *length = realloc(v->length, (size_t)cap * sizeof *length);
    if (length) v->length = length;
    uint32_t *hash = realloc(v->hash, (size_t)cap * sizeof *hash);
    if (hash) v->hash = hash;
    if (!offset || !length || !hash) return false;
    v->cap = cap;
    return true;
}

int32_t zoo_vocab_intern(zoo_vocab *v, const char *s, size_t len) {
    if (len > UINT32_MAX - 1) {
        zoo_error(ZOO_ERR_ARG, "vocabulary: a token of %zu bytes is too long", len);
        return -1;
    }
    uint32_t h = hash_bytes(s, len);
    size_t slot;
    int32_t id = lookup(v, s, len, h, &slot);
    if (id >= 0) return id;
    if (v->n == INT32_MAX) {
        zoo_error(ZOO_ERR_ARG, "vocabulary: full at %d tokens", (int)v->n);
        return -1;
    }
    if (v->n == v->cap && !grow_arrays(v)) goto nomem;
    if (v->chars_len + len + 1 > v->chars_cap) {
        size_t cap = v->chars_cap ? v->chars_cap : 1024;
        while (cap < v->chars_len + len + 1) cap *= 2;
        char *chars = realloc(v->chars, cap);
        if (!chars) goto nomem;
        v->chars = chars;
        v->chars_cap = cap;
    }
    if ((size_t)(v->n + 1) * 2 > v->mask + 1) {
        if (!grow_slots(v)) goto nomem;
        lookup(v, s, len, h, &slot); /* the free slot moved with the table */
    }
    id = v->n++;
    memcpy(v->chars + v->chars_len, s, len);
    v->chars[v->chars_len + len] = '\0';
    v->offset[id] = v->chars_len;
    v->length[id] = (uint32_t)len;
    v->hash[id] = h;
    v->chars_len += len + 1;
    v->slots[slot] = id;
    return id;
nomem:
    zoo_error(ZOO_ERR_NOMEM, "vocabulary: out of memory at %d tokens", (int)v->n);
    return -1;
}
