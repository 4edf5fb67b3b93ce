#include "tokenizers.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "zoo/status.h"

int zoo_tokenizer_provide(const zoo_registry *r, const char *type, zoo_loaded **provider) {
    *provider = NULL;
    if (!type) return zoo_error(ZOO_ERR_ARG, "no tokenizer type");
    if (zoo_tokenizer_type_known(type)) return ZOO_OK;
    const zoo_reg_entry *e = r ? zoo_registry_find_tokenizer(r, type) : NULL;
    if (!e) {
        char known[512] = "";
        size_t used = 0;
        const char *name;
        for (int i = 0; (name = zoo_tokenizer_type_name(i)) && used < sizeof known; i++)
            used +=
                (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", name);
        return zoo_error(ZOO_ERR_NOTFOUND,
                         "unknown tokenizer type '%s' (known: %s); no plugin in the registry "
                         "declares it (an entry's \"tokenizers\")",
                         type, known);
    }
    return zoo_plugin_load(e, provider);
}

int zoo_tokenizer_restore(const zoo_registry *r, const char *json, zoo_tokenizer **out,
                          zoo_loaded **provider) {
    *out = NULL;
    *provider = NULL;
    /* only the type is read here; zoo_tokenizer_from_json checks the rest */
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    int st = cJSON_IsString(type) ? zoo_tokenizer_provide(r, type->valuestring, provider) : ZOO_OK;
    cJSON_Delete(root);
    if (st == ZOO_OK) st = zoo_tokenizer_from_json(json, out);
    if (st != ZOO_OK) {
        zoo_plugin_unload(*provider);
        *provider = NULL;
    }
    return st;
}

int zoo_plugin_import_tokenizer(const zoo_loaded *p, const char *path, zoo_tokenizer **out) {
    *out = NULL;
    const zoo_plugin *d = p->plugin;
    int (*import)(const char *, zoo_tokenizer **) =
        d->capabilities & ZOO_CAP_IMPORT_TOKENIZER ? ZOO_OPS_SLOT(d->ops, import_tokenizer) : NULL;
    if (!import) return zoo_error(ZOO_ERR_NOTFOUND, "plugin '%s' imports no tokenizer", d->name);
    zoo_error_clear();
    int st = import(path, out);
    if (st != ZOO_OK) {
        *out = NULL;
        if (!*zoo_error_message())
            zoo_error(st, "%s: plugin '%s' could not import its tokenizer (%s)", path, d->name,
                      zoo_status_str(st));
        return st;
    }
    if (!*out)
        return zoo_error(ZOO_ERR_STATE, "%s: plugin '%s' imported no tokenizer and said nothing",
                         path, d->name);
    /* a type libzoo does not know keeps nothing loaded for the tokenizer */
    const char *type = zoo_tokenizer_type(*out);
    if (!zoo_tokenizer_type_known(type)) {
        st = zoo_error(ZOO_ERR_STATE,
                       "%s: plugin '%s' imported a tokenizer of type '%s', which is neither "
                       "built in nor one of its tokenizer types",
                       path, d->name, type);
        zoo_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}
