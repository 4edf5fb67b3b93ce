/* Extra functions called through libffi against the extras_plugin fixture:
 * every argument and return type, conversion errors, and declarations the
 * host must disable instead of calling. */
#include <dlfcn.h>

#include "check_util.h"
#include "extras.h"

#define PLUGIN "extras_plugin"
#define LIBRARY ZOO_FIXTURE_DIR "/extras_plugin.so"

enum {
    ADD,
    SCALE,
    IS_LONG,
    JSON,
    FILL,
    FILL_ALL,
    REPEAT,
    MODEL_TAG,
    TAG_PLUS,
    MIX,
    DEFAULT_SYMBOL,
    MISSING,
    HIDDEN,
    FROM_LIBZOO,
    VOID_ARG,
    MODEL_RET,
    BUFFER_RET,
    TWO_BUFFERS,
    DECL_ERROR,
    TOO_MANY,
    N_DECLS
};

#define X(name, symbol, ret, ...)                                                                  \
    {                                                                                              \
        (char *)(name), (char *)(symbol), NULL, (ret),                                             \
            (int)(sizeof((zoo_extra_type[]){__VA_ARGS__}) / sizeof(zoo_extra_type)),               \
            {__VA_ARGS__}, NULL                                                                    \
    }
#define X0(name, symbol, ret)                                                                      \
    { (char *)(name), (char *)(symbol), NULL, (ret), 0, {0}, NULL }

static zoo_extra_decl decls[N_DECLS] = {
    [ADD] = X("add", "ex_add", ZOO_X_INT64, ZOO_X_INT64, ZOO_X_INT64),
    [SCALE] = X("scale", "ex_scale", ZOO_X_DOUBLE, ZOO_X_DOUBLE, ZOO_X_INT64),
    [IS_LONG] = X("is_long", "ex_is_long", ZOO_X_BOOL, ZOO_X_STRING, ZOO_X_INT64),
    [JSON] = X("json", "ex_json", ZOO_X_STRING, ZOO_X_STRING, ZOO_X_INT64),
    [FILL] = X("fill", "ex_fill", ZOO_X_VOID, ZOO_X_BUFFER, ZOO_X_STRING),
    [FILL_ALL] = X("fill_all", "ex_fill_all", ZOO_X_VOID, ZOO_X_BUFFER),
    [REPEAT] = X("repeat", "ex_repeat", ZOO_X_INT64, ZOO_X_STRING, ZOO_X_INT64, ZOO_X_BUFFER),
    [MODEL_TAG] = X("model_tag", "ex_model_tag", ZOO_X_INT64, ZOO_X_MODEL),
    [TAG_PLUS] = X("tag_plus", "ex_tag_plus", ZOO_X_INT64, ZOO_X_INT64, ZOO_X_MODEL),
    [MIX] = X("mix", "ex_mix", ZOO_X_DOUBLE, ZOO_X_INT64, ZOO_X_DOUBLE, ZOO_X_BOOL, ZOO_X_STRING),
    [DEFAULT_SYMBOL] = X("ex_add", NULL, ZOO_X_INT64, ZOO_X_INT64, ZOO_X_INT64),
    [MISSING] = X0("nope", "ex_nope", ZOO_X_INT64),
    [HIDDEN] = X0("hidden", "ex_hidden", ZOO_X_INT64),
    [FROM_LIBZOO] = X0("clear", "zoo_error_clear", ZOO_X_VOID),
    [VOID_ARG] = X("void_arg", "ex_add", ZOO_X_INT64, ZOO_X_INT64, ZOO_X_VOID),
    [MODEL_RET] = X("model_ret", "ex_add", ZOO_X_MODEL, ZOO_X_INT64, ZOO_X_INT64),
    [BUFFER_RET] = X0("buffer_ret", "ex_fill_all", ZOO_X_BUFFER),
    [TWO_BUFFERS] = X("two_buffers", "ex_fill", ZOO_X_VOID, ZOO_X_BUFFER, ZOO_X_BUFFER),
    [DECL_ERROR] = X0("decl_error", "ex_add", ZOO_X_INT64),
    [TOO_MANY] = X0("too_many", "ex_add", ZOO_X_INT64),
};

static void *handle;
static zoo_extra *xs;

static void setup(void) {
    decls[DECL_ERROR].error = (char *)"args[0]: unknown type 'float'";
    decls[TOO_MANY].n_args = ZOO_EXTRA_MAX_ARGS + 1;
    handle = dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(handle, "dlopen: %s", dlerror());
    xs = zoo_extras_resolve(handle, PLUGIN, LIBRARY, decls, N_DECLS);
    ck_assert_ptr_nonnull(xs);
}

static void teardown(void) {
    zoo_extras_free(xs, N_DECLS);
    xs = NULL;
    if (handle) dlclose(handle);
    handle = NULL;
}

/* NULL-terminated argument lists, one macro argument each. */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ARGS ((const char *const[]){NULL})

static int count(const char *const *argv) {
    int n = 0;
    while (argv[n]) n++;
    return n;
}

#define expect_ok(i, model, argv, want) expect_ok_at(__LINE__, i, model, argv, want)
static void expect_ok_at(int line, int i, void *model, const char *const *argv, const char *want) {
    char *out = (char *)"unset";
    int rc = zoo_extra_call(&xs[i], PLUGIN, model, argv, count(argv), &out);
    ck_assert_msg(rc == ZOO_OK, "line %d: %s: %d %s", line, decls[i].name, rc, zoo_error_message());
    ck_assert_msg(strcmp(out, want) == 0, "line %d: %s: got '%s', want '%s'", line, decls[i].name,
                  out, want);
    free(out);
}

#define expect_err(i, model, argv, status, want)                                                   \
    expect_err_at(__LINE__, i, model, argv, status, want)
static void expect_err_at(int line, int i, void *model, const char *const *argv, int status,
                          const char *want) {
    char *out = (char *)"unset";
    int rc = zoo_extra_call(&xs[i], PLUGIN, model, argv, count(argv), &out);
    ck_assert_msg(rc == status, "line %d: %s: status %d, want %d", line, decls[i].name, rc, status);
    ck_assert_ptr_null(out);
    ck_assert_msg(strcmp(zoo_error_message(), want) == 0, "line %d: got '%s'\nwant '%s'", line,
                  zoo_error_message(), want);
}

START_TEST(test_type_names_round_trip) {
    for (int t = ZOO_X_VOID; t <= ZOO_X_BUFFER; t++)
        ck_assert_int_eq(zoo_extra_type_parse(zoo_extra_type_name((zoo_extra_type)t)), t);
    ck_assert_str_eq(zoo_extra_type_name(ZOO_X_INT64), "int64");
    ck_assert_str_eq(zoo_extra_type_name(ZOO_X_BUFFER), "buffer");
    ck_assert_str_eq(zoo_extra_type_name((zoo_extra_type)99), "unknown");
    ck_assert_int_eq(zoo_extra_type_parse("float"), -1);
    ck_assert_int_eq(zoo_extra_type_parse("Int64"), -1);
    ck_assert_int_eq(zoo_extra_type_parse(""), -1);
    ck_assert_int_eq(zoo_extra_type_parse(NULL), -1);
}
END_TEST

START_TEST(test_resolve_nothing) {
    zoo_extra *none = zoo_extras_resolve(handle, PLUGIN, LIBRARY, NULL, 0);
    ck_assert_ptr_nonnull(none);
    zoo_extras_free(none, 0);
}
END_TEST

START_TEST(test_int64) {
    expect_ok(ADD, NULL, ARGS("2", "40"), "42");
    expect_ok(ADD, NULL, ARGS("-9223372036854775808", "0"), "-9223372036854775808");
    expect_ok(ADD, NULL, ARGS("+9223372036854775807", "-0"), "9223372036854775807");
    expect_ok(DEFAULT_SYMBOL, NULL, ARGS("1", "2"), "3"); /* symbol defaults to the name */
}
END_TEST

START_TEST(test_double_return) {
    expect_ok(SCALE, NULL, ARGS("2.5", "3"), "7.5");
    expect_ok(SCALE, NULL, ARGS("0.1", "1"), "0.10000000000000001");
    expect_ok(SCALE, NULL, ARGS("-1e300", "10"), "-1.0000000000000001e+301");
    expect_ok(SCALE, NULL, ARGS("inf", "-1"), "-inf");
}
END_TEST

START_TEST(test_bool_return) {
    expect_ok(IS_LONG, NULL, ARGS("hello", "3"), "true");
    expect_ok(IS_LONG, NULL, ARGS("hi", "3"), "false");
    expect_ok(IS_LONG, NULL, ARGS("", "-1"), "true");
}
END_TEST

/* The returned string is malloc'ed by the plugin and freed by the host: the
 * sanitizer build proves no leak. */
START_TEST(test_string_return) {
    expect_ok(JSON, NULL, ARGS("cat", "2"), "{\"word\": \"cat\", \"top\": 2}");
    expect_ok(JSON, NULL, ARGS("", "0"), "{\"word\": \"\", \"top\": 0}");
    expect_err(JSON, NULL, ARGS("cat", "-1"), ZOO_ERR_ARG,
               "extras_plugin.json: failed: ex_json: top must be >= 0, got -1");
}
END_TEST

START_TEST(test_buffer) {
    ck_assert_int_eq(zoo_extra_text_arity(&xs[FILL]), 1);
    expect_ok(FILL, NULL, ARGS("zoo"), "hello, zoo");
    /* Filled to the last byte without a NUL: the host reads no further. */
    char *out = NULL;
    ck_assert_int_eq(zoo_extra_call(&xs[FILL_ALL], PLUGIN, NULL, NULL, 0, &out), ZOO_OK);
    ck_assert_uint_eq(strlen(out), ZOO_EXTRA_BUFFER_BYTES);
    ck_assert_int_eq(out[0], 'x');
    free(out);
    /* A return value first, then a newline, then the buffer. */
    expect_ok(REPEAT, NULL, ARGS("ab", "3"), "6\nababab");
    expect_ok(REPEAT, NULL, ARGS("ab", "0"), "0\n");
}
END_TEST

START_TEST(test_model) {
    const zoo_plugin *(*entry)(void) = (const zoo_plugin *(*)(void))dlsym(handle, ZOO_PLUGIN_ENTRY);
    ck_assert_ptr_nonnull(entry);
    const zoo_plugin *p = entry();
    zoo_hparams *hp = zoo_hparams_new(p->hparams, p->n_hparams);
    ck_assert_int_eq(zoo_hparams_set_int(hp, "tag", 7), ZOO_OK);
    zoo_model *m = NULL;
    ck_assert_int_eq(p->ops->create(hp, NULL, NULL, &m), ZOO_OK);

    ck_assert_int_eq(zoo_extra_text_arity(&xs[MODEL_TAG]), 0);
    ck_assert_int_eq(zoo_extra_text_arity(&xs[TAG_PLUS]), 1);
    expect_ok(MODEL_TAG, m, NO_ARGS, "7");
    expect_ok(TAG_PLUS, m, ARGS("-10"), "-3");
    expect_err(MODEL_TAG, NULL, NO_ARGS, ZOO_ERR_ARG,
               "extras_plugin.model_tag: takes a model, and none was given");
    expect_err(TAG_PLUS, NULL, ARGS("1"), ZOO_ERR_ARG,
               "extras_plugin.tag_plus: takes a model, and none was given");
    /* Positions in conversion errors count text arguments only. */
    expect_err(TAG_PLUS, m, ARGS("x"), ZOO_ERR_ARG,
               "extras_plugin.tag_plus: argument 1 (int64): 'x' is not an integer");

    p->ops->destroy(m);
    zoo_hparams_free(hp);
}
END_TEST

START_TEST(test_mixed_signature) {
    ck_assert_int_eq(zoo_extra_text_arity(&xs[MIX]), 4);
    expect_ok(MIX, NULL, ARGS("1", "0.25", "true", "abcd"), "105.25");
    expect_ok(MIX, NULL, ARGS("-3", "0.5", "0", "ab"), "-0.5");
    expect_ok(MIX, NULL, ARGS("0", "0", "1", ""), "100");
    expect_ok(MIX, NULL, ARGS("0", "0", "false", ""), "0");
}
END_TEST

START_TEST(test_wrong_count) {
    expect_err(ADD, NULL, ARGS("1"), ZOO_ERR_ARG,
               "extras_plugin.add: expects 2 arguments (int64, int64), got 1");
    expect_err(ADD, NULL, NO_ARGS, ZOO_ERR_ARG,
               "extras_plugin.add: expects 2 arguments (int64, int64), got 0");
    expect_err(MIX, NULL, ARGS("1", "2", "true", "x", "y"), ZOO_ERR_ARG,
               "extras_plugin.mix: expects 4 arguments (int64, double, bool, string), "
               "got 5");
    expect_err(FILL, NULL, NO_ARGS, ZOO_ERR_ARG,
               "extras_plugin.fill: expects 1 argument (string), got 0");
    expect_err(FILL_ALL, NULL, ARGS("x"), ZOO_ERR_ARG,
               "extras_plugin.fill_all: expects no arguments, got 1");
}
END_TEST

START_TEST(test_bad_conversions) {
    expect_err(ADD, NULL, ARGS("12x", "1"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 1 (int64): '12x' is not an integer");
    expect_err(ADD, NULL, ARGS("1", ""), ZOO_ERR_ARG,
               "extras_plugin.add: argument 2 (int64): '' is not an integer");
    expect_err(ADD, NULL, ARGS(" 1", "1"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 1 (int64): ' 1' is not an integer");
    expect_err(ADD, NULL, ARGS("0x10", "1"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 1 (int64): '0x10' is not an integer");
    expect_err(ADD, NULL, ARGS("1", "1.0"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 2 (int64): '1.0' is not an integer");
    expect_err(ADD, NULL, ARGS("9223372036854775808", "1"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 1 (int64): '9223372036854775808' is out of "
               "range for int64");
    expect_err(ADD, NULL, ARGS("1", "-99999999999999999999"), ZOO_ERR_ARG,
               "extras_plugin.add: argument 2 (int64): '-99999999999999999999' is out of "
               "range for int64");
    expect_err(SCALE, NULL, ARGS("abc", "1"), ZOO_ERR_ARG,
               "extras_plugin.scale: argument 1 (double): 'abc' is not a number");
    expect_err(SCALE, NULL, ARGS("", "1"), ZOO_ERR_ARG,
               "extras_plugin.scale: argument 1 (double): '' is not a number");
    expect_err(SCALE, NULL, ARGS(" 2", "1"), ZOO_ERR_ARG,
               "extras_plugin.scale: argument 1 (double): ' 2' is not a number");
    expect_err(SCALE, NULL, ARGS("2.5 ", "1"), ZOO_ERR_ARG,
               "extras_plugin.scale: argument 1 (double): '2.5 ' is not a number");
    expect_err(SCALE, NULL, ARGS("1e999", "1"), ZOO_ERR_ARG,
               "extras_plugin.scale: argument 1 (double): '1e999' is out of range for "
               "double");
    expect_err(MIX, NULL, ARGS("1", "2", "yes", "x"), ZOO_ERR_ARG,
               "extras_plugin.mix: argument 3 (bool): 'yes' is not true, false, 1 or 0");
    expect_err(MIX, NULL, ARGS("1", "2", "TRUE", "x"), ZOO_ERR_ARG,
               "extras_plugin.mix: argument 3 (bool): 'TRUE' is not true, false, 1 or 0");
    expect_err(MIX, NULL, ARGS("1", "2", "", "x"), ZOO_ERR_ARG,
               "extras_plugin.mix: argument 3 (bool): '' is not true, false, 1 or 0");
}
END_TEST

START_TEST(test_missing_symbols_disable_only_their_extra) {
    for (int i = ADD; i <= DEFAULT_SYMBOL; i++) {
        ck_assert_msg(xs[i].fn != NULL, "%s: %s", decls[i].name, xs[i].error);
        ck_assert_ptr_null(xs[i].error);
    }
    ck_assert_ptr_null(xs[MISSING].fn);
    ck_assert_str_eq(xs[MISSING].error, "extra 'nope' of plugin 'extras_plugin': symbol 'ex_nope' "
                                        "not found in " LIBRARY);
    ck_assert_ptr_null(xs[HIDDEN].fn);
    ck_assert_str_eq(xs[HIDDEN].error, "extra 'hidden' of plugin 'extras_plugin': symbol "
                                       "'ex_hidden' not found in " LIBRARY);
    /* dlsym on the handle also finds libzoo's symbols: they are not the plugin's. */
    ck_assert_ptr_null(xs[FROM_LIBZOO].fn);
    const char *want = "extra 'clear' of plugin 'extras_plugin': symbol 'zoo_error_clear' is not "
                       "defined in " LIBRARY " (it comes from ";
    ck_assert_msg(strncmp(xs[FROM_LIBZOO].error, want, strlen(want)) == 0, "%s",
                  xs[FROM_LIBZOO].error);
    ck_assert_ptr_nonnull(strstr(xs[FROM_LIBZOO].error, "libzoo"));

    expect_err(MISSING, NULL, NO_ARGS, ZOO_ERR_STATE,
               "extras_plugin.nope: disabled: extra 'nope' of plugin 'extras_plugin': "
               "symbol 'ex_nope' not found in " LIBRARY);
    expect_ok(ADD, NULL, ARGS("1", "1"), "2"); /* its neighbours still work */
}
END_TEST

START_TEST(test_invalid_declarations_disabled) {
    static const struct {
        int i;
        const char *error;
    } cases[] = {
        {VOID_ARG, "extra 'void_arg' of plugin 'extras_plugin': argument 2 has type 'void', which "
                   "is only valid as a return type"},
        {MODEL_RET, "extra 'model_ret' of plugin 'extras_plugin': return type 'model' is only "
                    "valid for an argument"},
        {BUFFER_RET, "extra 'buffer_ret' of plugin 'extras_plugin': return type 'buffer' is only "
                     "valid for an argument"},
        {TWO_BUFFERS, "extra 'two_buffers' of plugin 'extras_plugin': argument 2 is a second "
                      "'buffer'; at most one is supported"},
        {DECL_ERROR, "extra 'decl_error' of plugin 'extras_plugin': args[0]: unknown type 'float'"},
        {TOO_MANY, "extra 'too_many' of plugin 'extras_plugin': 9 arguments declared, at most 8 "
                   "are supported"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const zoo_extra *x = &xs[cases[k].i];
        ck_assert_msg(x->fn == NULL, "%s resolved", x->decl->name);
        ck_assert_str_eq(x->error, cases[k].error);
    }
    expect_err(MODEL_RET, NULL, ARGS("1", "2"), ZOO_ERR_STATE,
               "extras_plugin.model_ret: disabled: extra 'model_ret' of plugin "
               "'extras_plugin': return type 'model' is only valid for an argument");
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("extras");
    TCase *tc = tcase_create("ffi");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_type_names_round_trip);
    tcase_add_test(tc, test_resolve_nothing);
    tcase_add_test(tc, test_int64);
    tcase_add_test(tc, test_double_return);
    tcase_add_test(tc, test_bool_return);
    tcase_add_test(tc, test_string_return);
    tcase_add_test(tc, test_buffer);
    tcase_add_test(tc, test_model);
    tcase_add_test(tc, test_mixed_signature);
    tcase_add_test(tc, test_wrong_count);
    tcase_add_test(tc, test_bad_conversions);
    tcase_add_test(tc, test_missing_symbols_disable_only_their_extra);
    tcase_add_test(tc, test_invalid_declarations_disabled);
    suite_add_tcase(s, tc);
    return s;
}
