#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/hparams.h"
#include "zoo/status.h"

typedef struct value {
    double number; /* INT, FLOAT, BOOL */
    char *string;  /* STRING, ENUM: owned */
} value;

struct zoo_hparams {
    const zoo_hparam_spec *schema;
    int n;
    value *values;
};

static int find_index(const zoo_hparams *hp, const char *name) {
    for (int i = 0; i < hp->n; i++)
        if (strcmp(hp->schema[i].name, name) == 0) return i;
    return -1;
}

static const char *type_name(zoo_hparam_type t) {
    static const char *names[] = {"an integer", "a number", "true or false", "a string", "one of"};
    return t <= ZOO_HP_ENUM ? names[t] : "?";
}

/* "one of gelu, relu" */
static void choices_text(const zoo_hparam_spec *s, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "one of");
    for (int i = 0; s->choices && s->choices[i] && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s %s", i ? "," : "", s->choices[i]);
}

/* "an integer >= 1", "a number in [0, 1]" */
static void expected_text(const zoo_hparam_spec *s, char *buf, size_t size) {
    if (s->type == ZOO_HP_ENUM) {
        choices_text(s, buf, size);
    } else if (s->has_min && s->has_max) {
        snprintf(buf, size, "%s in [%g, %g]", type_name(s->type), s->min, s->max);
    } else if (s->has_min) {
        snprintf(buf, size, "%s >= %g", type_name(s->type), s->min);
    } else if (s->has_max) {
        snprintf(buf, size, "%s <= %g", type_name(s->type), s->max);
    } else {
        snprintf(buf, size, "%s", type_name(s->type));
    }
}

static bool in_range(const zoo_hparam_spec *s, double v) {
    return !(s->has_min && v < s->min) && !(s->has_max && v > s->max);
}

static bool in_choices(const zoo_hparam_spec *s, const char *v) {
    for (int i = 0; s->choices && s->choices[i]; i++)
        if (strcmp(s->choices[i], v) == 0) return true;
    return false;
}

/* "expected an integer >= 1, got 0" */
static int refuse(const zoo_hparam_spec *s, const char *got) {
    char expected[256];
    expected_text(s, expected, sizeof expected);
    return zoo_error(ZOO_ERR_ARG, "%s: expected %s, got %s", s->name, expected, got);
}

static int check_number(const zoo_hparam_spec *s, double v) {
    char got[64];
    snprintf(got, sizeof got, "%.17g", v);
    if (s->type == ZOO_HP_INT && (v != floor(v) || fabs(v) > 9007199254740992.0))
        return refuse(s, got);
    if (!isfinite(v) || !in_range(s, v)) return refuse(s, got);
    return ZOO_OK;
}

zoo_hparams *zoo_hparams_new(const zoo_hparam_spec *schema, int n) {
    for (int i = 0; i < n; i++) {
        const zoo_hparam_spec *s = &schema[i];
        if (!s->name || !*s->name) {
            zoo_error(ZOO_ERR_ARG, "hyperparameter schema: entry %d has no name", i);
            return NULL;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(schema[j].name, s->name) == 0) {
                zoo_error(ZOO_ERR_ARG, "hyperparameter schema: '%s' is declared twice", s->name);
                return NULL;
            }
        bool ok = true;
        switch (s->type) {
        case ZOO_HP_INT:
        case ZOO_HP_FLOAT:
            ok = check_number(s, s->default_number) == ZOO_OK;
            break;
        case ZOO_HP_BOOL:
            ok = s->default_number == 0 || s->default_number == 1;
            break;
        case ZOO_HP_STRING:
            ok = s->default_string != NULL;
            break;
        case ZOO_HP_ENUM:
            ok = s->default_string && in_choices(s, s->default_string);
            break;
        default:
            ok = false;
        }
        if (!ok) {
            zoo_error(ZOO_ERR_ARG, "hyperparameter schema: the default of '%s' is invalid",
                      s->name);
            return NULL;
        }
    }
    zoo_hparams *hp = calloc(1, sizeof *hp);
    if (!hp) return NULL;
    hp->values = calloc((size_t)(n > 0 ? n : 1), sizeof *hp->values);
    if (!hp->values) {
        free(hp);
        return NULL;
    }
    hp->schema = schema;
    hp->n = n;
    for (int i = 0; i < n; i++) {
        hp->values[i].number = schema[i].default_number;
        if (schema[i].default_string &&
            !(hp->values[i].string = strdup(schema[i].default_string))) {
            zoo_hparams_free(hp);
            return NULL;
        }
    }
    return hp;
}

void zoo_hparams_free(zoo_hparams *hp) {
    if (!hp) return;
    for (int i = 0; i < hp->n; i++) free(hp->values[i].string);
    free(hp->values);
    free(hp);
}

zoo_hparams *zoo_hparams_clone(const zoo_hparams *hp) {
    zoo_hparams *c = zoo_hparams_new(hp->schema, hp->n);
    for (int i = 0; c && i < hp->n; i++) {
        c->values[i].number = hp->values[i].number;
        if (hp->values[i].string) {
            char *s = strdup(hp->values[i].string);
            if (!s) {
                zoo_hparams_free(c);
                return NULL;
            }
            free(c->values[i].string);
            c->values[i].string = s;
        }
    }
    return c;
}

int zoo_hparams_count(const zoo_hparams *hp) {
    return hp->n;
}

const zoo_hparam_spec *zoo_hparams_spec(const zoo_hparams *hp, int i) {
    return i >= 0 && i < hp->n ? &hp->schema[i] : NULL;
}

const zoo_hparam_spec *zoo_hparams_find(const zoo_hparams *hp, const char *name) {
    int i = find_index(hp, name);
    return i < 0 ? NULL : &hp->schema[i];
}

static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

const char *zoo_suggest(const char *name, const char *const *candidates, int n) {
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(name, candidates[i]);
        if (d < best_d) best_d = d, best = candidates[i];
    }
    int limit = (int)strlen(name) / 3 > 2 ? (int)strlen(name) / 3 : 2;
    if (best_d <= limit) return best;
    for (int i = 0; i < n; i++) /* or one name starts the other: vocab / vocab_size */
        if (strncmp(name, candidates[i], strlen(name)) == 0 ||
            strncmp(name, candidates[i], strlen(candidates[i])) == 0)
            return candidates[i];
    return NULL;
}

const char *zoo_hparams_suggest(const zoo_hparams *hp, const char *name) {
    const char *names[256];
    int n = 0;
    for (int i = 0; i < hp->n && n < 256; i++) names[n++] = hp->schema[i].name;
    return zoo_suggest(name, names, n);
}

static int lookup(const zoo_hparams *hp, const char *name, const zoo_hparam_spec **s) {
    int i = find_index(hp, name);
    if (i < 0) {
        const char *near = zoo_hparams_suggest(hp, name);
        if (near)
            return zoo_error(ZOO_ERR_NOTFOUND, "unknown hyperparameter '%s' (did you mean '%s'?)",
                             name, near);
        return zoo_error(ZOO_ERR_NOTFOUND, "unknown hyperparameter '%s'", name);
    }
    *s = &hp->schema[i];
    return i;
}

int zoo_hparams_set_float(zoo_hparams *hp, const char *name, double v) {
    const zoo_hparam_spec *s;
    int i = lookup(hp, name, &s);
    if (i < 0) return i;
    char got[64];
    snprintf(got, sizeof got, "%.17g", v);
    if (s->type != ZOO_HP_INT && s->type != ZOO_HP_FLOAT) return refuse(s, got);
    int st = check_number(s, v);
    if (st == ZOO_OK) hp->values[i].number = v;
    return st;
}

int zoo_hparams_set_int(zoo_hparams *hp, const char *name, int64_t v) {
    return zoo_hparams_set_float(hp, name, (double)v);
}

int zoo_hparams_set_bool(zoo_hparams *hp, const char *name, bool v) {
    const zoo_hparam_spec *s;
    int i = lookup(hp, name, &s);
    if (i < 0) return i;
    if (s->type != ZOO_HP_BOOL) return refuse(s, v ? "true" : "false");
    hp->values[i].number = v;
    return ZOO_OK;
}

int zoo_hparams_set_string(zoo_hparams *hp, const char *name, const char *v) {
    const zoo_hparam_spec *s;
    int i = lookup(hp, name, &s);
    if (i < 0) return i;
    char got[300];
    snprintf(got, sizeof got, "\"%.256s\"", v ? v : "");
    if (!v || (s->type != ZOO_HP_STRING && s->type != ZOO_HP_ENUM)) return refuse(s, got);
    if (s->type == ZOO_HP_ENUM && !in_choices(s, v)) return refuse(s, got);
    char *copy = strdup(v);
    if (!copy) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    free(hp->values[i].string);
    hp->values[i].string = copy;
    return ZOO_OK;
}

int zoo_hparams_set_text(zoo_hparams *hp, const char *name, const char *text) {
    const zoo_hparam_spec *s;
    int i = lookup(hp, name, &s);
    if (i < 0) return i;
    char got[300];
    snprintf(got, sizeof got, "\"%.256s\"", text);
    switch (s->type) {
    case ZOO_HP_INT:
    case ZOO_HP_FLOAT: {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end || errno) return refuse(s, got);
        return zoo_hparams_set_float(hp, name, v);
    }
    case ZOO_HP_BOOL:
        if (strcmp(text, "true") == 0) return zoo_hparams_set_bool(hp, name, true);
        if (strcmp(text, "false") == 0) return zoo_hparams_set_bool(hp, name, false);
        return refuse(s, got);
    default:
        return zoo_hparams_set_string(hp, name, text);
    }
}

static const value *get(const zoo_hparams *hp, const char *name, zoo_hparam_type a,
                        zoo_hparam_type b) {
    int i = find_index(hp, name);
    if (i < 0 || (hp->schema[i].type != a && hp->schema[i].type != b)) return NULL;
    return &hp->values[i];
}

int64_t zoo_hparams_int(const zoo_hparams *hp, const char *name) {
    const value *v = get(hp, name, ZOO_HP_INT, ZOO_HP_INT);
    return v ? (int64_t)v->number : 0;
}

double zoo_hparams_float(const zoo_hparams *hp, const char *name) {
    const value *v = get(hp, name, ZOO_HP_FLOAT, ZOO_HP_INT);
    return v ? v->number : 0;
}

bool zoo_hparams_bool(const zoo_hparams *hp, const char *name) {
    const value *v = get(hp, name, ZOO_HP_BOOL, ZOO_HP_BOOL);
    return v ? v->number != 0 : false;
}

const char *zoo_hparams_string(const zoo_hparams *hp, const char *name) {
    const value *v = get(hp, name, ZOO_HP_STRING, ZOO_HP_ENUM);
    return v ? v->string : NULL;
}

const char *zoo_hparams_text(const zoo_hparams *hp, int i, char *buf, int size) {
    if (i < 0 || i >= hp->n || size < 1) return "";
    const value *v = &hp->values[i];
    switch (hp->schema[i].type) {
    case ZOO_HP_INT:
        snprintf(buf, (size_t)size, "%lld", (long long)v->number);
        break;
    case ZOO_HP_FLOAT:
        snprintf(buf, (size_t)size, "%.9g", v->number);
        break;
    case ZOO_HP_BOOL:
        snprintf(buf, (size_t)size, "%s", v->number ? "true" : "false");
        break;
    default:
        snprintf(buf, (size_t)size, "%s", v->string ? v->string : "");
        break;
    }
    return buf;
}
