/* Small JSON documents (a HuggingFace config.json, a manifest) for a plugin,
 * which links only libzoo: one object, read and written by key at its top
 * level. Messages name the file and the key. */
#ifndef ZOO_JSON_H
#define ZOO_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zoo_json zoo_json;

/* Reads and parses a file holding a JSON object. NULL with a message
 * ("config.json:3:7: malformed JSON", "...: not a JSON object"). */
ZOO_API zoo_json *zoo_json_load(const char *path);

/* The checks every JSON file zoo reads gets, beside the parser's own
 * (zoo_json_load makes both; the host's readers of configs and registries
 * call them): text read from path holds no NUL byte and only valid UTF-8
 * (cJSON takes either without a word, and a NUL would end a string early),
 * else ZOO_ERR_FORMAT "PATH:LINE: invalid UTF-8 (byte 0xFF at offset N)" or
 * "PATH:LINE: a NUL byte (at offset N)"; */
ZOO_API int zoo_json_check_text(const char *path, const char *text, size_t len);
/* and no object in the parsed document holds a key twice (a reader would
 * see one of the two values and ignore the other), else ZOO_ERR_FORMAT
 * "PATH: model.plugin: the key is given twice". */
struct cJSON;
ZOO_API int zoo_json_check_keys(const char *path, const struct cJSON *root);
ZOO_API void zoo_json_free(zoo_json *doc);

ZOO_API bool zoo_json_has(const zoo_json *doc, const char *key);
/* ZOO_OK, ZOO_ERR_NOTFOUND (key absent) or ZOO_ERR_FORMAT (another type),
 * with a message naming the file and key. */
ZOO_API int zoo_json_number(const zoo_json *doc, const char *key, double *out);
ZOO_API int zoo_json_bool(const zoo_json *doc, const char *key, bool *out);
/* The string, valid until zoo_json_free; NULL when absent or not a string. */
ZOO_API const char *zoo_json_string(const zoo_json *doc, const char *key);
/* The file the document was loaded from ("" for one built by zoo_json_new). */
ZOO_API const char *zoo_json_path(const zoo_json *doc);

/* --- building and writing ---------------------------------------------- */

/* An empty object; NULL (with a message) when out of memory. */
ZOO_API zoo_json *zoo_json_new(void);
/* Each setter adds key, or replaces its value where it already is, so keys
 * keep the order of their first setting. ZOO_ERR_ARG for a number that is
 * not finite (JSON has none) and for text that is not UTF-8; ZOO_ERR_NOMEM. */
ZOO_API int zoo_json_set_number(zoo_json *doc, const char *key, double value);
ZOO_API int zoo_json_set_bool(zoo_json *doc, const char *key, bool value);
ZOO_API int zoo_json_set_string(zoo_json *doc, const char *key, const char *value);
/* An array of n strings. */
ZOO_API int zoo_json_set_strings(zoo_json *doc, const char *key, const char *const *values, int n);
/* Writes the object to path atomically (zoo_write_file_atomic), one key per
 * line indented by two spaces as HuggingFace writes its configs, numbers in
 * the fewest digits that read back to the same double ("1e-05"). */
ZOO_API int zoo_json_write(const zoo_json *doc, const char *path);

#ifdef __cplusplus
}
#endif
#endif
