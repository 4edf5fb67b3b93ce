/* Reading small JSON documents (a HuggingFace config.json, a manifest) from
 * a plugin, which links only libzoo. Values are read by key at the top level
 * of an object; messages name the file and the key. */
#ifndef ZOO_JSON_H
#define ZOO_JSON_H

#include <stdbool.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_json zoo_json;

/* Reads and parses a file holding a JSON object. NULL with a message
 * ("config.json:3:7: malformed JSON", "...: not a JSON object"). */
ZOO_API zoo_json *zoo_json_load(const char *path);
ZOO_API void zoo_json_free(zoo_json *doc);

ZOO_API bool zoo_json_has(const zoo_json *doc, const char *key);
/* ZOO_OK, ZOO_ERR_NOTFOUND (key absent) or ZOO_ERR_FORMAT (another type),
 * with a message naming the file and key. */
ZOO_API int zoo_json_number(const zoo_json *doc, const char *key, double *out);
ZOO_API int zoo_json_bool(const zoo_json *doc, const char *key, bool *out);
/* The string, valid until zoo_json_free; NULL when absent or not a string. */
ZOO_API const char *zoo_json_string(const zoo_json *doc, const char *key);

#ifdef __cplusplus
}
#endif
#endif
