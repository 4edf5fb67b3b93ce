/* Reading registries and drop-in manifests: every error names the file and
 * the field, breaks only its own entry, and precedence picks the first name. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "registry.h"

static char dir[256];

static void make_dir(void) {
    make_temp_dir(dir, sizeof dir, "zoo-registry-test");
}

/* Removes the test's directory, after each test (a checked fixture). */
static void remove_dir(void) {
    if (*dir) remove_temp_dir(dir);
    *dir = '\0';
}

static const char *write_file(const char *name, const char *text) {
    return write_in_dir(dir, name, text);
}

static zoo_registry *load_one(const char *path) {
    zoo_registry_sources src = {.registry_files = (const char *const[]){path},
                                .n_registry_files = 1};
    return zoo_registry_load(&src);
}

#define GOOD_LIB ZOO_FIXTURE_DIR "/good.so"

/* The error of the only entry (or the file error) contains `want`. */
static void expect_error(const char *json, const char *want) {
    const char *path = write_file("r.json", json);
    zoo_registry *r = load_one(path);
    const char *got = r->n_file_errors ? r->file_errors[0] : r->count ? r->entries[0].error : NULL;
    ck_assert_msg(got && strstr(got, want), "expected an error containing\n  %s\ngot\n  %s", want,
                  got ? got : "(none)");
    ck_assert_msg(strstr(got, path) == got, "the error does not start with the file: %s", got);
    zoo_registry_free(r);
}

START_TEST(test_valid_registry) {
    make_dir();
    const char *path =
        write_file("r.json", "{\"format\": 1, \"plugins\": [{\"name\": \"good\", \"version\": "
                             "\"1.0.0\", \"summary\": \"s\","
                             " \"library\": \"" GOOD_LIB
                             "\", \"abi\": \"1.0\", \"exports\": [{\"name\": \"vocab\","
                             " \"symbol\": \"fixture_vocab\", \"returns\": \"int64\", \"args\": "
                             "[\"model\"], \"help\": \"h\"}]}]}");
    zoo_registry *r = load_one(path);
    ck_assert_int_eq(r->n_file_errors, 0);
    ck_assert_int_eq(r->count, 1);
    const zoo_reg_entry *e = zoo_registry_find(r, "good");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(e->error);
    ck_assert_str_eq(e->library, GOOD_LIB);
    ck_assert_int_eq(e->abi_major, 1);
    ck_assert_int_eq(e->n_extras, 1);
    ck_assert_str_eq(e->extras[0].symbol, "fixture_vocab");
    ck_assert_int_eq(e->extras[0].ret, ZOO_X_INT64);
    ck_assert_int_eq(e->extras[0].args[0], ZOO_X_MODEL);
    ck_assert_ptr_null(zoo_registry_find(r, "other"));
    zoo_registry_free(r);
}
END_TEST

#define ENTRY_START                                                                                \
    "{\"format\": 1, \"plugins\": [{\"name\": \"good\", \"version\": \"1\", \"summary\": \"s\", "
#define LIB "\"library\": \"" GOOD_LIB "\""

START_TEST(test_errors_name_file_and_field) {
    make_dir();
    expect_error("{\"format\": 1, \"plugins\": [\n  {\"name\": \"x\",,}]}",
                 "r.json:2:17: malformed JSON near '}]}'");
    expect_error("[1, 2]", "expected a JSON object with \"format\" and \"plugins\"");
    expect_error("{\"format\": 2, \"plugins\": []}", "format: expected the number 1");
    expect_error("{\"format\": 1, \"plugin\": []}",
                 "plugin: unknown field (did you mean 'plugins'?)");
    expect_error("{\"format\": 1, \"plugins\": {}}", "plugins: expected an array, got an object");
    expect_error(ENTRY_START LIB "}]}", "plugins[0].abi: missing");
    expect_error(ENTRY_START LIB ", \"abi\": 1}]}",
                 "plugins[0].abi: expected \"MAJOR.MINOR\" such as \"1.0\", got a number");
    expect_error(
        ENTRY_START LIB ", \"abi\": \"2.0\"}]}",
        "plugins[0].abi: plugin 'good' is registered for ABI 2.0, this host supports 1.0 to 1.3");
    expect_error(ENTRY_START "\"abi\": \"1.0\"}]}", "plugins[0].library: missing");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.0\", \"libary\": \"x\"}]}",
                 "plugins[0].libary: unknown field (did you mean 'library'?)");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.0\", \"sha256\": \"abc\"}]}",
                 "plugins[0].sha256: expected 64 lower-case hexadecimal digits");
    expect_error("{\"format\": 1, \"plugins\": [{\"name\": 5}]}",
                 "plugins[0].name: expected a non-empty string, got a number");
    expect_error("{\"format\": 1, \"plugins\": [{\"name\": \"Bad-Name\"}]}",
                 "plugins[0].name: \"Bad-Name\" must be lower-case letters, digits and '_'");
    expect_error(ENTRY_START "\"library\": \"missing.so\", \"abi\": \"1.0\"}]}",
                 "plugins[0].library: /tmp/zoo-registry-test");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.0\", \"exports\": 3}]}",
                 "plugins[0].exports: expected an array, got a number");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"tokenizers\": \"bytes\"}]}",
                 "plugins[0].tokenizers: expected an array of tokenizer type names, got a string");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"tokenizers\": [\"bytes\", 3]}]}",
                 "plugins[0].tokenizers[1]: expected a non-empty string, got a number");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"tokenizers\": [\"a\", \"b\", \"a\"]}]}",
                 "plugins[0].tokenizers[2]: \"a\" is listed twice");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.1\", \"tokenizers\": [\"bytes\"]}]}",
                 "plugins[0].tokenizers: plugins provide tokenizer types from ABI 1.2 on, the "
                 "entry says 1.1");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"tokeniser\": []}]}",
                 "plugins[0].tokeniser: unknown field (did you mean 'tokenizers'?)");
    const char *path = write_file("r.json", "");
    unlink(path);
    expect_error("", "malformed JSON"); /* an empty file */
}
END_TEST

START_TEST(test_bad_extra_disables_only_itself) {
    make_dir();
    const char *path =
        write_file("r.json", ENTRY_START LIB
                   ", \"abi\": \"1.0\", \"exports\": ["
                   "{\"name\": \"a\", \"returns\": \"float\"},"
                   "{\"name\": \"b\", \"args\": [\"int64\", \"pointer\"]},"
                   "{\"name\": \"c\", \"retruns\": \"int64\"},"
                   "{\"name\": \"d\", \"returns\": \"double\", \"args\": [\"int64\"]}]}]}");
    zoo_registry *r = load_one(path);
    const zoo_reg_entry *e = &r->entries[0];
    ck_assert_ptr_null(e->error);
    ck_assert_int_eq(e->n_extras, 4);
    ck_assert(strstr(e->extras[0].error, "plugins[0].exports[0].returns: unknown type float"));
    ck_assert(strstr(e->extras[1].error, "plugins[0].exports[1].args[1]: unknown type pointer"));
    ck_assert(strstr(e->extras[2].error,
                     "plugins[0].exports[2].retruns: unknown field (did you mean 'returns'?)"));
    ck_assert_ptr_null(e->extras[3].error);
    ck_assert_int_eq(e->extras[3].ret, ZOO_X_DOUBLE);
    zoo_registry_free(r);
}
END_TEST

/* A broken entry never stops the others. */
START_TEST(test_broken_entry_keeps_others) {
    make_dir();
    const char *path =
        write_file("r.json", "{\"format\": 1, \"plugins\": ["
                             "{\"name\": \"broken\"},"
                             "{\"name\": \"good\", \"version\": \"1\", \"summary\": \"s\", " LIB
                             ", \"abi\": \"1.0\"}]}");
    zoo_registry *r = load_one(path);
    ck_assert_int_eq(r->count, 2);
    ck_assert_ptr_nonnull(r->entries[0].error);
    ck_assert_ptr_null(zoo_registry_find(r, "good")->error);
    zoo_registry_free(r);
}
END_TEST

static void entry_json(char *buf, size_t size, const char *name, const char *version) {
    snprintf(buf, size,
             "{\"format\": 1, \"plugins\": [{\"name\": \"%s\", \"version\": \"%s\", \"summary\": "
             "\"s\", " LIB ", \"abi\": \"1.0\"}]}",
             name, version);
}

/* --registry beats ZOO_REGISTRY beats ZOO_PLUGIN_PATH beats the default. */
START_TEST(test_precedence_and_drop_in) {
    make_dir();
    char text[1024];
    entry_json(text, sizeof text, "good", "from-flag");
    const char *flag = write_file("flag.json", text);
    entry_json(text, sizeof text, "good", "from-env");
    const char *env = write_file("env.json", text);
    entry_json(text, sizeof text, "good", "from-default");
    const char *def = write_file("default.json", text);
    char drop[512];
    snprintf(drop, sizeof drop, "%s/drop", dir);
    mkdir(drop, 0755);
    write_file("drop/good.json", "{\"name\": \"good\", \"version\": \"from-drop-in\", \"summary\": "
                                 "\"s\", \"abi\": \"1.0\"}");
    char so[600];
    snprintf(so, sizeof so, "%s/good.so", drop);
    ck_assert_int_eq(symlink(GOOD_LIB, so), 0);
    write_file("drop/lonely.so", "not even a library");

    zoo_registry_sources src = {.registry_files = (const char *const[]){flag},
                                .n_registry_files = 1,
                                .env_registry = env,
                                .env_plugin_path = drop,
                                .default_registry = def};
    zoo_registry *r = zoo_registry_load(&src);
    ck_assert_str_eq(zoo_registry_find(r, "good")->version, "from-flag");
    int shadowed = 0;
    for (int i = 0; i < r->count; i++) shadowed += r->entries[i].shadowed;
    ck_assert_int_eq(shadowed, 3);
    const zoo_reg_entry *lonely = zoo_registry_find(r, "lonely");
    ck_assert_ptr_nonnull(lonely);
    ck_assert(strstr(lonely->error, "drop-in plugin without a manifest (expected "));
    zoo_registry_free(r);

    src.n_registry_files = 0; /* then the environment */
    r = zoo_registry_load(&src);
    ck_assert_str_eq(zoo_registry_find(r, "good")->version, "from-env");
    zoo_registry_free(r);
    src.env_registry = NULL; /* then the drop-in directory, its library beside the manifest */
    r = zoo_registry_load(&src);
    const zoo_reg_entry *e = zoo_registry_find(r, "good");
    ck_assert_str_eq(e->version, "from-drop-in");
    ck_assert_str_eq(e->library, so);
    ck_assert_ptr_null(e->error);
    zoo_registry_free(r);
    src.env_plugin_path = NULL;
    r = zoo_registry_load(&src);
    ck_assert_str_eq(zoo_registry_find(r, "good")->version, "from-default");
    zoo_registry_free(r);
}
END_TEST

/* The plugin to load for a tokenizer type, found by the entries' declarations. */
START_TEST(test_find_tokenizer_by_declaration) {
    make_dir();
    const char *path = write_file(
        "r.json", "{\"format\": 1, \"plugins\": ["
                  "{\"name\": \"broken\", \"version\": \"1\", \"summary\": \"s\", \"library\": "
                  "\"missing.so\", \"abi\": \"1.3\", \"tokenizers\": [\"bytes\", \"words\"]},"
                  "{\"name\": \"good\", \"version\": \"1\", \"summary\": \"s\", " LIB
                  ", \"abi\": \"1.3\", \"tokenizers\": [\"bytes\"]}]}");
    zoo_registry *r = load_one(path);
    ck_assert_ptr_nonnull(r->entries[0].error);
    ck_assert_int_eq(r->entries[1].n_tokenizers, 1);
    ck_assert_str_eq(r->entries[1].tokenizers[0], "bytes");
    ck_assert_str_eq(r->entries[1].where, "plugins[1].");
    ck_assert_str_eq(zoo_registry_find_tokenizer(r, "bytes")->name,
                     "good"); /* not the broken one */
    ck_assert_str_eq(zoo_registry_find_tokenizer(r, "words")->name, "broken"); /* only it */
    ck_assert_ptr_null(zoo_registry_find_tokenizer(r, "char"));
    zoo_registry_free(r);
}
END_TEST

/* A card: its texts and sizes as given; every wrong field named. */
START_TEST(test_card) {
    make_dir();
    const char *path = write_file(
        "r.json", "{\"format\": 1, \"plugins\": [{\"name\": \"good\", \"version\": \"1\", "
                  "\"summary\": \"s\", " LIB ", \"abi\": \"1.3\", \"card\": {\"sees\": \"left "
                  "only\", \"inputs\": \"token\", \"layers\": 3, \"width\": \"n_embd\"}}]}");
    zoo_registry *r = load_one(path);
    const zoo_model_card *c = &r->entries[0].card;
    ck_assert_ptr_null(r->entries[0].error);
    ck_assert_str_eq(c->sees, "left only");
    ck_assert_str_eq(c->inputs, "token");
    ck_assert_ptr_null(c->pretraining);
    ck_assert_str_eq(c->layers, "3");
    ck_assert_str_eq(c->width, "n_embd");
    ck_assert_ptr_null(c->context);
    zoo_registry_free(r);
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"card\": [1]}]}",
                 "plugins[0].card: expected an object, got an array");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"card\": {\"see\": \"x\"}}]}",
                 "plugins[0].card.see: unknown field (did you mean 'sees'?)");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"card\": {\"inputs\": 2}}]}",
                 "plugins[0].card.inputs: expected a string, got a number");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"card\": {\"layers\": -1}}]}",
                 "plugins[0].card.layers: expected a hyperparameter's name or an integer >= 0, "
                 "got a number");
    expect_error(ENTRY_START LIB ", \"abi\": \"1.3\", \"card\": {\"context\": 2.5}}]}",
                 "plugins[0].card.context: expected a hyperparameter's name or an integer >= 0");
}
END_TEST

START_TEST(test_missing_registry_file) {
    zoo_registry *r = load_one("/nonexistent/registry.json");
    ck_assert_int_eq(r->n_file_errors, 1);
    ck_assert_str_eq(r->file_errors[0], "/nonexistent/registry.json: cannot read: "
                                        "/nonexistent/registry.json: No such file or directory");
    zoo_registry_free(r);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, NULL, remove_dir);
    tcase_add_test(tc, test_valid_registry);
    tcase_add_test(tc, test_errors_name_file_and_field);
    tcase_add_test(tc, test_bad_extra_disables_only_itself);
    tcase_add_test(tc, test_broken_entry_keeps_others);
    tcase_add_test(tc, test_precedence_and_drop_in);
    tcase_add_test(tc, test_find_tokenizer_by_declaration);
    tcase_add_test(tc, test_missing_registry_file);
    tcase_add_test(tc, test_card);
    suite_add_tcase(s, tc);
    return s;
}
