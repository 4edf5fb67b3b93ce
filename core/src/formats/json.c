#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/status.h"

struct zoo_json {
    cJSON *root;
    char *path;
};

zoo_json *zoo_json_load(const char *path) {
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (!root) {
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
    if (!*v) return zoo_error(ZOO_ERR_NOTFOUND, "%s: %s: missing", doc->path, key);
    if (!is(*v)) return zoo_error(ZOO_ERR_FORMAT, "%s: %s: expected %s", doc->path, key, what);
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
