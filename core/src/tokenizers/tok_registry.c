/* The tokenizer types: the built-in ones, and those registered at run time
 * (a plugin's, while the host has it loaded). A registered type counts its
 * live tokenizers, because each holds the type's operations: the last
 * registration of a type goes only when none is alive, so a plugin's
 * library is never closed under a tokenizer it made. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_registry.h"

/* The built-in types, each defined in its own tok_<type>.c. */
extern const zoo_tokenizer_def zoo_tok_char_type;
extern const zoo_tokenizer_def zoo_tok_word_type;
extern const zoo_tokenizer_def zoo_tok_gpt2_type;
extern const zoo_tokenizer_def zoo_tok_wordpiece_type;
static const zoo_tokenizer_def *const builtin_types[] = {
    &zoo_tok_char_type, &zoo_tok_word_type, &zoo_tok_gpt2_type, &zoo_tok_wordpiece_type};
#define N_BUILTIN ((int)(sizeof builtin_types / sizeof builtin_types[0]))

struct zoo_tok_type {
    const zoo_tokenizer_def *def;
    char *owner;  /* who registered it first, for messages; may be NULL */
    int refs;     /* registrations of this definition */
    int64_t live; /* tokenizers of the type not yet freed */
    zoo_tok_type *next;
};

/* Registered types in registration order. The lock guards the list and the
 * counts; no type's operation is ever called with it held, since those
 * build tokenizers (zoo_tok_type_acquire takes it). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zoo_tok_type *registered;

static const zoo_tokenizer_def *builtin(const char *name) {
    for (int i = 0; i < N_BUILTIN; i++)
        if (strcmp(builtin_types[i]->name, name) == 0) return builtin_types[i];
    return NULL;
}

static zoo_tok_type *find_registered(const char *name) { /* lock held */
    for (zoo_tok_type *ty = registered; ty; ty = ty->next)
        if (strcmp(ty->def->name, name) == 0) return ty;
    return NULL;
}

const char *zoo_tokenizer_type_name(int i) {
    if (i < 0) return NULL;
    if (i < N_BUILTIN) return builtin_types[i]->name;
    pthread_mutex_lock(&lock);
    zoo_tok_type *ty = registered;
    for (i -= N_BUILTIN; ty && i > 0; i--) ty = ty->next;
    const char *name = ty ? ty->def->name : NULL;
    pthread_mutex_unlock(&lock);
    return name;
}

bool zoo_tokenizer_type_known(const char *name) {
    if (!name) return false;
    if (builtin(name)) return true;
    pthread_mutex_lock(&lock);
    bool found = find_registered(name) != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}

const zoo_tokenizer_def *zoo_tok_find_type(const char *name) {
    const zoo_tokenizer_def *def = name ? builtin(name) : NULL;
    if (def) return def;
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; i < N_BUILTIN; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 builtin_types[i]->name);
    pthread_mutex_lock(&lock);
    zoo_tok_type *ty = name ? find_registered(name) : NULL;
    if (ty) def = ty->def;
    for (zoo_tok_type *t = registered; t && !def && used < sizeof known; t = t->next)
        used += (size_t)snprintf(known + used, sizeof known - used, ", %s", t->def->name);
    pthread_mutex_unlock(&lock);
    if (!def)
        zoo_error(ZOO_ERR_NOTFOUND, "unknown tokenizer type '%s' (known: %s)",
                  name ? name : "(null)", known);
    return def;
}

zoo_tok_type *zoo_tok_type_acquire(const char *name) {
    pthread_mutex_lock(&lock);
    zoo_tok_type *ty = name ? find_registered(name) : NULL;
    if (ty) ty->live++;
    pthread_mutex_unlock(&lock);
    return ty;
}

void zoo_tok_type_release(zoo_tok_type *ty) {
    if (!ty) return;
    pthread_mutex_lock(&lock);
    ty->live--;
    pthread_mutex_unlock(&lock);
}

/* ---- registering -------------------------------------------------------- */

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 63) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* The definition is usable: long enough, named, restorable. */
static int check_def(const zoo_tokenizer_def *def, int i) {
    if (def->size < offsetof(zoo_tokenizer_def, from_json) + sizeof def->from_json)
        return zoo_error(ZOO_ERR_ARG,
                         "tokenizer types[%d]: the definition is too short (size %zu, at least "
                         "%zu: set it to sizeof(zoo_tokenizer_def))",
                         i, def->size,
                         offsetof(zoo_tokenizer_def, from_json) + sizeof def->from_json);
    if (!def->name || !valid_name(def->name))
        return zoo_error(ZOO_ERR_ARG,
                         "tokenizer types[%d]: the name \"%s\" is not 1 to 63 of a-z, 0-9, '_' "
                         "and '-'",
                         i, def->name ? def->name : "(null)");
    if (!def->from_json)
        return zoo_error(ZOO_ERR_ARG,
                         "tokenizer type '%s' has no from_json (checkpoints restore tokenizers "
                         "with it)",
                         def->name);
    return ZOO_OK;
}

/* ZOO_ERR_STATE when types[i]'s name is taken by another definition or
 * listed before it (lock held). */
static int check_free_name(const zoo_tokenizer_def *const *types, int i) {
    const char *name = types[i]->name;
    if (builtin(name))
        return zoo_error(ZOO_ERR_STATE,
                         "tokenizer type '%s' is already registered (built into "
                         "libzoo)",
                         name);
    zoo_tok_type *ty = find_registered(name);
    if (ty && ty->def != types[i])
        return zoo_error(ZOO_ERR_STATE, "tokenizer type '%s' is already registered by %s", name,
                         ty->owner ? ty->owner : "another definition");
    for (int j = 0; j < i; j++)
        if (strcmp(types[j]->name, name) == 0)
            return zoo_error(ZOO_ERR_STATE, "tokenizer type '%s' is listed twice", name);
    return ZOO_OK;
}

int zoo_tokenizer_register_types(const zoo_tokenizer_def *const *types, const char *owner) {
    if (!types) return ZOO_OK;
    int n = 0, st = ZOO_OK;
    for (; types[n] && st == ZOO_OK; n++) st = check_def(types[n], n);
    if (st != ZOO_OK) return st;
    /* every node that may be needed, before anything changes: all or none */
    zoo_tok_type **fresh = calloc((size_t)n + 1, sizeof *fresh);
    if (!fresh) return zoo_error(ZOO_ERR_NOMEM, "tokenizer types: out of memory");
    for (int i = 0; i < n && st == ZOO_OK; i++) {
        fresh[i] = calloc(1, sizeof **fresh);
        if (fresh[i] && owner) fresh[i]->owner = strdup(owner);
        if (!fresh[i] || (owner && !fresh[i]->owner))
            st = zoo_error(ZOO_ERR_NOMEM, "tokenizer types: out of memory");
    }
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n && st == ZOO_OK; i++) st = check_free_name(types, i);
    for (int i = 0; i < n && st == ZOO_OK; i++) {
        zoo_tok_type *ty = find_registered(types[i]->name);
        if (ty) {
            ty->refs++;
            continue;
        }
        ty = fresh[i], fresh[i] = NULL;
        *ty = (zoo_tok_type){.def = types[i], .owner = ty->owner, .refs = 1};
        zoo_tok_type **end = &registered;
        while (*end) end = &(*end)->next;
        *end = ty;
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++)
        if (fresh[i]) free(fresh[i]->owner), free(fresh[i]);
    free(fresh);
    return st;
}

int zoo_tokenizer_unregister_types(const zoo_tokenizer_def *const *types) {
    if (!types) return ZOO_OK;
    int st = ZOO_OK;
    pthread_mutex_lock(&lock);
    for (int i = 0; types[i] && st == ZOO_OK; i++) {
        zoo_tok_type *ty = NULL;
        for (ty = registered; ty && ty->def != types[i];) ty = ty->next;
        int earlier = 0; /* the same definition listed before: one more registration undone */
        for (int j = 0; j < i; j++) earlier += types[j] == types[i];
        if (!ty || ty->refs <= earlier)
            st = zoo_error(ZOO_ERR_NOTFOUND, "tokenizer type '%s' is not registered",
                           types[i]->name ? types[i]->name : "(null)");
        else if (ty->refs == earlier + 1 && ty->live > 0)
            st = zoo_error(ZOO_ERR_STATE, "tokenizer type '%s' still has %lld live tokenizer(s)",
                           ty->def->name, (long long)ty->live);
    }
    for (int i = 0; types[i] && st == ZOO_OK; i++) {
        zoo_tok_type **at = &registered;
        while ((*at)->def != types[i]) at = &(*at)->next;
        zoo_tok_type *ty = *at;
        if (--ty->refs > 0) continue;
        *at = ty->next;
        free(ty->owner);
        free(ty);
    }
    pthread_mutex_unlock(&lock);
    return st;
}
