/* Opening a plugin's library: the one place in zoo that calls dlopen. */
#ifndef ZOO_HOST_LOADER_H
#define ZOO_HOST_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "extras.h"
#include "registry.h"
#include "zoo/plugin.h"
#include "zoo/tokenizer_type.h"

/* An operation added after ABI 1.0, or NULL when the plugin's table (built
 * for an older minor version) is too short to hold it. */
#define ZOO_OPS_SLOT(ops, field)                                                                   \
    ((ops)->size >= offsetof(zoo_plugin_ops, field) + sizeof((ops)->field) ? (ops)->field : NULL)

/* A descriptor field added after ABI 1.0, or NULL when the plugin's
 * descriptor (built for an older minor version) is too short to hold it. */
#define ZOO_PLUGIN_FIELD(d, field)                                                                 \
    ((d)->size >= offsetof(zoo_plugin, field) + sizeof((d)->field) ? (d)->field : NULL)

/* The bytes per token a plugin reads (ABI 1.3's token_bytes); 0 for a
 * descriptor built for an older minor version, which is too short to hold it. */
#define ZOO_MAX_TOKEN_BYTES 1024
static inline int32_t zoo_plugin_token_bytes(const zoo_plugin *d) {
    return d->size >= offsetof(zoo_plugin, token_bytes) + sizeof d->token_bytes ? d->token_bytes
                                                                                : 0;
}

typedef struct zoo_loaded {
    const zoo_reg_entry *entry;
    const zoo_plugin *plugin; /* the descriptor, checked */
    void *handle;
    /* the tokenizer types it provides, registered with libzoo while it is
     * loaded (NULL-terminated), or NULL */
    const zoo_tokenizer_def *const *tokenizers;
    zoo_extra *extras; /* one per declared extra; disabled ones carry their error */
    int n_extras;
    int live_models; /* models created and not destroyed: unloading waits for 0 */
} zoo_loaded;

/* How far the loader trusts libraries, for the whole process (the CLI sets
 * it from --require-pinned / ZOO_REQUIRE_PINNED). require_pinned: open only
 * a library a registry file pins (zoo_reg_entry.pin) and whose sha256
 * matches. notices: where to write the one-line notice of an unpinned
 * drop-in being loaded (once per library), or NULL for none (the default). */
void zoo_plugin_set_policy(bool require_pinned, FILE *notices);

/* Checks, before the library is opened (its constructors run at dlopen): the
 * entry's error; that no other user can replace the library (trust.h);
 * under require_pinned that a registry pins it; the sha256 of every pin
 * (the registry's and the entry's own). Then opens the library (RTLD_NOW | RTLD_LOCAL),
 * finds zoo_plugin_entry, checks the ABI version first, then the descriptor
 * and its required operations, checks that the tokenizer types it provides
 * are those the entry declares and registers them with libzoo (refused when
 * another type has one of the names), and resolves the extras. On failure
 * returns a status with one message naming the library or registry file and
 * the field. */
int zoo_plugin_load(const zoo_reg_entry *entry, zoo_loaded **out);

/* Unregisters its tokenizer types and closes the library; ZOO_ERR_STATE
 * (and nothing changed) while models, or tokenizers of its types, live. */
int zoo_plugin_unload(zoo_loaded *p);

/* Differences between the entry and what the library says about itself
 * (version, summary), one per line, from malloc; NULL when none. */
char *zoo_plugin_mismatches(const zoo_loaded *p);

#endif
