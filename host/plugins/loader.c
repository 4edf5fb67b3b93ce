#include "loader.h"
#include "model_card.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "trust.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* The descriptor and operations of ABI 1.0 end at these fields; a plugin's
 * structs must be at least this long. */
#define MIN_PLUGIN_SIZE (offsetof(zoo_plugin, ops) + sizeof(void *))
#define MIN_OPS_SIZE (offsetof(zoo_plugin_ops, train_step) + sizeof(void *))

static struct {
    bool require_pinned;
    FILE *notices;
    char *noticed[64]; /* the libraries already announced */
    int n_noticed;
} policy;

void zoo_plugin_set_policy(bool require_pinned, FILE *notices) {
    policy.require_pinned = require_pinned;
    policy.notices = notices;
}

/* Every pin of the entry must match the library: the registry's (pin) and
 * the entry's own sha256 (a drop-in manifest's, which only checks). */
static int check_checksum(const zoo_reg_entry *e) {
    if (!e->sha256 && !e->pin) return ZOO_OK;
    char hex[65];
    int st = zoo_sha256_file(e->library, hex);
    if (st) return st;
    const char *pins[] = {e->pin, e->sha256}, *sources[] = {e->pin_source, e->source};
    for (int i = 0; i < 2; i++)
        if (pins[i] && strcmp(hex, pins[i]) != 0)
            return zoo_error(
                ZOO_ERR_STATE,
                "%s: sha256 of plugin '%s' does not match: the registry pins %s, the "
                "library %s has %s; refusing to load it (zoo registry pin updates the pin)",
                sources[i], e->name, pins[i], e->library, hex);
    return ZOO_OK;
}

/* Under require_pinned, an entry no registry pins is refused, saying how to pin it. */
static int check_pinned(const zoo_reg_entry *e) {
    if (!policy.require_pinned || e->pin) return ZOO_OK;
    if (e->dropin)
        return zoo_error(ZOO_ERR_STATE,
                         "%s: plugin '%s' (%s) is a drop-in that no registry pins, and "
                         "--require-pinned (or ZOO_REQUIRE_PINNED=1) is set: refusing to open "
                         "it%s. To trust it, add an entry for it (the manifest's fields, with "
                         "\"library\": \"%s\") to a registry file and run zoo registry pin "
                         "FILE; a sha256 in the manifest beside the library does not count",
                         e->source, e->name, e->library,
                         e->shadows ? " (it would shadow the plugin of that name)" : "",
                         e->library);
    return zoo_error(ZOO_ERR_STATE,
                     "%s: %ssha256: missing: plugin '%s' (%s) is not pinned, and "
                     "--require-pinned (or ZOO_REQUIRE_PINNED=1) is set: refusing to open it; "
                     "pin it with zoo registry pin %s",
                     e->source, e->where ? e->where : "", e->name, e->library, e->source);
}

/* The one-line notice of an unpinned drop-in, once per library. */
static void notice_unpinned(const zoo_reg_entry *e) {
    if (!policy.notices || !e->dropin || e->pin) return;
    for (int i = 0; i < policy.n_noticed; i++)
        if (strcmp(policy.noticed[i], e->library) == 0) return;
    char *copy = policy.n_noticed < 64 ? strdup(e->library) : NULL;
    if (copy) policy.noticed[policy.n_noticed++] = copy;
    fprintf(policy.notices,
            "zoo: notice: loading drop-in plugin '%s' from %s, which no registry pins%s "
            "(--require-pinned refuses it; see docs/security.md)\n",
            e->name, e->library, e->shadows ? "; it shadows the plugin of that name" : "");
}

static int check_descriptor(const zoo_reg_entry *e, const zoo_plugin *d) {
    const char *lib = e->library;
    if (d->size < offsetof(zoo_plugin, abi_minor) + sizeof d->abi_minor)
        return zoo_error(ZOO_ERR_FORMAT, "%s: the plugin descriptor is too short (%u bytes)", lib,
                         d->size);
    /* the version first: nothing else of a foreign ABI can be trusted */
    if (d->abi_major != ZOO_ABI_MAJOR || d->abi_minor > ZOO_ABI_MINOR)
        return zoo_error(
            ZOO_ERR_STATE,
            "%s: plugin '%s' was built for ABI %u.%u, this host supports %d.0 to %d.%d; "
            "rebuild the plugin against this zoo",
            lib, e->name, d->abi_major, d->abi_minor, ZOO_ABI_MAJOR, ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
    if (d->size < MIN_PLUGIN_SIZE)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: the plugin descriptor is too short (%u bytes, ABI %d.0 needs %zu)",
                         lib, d->size, ZOO_ABI_MAJOR, MIN_PLUGIN_SIZE);
    if (!d->name || strcmp(d->name, e->name) != 0)
        return zoo_error(ZOO_ERR_STATE,
                         "%s: the library calls itself '%s' but %s registers it as '%s'", lib,
                         d->name ? d->name : "(null)", e->source, e->name);
    if (e->abi_major != d->abi_major || e->abi_minor != d->abi_minor)
        return zoo_error(ZOO_ERR_STATE,
                         "%s: abi: the registry says %d.%d, the library %s was built for %u.%u",
                         e->source, e->abi_major, e->abi_minor, lib, d->abi_major, d->abi_minor);
    const zoo_plugin_ops *ops = d->ops;
    if (!ops || ops->size < MIN_OPS_SIZE)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: plugin '%s' has no operations table (or one too short)", lib,
                         e->name);
    const struct {
        const char *name;
        const void *fn;
        uint32_t capability; /* 0: required */
    } slots[] = {
        {"create", (const void *)ops->create, 0},
        {"destroy", (const void *)ops->destroy, 0},
        {"forward", (const void *)ops->forward, 0},
        {"loss", (const void *)ops->loss, 0},
        {"embed", (const void *)ops->embed, 0},
        {"cache_new", (const void *)ops->cache_new, ZOO_CAP_DECODE},
        {"cache_free", (const void *)ops->cache_free, ZOO_CAP_DECODE},
        {"decode_step", (const void *)ops->decode_step, ZOO_CAP_DECODE},
        {"fill_mask", (const void *)ops->fill_mask, ZOO_CAP_FILL_MASK},
        {"import_config", (const void *)ops->import_config, ZOO_CAP_IMPORT},
        {"import_weights", (const void *)ops->import_weights, ZOO_CAP_IMPORT},
        {"export_checkpoint", (const void *)ops->export_checkpoint, ZOO_CAP_EXPORT},
        {"train_step", (const void *)ops->train_step, ZOO_CAP_SELF_UPDATE},
        {"set_tokenizer", (const void *)ZOO_OPS_SLOT(ops, set_tokenizer), ZOO_CAP_TOKENIZER},
        {"import_tokenizer", (const void *)ZOO_OPS_SLOT(ops, import_tokenizer),
         ZOO_CAP_IMPORT_TOKENIZER},
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        bool announced = !slots[i].capability || (d->capabilities & slots[i].capability);
        if (slots[i].fn && !announced)
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s: plugin '%s' sets the operation '%s' but not its capability flag",
                             lib, e->name, slots[i].name);
        if (slots[i].fn) continue;
        if (!slots[i].capability)
            return zoo_error(ZOO_ERR_FORMAT,
                             "%s: plugin '%s' lacks the required operation '%s' (NULL)", lib,
                             e->name, slots[i].name);
        if (d->capabilities & slots[i].capability)
            return zoo_error(
                ZOO_ERR_FORMAT,
                "%s: plugin '%s' announces the capability of '%s' but the operation is NULL", lib,
                e->name, slots[i].name);
    }
    const zoo_reg_imports *im = &e->imports;
    if ((im->n_hf_model_types || im->n_files) && !(d->capabilities & ZOO_CAP_IMPORT))
        return zoo_error(ZOO_ERR_STATE,
                         "%s: %simports: the entry declares directories plugin '%s' imports, but "
                         "the library %s has no import capability",
                         e->source, e->where ? e->where : "", e->name, lib);
    if (im->n_tokenizer_files && !(d->capabilities & ZOO_CAP_IMPORT_TOKENIZER))
        return zoo_error(ZOO_ERR_STATE,
                         "%s: %simports.tokenizer_files: the entry declares tokenizer files plugin "
                         "'%s' reads, but the library %s has no import-tokenizer capability",
                         e->source, e->where ? e->where : "", e->name, lib);
    if (d->objective < ZOO_OBJ_CAUSAL_LM || d->objective > ZOO_OBJ_WORD_VECTORS)
        return zoo_error(ZOO_ERR_FORMAT, "%s: plugin '%s' declares an unknown objective %d", lib,
                         e->name, (int)d->objective);
    int32_t W = zoo_plugin_token_bytes(d);
    if (W < 0 || W > ZOO_MAX_TOKEN_BYTES)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: plugin '%s' asks for %d token bytes; expected 0 to %d", lib, e->name,
                         (int)W, ZOO_MAX_TOKEN_BYTES);
    zoo_hparams *defaults = zoo_hparams_new(d->hparams, d->n_hparams);
    if (!defaults)
        return zoo_error(ZOO_ERR_FORMAT, "%s: plugin '%s': %s", lib, e->name, zoo_error_message());
    zoo_card_sizes sizes; /* the card names hyperparameters the plugin has */
    int st = zoo_card_sizes_of(e, defaults, &sizes);
    zoo_hparams_free(defaults);
    return st;
}

/* The name of a provided tokenizer type, if its definition is long enough
 * to hold one (libzoo checks the rest when it registers it). */
static const char *def_name(const zoo_tokenizer_def *t) {
    return t->size >= offsetof(zoo_tokenizer_def, name) + sizeof t->name && t->name ? t->name
                                                                                    : "(null)";
}

/* The entry's "tokenizers" must name exactly the types the library
 * provides: the host finds a type's plugin by the entry, without opening it. */
static int check_tokenizers(const zoo_reg_entry *e, const zoo_tokenizer_def *const *types) {
    const char *where = e->where ? e->where : "";
    for (int i = 0; i < e->n_tokenizers; i++) {
        bool found = false;
        for (int j = 0; types && types[j] && !found; j++)
            found = strcmp(def_name(types[j]), e->tokenizers[i]) == 0;
        if (!found)
            return zoo_error(ZOO_ERR_STATE,
                             "%s: %stokenizers[%d]: the entry declares tokenizer type '%s', but "
                             "the library %s does not provide it",
                             e->source, where, i, e->tokenizers[i], e->library);
    }
    for (int j = 0; types && types[j]; j++) {
        bool declared = false;
        for (int i = 0; i < e->n_tokenizers && !declared; i++)
            declared = strcmp(def_name(types[j]), e->tokenizers[i]) == 0;
        if (!declared)
            return zoo_error(ZOO_ERR_STATE,
                             "%s: %stokenizers: the library %s provides tokenizer type '%s', which "
                             "the entry does not declare",
                             e->source, where, e->library, def_name(types[j]));
    }
    return ZOO_OK;
}

int zoo_plugin_load(const zoo_reg_entry *e, zoo_loaded **out) {
    *out = NULL;
    if (e->error) return zoo_error(ZOO_ERR_FORMAT, "%s", e->error);
    /* everything about trust is decided here, before dlopen runs any of its code */
    int st = zoo_trust_check_path(e->library, "plugin library");
    if (st) return zoo_error(st, "plugin '%s': %s", e->name, zoo_error_message());
    if ((st = check_pinned(e)) || (st = check_checksum(e))) return st;
    notice_unpinned(e);
    void *handle = dlopen(e->library, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return zoo_error(ZOO_ERR_IO, "%s: cannot load plugin '%s': %s", e->library, e->name,
                         dlerror());
    dlerror();
    zoo_plugin_entry_fn entry = (zoo_plugin_entry_fn)(uintptr_t)dlsym(handle, ZOO_PLUGIN_ENTRY);
    const zoo_plugin *d = entry ? entry() : NULL;
    if (!entry)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: no symbol '%s': not a zoo plugin", e->library,
                       ZOO_PLUGIN_ENTRY);
    else if (!d)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s() returned NULL", e->library, ZOO_PLUGIN_ENTRY);
    else
        st = check_descriptor(e, d);
    const zoo_tokenizer_def *const *types = st ? NULL : ZOO_PLUGIN_FIELD(d, tokenizers);
    if (!st) st = check_tokenizers(e, types);
    int registered = st ? ZOO_OK : zoo_tokenizer_register_types(types, e->library);
    if (registered != ZOO_OK)
        st = zoo_error(registered, "%s: plugin '%s': %s", e->library, e->name, zoo_error_message());
    if (types && !types[0]) types = NULL;
    zoo_loaded *p = st ? NULL : calloc(1, sizeof *p);
    if (!st && !p) {
        st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
        zoo_tokenizer_unregister_types(types);
    }
    if (st) {
        dlclose(handle);
        return st;
    }
    *p = (zoo_loaded){.entry = e, .plugin = d, .handle = handle, .tokenizers = types};
    p->extras = zoo_extras_resolve(handle, e->name, e->library, e->extras, e->n_extras);
    p->n_extras = p->extras ? e->n_extras : 0;
    *out = p;
    return ZOO_OK;
}

int zoo_plugin_unload(zoo_loaded *p) {
    if (!p) return ZOO_OK;
    if (p->live_models > 0)
        return zoo_error(ZOO_ERR_STATE, "plugin '%s' still has %d live model(s); not unloading it",
                         p->entry->name, p->live_models);
    /* its tokenizers' operations are its code: none may outlive dlclose */
    if (zoo_tokenizer_unregister_types(p->tokenizers) != ZOO_OK)
        return zoo_error(ZOO_ERR_STATE, "plugin '%s': %s; not unloading it", p->entry->name,
                         zoo_error_message());
    zoo_extras_free(p->extras, p->n_extras);
    dlclose(p->handle);
    free(p);
    return ZOO_OK;
}

char *zoo_plugin_mismatches(const zoo_loaded *p) {
    const zoo_reg_entry *e = p->entry;
    const zoo_plugin *d = p->plugin;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    if (d->version && e->version && strcmp(d->version, e->version) != 0)
        fprintf(f, "%s: version: the registry says %s, the library %s\n", e->source, e->version,
                d->version);
    if (d->summary && e->summary && strcmp(d->summary, e->summary) != 0)
        fprintf(f, "%s: summary: the registry and the library differ\n", e->source);
    const zoo_reg_imports *im = &e->imports;
    if ((d->capabilities & ZOO_CAP_IMPORT) && !im->n_hf_model_types && !im->n_files)
        fprintf(f,
                "%s: imports: the library imports foreign directories, but the entry declares "
                "none (\"imports\": hf_model_types or files), so zoo never offers it one\n",
                e->source);
    else if ((d->capabilities & ZOO_CAP_IMPORT_TOKENIZER) && !im->n_hf_model_types &&
             !im->n_tokenizer_files)
        fprintf(f,
                "%s: imports: the library reads tokenizer files, but the entry declares none "
                "(\"imports\": tokenizer_files), so zoo never offers it a directory of them\n",
                e->source);
    fclose(f);
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}
