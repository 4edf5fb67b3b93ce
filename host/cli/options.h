/* Command-line options as a table, as run configs have theirs (config.c):
 * each command declares once what it takes, and one parser reads argv
 * against it and one formatter writes its --help from it, so that every
 * command accepts and refuses the same way.
 *
 *   typedef struct top_args { const char *model; int64_t top; } top_args;
 *   static const zoo_option OPTIONS[] = {
 *       {"MODEL", ZOO_OPT_PATH, offsetof(top_args, model), ZOO_OPT_REQUIRED,
 *        .help = "a checkpoint or run directory"},
 *       {"--top", ZOO_OPT_INT, offsetof(top_args, top), .value = "N", .def = "5",
 *        ZOO_OPT_RANGE(1, 1000), .help = "candidates per mask (default 5)"},
 *       {0}};
 *
 * An entry whose name starts with "--" is an option; any other is a
 * positional, filled in table order. An argument is an option when it starts
 * with '-', unless it is "-" alone or a number ("-3", "-0.5": values, not
 * options); after "--" every argument is a positional. An option's value is
 * the next argument, whatever it looks like (--layer -1), or what follows
 * the first '=' of the same argument (--top=5, --set=model.lr=0.1); a flag
 * given a value that way is an error.
 *
 * Errors, all of one shape each (the caller prefixes "zoo COMMAND: "):
 *   unknown option '--tpo' (did you mean '--top'?)
 *   unknown option '--fast' (see zoo COMMAND --help)
 *   --top needs a value
 *   --quiet takes no value, got 'yes'
 *   --top: expected an integer from 1 to 1000, got 'x'
 *   --layer: expected an integer >= -1, all or mix, got 'x'
 *   --top: given more than once
 *   MODEL is required (see zoo COMMAND --help)     --ids FILE is required (...)
 *   unexpected argument 'x' after MODEL (see zoo COMMAND --help) */
#ifndef ZOO_HOST_OPTIONS_H
#define ZOO_HOST_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What an option's value is, and the C type of the field it is stored in. */
typedef enum zoo_opt_type {
    ZOO_OPT_FLAG,   /* bool, set when the option is present; takes no value */
    ZOO_OPT_INT,    /* int64_t, within min..max when given */
    ZOO_OPT_UINT,   /* uint64_t, a non-negative integer (seeds) */
    ZOO_OPT_FLOAT,  /* double, within min..max when given */
    ZOO_OPT_STRING, /* const char *, argv's own string */
    ZOO_OPT_PATH,   /* const char *, a file or directory name: not empty */
    ZOO_OPT_CHOICE, /* const char *, one of `choices` */
    ZOO_OPT_ASSIGN, /* const char *, NAME=VALUE (--set): an '=' after a name */
    /* zoo_int_choice: an integer (within min..max when given) or one of
     * `choices` (--layer N|all|mix); a choice spelled as an integer is read as one */
    ZOO_OPT_INT_CHOICE,
} zoo_opt_type;

/* The field of a ZOO_OPT_INT_CHOICE option. */
typedef struct zoo_int_choice {
    const char *choice; /* the choice given (argv's own string), or NULL for an integer */
    int64_t n;          /* the integer, when choice is NULL; 0 otherwise */
} zoo_int_choice;

enum {
    ZOO_OPT_REQUIRED = 1u << 0, /* absent is an error */
    /* may be given several times (a positional: the rest of them); for the
     * string types only: the field is an array of max_count `const char *`,
     * the int at count_at their count */
    ZOO_OPT_REPEAT = 1u << 1,
};

typedef struct zoo_option {
    const char *name; /* "--top-k", or a positional's name, "MODEL" */
    zoo_opt_type type;
    size_t at; /* offsetof the field in the command's options struct */
    unsigned flags;
    const char *value; /* the value's name in help and usage: "N", "FILE.npy" */
    /* the default, as command-line text; NULL: zero, false, NULL. It is
     * not held to min..max, which bound what argv gives: -1 may mean "not given" */
    const char *def;
    const char *alias; /* another spelling ("-h"), or NULL */
    bool has_min, has_max, min_open;
    double min, max;
    const char *choices; /* ZOO_OPT_CHOICE, ZOO_OPT_INT_CHOICE: "none|cls|mean" */
    size_t count_at;     /* ZOO_OPT_REPEAT */
    int max_count;
    const char
        *help; /* lines separated by '\n'; NULL: not listed (another entry's help names it) */
} zoo_option;

/* Range shorthands for a table entry. */
#define ZOO_OPT_MIN(lo) .has_min = true, .min = (lo)
#define ZOO_OPT_RANGE(lo, hi) .has_min = true, .min = (lo), .has_max = true, .max = (hi)
/* ZOO_OPT_REPEAT's array and count: ZOO_OPT_ARRAY(my_args, data, n_data). */
#define ZOO_OPT_ARRAY(type, array, count)                                                          \
    .count_at = offsetof(type, count),                                                             \
    .max_count = (int)(sizeof((type *)0)->array / sizeof((type *)0)->array[0])

/* Parses argv[1..argc) (argv[0] is the command) against `tables`, a NULL-ended
 * list of option tables each ended by an entry with a NULL name, storing each
 * table's values into the struct `outs` holds at the same index: first every
 * default, then what argv gives. `command` names the command in the errors.
 * ZOO_OK, or ZOO_ERR_ARG with one of the messages above (zoo_error_message). */
int zoo_options_parse(const zoo_option *const *tables, void *const *outs, const char *command,
                      int argc, char *const *argv);

/* The list of a table's entries for --help, positionals first: "  NAME  help",
 * every help line after the first under the first. */
void zoo_options_print_help(FILE *f, const zoo_option *const *tables);

/* "MODEL --prompt TEXT [--top N] [--set NAME=VALUE]... [ARG...]": the
 * synopsis of a table's entries, into buf. */
void zoo_options_synopsis(const zoo_option *const *tables, char *buf, size_t size);

#endif
