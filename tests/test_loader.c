/* Loading plugins: the ABI is checked first, every failure is one message
 * naming the library or registry file, and loading is leak-free. */
#include <stdio.h>
#include <unistd.h>

#include "files.h"
#include "zoo/io.h"
#include "zoo/tokenizer.h"

#include "check_util.h"
#include "loader.h"
#include "model.h"

static char dir[256];
static char registry_path[512];

/* The ABI registry_for registers a fixture for: this host's, unless a test says otherwise. */
static char registered_abi[16];

/* A registry with one entry for fixture `lib`, registered as `name`. */
static zoo_registry *registry_for(const char *name, const char *lib, const char *extra_fields) {
    if (!registered_abi[0])
        snprintf(registered_abi, sizeof registered_abi, "%d.%d", ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
    snprintf(dir, sizeof dir, "/tmp/zoo-loader-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(registry_path, sizeof registry_path, "%s/registry.json", dir);
    FILE *f = fopen(registry_path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": 1, \"plugins\": [{\"name\": \"%s\", \"version\": \"1.0.0\", "
            "\"summary\": \"a bigram table for the loader tests\", \"library\": \"%s\", \"abi\": "
            "\"%s\"%s}]}",
            name, lib, registered_abi, extra_fields ? extra_fields : "");
    fclose(f);
    zoo_registry_sources src = {.registry_files = (const char *const[]){registry_path},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    ck_assert_int_eq(r->n_file_errors, 0);
    return r;
}

#define FIXTURE(name) ZOO_FIXTURE_DIR "/" name ".so"

/* Loading fixture `lib` as `name` fails with a message containing want. */
static void expect_refusal(const char *name, const char *lib, const char *extra, const char *want) {
    zoo_registry *r = registry_for(name, lib, extra);
    zoo_loaded *p = NULL;
    int st = zoo_plugin_load(zoo_registry_find(r, name), &p);
    ck_assert_int_ne(st, ZOO_OK);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(zoo_error_message(), want), "expected\n  %s\nin\n  %s", want,
                  zoo_error_message());
    zoo_registry_free(r);
}

START_TEST(test_good_plugin_loads_and_runs) {
    zoo_registry *r = registry_for("good", FIXTURE("good"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    ck_assert_str_eq(p->plugin->name, "good");
    ck_assert_ptr_null(zoo_plugin_mismatches(p));
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "vocab_size", "5"), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(p, hp, 7, NULL, &m), ZOO_OK);
    ck_assert_int_eq(zoo_params_numel(m->params), 25);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_ERR_STATE); /* a model is alive */
    ck_assert_str_eq(zoo_error_message(),
                     "plugin 'good' still has 1 live model(s); not unloading it");

    int32_t ids[4] = {0, 1, 2, 4}, targets[4] = {1, 2, 3, 0};
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 2, .ids = ids, .targets = targets};
    zoo_graph *g = zoo_graph_new(0);
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(p->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    ck_assert_int_eq(out.logits->shape[2], 5);
    zoo_tensor *loss = NULL;
    ck_assert_int_eq(p->plugin->ops->loss(m->model, g, &batch, NULL, &loss, NULL), ZOO_OK);
    ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_each_failure_has_its_message) {
    expect_refusal("wrong_major", FIXTURE("wrong_major"), NULL,
                   "plugin 'wrong_major' was built for ABI 2.0, this host supports 1.0 to 1.1");
    expect_refusal("newer_minor", FIXTURE("newer_minor"), NULL,
                   "plugin 'newer_minor' was built for ABI 1.2, this host supports 1.0 to 1.1");
    expect_refusal("no_entry", FIXTURE("no_entry"), NULL,
                   "no_entry.so: no symbol 'zoo_plugin_entry': not a zoo plugin");
    expect_refusal("null_entry", FIXTURE("null_entry"), NULL,
                   "null_entry.so: zoo_plugin_entry() returned NULL");
    expect_refusal(
        "missing_op", FIXTURE("missing_op"), NULL,
        "missing_op.so: plugin 'missing_op' lacks the required operation 'forward' (NULL)");
    expect_refusal("cap_without_op", FIXTURE("cap_without_op"), NULL,
                   "plugin 'cap_without_op' announces the capability of 'cache_new' but the "
                   "operation is NULL");
    expect_refusal(
        "bad_schema", FIXTURE("bad_schema"), NULL,
        "plugin 'bad_schema': hyperparameter schema: the default of 'vocab_size' is invalid");
    expect_refusal("impostor", FIXTURE("good"), NULL, "the library calls itself 'good' but");
    expect_refusal(
        "good", FIXTURE("good"),
        ", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\"",
        "sha256 of plugin 'good' does not match: the registry pins 0000");

    /* a file that is not a library: the dynamic loader's own words are quoted */
    char bogus[300];
    snprintf(bogus, sizeof bogus, "/tmp/zoo-loader-bogus-%d.so", (int)getpid());
    FILE *f = fopen(bogus, "w");
    fputs("this is not an ELF file\n", f);
    fclose(f);
    expect_refusal("bogus", bogus, NULL, "cannot load plugin 'bogus': ");
    unlink(bogus);
}
END_TEST

/* A plugin built for ABI 1.0 (an operations table without set_tokenizer)
 * loads on this 1.1 host, unless it raises a flag its table cannot hold. */
START_TEST(test_older_minor_loads) {
    snprintf(registered_abi, sizeof registered_abi, "1.0");
    zoo_registry *r = registry_for("abi_1_0", FIXTURE("abi_1_0"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "abi_1_0"), &p), ZOO_OK);
    ck_assert_int_eq(p->plugin->abi_minor, 0);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_OK);
    zoo_host_model_destroy(m);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    expect_refusal("abi_1_0_new_flag", FIXTURE("abi_1_0_new_flag"), NULL,
                   "plugin 'abi_1_0_new_flag' announces the capability of 'set_tokenizer' but the "
                   "operation is NULL");
    registered_abi[0] = '\0';
}
END_TEST

/* The host hands a ZOO_CAP_TOKENIZER plugin its tokenizer right after
 * create; the plugin's refusal fails the creation, with its reason. */
START_TEST(test_set_tokenizer_is_called) {
    zoo_registry *r = registry_for("tokenizer", FIXTURE("tokenizer"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "tokenizer"), &p), ZOO_OK);
    zoo_tokenizer *small = tokenizer_from_text("char", NULL, "abcabc"),
                  *big = tokenizer_from_text("char", NULL, "abcdefghijklmnopq");
    zoo_host_model *m = NULL;
    ck_assert_int_eq(
        zoo_host_model_create(p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1,
                              small, &m),
        ZOO_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(zoo_error_message(), "plugin 'tokenizer' could not create a model: the "
                                          "tokenizer has 3 tokens, the table 16");
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, big, &m),
                     ZOO_OK);
    zoo_host_model_destroy(m);
    zoo_tokenizer_free(small);
    zoo_tokenizer_free(big);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_init_failure_is_reported) {
    zoo_registry *r = registry_for("create_fails", FIXTURE("create_fails"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "create_fails"), &p), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(zoo_error_message(), "plugin 'create_fails' could not create a model: "
                                          "vocab_size 16 is too large for this fixture");
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_checksum_pin_accepts_the_right_sum) {
    char hex[65], field[128];
    ck_assert_int_eq(zoo_sha256_file(FIXTURE("good"), hex), ZOO_OK);
    snprintf(field, sizeof field, ", \"sha256\": \"%s\"", hex);
    zoo_registry *r = registry_for("good", FIXTURE("good"), field);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_missing_extra_is_disabled_not_fatal) {
    zoo_registry *r =
        registry_for("good", FIXTURE("good"),
                     ", \"exports\": [{\"name\": \"vocab\", \"symbol\": \"fixture_vocab\", "
                     "\"returns\": \"int64\", \"args\": [\"model\"]}, {\"name\": \"nope\"}]");
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    ck_assert_int_eq(p->n_extras, 2);
    ck_assert_ptr_null(p->extras[0].error);
    ck_assert(strstr(p->extras[1].error, "symbol 'nope' not found"));
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_OK);
    char *result = NULL;
    ck_assert_int_eq(zoo_extra_call(&p->extras[0], "good", m->model, NULL, 0, &result), ZOO_OK);
    ck_assert_str_eq(result, "16");
    free(result);
    zoo_host_model_destroy(m);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_version_mismatch_is_reported) {
    zoo_registry *r = registry_for("good", FIXTURE("good"), NULL);
    free(r->entries[0].version);
    r->entries[0].version = strdup("9.9.9");
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(&r->entries[0], &p), ZOO_OK);
    char *m = zoo_plugin_mismatches(p);
    ck_assert(m && strstr(m, "version: the registry says 9.9.9, the library 1.0.0"));
    free(m);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

/* Run under the sanitizer build, this is the leak check of load and unload. */
START_TEST(test_load_unload_100_times) {
    /* the fixtures, and every plugin zoo ships */
    const char *names[] = {"good", "create_fails", "extras_plugin", "bigram"};
    for (int k = 0; k < 4; k++) {
        char lib[512];
        if (k == 3)
            snprintf(lib, sizeof lib, ZOO_BINARY_DIR "/plugins/%s.so", names[k]);
        else
            snprintf(lib, sizeof lib, ZOO_FIXTURE_DIR "/%s.so", names[k]);
        zoo_registry *r = registry_for(names[k], lib, NULL);
        for (int i = 0; i < 100; i++) {
            zoo_loaded *p = NULL;
            ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, names[k]), &p) == ZOO_OK, "%s",
                          zoo_error_message());
            zoo_host_model *m = NULL;
            if (k == 0) {
                ck_assert_int_eq(
                    zoo_host_model_create(
                        p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), i, NULL, &m),
                    ZOO_OK);
                zoo_host_model_destroy(m);
            }
            ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
        }
        zoo_registry_free(r);
    }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_good_plugin_loads_and_runs);
    tcase_add_test(tc, test_each_failure_has_its_message);
    tcase_add_test(tc, test_init_failure_is_reported);
    tcase_add_test(tc, test_older_minor_loads);
    tcase_add_test(tc, test_set_tokenizer_is_called);
    tcase_add_test(tc, test_checksum_pin_accepts_the_right_sum);
    tcase_add_test(tc, test_missing_extra_is_disabled_not_fatal);
    tcase_add_test(tc, test_version_mismatch_is_reported);
    tcase_add_test(tc, test_load_unload_100_times);
    suite_add_tcase(s, tc);
    return s;
}
