/* Reading registries and drop-in manifests. Nothing here opens a library:
 * every error is about a file or a field, and breaks only its own entry. */
#include "registry.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "json_type.h"
#include "trust.h"
#include "zoo/hparams.h"
#include "zoo/io.h"
#include "zoo/json.h"
#include "zoo/plugin.h"
#include "zoo/status.h"

#define REGISTRY_FORMAT 1

static char *xstrdup(const char *s) {
    return s ? strdup(s) : NULL;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

static void add_file_error(zoo_registry *r, char *message) {
    char **grown = realloc(r->file_errors, (size_t)(r->n_file_errors + 1) * sizeof *grown);
    if (!grown) {
        free(message);
        return;
    }
    r->file_errors = grown;
    r->file_errors[r->n_file_errors++] = message;
}

static zoo_reg_entry *add_entry(zoo_registry *r) {
    zoo_reg_entry *grown = realloc(r->entries, (size_t)(r->count + 1) * sizeof *grown);
    if (!grown) return NULL;
    r->entries = grown;
    zoo_reg_entry *e = &r->entries[r->count++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Records the entry's first error. */
static void entry_fail(zoo_reg_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void entry_fail(zoo_reg_entry *e, const char *fmt, ...) {
    if (e->error) return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&e->error, fmt, ap) < 0) e->error = NULL;
    va_end(ap);
}

static const char *closest(const char *key, const char *const *known) {
    int n = 0;
    while (known[n]) n++;
    return zoo_suggest(key, known, n);
}

/* The first key of obj not in known, with a suggestion, as an error; NULL if none. */
static char *unknown_key(const cJSON *obj, const char *const *known, const char *where,
                         const char *file) {
    for (const cJSON *item = obj->child; item; item = item->next) {
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++) ok = strcmp(item->string, known[i]) == 0;
        if (ok) continue;
        const char *near = closest(item->string, known);
        if (near)
            return format("%s: %s%s: unknown field (did you mean '%s'?)", file, where, item->string,
                          near);
        return format("%s: %s%s: unknown field", file, where, item->string);
    }
    return NULL;
}

/* A string field: required or not. Returns its value or NULL (error recorded). */
static const char *string_field(zoo_reg_entry *e, const cJSON *obj, const char *key, bool required,
                                const char *file, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required) entry_fail(e, "%s: %s%s: missing (a string is required)", file, where, key);
        return NULL;
    }
    if (!cJSON_IsString(v) || !*v->valuestring) {
        entry_fail(e, "%s: %s%s: expected a non-empty string, got %s", file, where, key,
                   cJSON_IsString(v) ? "\"\"" : zoo_json_type(v));
        return NULL;
    }
    return v->valuestring;
}

static bool valid_plugin_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_')) return false;
    return true;
}

static bool valid_sha256(const char *s) {
    if (strlen(s) != 64) return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s)) return false;
    return true;
}

static void read_extra(zoo_extra_decl *x, const cJSON *obj, const char *file, const char *where) {
    static const char *const known[] = {"name", "symbol", "returns", "args", "help", NULL};
    x->ret = ZOO_X_VOID;
    if (!cJSON_IsObject(obj)) {
        x->error = format("%s: %s: expected an object, got %s", file, where, zoo_json_type(obj));
        return;
    }
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s.", where);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    const cJSON *symbol = cJSON_GetObjectItemCaseSensitive(obj, "symbol");
    const cJSON *ret = cJSON_GetObjectItemCaseSensitive(obj, "returns");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(obj, "args");
    const cJSON *help = cJSON_GetObjectItemCaseSensitive(obj, "help");
    x->name = xstrdup(cJSON_IsString(name) ? name->valuestring : NULL);
    x->symbol = xstrdup(cJSON_IsString(symbol) ? symbol->valuestring : x->name);
    x->help = xstrdup(cJSON_IsString(help) ? help->valuestring : NULL);
    if ((x->error = unknown_key(obj, known, prefix, file))) return;
    if (!x->name || !*x->name) {
        x->error = format("%s: %sname: missing (a string is required)", file, prefix);
        return;
    }
    if ((symbol && !cJSON_IsString(symbol)) || (help && !cJSON_IsString(help))) {
        x->error = format("%s: %s%s: expected a string", file, prefix,
                          symbol && !cJSON_IsString(symbol) ? "symbol" : "help");
        return;
    }
    if (ret) {
        int t = cJSON_IsString(ret) ? zoo_extra_type_parse(ret->valuestring) : -1;
        if (t < 0) {
            x->error =
                format("%s: %sreturns: unknown type %s (types: void, int64, double, bool, string)",
                       file, prefix, cJSON_IsString(ret) ? ret->valuestring : zoo_json_type(ret));
            return;
        }
        x->ret = (zoo_extra_type)t;
    }
    if (args && !cJSON_IsArray(args)) {
        x->error = format("%s: %sargs: expected an array of type names, got %s", file, prefix,
                          zoo_json_type(args));
        return;
    }
    int i = 0;
    for (const cJSON *a = args ? args->child : NULL; a; a = a->next, i++) {
        if (i >= ZOO_EXTRA_MAX_ARGS) {
            x->error =
                format("%s: %sargs: more than %d arguments", file, prefix, ZOO_EXTRA_MAX_ARGS);
            return;
        }
        int t = cJSON_IsString(a) ? zoo_extra_type_parse(a->valuestring) : -1;
        if (t < 0) {
            x->error =
                format("%s: %sargs[%d]: unknown type %s (types: int64, double, bool, string, "
                       "model, buffer)",
                       file, prefix, i, cJSON_IsString(a) ? a->valuestring : zoo_json_type(a));
            return;
        }
        x->args[i] = (zoo_extra_type)t;
    }
    x->n_args = i;
}

/* "tokenizers": ["bytes", ...], the tokenizer types the library provides;
 * whether it does is checked when it is loaded. */
static void read_tokenizers(zoo_reg_entry *e, const cJSON *list, const char *file,
                            const char *where) {
    if (!list) return;
    if (!cJSON_IsArray(list)) {
        entry_fail(e, "%s: %stokenizers: expected an array of tokenizer type names, got %s", file,
                   where, zoo_json_type(list));
        return;
    }
    if (!e->error && (e->abi_major < 1 || (e->abi_major == 1 && e->abi_minor < 2)))
        entry_fail(e,
                   "%s: %stokenizers: plugins provide tokenizer types from ABI 1.2 on, the entry "
                   "says %d.%d",
                   file, where, e->abi_major, e->abi_minor);
    int n = cJSON_GetArraySize(list), i = 0;
    e->tokenizers = calloc((size_t)(n > 0 ? n : 1), sizeof *e->tokenizers);
    for (const cJSON *t = list->child; t && e->tokenizers; t = t->next, i++) {
        if (!cJSON_IsString(t) || !*t->valuestring) {
            entry_fail(e, "%s: %stokenizers[%d]: expected a non-empty string, got %s", file, where,
                       i, cJSON_IsString(t) ? "\"\"" : zoo_json_type(t));
            continue;
        }
        for (int j = 0; j < e->n_tokenizers; j++)
            if (strcmp(e->tokenizers[j], t->valuestring) == 0)
                entry_fail(e, "%s: %stokenizers[%d]: \"%s\" is listed twice", file, where, i,
                           t->valuestring);
        e->tokenizers[e->n_tokenizers++] = strdup(t->valuestring);
    }
}

/* An entry's optional object `name` (its value `obj`, NULL when absent):
 * true when it is there, an object, with no key outside `known`; when it is
 * there but wrong the entry fails, naming the file and the field. `at`
 * receives the prefix of its fields' names ("plugins[3].card."). */
static bool sound_section(zoo_reg_entry *e, const cJSON *obj, const char *name,
                          const char *const *known, const char *file, const char *where,
                          char at[96]) {
    if (!obj) return false;
    if (!cJSON_IsObject(obj)) {
        entry_fail(e, "%s: %s%s: expected an object, got %s", file, where, name,
                   zoo_json_type(obj));
        return false;
    }
    snprintf(at, 96, "%s%s.", where, name);
    char *unknown = unknown_key(obj, known, at, file);
    if (unknown) {
        entry_fail(e, "%s", unknown);
        free(unknown);
        return false;
    }
    return true;
}

static void read_card(zoo_reg_entry *e, const cJSON *card, const char *file, const char *where) {
    static const char *const known[] = {"sees",    "inputs", "pretraining",   "layers", "width",
                                        "context", "heads",  "hf_classifier", NULL};
    char at[96];
    if (!sound_section(e, card, "card", known, file, where, at)) return;
    char **texts[] = {&e->card.sees, &e->card.inputs, &e->card.pretraining};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, known[i]);
        if (v && !cJSON_IsString(v))
            entry_fail(e, "%s: %s%s: expected a string, got %s", file, at, known[i],
                       zoo_json_type(v));
        else if (v)
            *texts[i] = xstrdup(v->valuestring);
    }
    const cJSON *hf = cJSON_GetObjectItemCaseSensitive(card, "hf_classifier");
    if (hf && !(cJSON_IsString(hf) && *hf->valuestring))
        entry_fail(e, "%s: %shf_classifier: expected an architecture's name, got %s", file, at,
                   zoo_json_type(hf));
    else if (hf)
        e->card.hf_classifier = xstrdup(hf->valuestring);
    char **sizes[] = {&e->card.layers, &e->card.width, &e->card.context};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, known[3 + i]);
        if (!v) continue;
        if (cJSON_IsString(v) && *v->valuestring)
            *sizes[i] = xstrdup(v->valuestring);
        else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e15 &&
                 v->valuedouble == (double)(int64_t)v->valuedouble)
            *sizes[i] = format("%lld", (long long)v->valuedouble);
        else
            entry_fail(e, "%s: %s%s: expected a hyperparameter's name or an integer >= 0, got %s",
                       file, at, known[3 + i], zoo_json_type(v));
    }
    const cJSON *heads = cJSON_GetObjectItemCaseSensitive(card, "heads");
    int n = cJSON_IsArray(heads) ? cJSON_GetArraySize(heads) : 0;
    if (heads && !(cJSON_IsArray(heads) && n > 0)) {
        entry_fail(e, "%s: %sheads: expected an array of parameter-name prefixes, got %s", file, at,
                   zoo_json_type(heads));
        return;
    }
    e->card.heads = heads ? calloc((size_t)n, sizeof *e->card.heads) : NULL;
    for (const cJSON *h = heads ? heads->child : NULL; h && e->card.heads; h = h->next) {
        if (!cJSON_IsString(h) || !*h->valuestring) {
            entry_fail(e, "%s: %sheads[%d]: expected a non-empty string, got %s", file, at,
                       e->card.n_heads, zoo_json_type(h));
            return;
        }
        e->card.heads[e->card.n_heads++] = xstrdup(h->valuestring);
    }
}

/* One list of "imports": non-empty strings; file names must be plain names. */
static void read_name_list(zoo_reg_entry *e, const cJSON *obj, const char *key, bool file_names,
                           char ***out, int *n, const char *file, const char *at) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!list) return;
    if (!cJSON_IsArray(list)) {
        entry_fail(e, "%s: %s%s: expected an array of strings, got %s", file, at, key,
                   zoo_json_type(list));
        return;
    }
    *out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof **out);
    int i = 0;
    for (const cJSON *v = list->child; v && *out; v = v->next, i++) {
        if (!cJSON_IsString(v) || !*v->valuestring)
            entry_fail(e, "%s: %s%s[%d]: expected a non-empty string, got %s", file, at, key, i,
                       cJSON_IsString(v) ? "\"\"" : zoo_json_type(v));
        else if (file_names && (strchr(v->valuestring, '/') || strcmp(v->valuestring, "..") == 0 ||
                                strcmp(v->valuestring, ".") == 0))
            entry_fail(e, "%s: %s%s[%d]: \"%s\" is not a plain file name", file, at, key, i,
                       v->valuestring);
        else
            (*out)[(*n)++] = strdup(v->valuestring);
    }
}

static void read_imports(zoo_reg_entry *e, const cJSON *imports, const char *file,
                         const char *where) {
    static const char *const known[] = {"hf_model_types", "files", "tokenizer_files", NULL};
    char at[96];
    if (!sound_section(e, imports, "imports", known, file, where, at)) return;
    zoo_reg_imports *im = &e->imports;
    im->declared = true;
    read_name_list(e, imports, "hf_model_types", false, &im->hf_model_types, &im->n_hf_model_types,
                   file, at);
    read_name_list(e, imports, "files", true, &im->files, &im->n_files, file, at);
    read_name_list(e, imports, "tokenizer_files", true, &im->tokenizer_files,
                   &im->n_tokenizer_files, file, at);
}

/* Fills e from one entry object. `where` is "plugins[3]." or "" (manifest). */
static void read_entry(zoo_reg_entry *e, const cJSON *obj, const char *file, const char *where,
                       const char *default_library) {
    static const char *const known[] = {"name", "version", "summary", "library",
                                        "abi",  "sha256",  "exports", "tokenizers",
                                        "card", "imports", NULL};
    e->source = xstrdup(file);
    e->where = xstrdup(where);
    if (!cJSON_IsObject(obj)) {
        size_t n = strlen(where); /* "plugins[3]." without its dot */
        entry_fail(e, "%s: %.*s: expected an object, got %s", file,
                   (int)(n ? n - (where[n - 1] == '.') : 8), n ? where : "manifest",
                   zoo_json_type(obj));
        return;
    }
    const char *name = string_field(e, obj, "name", true, file, where);
    e->name = xstrdup(name);
    if (name && !valid_plugin_name(name))
        entry_fail(e, "%s: %sname: \"%s\" must be lower-case letters, digits and '_'", file, where,
                   name);
    char *unknown = unknown_key(obj, known, where, file);
    if (unknown) {
        entry_fail(e, "%s", unknown);
        free(unknown);
    }
    e->version = xstrdup(string_field(e, obj, "version", true, file, where));
    e->summary = xstrdup(string_field(e, obj, "summary", true, file, where));
    const char *library = string_field(e, obj, "library", default_library == NULL, file, where);
    if (!library) library = default_library;
    if (library) e->library = zoo_path_relative_to(file, library);
    if (e->library &&
        !strchr(e->library, '/')) { /* dlopen searches the library path for bare names */
        char *local = format("./%s", e->library);
        free(e->library);
        e->library = local;
    }

    const cJSON *abi = cJSON_GetObjectItemCaseSensitive(obj, "abi");
    int major = 0, minor = 0, used = 0;
    if (!abi)
        entry_fail(e, "%s: %sabi: missing (a string \"MAJOR.MINOR\" is required)", file, where);
    else if (!cJSON_IsString(abi) ||
             sscanf(abi->valuestring, "%d.%d%n", &major, &minor, &used) != 2 ||
             abi->valuestring[used] || major < 0 || minor < 0)
        entry_fail(e, "%s: %sabi: expected \"MAJOR.MINOR\" such as \"1.0\", got %s%s%s", file,
                   where, cJSON_IsString(abi) ? "\"" : "",
                   cJSON_IsString(abi) ? abi->valuestring : zoo_json_type(abi),
                   cJSON_IsString(abi) ? "\"" : "");
    e->abi_major = major, e->abi_minor = minor;
    if (!e->error && (major != ZOO_ABI_MAJOR || minor > ZOO_ABI_MINOR))
        entry_fail(
            e,
            "%s: %sabi: plugin '%s' is registered for ABI %d.%d, this host supports %d.0 to %d.%d",
            file, where, e->name ? e->name : "?", major, minor, ZOO_ABI_MAJOR, ZOO_ABI_MAJOR,
            ZOO_ABI_MINOR);

    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(obj, "sha256");
    if (sha && !(cJSON_IsString(sha) && valid_sha256(sha->valuestring)))
        entry_fail(e, "%s: %ssha256: expected 64 lower-case hexadecimal digits", file, where);
    else if (sha)
        e->sha256 = xstrdup(sha->valuestring);

    const cJSON *exports = cJSON_GetObjectItemCaseSensitive(obj, "exports");
    if (exports && !cJSON_IsArray(exports)) {
        entry_fail(e, "%s: %sexports: expected an array, got %s", file, where,
                   zoo_json_type(exports));
    } else if (exports) {
        int n = cJSON_GetArraySize(exports);
        e->extras = calloc((size_t)(n > 0 ? n : 1), sizeof *e->extras);
        for (const cJSON *x = exports->child; x && e->extras; x = x->next) {
            char at[96];
            snprintf(at, sizeof at, "%sexports[%d]", where, e->n_extras);
            read_extra(&e->extras[e->n_extras++], x, file, at);
        }
    }
    read_tokenizers(e, cJSON_GetObjectItemCaseSensitive(obj, "tokenizers"), file, where);
    read_card(e, cJSON_GetObjectItemCaseSensitive(obj, "card"), file, where);
    read_imports(e, cJSON_GetObjectItemCaseSensitive(obj, "imports"), file, where);
    struct stat st;
    if (!e->error && e->library && stat(e->library, &st) != 0)
        entry_fail(e, "%s: %slibrary: %s: %s", file, where, e->library, strerror(errno));
    /* a library another user could replace is refused before anything opens it */
    if (!e->error && e->library && zoo_trust_check_path(e->library, "plugin library") != ZOO_OK)
        entry_fail(e, "%s: %slibrary: %s", file, where, zoo_error_message());
}

static cJSON *parse_file(zoo_registry *r, const char *path) {
    size_t len = 0;
    char *text = zoo_read_file_max(path, &len, ZOO_READ_MAX_JSON);
    if (!text) {
        add_file_error(r, format("%s: cannot read: %s", path, zoo_error_message()));
        return NULL;
    }
    if (zoo_json_check_text(path, text, len)) {
        add_file_error(r, format("%s", zoo_error_message()));
        free(text);
        return NULL;
    }
    const char *end = NULL;
    /* len + 1: cJSON wants to see the terminator when it must end the document */
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (doc && zoo_json_check_keys(path, doc)) {
        add_file_error(r, format("%s", zoo_error_message()));
        cJSON_Delete(doc);
        doc = NULL;
    } else if (!doc) {
        int line = 1, col = 1;
        for (const char *c = text; end && c < end; c++) col = *c == '\n' ? (line++, 1) : col + 1;
        int near = end ? (int)strcspn(end, "\n") : 0;
        if (near == 0)
            add_file_error(r, format("%s:%d:%d: malformed JSON: unexpected end", path, line, col));
        else
            add_file_error(r, format("%s:%d:%d: malformed JSON near '%.*s'", path, line, col,
                                     near < 20 ? near : 20, end));
    }
    free(text);
    return doc;
}

void zoo_registry_read_file(zoo_registry *r, const char *path) {
    static const char *const known[] = {"format", "plugins", NULL};
    cJSON *doc = parse_file(r, path);
    if (!doc) return;
    char *unknown = cJSON_IsObject(doc) ? unknown_key(doc, known, "", path) : NULL;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(doc, "plugins");
    if (!cJSON_IsObject(doc))
        add_file_error(r,
                       format("%s: expected a JSON object with \"format\" and \"plugins\"", path));
    else if (unknown)
        add_file_error(r, unknown), unknown = NULL;
    else if (!cJSON_IsNumber(fmt) || fmt->valuedouble != REGISTRY_FORMAT)
        add_file_error(r,
                       format("%s: format: expected the number %d, got %s", path, REGISTRY_FORMAT,
                              fmt ? (cJSON_IsNumber(fmt) ? "another number" : zoo_json_type(fmt))
                                  : "nothing"));
    else if (!cJSON_IsArray(plugins))
        add_file_error(r, format("%s: plugins: expected an array, got %s", path,
                                 plugins ? zoo_json_type(plugins) : "nothing"));
    else {
        int i = 0;
        for (const cJSON *p = plugins->child; p; p = p->next, i++) {
            zoo_reg_entry *e = add_entry(r);
            if (!e) break;
            char where[32];
            snprintf(where, sizeof where, "plugins[%d].", i);
            read_entry(e, p, path, where, NULL);
        }
    }
    free(unknown);
    cJSON_Delete(doc);
}

void zoo_registry_read_manifest(zoo_registry *r, const char *json_path, const char *library_path) {
    cJSON *doc = parse_file(r, json_path);
    if (!doc) return;
    zoo_reg_entry *e = add_entry(r);
    if (e) read_entry(e, doc, json_path, "", library_path);
    if (e) e->dropin = true;
    cJSON_Delete(doc);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NAME.json + NAME.so pairs of one drop-in directory, in name order. */
static void read_plugin_dir(zoo_registry *r, const char *dir) {
    /* a directory others can add files to would let them add plugins */
    if (zoo_trust_check_path(dir, "drop-in directory (ZOO_PLUGIN_PATH)") != ZOO_OK) {
        add_file_error(r, strdup(zoo_error_message()));
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        add_file_error(
            r, format("%s (ZOO_PLUGIN_PATH): cannot open directory: %s", dir, strerror(errno)));
        return;
    }
    char **names = NULL;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        bool json = len > 5 && strcmp(de->d_name + len - 5, ".json") == 0;
        bool so = len > 3 && strcmp(de->d_name + len - 3, ".so") == 0;
        if (!json && !so) continue;
        char **grown = realloc(names, (size_t)(n + 1) * sizeof *grown);
        if (!grown) break;
        names = grown;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, compare_names);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        char *path = format("%s/%s", dir, names[i]);
        if (len > 5 && strcmp(names[i] + len - 5, ".json") == 0) {
            char *library = format("%.*s.so", (int)(len - 5), names[i]);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                zoo_trust_check_path(path, "drop-in manifest") != ZOO_OK)
                add_file_error(r, strdup(zoo_error_message()));
            else
                zoo_registry_read_manifest(r, path, library);
            free(library);
        } else {
            char *manifest = format("%s/%.*s.json", dir, (int)(len - 3), names[i]);
            struct stat st;
            if (stat(manifest, &st) != 0) {
                zoo_reg_entry *e = add_entry(r);
                if (e) {
                    e->dropin = true;
                    e->name = format("%.*s", (int)(len - 3), names[i]);
                    e->source = xstrdup(path);
                    e->library = xstrdup(path);
                    entry_fail(e, "%s: drop-in plugin without a manifest (expected %s)", path,
                               manifest);
                }
            }
            free(manifest);
        }
        free(path);
        free(names[i]);
    }
    free(names);
}

static void read_registry_source(zoo_registry *r, const char *path) {
    char **grown = realloc(r->files, (size_t)(r->n_files + 1) * sizeof *grown);
    if (grown) {
        r->files = grown;
        r->files[r->n_files++] = strdup(path);
    }
    /* a registry names the libraries zoo opens and pins their sums: one
     * another user could edit is no better than their library. A missing
     * file, or one that is no regular file, is left for the reader to report. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        zoo_trust_check_path(path, "registry") != ZOO_OK) {
        add_file_error(r, strdup(zoo_error_message()));
        return;
    }
    zoo_registry_read_file(r, path);
}

/* The pins: a registry entry's own sha256; for a drop-in, the sha256 of a
 * registry-file entry whose library is the same file. */
static void find_pins(zoo_registry *r) {
    for (int i = 0; i < r->count; i++) {
        zoo_reg_entry *e = &r->entries[i];
        if (!e->dropin && e->sha256) {
            e->pin = strdup(e->sha256);
            e->pin_source = xstrdup(e->source);
        }
    }
    for (int i = 0; i < r->count; i++) {
        zoo_reg_entry *e = &r->entries[i];
        char *mine = e->dropin && e->library ? realpath(e->library, NULL) : NULL;
        for (int j = 0; mine && j < r->count && !e->pin; j++) {
            const zoo_reg_entry *o = &r->entries[j];
            if (o->dropin || !o->pin || !o->library) continue;
            char *theirs = realpath(o->library, NULL);
            if (theirs && strcmp(theirs, mine) == 0) {
                e->pin = strdup(o->pin);
                e->pin_source = xstrdup(o->source);
            }
            free(theirs);
        }
        free(mine);
    }
}

/* Calls fn for each non-empty element of a colon-separated list. */
static void each_path(zoo_registry *r, const char *list, void (*fn)(zoo_registry *, const char *)) {
    char *copy = strdup(list), *save = NULL;
    for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save))
        fn(r, p);
    free(copy);
}

zoo_registry *zoo_registry_load(const zoo_registry_sources *src) {
    zoo_registry *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    for (int i = 0; i < src->n_registry_files; i++) read_registry_source(r, src->registry_files[i]);
    if (src->env_registry) each_path(r, src->env_registry, read_registry_source);
    if (src->env_plugin_path) each_path(r, src->env_plugin_path, read_plugin_dir);
    struct stat st;
    if (src->default_registry && stat(src->default_registry, &st) == 0)
        read_registry_source(r, src->default_registry);
    /* the first entry of a name wins */
    for (int i = 0; i < r->count; i++)
        for (int j = 0; j < i && r->entries[i].name; j++)
            if (r->entries[j].name && !r->entries[j].shadowed &&
                strcmp(r->entries[i].name, r->entries[j].name) == 0) {
                r->entries[i].shadowed = true;
                r->entries[j].shadows = true;
                break;
            }
    find_pins(r);
    return r;
}

static void free_entry(zoo_reg_entry *e) {
    free(e->name), free(e->version), free(e->summary), free(e->library), free(e->source);
    free(e->sha256), free(e->error), free(e->where), free(e->pin), free(e->pin_source);
    char **lists[] = {e->imports.hf_model_types, e->imports.files, e->imports.tokenizer_files};
    int counts[] = {e->imports.n_hf_model_types, e->imports.n_files, e->imports.n_tokenizer_files};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < counts[k]; i++) free(lists[k][i]);
        free(lists[k]);
    }
    free(e->card.sees), free(e->card.inputs), free(e->card.pretraining);
    free(e->card.hf_classifier);
    free(e->card.layers), free(e->card.width), free(e->card.context);
    for (int i = 0; i < e->card.n_heads; i++) free(e->card.heads[i]);
    free(e->card.heads);
    for (int i = 0; i < e->n_tokenizers; i++) free(e->tokenizers[i]);
    free(e->tokenizers);
    for (int i = 0; i < e->n_extras; i++) {
        zoo_extra_decl *x = &e->extras[i];
        free(x->name), free(x->symbol), free(x->help), free(x->error);
    }
    free(e->extras);
}

void zoo_registry_free(zoo_registry *r) {
    if (!r) return;
    for (int i = 0; i < r->count; i++) free_entry(&r->entries[i]);
    for (int i = 0; i < r->n_file_errors; i++) free(r->file_errors[i]);
    for (int i = 0; i < r->n_files; i++) free(r->files[i]);
    free(r->entries), free(r->file_errors), free(r->files);
    free(r);
}

const zoo_reg_entry *zoo_registry_find(const zoo_registry *r, const char *name) {
    for (int i = 0; i < r->count; i++)
        if (!r->entries[i].shadowed && r->entries[i].name && strcmp(r->entries[i].name, name) == 0)
            return &r->entries[i];
    return NULL;
}

const zoo_reg_entry *zoo_registry_find_tokenizer(const zoo_registry *r, const char *type) {
    const zoo_reg_entry *broken = NULL;
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        if (e->shadowed) continue;
        for (int j = 0; j < e->n_tokenizers; j++)
            if (strcmp(e->tokenizers[j], type) == 0) {
                if (!e->error) return e;
                if (!broken) broken = e;
            }
    }
    return broken;
}

/* DIR/config.json's "model_type", from malloc; NULL when there is none. The
 * host reads it (capped, as any JSON it reads) so that no plugin is opened
 * to ask. */
static char *hf_model_type(const char *dir) {
    char *path = format("%s/config.json", dir);
    struct stat st;
    char *text = path && stat(path, &st) == 0 && S_ISREG(st.st_mode)
                     ? zoo_read_file_max(path, NULL, ZOO_READ_MAX_JSON)
                     : NULL;
    free(path);
    zoo_error_clear(); /* an unreadable config.json matches no type; its importer says why */
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "model_type");
    char *out = cJSON_IsString(type) ? strdup(type->valuestring) : NULL;
    cJSON_Delete(doc);
    return out;
}

bool zoo_registry_imports_dir(const zoo_reg_entry *e, const char *dir, bool tokenizer) {
    const zoo_reg_imports *im = &e->imports;
    char **files = tokenizer ? im->tokenizer_files : im->files;
    int n = tokenizer ? im->n_tokenizer_files : im->n_files;
    for (int i = 0; i < n; i++) {
        char *path = format("%s/%s", dir, files[i]);
        struct stat st;
        bool there = path && stat(path, &st) == 0;
        free(path);
        if (there) return true;
    }
    if (im->n_hf_model_types == 0) return false;
    char *type = hf_model_type(dir);
    bool found = false;
    for (int i = 0; type && i < im->n_hf_model_types && !found; i++)
        found = strcmp(type, im->hf_model_types[i]) == 0;
    free(type);
    return found;
}
