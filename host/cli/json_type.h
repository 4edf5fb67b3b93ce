/* What a JSON value is, in the words of an error message ("expected a
 * string, got an array"): the config, compare and registry readers share it. */
#ifndef ZOO_HOST_JSON_TYPE_H
#define ZOO_HOST_JSON_TYPE_H

#include <cjson/cJSON.h>

static inline const char *zoo_json_type(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsNull(v)) return "null";
    return "something else";
}

#endif
