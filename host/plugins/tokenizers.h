/* Tokenizer types that plugins provide: the host never names a type. A type
 * named by a config (data.tokenizer.type) or a checkpoint (zoo.tokenizer) is
 * either built into libzoo, registered by a plugin already loaded, or
 * declared in some registry entry's "tokenizers", whose plugin is then
 * loaded. The plugin that provides a tokenizer's type (or imported it) must
 * stay loaded while the tokenizer lives: free the tokenizer first, then
 * unload the plugin (zoo_plugin_unload refuses otherwise). */
#ifndef ZOO_HOST_TOKENIZERS_H
#define ZOO_HOST_TOKENIZERS_H

#include "loader.h"
#include "registry.h"
#include "zoo/tokenizer.h"

/* Makes tokenizer type `type` known to libzoo. *provider is NULL when it
 * already is (built in, or a loaded plugin's), else the plugin loaded for it
 * (the caller unloads it after freeing every tokenizer of the type). Errors:
 * ZOO_ERR_NOTFOUND "unknown tokenizer type 'x' (known: ...); no plugin in
 * the registry declares it"; a failure to load the declaring plugin. */
int zoo_tokenizer_provide(const zoo_registry *r, const char *type, zoo_loaded **provider);

/* zoo_tokenizer_from_json, after providing the type the JSON names. */
int zoo_tokenizer_restore(const zoo_registry *r, const char *json, zoo_tokenizer **out,
                          zoo_loaded **provider);

/* The tokenizer plugin p imports from path (its import_tokenizer).
 * ZOO_ERR_NOTFOUND when p has no ZOO_CAP_IMPORT_TOKENIZER or path holds no
 * tokenizer it reads; ZOO_ERR_STATE when the plugin returns a tokenizer of a
 * type libzoo does not know; the plugin's own errors. */
int zoo_plugin_import_tokenizer(const zoo_loaded *p, const char *path, zoo_tokenizer **out);

#endif
