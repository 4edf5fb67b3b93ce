#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/io.h"
#include "zoo/safetensors.h"
#include "zoo/status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error                                                                                             \
    "safetensors data is little-endian and zoo copies it as it lies: a little-endian host is needed"
#endif

/* HuggingFace's reader refuses larger headers; so do we, before allocating for one. */
#define MAX_HEADER 100000000ull
/* Offsets and dimensions arrive as JSON numbers (doubles): beyond 2^53 they are not exact. */
#define MAX_JSON_INT 9007199254740992.0

enum st_kind { BOOL_, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };
static const struct {
    const char *name;
    unsigned size;
} kinds[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
             {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
             {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

/* The offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or len when all are. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, lo = c == 0xe0 ? 0xa0 : lo, hi = c == 0xed ? 0x9f : hi;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, lo = c == 0xf0 ? 0x90 : lo, hi = c == 0xf4 ? 0x8f : hi;
        else
            return i;
        if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80) return i;
        i += n + 1;
    }
    return len;
}

static bool is_utf8(const char *s) {
    size_t len = strlen(s);
    return utf8_invalid_at((const unsigned char *)s, len) == len;
}

/* --- writing ------------------------------------------------------------ */

typedef struct st_entry {
    char *name;
    zoo_dtype dtype;
    int ndim;
    int64_t shape[ZOO_MAX_DIMS];
    const void *data;
    uint64_t nbytes;
} st_entry;

struct zoo_st_writer {
    st_entry *tensors;
    int n_tensors, cap_tensors;
    char **meta; /* key, value, key, value, ... */
    int n_meta, cap_meta;
};

zoo_st_writer *zoo_st_writer_new(void) {
    zoo_st_writer *w = calloc(1, sizeof *w);
    if (!w) zoo_error(ZOO_ERR_NOMEM, "zoo_st_writer_new: out of memory");
    return w;
}

void zoo_st_writer_free(zoo_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    for (int i = 0; i < 2 * w->n_meta; i++) free(w->meta[i]);
    free(w->tensors);
    free(w->meta);
    free(w);
}

/* Makes room for one more element of `size` bytes in *items. */
static bool grow(void **items, int *cap, int n, size_t size) {
    if (n < *cap) return true;
    int new_cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(*items, (size_t)new_cap * size);
    if (!grown) return false;
    *items = grown, *cap = new_cap;
    return true;
}

int zoo_st_writer_add(zoo_st_writer *w, const char *name, zoo_dtype dtype, int ndim,
                      const int64_t *shape, const void *data) {
    if (!name || !name[0] || !is_utf8(name) || strcmp(name, "__metadata__") == 0)
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_st_writer_add: a tensor name must be non-empty UTF-8 and not "
                         "__metadata__, got '%s'",
                         name ? name : "(null)");
    for (int i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return zoo_error(ZOO_ERR_ARG, "zoo_st_writer_add: tensor '%s' was already added", name);
    if (dtype != ZOO_F32 && dtype != ZOO_I32 && dtype != ZOO_I8)
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_st_writer_add: tensor '%s': dtype must be F32, I32 or I8", name);
    if (ndim < 0 || ndim > ZOO_MAX_DIMS || (ndim > 0 && !shape))
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_st_writer_add: tensor '%s': %d dimensions (0 to %d, with a shape)",
                         name, ndim, ZOO_MAX_DIMS);
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || __builtin_mul_overflow(numel, (uint64_t)shape[d], &numel) ||
            numel > (uint64_t)MAX_JSON_INT / 4)
            return zoo_error(ZOO_ERR_ARG, "zoo_st_writer_add: tensor '%s': invalid shape", name);
    if (numel > 0 && !data)
        return zoo_error(ZOO_ERR_ARG, "zoo_st_writer_add: tensor '%s': no data", name);
    st_entry e = {.name = strdup(name),
                  .dtype = dtype,
                  .ndim = ndim,
                  .data = data,
                  .nbytes = numel * (dtype == ZOO_I8 ? 1 : 4)};
    if (!e.name || !grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors, sizeof e)) {
        free(e.name);
        return zoo_error(ZOO_ERR_NOMEM, "zoo_st_writer_add: out of memory");
    }
    for (int d = 0; d < ndim; d++) e.shape[d] = shape[d];
    w->tensors[w->n_tensors++] = e;
    return ZOO_OK;
}

int zoo_st_writer_add_metadata(zoo_st_writer *w, const char *key, const char *value) {
    if (!key || !value || !is_utf8(key) || !is_utf8(value))
        return zoo_error(ZOO_ERR_ARG,
                         "zoo_st_writer_add_metadata: key and value must be UTF-8 text (key '%s')",
                         key ? key : "(null)");
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[2 * i], key) == 0)
            return zoo_error(ZOO_ERR_ARG, "zoo_st_writer_add_metadata: key '%s' was already added",
                             key);
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v || !grow((void **)&w->meta, &w->cap_meta, 2 * w->n_meta + 1, sizeof(char *))) {
        free(k), free(v);
        return zoo_error(ZOO_ERR_NOMEM, "zoo_st_writer_add_metadata: out of memory");
    }
    w->meta[2 * w->n_meta] = k, w->meta[2 * w->n_meta + 1] = v;
    w->n_meta++;
    return ZOO_OK;
}

/* The header text, built in memory: it is small next to the tensors. */
typedef struct text {
    char *s;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->cap - t->len < n) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len < n) cap *= 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->s = grown, t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
}

static void puts_(text *t, const char *s) {
    put(t, s, strlen(s));
}

static void put_u64(text *t, uint64_t v) {
    char digits[24];
    put(t, digits, (size_t)snprintf(digits, sizeof digits, "%llu", (unsigned long long)v));
}

/* A JSON string escaped as serde_json (HuggingFace's writer) escapes it. */
static void put_json_string(text *t, const char *s) {
    put(t, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char hex[8];
        switch (*p) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (*p < 0x20) snprintf(hex, sizeof hex, "\\u%04x", *p), esc = hex;
        }
        if (esc)
            puts_(t, esc);
        else
            put(t, (const char *)p, 1);
    }
    put(t, "\"", 1);
}

int zoo_st_writer_write(const zoo_st_writer *w, const char *path) {
    text h = {0};
    puts_(&h, "{");
    if (w->n_meta > 0) {
        puts_(&h, "\"__metadata__\":{");
        for (int i = 0; i < w->n_meta; i++) {
            if (i > 0) puts_(&h, ",");
            put_json_string(&h, w->meta[2 * i]);
            puts_(&h, ":");
            put_json_string(&h, w->meta[2 * i + 1]);
        }
        puts_(&h, "}");
    }
    uint64_t offset = 0;
    for (int i = 0; i < w->n_tensors; i++) {
        const st_entry *e = &w->tensors[i];
        if (i > 0 || w->n_meta > 0) puts_(&h, ",");
        put_json_string(&h, e->name);
        puts_(&h, e->dtype == ZOO_F32  ? ":{\"dtype\":\"F32\",\"shape\":["
                  : e->dtype == ZOO_I8 ? ":{\"dtype\":\"I8\",\"shape\":["
                                       : ":{\"dtype\":\"I32\",\"shape\":[");
        for (int d = 0; d < e->ndim; d++) {
            if (d > 0) puts_(&h, ",");
            put_u64(&h, (uint64_t)e->shape[d]);
        }
        puts_(&h, "],\"data_offsets\":[");
        put_u64(&h, offset);
        puts_(&h, ",");
        put_u64(&h, offset += e->nbytes);
        puts_(&h, "]}");
    }
    puts_(&h, "}");
    while (h.len % 8 != 0) puts_(&h, " "); /* so that the data buffer starts 8-aligned */
    if (h.failed) {
        free(h.s);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    unsigned char n[8];
    for (int k = 0; k < 8; k++) n[k] = (unsigned char)((uint64_t)h.len >> (8 * k));

    zoo_atomic_file *out;
    int st = zoo_atomic_file_open(path, &out);
    if (st == ZOO_OK) st = zoo_atomic_file_write(out, n, sizeof n);
    if (st == ZOO_OK) st = zoo_atomic_file_write(out, h.s, h.len);
    for (int i = 0; st == ZOO_OK && i < w->n_tensors; i++)
        st = zoo_atomic_file_write(out, w->tensors[i].data, (size_t)w->tensors[i].nbytes);
    free(h.s);
    if (st == ZOO_OK) return zoo_atomic_file_commit(out);
    zoo_atomic_file_abort(out);
    return st;
}

/* --- reading ------------------------------------------------------------ */

typedef struct st_tensor {
    char *name;
    enum st_kind kind;
    int ndim;
    int64_t *shape;
    int64_t numel;
    uint64_t begin, end; /* in the data buffer */
} st_tensor;

struct zoo_st_file {
    char *path;
    void *map;
    size_t map_len;
    const unsigned char *data; /* the data buffer, inside map */
    st_tensor *tensors;
    int count;
    st_tensor **by_name;
    char **meta; /* key, value, key, value, ... */
    int n_meta;
};

__attribute__((format(printf, 2, 3))) static int bad(const char *path, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return zoo_error(ZOO_ERR_FORMAT, "%s: %s", path, what);
}

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsBool(v)) return "a boolean";
    return "null";
}

static bool json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= MAX_JSON_INT) || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

/* "[2,3]" into buf, cut short if it does not fit. */
static const char *shape_text(const st_tensor *t, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

static int parse_tensor(const char *path, const cJSON *v, st_tensor *t) {
    const char *name = t->name;
    if (!cJSON_IsObject(v))
        return bad(path,
                   "tensor '%s': expected an object with dtype, shape and data_offsets, found %s",
                   name, json_kind(v));
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    if (!dtype || !shape || !offsets)
        return bad(path, "tensor '%s': no %s", name,
                   !dtype   ? "dtype"
                   : !shape ? "shape"
                            : "data_offsets");
    if (!cJSON_IsString(dtype))
        return bad(path, "tensor '%s': dtype must be a string, found %s", name, json_kind(dtype));
    int kind = 0;
    while (kind < N_KINDS && strcmp(kinds[kind].name, dtype->valuestring) != 0) kind++;
    if (kind == N_KINDS)
        return bad(path, "tensor '%s': unknown dtype \"%s\"", name, dtype->valuestring);
    t->kind = (enum st_kind)kind;

    if (!cJSON_IsArray(shape))
        return bad(path, "tensor '%s': shape must be an array of integers >= 0, found %s", name,
                   json_kind(shape));
    t->ndim = cJSON_GetArraySize(shape);
    t->shape = malloc(sizeof(int64_t) * (size_t)(t->ndim ? t->ndim : 1));
    if (!t->shape) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    uint64_t numel = 1;
    bool overflow = false;
    int d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++) {
        uint64_t size;
        if (!json_uint(dim, &size))
            return bad(path, "tensor '%s': shape must be an array of integers >= 0, found %s in it",
                       name, cJSON_IsNumber(dim) ? "an invalid number" : json_kind(dim));
        t->shape[d] = (int64_t)size;
        overflow |= __builtin_mul_overflow(numel, size, &numel);
    }
    uint64_t begin, end, nbytes;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_uint(offsets->child, &begin) || !json_uint(offsets->child->next, &end) || end < begin)
        return bad(path,
                   "tensor '%s': data_offsets must be [begin, end], integers with "
                   "0 <= begin <= end",
                   name);
    char text[128];
    if (overflow || numel > INT64_MAX ||
        __builtin_mul_overflow(numel, (uint64_t)kinds[kind].size, &nbytes))
        return bad(path, "tensor '%s': shape %s has too many elements", name,
                   shape_text(t, text, sizeof text));
    if (nbytes != end - begin)
        return bad(path, "tensor '%s': shape %s of %s needs %llu bytes, data_offsets give %llu",
                   name, shape_text(t, text, sizeof text), kinds[kind].name,
                   (unsigned long long)nbytes, (unsigned long long)(end - begin));
    t->numel = (int64_t)numel, t->begin = begin, t->end = end;
    return ZOO_OK;
}

static int parse_metadata(zoo_st_file *f, const char *path, const cJSON *v) {
    if (!cJSON_IsObject(v))
        return bad(path, "__metadata__ must be an object of strings, found %s", json_kind(v));
    int n = cJSON_GetArraySize(v);
    f->meta = calloc(2 * (size_t)n + 1, sizeof(char *));
    if (!f->meta) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return bad(path, "__metadata__ '%s': values must be strings, found %s", e->string,
                       json_kind(e));
        if (zoo_st_metadata(f, e->string))
            return bad(path, "__metadata__ '%s' appears twice", e->string);
        char *key = strdup(e->string), *value = strdup(e->valuestring);
        if (!key || !value) {
            free(key), free(value);
            return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
        }
        f->meta[2 * f->n_meta] = key, f->meta[2 * f->n_meta + 1] = value;
        f->n_meta++;
    }
    return ZOO_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(st_tensor *const *)a)->name, (*(st_tensor *const *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data buffer exactly, as HuggingFace's reader
 * requires: nothing beyond it, no overlap, no byte that belongs to no tensor. */
static int check_layout(zoo_st_file *f, const char *path, uint64_t data_len) {
    for (int i = 0; i < f->count; i++)
        if (f->tensors[i].end > data_len)
            return bad(
                path, "truncated: tensor '%s' ends at byte %llu of the data buffer, which has %llu",
                f->tensors[i].name, (unsigned long long)f->tensors[i].end,
                (unsigned long long)data_len);
    st_tensor **order = malloc(sizeof *order * ((size_t)f->count + 1));
    if (!order) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < f->count; i++) order[i] = &f->tensors[i];
    qsort(order, (size_t)f->count, sizeof *order, by_offset);
    uint64_t pos = 0;
    int st = ZOO_OK;
    for (int i = 0; i < f->count && st == ZOO_OK; i++) {
        const st_tensor *t = order[i];
        if (t->begin < pos)
            st = bad(path, "tensors '%s' and '%s' overlap: bytes [%llu,%llu) and [%llu,%llu)",
                     order[i - 1]->name, t->name, (unsigned long long)order[i - 1]->begin,
                     (unsigned long long)order[i - 1]->end, (unsigned long long)t->begin,
                     (unsigned long long)t->end);
        else if (t->begin > pos)
            st = bad(path, "bytes [%llu,%llu) of the data buffer belong to no tensor",
                     (unsigned long long)pos, (unsigned long long)t->begin);
        pos = t->end;
    }
    free(order);
    if (st == ZOO_OK && pos < data_len)
        st = bad(path, "bytes [%llu,%llu) at the end of the data buffer belong to no tensor",
                 (unsigned long long)pos, (unsigned long long)data_len);
    return st;
}

static int parse_header(zoo_st_file *f, const char *path) {
    const unsigned char *m = f->map;
    uint64_t n = 0, rest = f->map_len - 8;
    for (int k = 0; k < 8; k++) n |= (uint64_t)m[k] << (8 * k);
    if (n > MAX_HEADER)
        return bad(path,
                   "not a safetensors file: its first 8 bytes give a header of %llu bytes, "
                   "more than the %llu safetensors allows",
                   (unsigned long long)n, MAX_HEADER);
    if (n > rest)
        return bad(path,
                   "truncated: the header says %llu bytes, the file has %llu after its length",
                   (unsigned long long)n, (unsigned long long)rest);
    if (n == 0) return bad(path, "the header is empty");
    const unsigned char *h = m + 8;
    size_t at = utf8_invalid_at(h, n);
    if (at < n)
        return bad(path, "the header is not valid UTF-8 (byte %zu of %llu)", at,
                   (unsigned long long)n);
    for (at = 0; at < n; at++)
        if (h[at] < 0x20 && h[at] != '\t' && h[at] != '\n' && h[at] != '\r')
            return bad(path, "the header is not valid JSON: control character 0x%02x at byte %zu",
                       h[at], at);
    /* a NUL-terminated copy: cJSON's length-bounded parser has over-read bugs in old releases */
    char *copy = malloc(n + 1);
    if (!copy) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    memcpy(copy, h, n);
    copy[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, false);
    int st = ZOO_OK;
    if (!root) {
        st = bad(path, "the header is not valid JSON (at byte %zu of %llu)",
                 end ? (size_t)(end - copy) : 0, (unsigned long long)n);
    } else if (!cJSON_IsObject(root)) {
        st = bad(path, "the header is not a JSON object but %s", json_kind(root));
    } else {
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
        if (*end)
            st = bad(path, "the header is not valid JSON: text after the object at byte %zu",
                     (size_t)(end - copy));
    }
    const cJSON *meta = NULL;
    for (const cJSON *e = st == ZOO_OK ? root->child : NULL; e && st == ZOO_OK; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0)
            f->count++;
        else if (meta)
            st = bad(path, "__metadata__ appears twice");
        else
            meta = e;
    if (st == ZOO_OK) {
        f->tensors = calloc((size_t)f->count + 1, sizeof *f->tensors);
        f->by_name = malloc(sizeof *f->by_name * ((size_t)f->count + 1));
        if (!f->tensors || !f->by_name) st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    int i = 0;
    for (const cJSON *e = st == ZOO_OK ? root->child : NULL; e && st == ZOO_OK; e = e->next) {
        if (e == meta) continue;
        st_tensor *t = &f->tensors[i];
        f->by_name[i++] = t;
        if (!(t->name = strdup(e->string)))
            st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
        if (st == ZOO_OK) st = parse_tensor(path, e, t);
    }
    if (st == ZOO_OK && meta) st = parse_metadata(f, path, meta);
    cJSON_Delete(root);
    free(copy);
    if (st != ZOO_OK) return st;
    qsort(f->by_name, (size_t)f->count, sizeof *f->by_name, by_name);
    for (i = 1; i < f->count; i++)
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0)
            return bad(path, "tensor '%s' appears twice in the header", f->by_name[i]->name);
    f->data = h + n;
    return check_layout(f, path, rest - n);
}

int zoo_st_open(const char *path, zoo_st_file **out) {
    *out = NULL;
    int fd;
    uint64_t size;
    int opened = zoo_open_regular(path, UINT64_MAX, &fd, &size); /* mapped, never read whole */
    if (opened != ZOO_OK) return opened;
    if (size < 8) {
        close(fd);
        return bad(path,
                   "not a safetensors file: %lld bytes, fewer than the 8 of its header length",
                   (long long)size);
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd); /* the mapping keeps the file */
    if (map == MAP_FAILED)
        return zoo_error(ZOO_ERR_IO, "%s: cannot map it: %s", path, strerror(err));
    zoo_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        munmap(map, (size_t)size);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    }
    f->map = map, f->map_len = (size_t)size;
    int status = parse_header(f, path);
    if (status != ZOO_OK) {
        zoo_st_close(f);
        return status;
    }
    *out = f;
    return ZOO_OK;
}

void zoo_st_close(zoo_st_file *f) {
    if (!f) return;
    for (int i = 0; f->tensors && i < f->count; i++) {
        free(f->tensors[i].name);
        free(f->tensors[i].shape);
    }
    for (int i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    munmap(f->map, f->map_len);
    free(f->path);
    free(f);
}

int zoo_st_count(const zoo_st_file *f) {
    return f->count;
}

static const st_tensor *tensor_at(const zoo_st_file *f, int i) {
    return i >= 0 && i < f->count ? &f->tensors[i] : NULL;
}

const char *zoo_st_name(const zoo_st_file *f, int i) {
    const st_tensor *t = tensor_at(f, i);
    return t ? t->name : NULL;
}

int zoo_st_find(const zoo_st_file *f, const char *name) {
    int lo = 0, hi = f->count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(f->by_name[mid]->name, name);
        if (c == 0) return (int)(f->by_name[mid] - f->tensors);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int zoo_st_info(const zoo_st_file *f, int i, const char **dtype, int *ndim,
                int64_t shape[ZOO_MAX_DIMS]) {
    const st_tensor *t = tensor_at(f, i);
    if (!t)
        return zoo_error(ZOO_ERR_ARG, "%s: no tensor number %d (it has %d)", f->path, i, f->count);
    if (dtype) *dtype = kinds[t->kind].name;
    if (ndim) *ndim = t->ndim;
    for (int d = 0; shape && d < t->ndim && d < ZOO_MAX_DIMS; d++) shape[d] = t->shape[d];
    if (t->ndim > ZOO_MAX_DIMS)
        return zoo_error(ZOO_ERR_SHAPE, "%s: tensor '%s' has %d dimensions, more than zoo's %d",
                         f->path, t->name, t->ndim, ZOO_MAX_DIMS);
    return ZOO_OK;
}

const int64_t *zoo_st_shape(const zoo_st_file *f, int i) {
    const st_tensor *t = tensor_at(f, i);
    return t ? t->shape : NULL;
}

int64_t zoo_st_numel(const zoo_st_file *f, int i) {
    const st_tensor *t = tensor_at(f, i);
    return t ? t->numel : -1;
}

const void *zoo_st_data(const zoo_st_file *f, int i, size_t *nbytes) {
    const st_tensor *t = tensor_at(f, i);
    if (t && nbytes) *nbytes = (size_t)(t->end - t->begin);
    return t ? f->data + t->begin : NULL;
}

void zoo_st_evict(const zoo_st_file *f, int i) {
    const st_tensor *t = tensor_at(f, i);
    if (!t) return;
    /* the whole pages inside the tensor's bytes: a neighbour's stay */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)(f->data + t->begin) + page - 1) / page * page,
              to = (uintptr_t)(f->data + t->end) / page * page;
    if (to > from) madvise((void *)from, to - from, MADV_DONTNEED);
}

/* The tensor, after checking the index and the caller's element count. */
static const st_tensor *readable(const zoo_st_file *f, int i, int64_t numel, const char *func) {
    const st_tensor *t = tensor_at(f, i);
    if (!t)
        zoo_error(ZOO_ERR_ARG, "%s: %s: no tensor number %d (it has %d)", f->path, func, i,
                  f->count);
    else if (numel != t->numel)
        zoo_error(ZOO_ERR_SHAPE, "%s: tensor '%s' has %lld elements, the buffer %lld", f->path,
                  t->name, (long long)t->numel, (long long)numel);
    return t && numel == t->numel ? t : NULL;
}

/* IEEE half to single precision; every half value is exactly representable. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 0x1f)
        bits = sign | 0x7f800000u | man << 13; /* infinity, NaN with its payload */
    else
        bits = sign | (exp + 112) << 23 | man << 13; /* exponent bias 15 -> 127 */
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

int zoo_st_read_f32(const zoo_st_file *f, int i, float *out, int64_t numel) {
    const st_tensor *t = readable(f, i, numel, "zoo_st_read_f32");
    if (!t) return tensor_at(f, i) ? ZOO_ERR_SHAPE : ZOO_ERR_ARG;
    const unsigned char *p = f->data + t->begin; /* not necessarily aligned: memcpy each */
    switch (t->kind) {
    case F32:
        if (numel > 0) memcpy(out, p, (size_t)numel * 4);
        return ZOO_OK;
    case F16:
    case BF16:
        for (int64_t k = 0; k < numel; k++) {
            uint16_t h;
            memcpy(&h, p + 2 * k, 2);
            if (t->kind == F16) {
                out[k] = f16_to_f32(h);
            } else {
                uint32_t bits = (uint32_t)h << 16; /* bfloat16 is float32's upper half */
                memcpy(&out[k], &bits, 4);
            }
        }
        return ZOO_OK;
    case F64:
        for (int64_t k = 0; k < numel; k++) {
            double d;
            memcpy(&d, p + 8 * k, 8);
            /* from halfway between FLT_MAX and 2^128 on, rounding gives infinity */
            if (isfinite(d) && fabs(d) >= 0x1.ffffffp127)
                return bad(f->path, "tensor '%s': element %lld (%g) is beyond float32's range",
                           t->name, (long long)k, d);
            out[k] = (float)d;
        }
        return ZOO_OK;
    default:
        return zoo_error(ZOO_ERR_SHAPE,
                         "%s: tensor '%s' is %s; float32 can be read from F32, F16, BF16 and F64",
                         f->path, t->name, kinds[t->kind].name);
    }
}

int zoo_st_read_i32(const zoo_st_file *f, int i, int32_t *out, int64_t numel) {
    const st_tensor *t = readable(f, i, numel, "zoo_st_read_i32");
    if (!t) return tensor_at(f, i) ? ZOO_ERR_SHAPE : ZOO_ERR_ARG;
    const unsigned char *p = f->data + t->begin;
    switch (t->kind) {
    case I32:
        if (numel > 0) memcpy(out, p, (size_t)numel * 4);
        return ZOO_OK;
    case I64:
        for (int64_t k = 0; k < numel; k++) {
            int64_t v;
            memcpy(&v, p + 8 * k, 8);
            if (v < INT32_MIN || v > INT32_MAX)
                return bad(f->path, "tensor '%s': element %lld (%lld) does not fit int32", t->name,
                           (long long)k, (long long)v);
            out[k] = (int32_t)v;
        }
        return ZOO_OK;
    default:
        return zoo_error(ZOO_ERR_SHAPE, "%s: tensor '%s' is %s; int32 can be read from I32 and I64",
                         f->path, t->name, kinds[t->kind].name);
    }
}

const char *zoo_st_metadata(const zoo_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

int zoo_st_metadata_count(const zoo_st_file *f) {
    return f->n_meta;
}

const char *zoo_st_metadata_at(const zoo_st_file *f, int i, const char **value) {
    if (i < 0 || i >= f->n_meta) return NULL;
    if (value) *value = f->meta[2 * i + 1];
    return f->meta[2 * i];
}

int zoo_st_read_into(const zoo_st_file *f, int i, zoo_tensor *t) {
    int ndim = 0;
    int64_t shape[ZOO_MAX_DIMS];
    int st = zoo_st_info(f, i, NULL, &ndim, shape); /* more dimensions than zoo's: its message */
    if (st) return st;
    bool same = ndim == t->ndim;
    for (int d = 0; same && d < ndim; d++) same = shape[d] == t->shape[d];
    if (!same) {
        char want[64], got[96] = "[";
        zoo_shape_str(t, want, sizeof want);
        for (int d = 0; d < ndim && d < ZOO_MAX_DIMS; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), d ? ",%lld" : "%lld",
                     (long long)shape[d]);
        strncat(got, "]", sizeof got - strlen(got) - 1);
        return zoo_error(ZOO_ERR_FORMAT, "%s: tensor '%s' has shape %s, the model expects %s",
                         f->path, zoo_st_name(f, i), got, want);
    }
    st = zoo_st_read_f32(f, i, t->data, t->numel);
    return st ? st : zoo_st_check_finite(f, i, t->data, t->numel);
}

int zoo_st_check_finite(const zoo_st_file *f, int i, const float *v, int64_t numel) {
    for (int64_t k = 0; k < numel; k++)
        if (!isfinite(v[k]))
            return bad(f->path, "tensor '%s': element %lld is %s; a model's weights must be finite",
                       zoo_st_name(f, i), (long long)k, isnan(v[k]) ? "NaN" : "infinite");
    return ZOO_OK;
}

int zoo_st_open_model_dir(const char *dir, zoo_st_file **out) {
    char file[4096];
    struct stat sb;
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    if (stat(file, &sb) != 0) {
        *out = NULL;
        snprintf(file, sizeof file, "%s/pytorch_model.bin", dir);
        if (stat(file, &sb) == 0)
            return zoo_error(
                ZOO_ERR_FORMAT,
                "%s: only pytorch_model.bin, which zoo does not read (it would have to "
                "unpickle it): convert it to model.safetensors",
                dir);
        return zoo_error(ZOO_ERR_IO, "%s/model.safetensors: %s", dir, strerror(errno));
    }
    return zoo_st_open(file, out);
}
