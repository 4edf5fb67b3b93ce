#include "extras.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"

/* A bool argument is passed as ffi_type_uint8 from a C bool. */
_Static_assert(sizeof(bool) == 1, "C bool must be one byte to match ffi_type_uint8");

static const char *const type_names[] = {
    [ZOO_X_VOID] = "void",     [ZOO_X_INT64] = "int64",   [ZOO_X_DOUBLE] = "double",
    [ZOO_X_BOOL] = "bool",     [ZOO_X_STRING] = "string", [ZOO_X_MODEL] = "model",
    [ZOO_X_BUFFER] = "buffer",
};
#define N_TYPES ((int)(sizeof type_names / sizeof type_names[0]))

int zoo_extra_type_parse(const char *name) {
    if (!name) return -1;
    for (int t = 0; t < N_TYPES; t++)
        if (strcmp(name, type_names[t]) == 0) return t;
    return -1;
}

const char *zoo_extra_type_name(zoo_extra_type t) {
    return (int)t >= 0 && (int)t < N_TYPES ? type_names[t] : "unknown";
}

static char *vformat(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

static ffi_type *ffi_type_of(zoo_extra_type t) {
    switch (t) {
    case ZOO_X_VOID:
        return &ffi_type_void;
    case ZOO_X_INT64:
        return &ffi_type_sint64;
    case ZOO_X_DOUBLE:
        return &ffi_type_double;
    case ZOO_X_BOOL:
        return &ffi_type_uint8;
    case ZOO_X_STRING:
    case ZOO_X_MODEL:
    case ZOO_X_BUFFER:
        return &ffi_type_pointer;
    }
    return NULL;
}

/* Why a declaration cannot be called, as a malloc'ed reason without the
 * "extra ... of plugin ...:" prefix; NULL when it is valid. *oom is set when
 * the reason could not be allocated. */
static char *decl_problem(const zoo_extra_decl *d, bool *oom) {
    char *why = NULL;
    if (d->error) {
        why = format("%s", d->error);
    } else if (d->n_args < 0 || d->n_args > ZOO_EXTRA_MAX_ARGS) {
        why = format("%d arguments declared, at most %d are supported", d->n_args,
                     ZOO_EXTRA_MAX_ARGS);
    } else if (!ffi_type_of(d->ret)) {
        why = format("unknown return type (%d)", (int)d->ret);
    } else if (d->ret == ZOO_X_MODEL || d->ret == ZOO_X_BUFFER) {
        why = format("return type '%s' is only valid for an argument", zoo_extra_type_name(d->ret));
    } else {
        int buffers = 0;
        for (int i = 0; i < d->n_args && !why; i++) {
            zoo_extra_type t = d->args[i];
            if (!ffi_type_of(t))
                why = format("argument %d has unknown type (%d)", i + 1, (int)t);
            else if (t == ZOO_X_VOID)
                why = format("argument %d has type 'void', which is only valid as a return type",
                             i + 1);
            else if (t == ZOO_X_BUFFER && ++buffers > 1)
                why = format("argument %d is a second 'buffer'; at most one is supported", i + 1);
        }
        if (!why) return NULL;
    }
    *oom = !why;
    return why;
}

/* The path of the object that defines `sym`, or NULL when it is the object
 * of `handle` itself. dlsym on a handle also searches the library's
 * dependencies, so without this check a declaration naming "system" or
 * "free" would call into libc. */
static const char *defined_elsewhere(void *handle, void *sym) {
    struct link_map *own = NULL, *found = NULL;
    Dl_info info;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &own) != 0 ||
        !dladdr1(sym, &info, (void **)&found, RTLD_DL_LINKMAP) || !found)
        return NULL; /* cannot tell: trust the lookup */
    if (found == own) return NULL;
    return info.dli_fname && *info.dli_fname ? info.dli_fname : "another object";
}

static char *resolve_one(zoo_extra *x, void *handle, const char *library_path, bool *oom) {
    const zoo_extra_decl *d = x->decl;
    char *why = decl_problem(d, oom);
    if (why || *oom) return why;
    const char *symbol = d->symbol ? d->symbol : d->name;
    void *sym = dlsym(handle, symbol);
    const char *other = sym ? defined_elsewhere(handle, sym) : NULL;
    if (!sym)
        why = format("symbol '%s' not found in %s", symbol, library_path);
    else if (other)
        why = format("symbol '%s' is not defined in %s (it comes from %s)", symbol, library_path,
                     other);
    if (!why) {
        for (int i = 0; i < d->n_args; i++) x->arg_types[i] = ffi_type_of(d->args[i]);
        ffi_status st = ffi_prep_cif(&x->cif, FFI_DEFAULT_ABI, (unsigned)d->n_args,
                                     ffi_type_of(d->ret), x->arg_types);
        if (st == FFI_OK) {
            x->fn = (void (*)(void))sym;
            return NULL;
        }
        why = format("libffi cannot prepare the call (ffi_prep_cif returned %d)", (int)st);
    }
    *oom = !why;
    return why;
}

zoo_extra *zoo_extras_resolve(void *handle, const char *plugin_name, const char *library_path,
                              const zoo_extra_decl *decls, int n) {
    if (n < 0) n = 0;
    /* At least one element, so that n == 0 is not mistaken for out of memory. */
    zoo_extra *xs = calloc(n > 0 ? (size_t)n : 1, sizeof *xs);
    if (!xs) return NULL;
    for (int i = 0; i < n; i++) {
        zoo_extra *x = &xs[i];
        x->decl = &decls[i];
        bool oom = false;
        char *why = resolve_one(x, handle, library_path, &oom);
        if (why) {
            /* A declaration the registry refused may lack even its name. */
            const char *name = x->decl->name ? x->decl->name : "(unnamed)";
            x->error = format("extra '%s' of plugin '%s': %s", name, plugin_name, why);
            free(why);
            oom = !x->error;
        }
        if (oom) {
            zoo_extras_free(xs, i + 1);
            return NULL;
        }
    }
    return xs;
}

void zoo_extras_free(zoo_extra *x, int n) {
    if (!x) return;
    for (int i = 0; i < n; i++) free(x[i].error);
    free(x);
}

static bool is_text_arg(zoo_extra_type t) {
    return t != ZOO_X_MODEL && t != ZOO_X_BUFFER;
}

int zoo_extra_text_arity(const zoo_extra *x) {
    int n = 0;
    for (int i = 0; i < x->decl->n_args; i++) n += is_text_arg(x->decl->args[i]);
    return n;
}

/* One argument's value, in storage of its C type; libffi reads it through
 * a pointer to the member that matches the declared type. */
typedef union arg_value {
    int64_t i;
    double d;
    bool b;
    const char *s;
    void *p;
} arg_value;

/* Converts text to type t into *v; on failure, what is wrong with it. */
static const char *convert(zoo_extra_type t, const char *text, arg_value *v) {
    char *end = NULL;
    switch (t) {
    case ZOO_X_INT64: {
        if (!*text || !(*text == '-' || *text == '+' || (*text >= '0' && *text <= '9')))
            return "is not an integer";
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (*end) return "is not an integer";
        if (errno == ERANGE) return "is out of range for int64";
        v->i = (int64_t)n;
        return NULL;
    }
    case ZOO_X_DOUBLE: {
        /* strtod skips leading space; the other types do not, nor does this. */
        if (!*text || *text == ' ' || (*text >= '\t' && *text <= '\r')) return "is not a number";
        errno = 0;
        double d = strtod(text, &end);
        if (*end) return "is not a number";
        if (errno == ERANGE && isinf(d)) return "is out of range for double";
        v->d = d;
        return NULL;
    }
    case ZOO_X_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            v->b = true;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            v->b = false;
        else
            return "is not true, false, 1 or 0";
        return NULL;
    case ZOO_X_STRING:
        v->s = text;
        return NULL;
    default:
        return "has a type that is not passed as text";
    }
}

/* "int64, double" for the arity message. */
static void text_types(const zoo_extra *x, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < x->decl->n_args; i++) {
        if (!is_text_arg(x->decl->args[i])) continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                         zoo_extra_type_name(x->decl->args[i]));
        if (w < 0 || (size_t)w >= size - len) return;
        len += (size_t)w;
    }
}

/* The return value as text, from the slot of its declared type. */
static char *format_return(zoo_extra_type t, int64_t i, double d, ffi_arg b, char *s) {
    switch (t) {
    case ZOO_X_INT64:
        return format("%" PRId64, i);
    case ZOO_X_DOUBLE:
        return format("%.17g", d);
    case ZOO_X_BOOL:
        /* libffi widens a uint8 return into the whole ffi_arg; only the low byte is the bool. */
        return format("%s", (uint8_t)b ? "true" : "false");
    case ZOO_X_STRING:
        return format("%s", s);
    default:
        return format("%s", "");
    }
}

int zoo_extra_call(const zoo_extra *x, const char *plugin_name, void *model,
                   const char *const *argv, int argc, char **result) {
    const zoo_extra_decl *d = x->decl;
    *result = NULL;
    if (!x->fn)
        return zoo_error(ZOO_ERR_STATE, "%s.%s: disabled: %s", plugin_name, d->name,
                         x->error ? x->error : "not resolved");
    int arity = zoo_extra_text_arity(x);
    if (argc != arity) {
        char types[256];
        text_types(x, types, sizeof types);
        if (arity == 0)
            return zoo_error(ZOO_ERR_ARG, "%s.%s: expects no arguments, got %d", plugin_name,
                             d->name, argc);
        return zoo_error(ZOO_ERR_ARG, "%s.%s: expects %d argument%s (%s), got %d", plugin_name,
                         d->name, arity, arity == 1 ? "" : "s", types, argc);
    }

    arg_value values[ZOO_EXTRA_MAX_ARGS];
    void *avalues[ZOO_EXTRA_MAX_ARGS];
    char *buffer = NULL;
    int text = 0;
    for (int i = 0; i < d->n_args; i++) {
        zoo_extra_type t = d->args[i];
        arg_value *v = &values[i];
        if (t == ZOO_X_MODEL) {
            if (!model) {
                free(buffer);
                return zoo_error(ZOO_ERR_ARG, "%s.%s: takes a model, and none was given",
                                 plugin_name, d->name);
            }
            v->p = model;
            avalues[i] = &v->p;
        } else if (t == ZOO_X_BUFFER) {
            buffer = calloc(ZOO_EXTRA_BUFFER_BYTES, 1);
            if (!buffer)
                return zoo_error(ZOO_ERR_NOMEM, "%s.%s: out of memory", plugin_name, d->name);
            v->p = buffer;
            avalues[i] = &v->p;
        } else {
            const char *text_arg = argv[text++];
            const char *why = convert(t, text_arg, v);
            if (why) {
                free(buffer);
                return zoo_error(ZOO_ERR_ARG, "%s.%s: argument %d (%s): '%s' %s", plugin_name,
                                 d->name, text, zoo_extra_type_name(t), text_arg, why);
            }
            avalues[i] = t == ZOO_X_INT64    ? (void *)&v->i
                         : t == ZOO_X_DOUBLE ? (void *)&v->d
                         : t == ZOO_X_BOOL   ? (void *)&v->b
                                             : (void *)&v->s;
        }
    }

    /* One return slot per declared type (STYLE.md point 6): libffi writes a
     * double return as a double, an int64 as int64, a pointer as a pointer,
     * and a narrower integer (bool) widened to a whole ffi_arg. */
    int64_t ret_i = 0;
    double ret_d = 0;
    ffi_arg ret_b = 0;
    char *ret_s = NULL;
    void *rvalue = d->ret == ZOO_X_INT64    ? (void *)&ret_i
                   : d->ret == ZOO_X_DOUBLE ? (void *)&ret_d
                   : d->ret == ZOO_X_STRING ? (void *)&ret_s
                                            : (void *)&ret_b; /* bool, and void (ignored) */
    zoo_error_clear();
    /* ffi_call only reads the cif; its prototype just lacks the const. */
    ffi_call((ffi_cif *)&x->cif, x->fn, rvalue, avalues);

    /* ret_s was written through rvalue by ffi_call */
    // cppcheck-suppress knownConditionTrueFalse
    if (d->ret == ZOO_X_STRING && !ret_s) {
        free(buffer);
        const char *msg = zoo_error_message(); /* zoo_error may quote its own last message */
        return zoo_error(ZOO_ERR_ARG, "%s.%s: failed%s%s", plugin_name, d->name,
                         *msg ? ": " : " (returned NULL)", msg);
    }
    char *value = format_return(d->ret, ret_i, ret_d, ret_b, ret_s);
    free(ret_s); /* the extra's string, malloc'ed by contract */
    if (value && buffer) {
        /* The extra may fill the whole buffer without a terminating NUL. */
        size_t vlen = strlen(value), blen = strnlen(buffer, ZOO_EXTRA_BUFFER_BYTES);
        size_t sep = d->ret != ZOO_X_VOID;
        char *both = malloc(vlen + sep + blen + 1);
        if (both) {
            memcpy(both, value, vlen);
            if (sep) both[vlen] = '\n';
            memcpy(both + vlen + sep, buffer, blen);
            both[vlen + sep + blen] = '\0';
        }
        free(value);
        value = both;
    }
    free(buffer);
    if (!value) return zoo_error(ZOO_ERR_NOMEM, "%s.%s: out of memory", plugin_name, d->name);
    *result = value;
    return ZOO_OK;
}
