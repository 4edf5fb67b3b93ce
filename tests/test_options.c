/* The command-line option parser (host/cli/options.h): values by type, the
 * defaults, positionals, "--", and one message shape for each kind of error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "options.h"

typedef struct args {
    const char *model, *text, *pool, *out;
    const char *rest[3];
    int n_rest;
    const char *data[2];
    int n_data;
    const char *set;
    int64_t top, layer;
    zoo_int_choice which;
    uint64_t seed;
    double p;
    bool quiet;
} args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(args, model), ZOO_OPT_REQUIRED, .help = "the model"},
    {"TEXT", ZOO_OPT_STRING, offsetof(args, text), .help = "the text"},
    {"ARG", ZOO_OPT_STRING, offsetof(args, rest), ZOO_OPT_REPEAT, ZOO_OPT_ARRAY(args, rest, n_rest),
     .help = "the rest"},
    {"--top", ZOO_OPT_INT, offsetof(args, top), .value = "N", .def = "5", ZOO_OPT_RANGE(1, 1000),
     .help = "how many (default 5)\nbest first"},
    {"--layer", ZOO_OPT_INT, offsetof(args, layer), .value = "N", .def = "-1",
     .help = "which layer"},
    {"--p", ZOO_OPT_FLOAT, offsetof(args, p), .value = "P", .def = "1", ZOO_OPT_RANGE(0, 1),
     .min_open = true, .help = "a probability"},
    {"--seed", ZOO_OPT_UINT, offsetof(args, seed), .value = "S", .help = "a seed"},
    {"--which", ZOO_OPT_INT_CHOICE, offsetof(args, which), .def = "-1", ZOO_OPT_MIN(-1),
     .choices = "all|mix", .help = "a layer or all"},
    {"--pool", ZOO_OPT_CHOICE, offsetof(args, pool), .def = "none", .choices = "none|cls|mean",
     .help = "pooling"},
    {"--data", ZOO_OPT_PATH, offsetof(args, data), ZOO_OPT_REPEAT, .value = "FILE",
     ZOO_OPT_ARRAY(args, data, n_data), .help = "text (repeatable)"},
    {"--set", ZOO_OPT_ASSIGN, offsetof(args, set), .value = "NAME=VALUE", .help = "a setting"},
    {"--quiet", ZOO_OPT_FLAG, offsetof(args, quiet), .alias = "-q", .help = "no progress"},
    {"--out", ZOO_OPT_PATH, offsetof(args, out), .value = "FILE.npy"},
    {0}};

typedef struct globals {
    bool json;
} globals;

static const zoo_option GLOBALS[] = {
    {"--json", ZOO_OPT_FLAG, offsetof(globals, json), .help = "JSON"}, {0}};

static args a;
static globals g;

/* Parses the words of `line` (split at spaces; "" for an empty word) as the argv of "cmd". */
static int parse(const char *line) {
    static char buf[1024];
    char *argv[64] = {"cmd"};
    int argc = 1;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " "))
        argv[argc++] = strcmp(w, "''") == 0 ? "" : w;
    memset(&a, 0, sizeof a);
    memset(&g, 0, sizeof g);
    const zoo_option *tables[] = {OPTIONS, GLOBALS, NULL};
    void *outs[] = {&a, &g};
    return zoo_options_parse(tables, outs, "cmd", argc, argv);
}

static void expect_error(const char *line, const char *message) {
    ck_assert_int_eq(parse(line), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), message);
}

START_TEST(test_values_and_defaults) {
    ck_assert_int_eq(parse("m.safetensors"), ZOO_OK);
    ck_assert_str_eq(a.model, "m.safetensors");
    ck_assert_ptr_null(a.text);
    ck_assert_int_eq(a.top, 5); /* the defaults */
    ck_assert_int_eq(a.layer, -1);
    ck_assert_double_eq(a.p, 1);
    ck_assert_str_eq(a.pool, "none");
    ck_assert(!a.quiet && !g.json);

    ck_assert_int_eq(parse("--top 7 m --json hello --layer -2 --p 0.25 --seed 18446744073709551615 "
                           "--pool mean -q --data x --data y --set a.b=3"),
                     ZOO_OK);
    ck_assert_str_eq(a.model, "m");
    ck_assert_str_eq(a.text, "hello");
    ck_assert_int_eq(a.top, 7);
    ck_assert_int_eq(a.layer, -2); /* a value that starts with '-' */
    ck_assert_double_eq(a.p, 0.25);
    ck_assert(a.seed == UINT64_MAX);
    ck_assert_str_eq(a.pool, "mean");
    ck_assert(a.quiet && g.json); /* the alias; the second table */
    ck_assert_int_eq(a.n_data, 2);
    ck_assert_str_eq(a.data[0], "x");
    ck_assert_str_eq(a.data[1], "y");
    ck_assert_str_eq(a.set, "a.b=3");
}
END_TEST

START_TEST(test_int_or_choice) {
    ck_assert_int_eq(parse("m"), ZOO_OK); /* the default is an integer */
    ck_assert_ptr_null(a.which.choice);
    ck_assert_int_eq(a.which.n, -1);
    ck_assert_int_eq(parse("m --which 3"), ZOO_OK);
    ck_assert_ptr_null(a.which.choice);
    ck_assert_int_eq(a.which.n, 3);
    ck_assert_int_eq(parse("m --which mix"), ZOO_OK);
    ck_assert_str_eq(a.which.choice, "mix");
    ck_assert_int_eq(a.which.n, 0);
    ck_assert_int_eq(parse("m --which -1"), ZOO_OK); /* a number is a value, not an option */
    ck_assert_int_eq(a.which.n, -1);
    expect_error("m --which -2", "--which: expected an integer >= -1, all or mix, got '-2'");
    expect_error("m --which none", "--which: expected an integer >= -1, all or mix, got 'none'");
    expect_error("m --which 1.5", "--which: expected an integer >= -1, all or mix, got '1.5'");
    expect_error("m --which", "--which needs a value");
}
END_TEST

START_TEST(test_positionals) {
    /* numbers and "-" are values; after "--" everything is */
    ck_assert_int_eq(parse("m -3 - -0.5 --top 2"), ZOO_OK);
    ck_assert_str_eq(a.text, "-3");
    ck_assert_int_eq(a.n_rest, 2);
    ck_assert_str_eq(a.rest[0], "-");
    ck_assert_str_eq(a.rest[1], "-0.5");
    ck_assert_int_eq(parse("m t -- --top -x"), ZOO_OK);
    ck_assert_int_eq(a.top, 5);
    ck_assert_int_eq(a.n_rest, 2);
    ck_assert_str_eq(a.rest[0], "--top");
    ck_assert_str_eq(a.rest[1], "-x");
    expect_error("m t 1 2 3 4", "ARG: given more than 3 times");
}
END_TEST

START_TEST(test_errors) {
    expect_error("m --tpo 3", "unknown option '--tpo' (did you mean '--top'?)");
    expect_error("m --frobnicate", "unknown option '--frobnicate' (see zoo cmd --help)");
    expect_error("m -xyzzy", "unknown option '-xyzzy' (see zoo cmd --help)");
    expect_error("m --jsn", "unknown option '--jsn' (did you mean '--json'?)");
    expect_error("m --top", "--top needs a value");
    expect_error("m --top x", "--top: expected an integer from 1 to 1000, got 'x'");
    expect_error("m --top 0", "--top: expected an integer from 1 to 1000, got '0'");
    expect_error("m --top 3.5", "--top: expected an integer from 1 to 1000, got '3.5'");
    expect_error("m --layer 9999999999999999999999",
                 "--layer: expected an integer, got '9999999999999999999999'");
    expect_error("m --p 0", "--p: expected a number > 0 and <= 1, got '0'");
    expect_error("m --p nan", "--p: expected a number > 0 and <= 1, got 'nan'");
    expect_error("m --seed -1", "--seed: expected a non-negative integer, got '-1'");
    expect_error("m --pool max", "--pool: expected none, cls or mean, got 'max'");
    expect_error("m --set nothing", "--set: expected NAME=VALUE, got 'nothing'");
    expect_error("m --set =3", "--set: expected NAME=VALUE, got '=3'");
    expect_error("m --out ''", "--out: expected a path, got ''");
    expect_error("m --top 2 --top 3", "--top: given more than once");
    expect_error("m --quiet -q", "--quiet: given more than once");
    expect_error("m --data a --data b --data c", "--data: given more than 2 times");
    expect_error("", "MODEL is required (see zoo cmd --help)");
    expect_error("--top 3", "MODEL is required (see zoo cmd --help)");
}
END_TEST

static const zoo_option REQUIRED[] = {
    {"VECTORS", ZOO_OPT_PATH, offsetof(args, model), ZOO_OPT_REQUIRED, .help = "vectors"},
    {"WORD", ZOO_OPT_STRING, offsetof(args, text), ZOO_OPT_REQUIRED, .help = "a word"},
    {"--out", ZOO_OPT_PATH, offsetof(args, out), ZOO_OPT_REQUIRED, .value = "FILE.npy",
     .help = "where"},
    {"--seed", ZOO_OPT_UINT, offsetof(args, seed), .value = "S", .help = "a seed"},
    {0}};

static int parse_required(int argc, char **argv) {
    memset(&a, 0, sizeof a);
    const zoo_option *tables[] = {REQUIRED, NULL};
    void *outs[] = {&a};
    return zoo_options_parse(tables, outs, "similar", argc, argv);
}

START_TEST(test_required_and_extra) {
    char *full[] = {"similar", "v.bin", "king", "--out", "x.npy"};
    ck_assert_int_eq(parse_required(5, full), ZOO_OK);
    ck_assert_str_eq(a.text, "king");
    ck_assert_str_eq(a.out, "x.npy");
    ck_assert_int_eq(parse_required(3, full), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "--out FILE.npy is required (see zoo similar --help)");
    ck_assert_int_eq(parse_required(2, full), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "WORD is required (see zoo similar --help)");
    char *extra[] = {"similar", "v.bin", "king", "queen", "--out", "x.npy"};
    ck_assert_int_eq(parse_required(6, extra), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(),
                     "unexpected argument 'queen' after WORD (see zoo similar --help)");
}
END_TEST

/* Reads what f received since it was opened. */
static char *contents(FILE *f) {
    fflush(f);
    long n = ftell(f);
    char *text = calloc((size_t)n + 1, 1);
    rewind(f);
    ck_assert_int_eq((long)fread(text, 1, (size_t)n, f), n);
    return text;
}

/* --opt=value is --opt value: the value is all after the first '=', which
 * may hold more '=' (--set=NAME=VALUE), be empty, or look like an option. */
START_TEST(test_equals_form) {
    ck_assert_int_eq(parse("m --top=7 --set=lr=0.5 --data=a.txt --data b.txt --which=all "
                           "--pool=cls --layer=-2 --json"),
                     ZOO_OK);
    ck_assert_int_eq(a.top, 7);
    ck_assert_str_eq(a.set, "lr=0.5");
    ck_assert_int_eq(a.n_data, 2);
    ck_assert_str_eq(a.data[0], "a.txt");
    ck_assert_str_eq(a.data[1], "b.txt");
    ck_assert_str_eq(a.which.choice, "all");
    ck_assert_str_eq(a.pool, "cls");
    ck_assert_int_eq(a.layer, -2);
    ck_assert(g.json);
    ck_assert_int_eq(parse("m --out=--x.npy"), ZOO_OK);
    ck_assert_str_eq(a.out, "--x.npy");
    expect_error("m --top=0", "--top: expected an integer from 1 to 1000, got '0'");
    expect_error("m --top=", "--top: expected an integer from 1 to 1000, got ''");
    expect_error("m --out=", "--out: expected a path, got ''");
    expect_error("m --pool=max", "--pool: expected none, cls or mean, got 'max'");
    expect_error("m --quiet=yes", "--quiet takes no value, got 'yes'");
    expect_error("m --tpo=3", "unknown option '--tpo' (did you mean '--top'?)");
    expect_error("m --top=3 --top 4", "--top: given more than once");
    /* after "--" it is a positional like any other */
    ck_assert_int_eq(parse("m -- --top=3"), ZOO_OK);
    ck_assert_str_eq(a.text, "--top=3");
}
END_TEST

START_TEST(test_help_and_synopsis) {
    const zoo_option *tables[] = {OPTIONS, GLOBALS, NULL};
    FILE *f = tmpfile();
    zoo_options_print_help(f, tables);
    char *text = contents(f);
    fclose(f);
    /* positionals first; the column set by the widest label that fits (--which); continuation
     * lines under it; entries without help (--out) left out */
    const char *want = "  MODEL              the model\n"
                       "  TEXT               the text\n"
                       "  ARG...             the rest\n"
                       "  --top N            how many (default 5)\n"
                       "                     best first\n"
                       "  --layer N          which layer\n"
                       "  --p P              a probability\n"
                       "  --seed S           a seed\n"
                       "  --which N|all|mix  a layer or all\n"
                       "  --pool none|cls|mean  pooling\n"
                       "  --data FILE        text (repeatable)\n"
                       "  --set NAME=VALUE   a setting\n"
                       "  --quiet            no progress\n"
                       "  --json             JSON\n";
    ck_assert_str_eq(text, want);
    free(text);
    char synopsis[512];
    zoo_options_synopsis(tables, synopsis, sizeof synopsis);
    ck_assert_str_eq(
        synopsis, "MODEL [TEXT] [ARG...] [--top N] [--layer N] [--p P] [--seed S] "
                  "[--which N|all|mix] [--pool none|cls|mean] [--data FILE]... [--set NAME=VALUE] "
                  "[--quiet] [--json]");
    const zoo_option *required[] = {REQUIRED, NULL};
    zoo_options_synopsis(required, synopsis, sizeof synopsis);
    ck_assert_str_eq(synopsis, "VECTORS WORD --out FILE.npy [--seed S]");
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_values_and_defaults);
    tcase_add_test(tc, test_int_or_choice);
    tcase_add_test(tc, test_positionals);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_required_and_extra);
    tcase_add_test(tc, test_equals_form);
    tcase_add_test(tc, test_help_and_synopsis);
    suite_add_tcase(s, tc);
    return s;
}
