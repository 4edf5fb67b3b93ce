#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/hparams.h"
#include "zoo/status.h"

static bool is_option_entry(const zoo_option *o) {
    return strncmp(o->name, "--", 2) == 0;
}

/* "-" alone and numbers ("-3", "-0.5") are values; "--x" and "-x" are options. */
static bool looks_like_option(const char *a) {
    if (a[0] != '-' || !a[1]) return false;
    char *end;
    errno = 0;
    strtod(a, &end);
    return *end != '\0';
}

static bool parse_int(const char *s, int64_t *v) {
    char *end;
    if (!*s || isspace((unsigned char)*s)) return false;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno) return false;
    *v = x;
    return true;
}

static bool parse_uint(const char *s, uint64_t *v) {
    char *end;
    if (!isdigit((unsigned char)*s)) return false; /* strtoull would take "-1" */
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno) return false;
    *v = x;
    return true;
}

static bool parse_float(const char *s, double *v) {
    char *end;
    if (!*s || isspace((unsigned char)*s)) return false;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno || !isfinite(x)) return false;
    *v = x;
    return true;
}

static bool in_range(const zoo_option *o, double v) {
    if (o->has_min && (o->min_open ? v <= o->min : v < o->min)) return false;
    return !(o->has_max && v > o->max);
}

/* "an integer from 1 to 1000", "a number > 0 and <= 1", "an integer >= 0" */
static void expected_text(const zoo_option *o, char *buf, size_t size) {
    const char *noun = o->type == ZOO_OPT_FLOAT ? "a number" : "an integer";
    if (o->has_min && o->has_max && !o->min_open)
        snprintf(buf, size, "%s from %.15g to %.15g", noun, o->min, o->max);
    else if (o->has_min && o->has_max)
        snprintf(buf, size, "%s > %.15g and <= %.15g", noun, o->min, o->max);
    else if (o->has_min)
        snprintf(buf, size, "%s %s %.15g", noun, o->min_open ? ">" : ">=", o->min);
    else if (o->has_max)
        snprintf(buf, size, "%s <= %.15g", noun, o->max);
    else
        snprintf(buf, size, "%s", noun);
}

/* "none, cls or mean" from "none|cls|mean" */
static void choices_text(const char *choices, char *buf, size_t size) {
    size_t len = 0;
    int n = 1;
    for (const char *c = choices; *c; c++) n += *c == '|';
    int i = 0;
    for (const char *c = choices; len < size;) {
        const char *bar = strchr(c, '|');
        int w = bar ? (int)(bar - c) : (int)strlen(c);
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
        len += (size_t)snprintf(buf + len, size - len, "%s%.*s", sep, w, c);
        if (!bar) break;
        c = bar + 1, i++;
    }
}

static bool is_choice(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *c = choices; c;) {
        const char *bar = strchr(c, '|');
        size_t w = bar ? (size_t)(bar - c) : strlen(c);
        if (w == n && strncmp(c, v, n) == 0) return true;
        c = bar ? bar + 1 : NULL;
    }
    return false;
}

static int bad_value(const zoo_option *o, const char *v) {
    char expected[160];
    switch (o->type) {
    case ZOO_OPT_UINT:
        snprintf(expected, sizeof expected, "a non-negative integer");
        break;
    case ZOO_OPT_PATH:
        snprintf(expected, sizeof expected, "a path");
        break;
    case ZOO_OPT_CHOICE:
        choices_text(o->choices, expected, sizeof expected);
        break;
    case ZOO_OPT_ASSIGN:
        snprintf(expected, sizeof expected, "%s", o->value ? o->value : "NAME=VALUE");
        break;
    case ZOO_OPT_INT_CHOICE: { /* "an integer >= -1, all or mix"; "an integer or all" */
        char choices[120];
        expected_text(o, expected, sizeof expected);
        choices_text(o->choices, choices, sizeof choices);
        size_t len = strlen(expected);
        snprintf(expected + len, sizeof expected - len, "%s%s",
                 strchr(o->choices, '|') ? ", " : " or ", choices);
        break;
    }
    default:
        expected_text(o, expected, sizeof expected);
    }
    return zoo_error(ZOO_ERR_ARG, "%s: expected %s, got '%s'", o->name, expected, v);
}

/* Checks v against o's type (and range, when `ranged`) and stores it in o's
 * field of out, which is known by its offset alone (hence memcpy). */
static int store(const zoo_option *o, void *out, const char *v, bool ranged) {
    char *field = (char *)out + o->at;
    bool yes = true, ok = true;
    int64_t i;
    uint64_t u;
    double d;
    switch (o->type) {
    case ZOO_OPT_FLAG:
        memcpy(field, &yes, sizeof yes);
        return ZOO_OK;
    case ZOO_OPT_INT:
        if (!parse_int(v, &i) || (ranged && !in_range(o, (double)i))) return bad_value(o, v);
        memcpy(field, &i, sizeof i);
        return ZOO_OK;
    case ZOO_OPT_UINT:
        if (!parse_uint(v, &u)) return bad_value(o, v);
        memcpy(field, &u, sizeof u);
        return ZOO_OK;
    case ZOO_OPT_FLOAT:
        if (!parse_float(v, &d) || (ranged && !in_range(o, d))) return bad_value(o, v);
        memcpy(field, &d, sizeof d);
        return ZOO_OK;
    case ZOO_OPT_STRING:
        break;
    case ZOO_OPT_PATH:
        ok = *v != '\0';
        break;
    case ZOO_OPT_CHOICE:
        ok = is_choice(o->choices, v);
        break;
    case ZOO_OPT_ASSIGN:
        ok = strchr(v, '=') && v[0] != '=';
        break;
    case ZOO_OPT_INT_CHOICE: {
        zoo_int_choice c = {0};
        if (parse_int(v, &c.n)) {
            if (ranged && !in_range(o, (double)c.n)) return bad_value(o, v);
        } else if (is_choice(o->choices, v)) {
            c.choice = v;
        } else {
            return bad_value(o, v);
        }
        memcpy(field, &c, sizeof c);
        return ZOO_OK;
    }
    }
    if (!ok) return bad_value(o, v);
    if (o->flags & ZOO_OPT_REPEAT) { /* the next element of the array; one more in the count */
        int count;
        memcpy(&count, (char *)out + o->count_at, sizeof count);
        if (count >= o->max_count)
            return zoo_error(ZOO_ERR_ARG, "%s: given more than %d times", o->name, o->max_count);
        field += (size_t)count++ * sizeof v;
        memcpy((char *)out + o->count_at, &count, sizeof count);
    }
    memcpy(field, &v, sizeof v);
    return ZOO_OK;
}

/* Every entry of every table, with where its value goes and how often argv gave it. */
typedef struct slot {
    const zoo_option *o;
    void *out;
    int seen;
} slot;

typedef struct parse_state {
    slot *slots;
    int n;
    const char *command;
} parse_state;

static const char *see_help(const parse_state *s, char *buf, size_t size) {
    if (s->command)
        snprintf(buf, size, " (see zoo %s --help)", s->command);
    else
        buf[0] = '\0';
    return buf;
}

static slot *find_option(parse_state *s, const char *name) {
    for (int i = 0; i < s->n; i++) {
        const zoo_option *o = s->slots[i].o;
        if (is_option_entry(o) &&
            (strcmp(o->name, name) == 0 || (o->alias && strcmp(o->alias, name) == 0)))
            return &s->slots[i];
    }
    return NULL;
}

static int unknown_option(const parse_state *s, const char *name) {
    const char **names = malloc((size_t)(2 * s->n + 1) * sizeof *names);
    int n = 0;
    for (int i = 0; names && i < s->n; i++) {
        const zoo_option *o = s->slots[i].o;
        if (!is_option_entry(o)) continue;
        names[n++] = o->name;
        if (o->alias) names[n++] = o->alias;
    }
    const char *near = names ? zoo_suggest(name, names, n) : NULL;
    char see[160];
    int st =
        near ? zoo_error(ZOO_ERR_ARG, "unknown option '%s' (did you mean '%s'?)", name, near)
             : zoo_error(ZOO_ERR_ARG, "unknown option '%s'%s", name, see_help(s, see, sizeof see));
    free(names);
    return st;
}

/* The next positional to fill, or NULL when none is left. `last` is the one
 * filled last (for the error). */
static slot *next_positional(parse_state *s, const slot **last) {
    *last = NULL;
    for (int i = 0; i < s->n; i++) {
        slot *p = &s->slots[i];
        if (is_option_entry(p->o)) continue;
        if (p->seen == 0 || (p->o->flags & ZOO_OPT_REPEAT)) return p;
        *last = p;
    }
    return NULL;
}

static int check_required(const parse_state *s) {
    char see[160];
    for (int i = 0; i < s->n; i++) {
        const zoo_option *o = s->slots[i].o;
        if (!(o->flags & ZOO_OPT_REQUIRED) || s->slots[i].seen) continue;
        if (is_option_entry(o) && o->type != ZOO_OPT_FLAG)
            return zoo_error(ZOO_ERR_ARG, "%s %s is required%s", o->name,
                             o->value ? o->value : "VALUE", see_help(s, see, sizeof see));
        return zoo_error(ZOO_ERR_ARG, "%s is required%s", o->name, see_help(s, see, sizeof see));
    }
    return ZOO_OK;
}

static int parse(parse_state *s, int argc, char *const *argv) {
    for (int i = 0; i < s->n; i++) /* the defaults first */
        if (s->slots[i].o->def && store(s->slots[i].o, s->slots[i].out, s->slots[i].o->def, false))
            return zoo_error(ZOO_ERR_ARG, "the default of %s: %s", s->slots[i].o->name,
                             zoo_error_message());
    bool options_done = false;
    char see[160];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && looks_like_option(a)) {
            /* --top=5 is --top 5: the value is what follows the first '=' */
            const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
            char name[128];
            if (eq && (size_t)(eq - a) >= sizeof name)
                return zoo_error(ZOO_ERR_ARG, "unknown option '%.*s'", (int)(eq - a), a);
            if (eq) snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            slot *p = find_option(s, eq ? name : a);
            if (!p) return unknown_option(s, eq ? name : a);
            if (p->seen && !(p->o->flags & ZOO_OPT_REPEAT))
                return zoo_error(ZOO_ERR_ARG, "%s: given more than once", p->o->name);
            p->seen++;
            if (p->o->type == ZOO_OPT_FLAG && eq)
                return zoo_error(ZOO_ERR_ARG, "%s takes no value, got '%s'", p->o->name, eq + 1);
            if (p->o->type != ZOO_OPT_FLAG && !eq && i + 1 >= argc)
                return zoo_error(ZOO_ERR_ARG, "%s needs a value", p->o->name);
            const char *v = p->o->type == ZOO_OPT_FLAG ? "" : eq ? eq + 1 : argv[++i];
            int st = store(p->o, p->out, v, true);
            if (st) return st;
            continue;
        }
        const slot *last;
        slot *p = next_positional(s, &last);
        if (!p)
            return last ? zoo_error(ZOO_ERR_ARG, "unexpected argument '%s' after %s%s", a,
                                    last->o->name, see_help(s, see, sizeof see))
                        : zoo_error(ZOO_ERR_ARG, "unexpected argument '%s'%s", a,
                                    see_help(s, see, sizeof see));
        p->seen++;
        int st = store(p->o, p->out, a, true);
        if (st) return st;
    }
    return check_required(s);
}

int zoo_options_parse(const zoo_option *const *tables, void *const *outs, const char *command,
                      int argc, char *const *argv) {
    parse_state s = {.command = command};
    for (int t = 0; tables[t]; t++)
        for (const zoo_option *o = tables[t]; o->name; o++) s.n++;
    s.slots = calloc((size_t)(s.n ? s.n : 1), sizeof *s.slots);
    if (!s.slots) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int n = 0;
    for (int t = 0; tables[t]; t++)
        for (const zoo_option *o = tables[t]; o->name; o++)
            s.slots[n++] = (slot){.o = o, .out = outs[t]};
    int st = parse(&s, argc, argv);
    free(s.slots);
    return st;
}

/* "--top N", "--pool none|cls|mean", "--layer N|all|mix", "--quiet", "MODEL", "ARG..." */
static void label(const zoo_option *o, char *buf, size_t size) {
    if (!is_option_entry(o))
        snprintf(buf, size, "%s%s", o->name, o->flags & ZOO_OPT_REPEAT ? "..." : "");
    else if (o->type == ZOO_OPT_FLAG)
        snprintf(buf, size, "%s", o->name);
    else if (o->type == ZOO_OPT_INT_CHOICE)
        snprintf(buf, size, "%s %s|%s", o->name, o->value ? o->value : "N", o->choices);
    else
        snprintf(buf, size, "%s %s", o->name,
                 o->value                    ? o->value
                 : o->type == ZOO_OPT_CHOICE ? o->choices
                                             : "VALUE");
}

#define HELP_COLUMN 18 /* the widest label that still leaves the help beside it */

static void print_entries(FILE *f, const zoo_option *const *tables, bool positionals, int width) {
    for (int t = 0; tables[t]; t++)
        for (const zoo_option *o = tables[t]; o->name; o++) {
            if (!o->help || is_option_entry(o) == positionals) continue;
            char text[256];
            label(o, text, sizeof text);
            const char *line = o->help;
            const char *nl = strchr(line, '\n');
            int len = (int)strlen(text);
            fprintf(f, "  %-*s  %.*s\n", len > width ? len : width, text,
                    nl ? (int)(nl - line) : (int)strlen(line), line);
            while (nl) {
                line = nl + 1;
                nl = strchr(line, '\n');
                fprintf(f, "  %-*s  %.*s\n", width, "", nl ? (int)(nl - line) : (int)strlen(line),
                        line);
            }
        }
}

void zoo_options_print_help(FILE *f, const zoo_option *const *tables) {
    int width = 0;
    for (int t = 0; tables[t]; t++)
        for (const zoo_option *o = tables[t]; o->name; o++) {
            char text[256];
            label(o, text, sizeof text);
            int len = (int)strlen(text);
            if (o->help && len <= HELP_COLUMN && len > width) width = len;
        }
    print_entries(f, tables, true, width);
    print_entries(f, tables, false, width);
}

void zoo_options_synopsis(const zoo_option *const *tables, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) /* positionals, then options */
        for (int t = 0; tables[t]; t++)
            for (const zoo_option *o = tables[t]; o->name && len < size; o++) {
                if (!o->help || is_option_entry(o) != (pass == 1)) continue;
                char text[256];
                label(o, text, sizeof text);
                bool optional = !(o->flags & ZOO_OPT_REQUIRED);
                bool repeat = (o->flags & ZOO_OPT_REPEAT) && pass == 1;
                len += (size_t)snprintf(buf + len, size - len, "%s%s%s%s%s", len ? " " : "",
                                        optional ? "[" : "", text, optional ? "]" : "",
                                        repeat ? "..." : "");
            }
}
