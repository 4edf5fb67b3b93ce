/* Extra functions: C functions a plugin exports beside its entry point,
 * declared (name, symbol, return and argument types) in its registry entry
 * and called by the host through libffi, so `zoo call PLUGIN.NAME ARG...`
 * and run scripts reach them without the host knowing them at compile time.
 *
 * Each call follows the declared signature exactly (STYLE.md point 6): the
 * return value lands in storage of the declared type, never in a generic
 * slot, and no extra is ever called as variadic. A declaration that does not
 * match what the library exports cannot be detected by the linker; the
 * declaration is the contract, and a wrong one is the registry's fault.
 *
 * Not thread-safe as a set, but calls of different extras share nothing. */
#ifndef ZOO_HOST_EXTRAS_H
#define ZOO_HOST_EXTRAS_H

#include <ffi.h>

#include "registry.h"

/* One declared extra, resolved against an open library. The call interface
 * points into the struct itself (arg_types), so an array from
 * zoo_extras_resolve must not be copied or moved element by element. */
typedef struct zoo_extra {
    const zoo_extra_decl *decl; /* borrowed: must outlive this */
    void (*fn)(void);           /* the resolved symbol, NULL when disabled */
    ffi_cif cif;
    ffi_type *arg_types[ZOO_EXTRA_MAX_ARGS];
    /* NULL, or why this extra is disabled, naming the extra and the plugin:
     *   extra 'x' of plugin 'p': symbol 'p_x' not found in /path/lib.so
     *   extra 'x' of plugin 'p': argument 2 has type 'void', ...
     * A disabled extra is still listed; only calling it fails. */
    char *error;
} zoo_extra;

/* Resolves each of the n declarations against `handle` (from dlopen) and
 * prepares its call interface. A symbol the library itself does not define
 * (missing, hidden, or only found in one of its dependencies such as libc)
 * or an invalid declaration (a decl->error from the registry, "void" as an
 * argument, "model" or "buffer" as a return type, more than one buffer, an
 * argument count outside 0..ZOO_EXTRA_MAX_ARGS) disables only that extra.
 * `plugin_name` and `library_path` are used in messages only. Returns a
 * malloc'ed array of n (n may be 0) to free with zoo_extras_free; NULL only
 * when out of memory. `decls` must outlive the array. */
zoo_extra *zoo_extras_resolve(void *handle, const char *plugin_name, const char *library_path,
                              const zoo_extra_decl *decls, int n);
void zoo_extras_free(zoo_extra *x, int n);

/* How many arguments a caller passes as text: every argument except "model"
 * (the loaded model) and "buffer" (supplied by the host). */
int zoo_extra_text_arity(const zoo_extra *x);

/* Calls the extra with argv[0..argc) converted to its declared text
 * argument types, in order:
 *   int64  decimal, optional sign, no surrounding space, within int64_t;
 *   double anything strtod reads completely ("2.5", "1e-3", "inf"), finite
 *          unless written as inf/nan;
 *   bool   exactly true, false, 1 or 0;
 *   string passed as is (borrowed for the call).
 * A "model" argument gets `model` (a zoo_model * of this plugin; NULL is an
 * error when the extra takes one). A "buffer" argument gets a zeroed host
 * buffer of ZOO_EXTRA_BUFFER_BYTES that the extra fills with text.
 *
 * Nothing is called unless every argument converts. Errors (messages start
 * with "zoo call PLUGIN.NAME: "):
 *   ZOO_ERR_STATE  the extra is disabled (its error is quoted);
 *   ZOO_ERR_ARG    wrong argument count, a text that does not convert
 *                  (naming its 1-based position among the text arguments,
 *                  its type and the text), no model for a model argument,
 *                  or a "string" extra that returned NULL (the extra's own
 *                  zoo_error message is quoted when it left one);
 *   ZOO_ERR_NOMEM.
 * On success *result is malloc'ed text for the caller to free: the return
 * value (int64 as %lld, double as %.17g, bool as true/false, string as
 * returned, after which the host free()s the extra's malloc'ed string; void
 * as nothing), then, when there is a buffer argument, the buffer's text,
 * separated from a non-void return value by one newline. */
int zoo_extra_call(const zoo_extra *x, const char *plugin_name, void *model,
                   const char *const *argv, int argc, char **result);

#endif
