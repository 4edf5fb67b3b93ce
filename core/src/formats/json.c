#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/status.h"

struct zoo_json {
    cJSON *root;
    char *path;
};

int zoo_json_check_text(const char *path, const char *text, size_t len) {
    long line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)text[i];
        if (b == 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s:%ld: a NUL byte (at offset %zu)", path, line, i);
        if (b < 0x80) {
            line += b == '\n';
            i++;
            continue;
        }
        utf8proc_int32_t c;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
        if (n <= 0)
            return zoo_error(ZOO_ERR_FORMAT, "%s:%ld: invalid UTF-8 (byte 0x%02X at offset %zu)",
                             path, line, b, i);
        i += (size_t)n;
    }
    return ZOO_OK;
}

static int by_key(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* where[0..at) names item ("" at the top, "model", "plugins[3]"); sorting
 * each object's keys keeps a 50,000-key vocab.json fast. */
static int check_keys(const char *path, const cJSON *item, char *where, size_t at, size_t cap) {
    if (!cJSON_IsObject(item) && !cJSON_IsArray(item)) return ZOO_OK;
    bool object = cJSON_IsObject(item);
    int n = cJSON_GetArraySize(item), i = 0, st = ZOO_OK;
    if (object && n > 1) {
        const cJSON **keys = malloc((size_t)n * sizeof *keys);
        if (!keys) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
        for (const cJSON *e = item->child; e; e = e->next) keys[i++] = e;
        qsort(keys, (size_t)n, sizeof *keys, by_key);
        for (i = 1; i < n && !st; i++)
            if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
                st = zoo_error(ZOO_ERR_FORMAT, "%s: %.*s%s%s: the key is given twice", path,
                               (int)at, where, at ? "." : "", keys[i]->string);
        free(keys);
    }
    i = 0;
    for (const cJSON *e = item->child; e && !st; e = e->next, i++) {
        int k = object ? snprintf(where + at, cap - at, "%s%s", at ? "." : "", e->string)
                       : snprintf(where + at, cap - at, "[%d]", i);
        size_t next = k > 0 && at + (size_t)k < cap ? at + (size_t)k : at; /* too deep to name */
        st = check_keys(path, e, where, next, cap);
    }
    return st;
}

int zoo_json_check_keys(const char *path, const cJSON *root) {
    char where[512];
    return check_keys(path, root, where, 0, sizeof where);
}

zoo_json *zoo_json_load(const char *path) {
    size_t len;
    char *text = zoo_read_file_max(path, &len, ZOO_READ_MAX_JSON);
    if (!text) return NULL;
    if (zoo_json_check_text(path, text, len)) {
        free(text);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (root && zoo_json_check_keys(path, root)) {
        cJSON_Delete(root);
        root = NULL;
    } else if (!root) {
        int line = 1, col = 1;
        for (const char *p = text; end && p < end; p++) col = *p == '\n' ? (line++, 1) : col + 1;
        zoo_error(ZOO_ERR_FORMAT, "%s:%d:%d: malformed JSON", path, line, col);
    } else if (!cJSON_IsObject(root)) {
        zoo_error(ZOO_ERR_FORMAT, "%s: not a JSON object", path);
        cJSON_Delete(root);
        root = NULL;
    }
    free(text);
    zoo_json *doc = root ? malloc(sizeof *doc) : NULL;
    if (doc)
        *doc = (zoo_json){root, strdup(path)};
    else
        cJSON_Delete(root);
    return doc;
}

void zoo_json_free(zoo_json *doc) {
    if (!doc) return;
    cJSON_Delete(doc->root);
    free(doc->path);
    free(doc);
}

bool zoo_json_has(const zoo_json *doc, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(doc->root, key) != NULL;
}

static int typed(const zoo_json *doc, const char *key, const cJSON **v,
                 cJSON_bool (*is)(const cJSON *), const char *what) {
    *v = cJSON_GetObjectItemCaseSensitive(doc->root, key);
    if (!*v) return zoo_error(ZOO_ERR_NOTFOUND, "%s: %s: missing", zoo_json_path(doc), key);
    if (!is(*v))
        return zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected %s", zoo_json_path(doc), key, what);
    return ZOO_OK;
}

int zoo_json_number(const zoo_json *doc, const char *key, double *out) {
    const cJSON *v;
    int st = typed(doc, key, &v, cJSON_IsNumber, "a number");
    if (!st) *out = v->valuedouble;
    return st;
}

int zoo_json_bool(const zoo_json *doc, const char *key, bool *out) {
    const cJSON *v;
    int st = typed(doc, key, &v, cJSON_IsBool, "true or false");
    if (!st) *out = cJSON_IsTrue(v);
    return st;
}

const char *zoo_json_string(const zoo_json *doc, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc->root, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *zoo_json_path(const zoo_json *doc) {
    return doc->path ? doc->path : "";
}

/* --- building and writing ---------------------------------------------- */

zoo_json *zoo_json_new(void) {
    zoo_json *doc = calloc(1, sizeof *doc);
    if (doc && !(doc->root = cJSON_CreateObject())) free(doc), doc = NULL;
    if (!doc) zoo_error(ZOO_ERR_NOMEM, "zoo_json_new: out of memory");
    return doc;
}

static bool is_utf8(const char *s) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    while (left > 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &c);
        if (n <= 0) return false;
        p += n, left -= n;
    }
    return true;
}

/* Puts item under key (taking it), in the place of an existing value. */
static int set(zoo_json *doc, const char *key, cJSON *item) {
    if (!item) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", key);
    cJSON_bool done = cJSON_GetObjectItemCaseSensitive(doc->root, key)
                          ? cJSON_ReplaceItemInObjectCaseSensitive(doc->root, key, item)
                          : cJSON_AddItemToObject(doc->root, key, item);
    if (!done) {
        cJSON_Delete(item);
        return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", key);
    }
    return ZOO_OK;
}

static int check_text(const char *key, const char *value) {
    if (!key || !is_utf8(key)) return zoo_error(ZOO_ERR_ARG, "zoo_json: a key must be UTF-8 text");
    if (value && !is_utf8(value))
        return zoo_error(ZOO_ERR_ARG, "zoo_json: %s: the value is not UTF-8", key);
    return ZOO_OK;
}

int zoo_json_set_number(zoo_json *doc, const char *key, double value) {
    int st = check_text(key, NULL);
    if (st) return st;
    if (!isfinite(value))
        return zoo_error(ZOO_ERR_ARG, "zoo_json: %s: %g is not a JSON number", key, value);
    return set(doc, key, cJSON_CreateNumber(value));
}

int zoo_json_set_bool(zoo_json *doc, const char *key, bool value) {
    int st = check_text(key, NULL);
    return st ? st : set(doc, key, cJSON_CreateBool(value));
}

int zoo_json_set_string(zoo_json *doc, const char *key, const char *value) {
    int st = check_text(key, value ? value : "");
    return st ? st : set(doc, key, cJSON_CreateString(value ? value : ""));
}

int zoo_json_set_strings(zoo_json *doc, const char *key, const char *const *values, int n) {
    int st = check_text(key, NULL);
    for (int i = 0; !st && i < n; i++) st = check_text(key, values[i]);
    if (st) return st;
    /* not cJSON_CreateStringArray: it takes a non-const array */
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < n; i++) {
        cJSON *item = cJSON_CreateString(values[i]);
        if (!item || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            cJSON_Delete(array);
            array = NULL;
        }
    }
    return set(doc, key, array);
}

/* A number in the fewest significant digits that read back to the same
 * double (0.02, 1e-05), whole numbers in full (50257). */
static void print_number(FILE *out, double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        fprintf(out, "%.0f", v);
        return;
    }
    char buf[32];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, out);
}

int zoo_json_write(const zoo_json *doc, const char *path) {
    /* HuggingFace's layout for a flat config: one key per line, nested
     * values (an architectures list) on the key's line */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    bool ok = true;
    fputs("{", out);
    for (const cJSON *e = doc->root->child; ok && e; e = e->next) {
        cJSON *name = cJSON_CreateStringReference(e->string);
        char *key = name ? cJSON_PrintUnformatted(name) : NULL;
        fprintf(out, "%s\n  %s: ", e == doc->root->child ? "" : ",", key ? key : "");
        if (cJSON_IsNumber(e)) {
            print_number(out, e->valuedouble);
        } else {
            char *value = cJSON_PrintUnformatted(e);
            ok = value != NULL;
            fputs(value ? value : "", out);
            free(value);
        }
        ok = ok && key;
        free(key);
        cJSON_Delete(name);
    }
    fputs(doc->root->child ? "\n}\n" : "}\n", out);
    ok = fclose(out) == 0 && ok; /* a memory stream fails only for memory */
    int st = ok ? zoo_write_file_atomic(path, text, len)
                : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", path);
    free(text);
    return st;
}
