/* Run configs: extends, --set, defaults, and errors that name file and path. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"

static char dir[256];

static void make_dir(void) {
    make_temp_dir(dir, sizeof dir, "zoo-config-test");
    char sub[300];
    snprintf(sub, sizeof sub, "%s/base", dir);
    mkdir(sub, 0755);
}

/* Removes the test's directory, after each test (a checked fixture). */
static void remove_dir(void) {
    if (*dir) remove_temp_dir(dir);
    *dir = '\0';
}

static const char *write_file(const char *name, const char *text) {
    return write_in_dir(dir, name, text);
}

#define MINIMAL                                                                                    \
    "{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"corpus.txt\"}, \"train\": "       \
    "{\"steps\": 10}"

START_TEST(test_defaults_and_paths) {
    make_dir();
    const char *path = write_file("run.json", MINIMAL "}");
    zoo_config *c = zoo_config_load(path, NULL, 0);
    ck_assert_msg(c, "%s", zoo_error_message());
    char want[400];
    snprintf(want, sizeof want, "%s/corpus.txt", dir);
    ck_assert_str_eq(zoo_config_string_at(c, "data.train", 0), want); /* relative to the config */
    ck_assert_int_eq(zoo_config_count(c, "data.train"), 1);
    ck_assert_int_eq(zoo_config_int(c, "train.batch_size"), 12);
    ck_assert_double_eq(zoo_config_number(c, "data.val_fraction"), 0.1);
    ck_assert_str_eq(zoo_config_string(c, "train.optimizer.name"), "adamw");
    ck_assert_double_eq(zoo_config_number_at(c, "train.optimizer.betas", 1), 0.999);
    ck_assert(zoo_config_is_null(c, "train.epochs"));
    ck_assert(zoo_config_is_null(c, "data.val"));
    ck_assert_str_eq(zoo_config_origin(c, "train.steps"), path);
    char *text = zoo_config_text(c);
    ck_assert(strstr(text, "\"seq_len\":\t64"));
    free(text);
    zoo_config_free(c);
}
END_TEST

START_TEST(test_extends_and_set) {
    make_dir();
    write_file(
        "base/base.json",
        "{\"model\": {\"plugin\": \"good\", \"vocab_size\": 8}, \"data\": {\"train\": [\"a.txt\", "
        "\"b.txt\"],"
        " \"tokenizer\": {\"type\": \"word\", \"lowercase\": true}}, \"train\": {\"steps\": 5,"
        " \"optimizer\": {\"lr\": 0.01, \"name\": \"sgd\"}}}");
    const char *path =
        write_file("child.json", "{\"extends\": \"base/base.json\", \"model\": {\"init_std\": 0.5},"
                                 " \"data\": {\"tokenizer\": {\"lowercase\": false}}, \"train\": "
                                 "{\"optimizer\": {\"lr\": 0.02}}}");
    const char *sets[] = {"train.batch_size=3", "train.optimizer.betas=[0.8, 0.95]",
                          "model.vocab_size=9", "data.val=held.txt",
                          "train.steps=null",   "train.epochs=2"};
    zoo_config *c = zoo_config_load(path, sets, 6);
    ck_assert_msg(c, "%s", zoo_error_message());
    char want[400];
    snprintf(want, sizeof want, "%s/base/b.txt", dir); /* relative to the base that names it */
    ck_assert_str_eq(zoo_config_string_at(c, "data.train", 1), want);
    ck_assert_str_eq(zoo_config_string(c, "data.tokenizer.type"), "word");
    ck_assert(!zoo_config_bool(c, "data.tokenizer.lowercase"));
    ck_assert_double_eq(zoo_config_number(c, "train.optimizer.lr"), 0.02);
    ck_assert_str_eq(zoo_config_string(c, "train.optimizer.name"), "sgd");
    ck_assert_int_eq(zoo_config_int(c, "train.batch_size"), 3);
    ck_assert_double_eq(zoo_config_number_at(c, "train.optimizer.betas", 0), 0.8);
    char cwd[4096], held[4200];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(held, sizeof held, "%s/held.txt", cwd); /* --set paths: the working directory */
    ck_assert_str_eq(zoo_config_string(c, "data.val"), held);
    ck_assert_int_eq(zoo_config_int(c, "train.epochs"), 2);
    ck_assert(zoo_config_is_null(c, "train.steps"));
    char base[400];
    snprintf(base, sizeof base, "%s/base/base.json", dir);
    ck_assert_str_eq(zoo_config_origin(c, "train.optimizer.name"), base);
    ck_assert_str_eq(zoo_config_origin(c, "train.optimizer.lr"), path);
    ck_assert_str_eq(zoo_config_origin(c, "model.vocab_size"), "--set");

    /* model keys go through the plugin's schema */
    static const zoo_hparam_spec schema[] = {
        {.name = "vocab_size", .type = ZOO_HP_INT, .default_number = 16, .has_min = true, .min = 2},
        {.name = "init_std",
         .type = ZOO_HP_FLOAT,
         .default_number = 0.02,
         .has_min = true,
         .min = 0},
    };
    zoo_hparams *hp = zoo_hparams_new(schema, 2);
    ck_assert_int_eq(zoo_config_apply_model(c, hp), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_int(hp, "vocab_size"), 9);
    ck_assert_double_eq(zoo_hparams_float(hp, "init_std"), 0.5);
    zoo_hparams_free(hp);
    zoo_config_free(c);
}
END_TEST

/* The config fails to load with exactly this message (after the file name when file). */
static void expect_error(const char *json, const char *const *sets, int n_sets, const char *want) {
    const char *path = write_file("bad.json", json);
    zoo_config *c = zoo_config_load(path, sets, n_sets);
    ck_assert_msg(c == NULL, "loaded: %s", json);
    const char *got = zoo_error_message();
    const char *after = strncmp(got, path, strlen(path)) == 0 ? got + strlen(path) + 2 : got;
    if (*want) ck_assert_msg(strcmp(after, want) == 0, "expected\n  %s\ngot\n  %s", want, got);
}

START_TEST(test_errors) {
    make_dir();
    expect_error(MINIMAL ", \"batch_size\": 3}", NULL, 0, "batch_size: unknown key");
    expect_error(MINIMAL ", \"trian\": {}}", NULL, 0, "trian: unknown key (did you mean 'train'?)");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}, \"train\": "
                 "{\"steps\": 1, \"batchsize\": 3}}",
                 NULL, 0, "train.batchsize: unknown key (did you mean 'train.batch_size'?)");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}, \"train\": "
                 "{\"steps\": \"four\"}}",
                 NULL, 0, "train.steps: expected an integer >= 1 or null, got \"four\"");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}, \"train\": "
                 "{\"steps\": 1.5}}",
                 NULL, 0, "train.steps: expected an integer >= 1 or null, got 1.5");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\", "
                 "\"val_fraction\": 1}, \"train\": {\"steps\": 1}}",
                 NULL, 0, "data.val_fraction: expected a number in [0, 1), got 1");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\", "
                 "\"invalid_utf8\": \"skip\"}, \"train\": {\"steps\": 1}}",
                 NULL, 0, "data.invalid_utf8: expected one of error, replace, got \"skip\"");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": [\"a\", 3]}, "
                 "\"train\": {\"steps\": 1}}",
                 NULL, 0, "data.train: expected a path or an array of paths, got an array");
    expect_error("{\"model\": {\"plugin\": \"good\", \"n_layer\": [4]}, \"data\": {\"train\": "
                 "\"c\"}, \"train\": {\"steps\": 1}}",
                 NULL, 0, "model.n_layer: expected a number, true/false or a string, got an array");
    expect_error("{\"model\": {}, \"data\": {\"train\": \"c\"}, \"train\": {\"steps\": 1}}", NULL,
                 0, "model.plugin: missing (the plugin's registry name)");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}}", NULL, 0,
                 "train: set exactly one of train.steps, train.epochs and train.tokens (none "
                 "is)");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}, \"train\": "
                 "{\"steps\": 1, \"epochs\": 1}}",
                 NULL, 0,
                 "train: set exactly one of train.steps, train.epochs and "
                 "train.tokens (more than one is set)");
    expect_error("{\"model\": {\"plugin\": \"good\"}, \"data\": {\"train\": \"c\"}, \"train\": "
                 "{\"steps\": 1,}}",
                 NULL, 0, "");
    ck_assert(strstr(zoo_error_message(), "bad.json:1:77: malformed JSON"));
    expect_error("[]", NULL, 0, "a config is a JSON object, not an array");
    expect_error("{\"extends\": \"missing.json\"}", NULL, 0, "");
    const char *sets1[] = {"train.batch_size=four"};
    expect_error(MINIMAL "}", sets1, 1,
                 "--set train.batch_size: expected an integer >= 1, got \"four\"");
    const char *sets2[] = {"train.optimzer.lr=1"};
    expect_error(MINIMAL "}", sets2, 1, "--set train.optimzer.lr: unknown key");
    const char *sets3[] = {"train.batch_sise=2"};
    expect_error(MINIMAL "}", sets3, 1,
                 "--set train.batch_sise: unknown key (did you mean 'train.batch_size'?)");
    const char *sets4[] = {"train"};
    expect_error(MINIMAL "}", sets4, 1, "--set train: expected KEY=VALUE");
}
END_TEST

START_TEST(test_extends_errors_name_the_base) {
    make_dir();
    write_file("base/base.json", "{\"train\": {\"lr\": 1}}");
    const char *path = write_file("child.json", "{\"extends\": \"base/base.json\"}");
    ck_assert_ptr_null(zoo_config_load(path, NULL, 0));
    char want[600];
    snprintf(want, sizeof want, "%s/base/base.json: train.lr: unknown key", dir);
    ck_assert_str_eq(zoo_error_message(), want);
    path = write_file("loop.json", "{\"extends\": \"loop.json\"}");
    ck_assert_ptr_null(zoo_config_load(path, NULL, 0));
    ck_assert(strstr(zoo_error_message(), "extends: more than 16 levels (a cycle?)"));
}
END_TEST

START_TEST(test_model_errors_name_the_file) {
    make_dir();
    const char *path =
        write_file("m.json", "{\"model\": {\"plugin\": \"good\", \"vocab_size\": \"four\"}, "
                             "\"data\": {\"train\": \"c\"}, \"train\": {\"steps\": 1}}");
    zoo_config *c = zoo_config_load(path, NULL, 0);
    static const zoo_hparam_spec schema[] = {{.name = "vocab_size",
                                              .type = ZOO_HP_INT,
                                              .default_number = 16,
                                              .has_min = true,
                                              .min = 2}};
    zoo_hparams *hp = zoo_hparams_new(schema, 1);
    ck_assert_int_eq(zoo_config_apply_model(c, hp), ZOO_ERR_ARG);
    char want[600];
    snprintf(want, sizeof want, "%s: model.vocab_size: expected an integer >= 2, got \"four\"",
             path);
    ck_assert_str_eq(zoo_error_message(), want);
    zoo_hparams_free(hp);
    zoo_config_free(c);
}
END_TEST

/* A fine-tuning config takes model and data.train from finetune.base; its
 * resolved text (a run directory's config.json) loads again, to the same text. */
START_TEST(test_finetune_round_trip) {
    make_dir();
    const char *path = write_file("ft.json", "{\"finetune\": {\"base\": \"runs/pre\", \"train\": "
                                             "\"sst.txt\"}, \"train\": {\"epochs\": 2}}");
    zoo_config *c = zoo_config_load(path, NULL, 0);
    ck_assert_msg(c, "%s", zoo_error_message());
    ck_assert(zoo_config_is_null(c, "model.plugin"));
    ck_assert(zoo_config_is_null(c, "data.train"));
    char *text = zoo_config_text(c);
    const char *again_path = write_file("config.json", text);
    zoo_config *again = zoo_config_load(again_path, NULL, 0);
    ck_assert_msg(again, "%s", zoo_error_message());
    char *again_text = zoo_config_text(again);
    ck_assert_str_eq(again_text, text);
    free(text), free(again_text);
    zoo_config_free(again);
    zoo_config_free(c);
    /* without finetune.base they are required, as in any run config */
    path = write_file("no-base.json", "{\"finetune\": {\"train\": \"sst.txt\"}, \"train\": "
                                      "{\"epochs\": 2}}");
    ck_assert_ptr_null(zoo_config_load(path, NULL, 0));
    ck_assert(strstr(zoo_error_message(), "model.plugin: missing"));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, NULL, remove_dir);
    tcase_add_test(tc, test_defaults_and_paths);
    tcase_add_test(tc, test_extends_and_set);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_extends_errors_name_the_base);
    tcase_add_test(tc, test_model_errors_name_the_file);
    tcase_add_test(tc, test_finetune_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
