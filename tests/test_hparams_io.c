/* Hyperparameter schemas and values; the file helpers (.npy, atomic writes, SHA-256). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "files.h"
#include "zoo/io.h"

static const char *const activations[] = {"gelu", "relu", NULL};
static const zoo_hparam_spec schema[] = {
    {.name = "n_layer",
     .type = ZOO_HP_INT,
     .help = "blocks",
     .default_number = 4,
     .has_min = true,
     .min = 1},
    {.name = "dropout",
     .type = ZOO_HP_FLOAT,
     .default_number = 0.1,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 1},
    {.name = "bias", .type = ZOO_HP_BOOL, .default_number = 1},
    {.name = "activation", .type = ZOO_HP_ENUM, .default_string = "gelu", .choices = activations},
    {.name = "note", .type = ZOO_HP_STRING, .default_string = "hi"},
};

START_TEST(test_defaults_and_setters) {
    zoo_hparams *hp = zoo_hparams_new(schema, 5);
    ck_assert_ptr_nonnull(hp);
    ck_assert_int_eq(zoo_hparams_int(hp, "n_layer"), 4);
    ck_assert_double_eq(zoo_hparams_float(hp, "dropout"), 0.1);
    ck_assert(zoo_hparams_bool(hp, "bias"));
    ck_assert_str_eq(zoo_hparams_string(hp, "activation"), "gelu");
    ck_assert_int_eq(zoo_hparams_set_text(hp, "n_layer", "12"), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "dropout", "0.25"), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "bias", "false"), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "activation", "relu"), ZOO_OK);
    ck_assert_int_eq(zoo_hparams_int(hp, "n_layer"), 12);
    ck_assert_double_eq(zoo_hparams_float(hp, "n_layer"), 12); /* an int reads as a float too */
    ck_assert(!zoo_hparams_bool(hp, "bias"));
    char buf[64];
    ck_assert_str_eq(zoo_hparams_text(hp, 1, buf, sizeof buf), "0.25");
    ck_assert_str_eq(zoo_hparams_text(hp, 2, buf, sizeof buf), "false");
    zoo_hparams *copy = zoo_hparams_clone(hp);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "activation", "gelu"), ZOO_OK);
    ck_assert_str_eq(zoo_hparams_string(copy, "activation"), "relu");
    zoo_hparams_free(copy);
    zoo_hparams_free(hp);
}
END_TEST

START_TEST(test_errors_say_what_was_expected) {
    zoo_hparams *hp = zoo_hparams_new(schema, 5);
    const struct {
        const char *name, *text, *message;
        int status;
    } cases[] = {
        {"n_layer", "four", "n_layer: expected an integer >= 1, got \"four\"", ZOO_ERR_ARG},
        {"n_layer", "0", "n_layer: expected an integer >= 1, got 0", ZOO_ERR_ARG},
        {"n_layer", "2.5", "n_layer: expected an integer >= 1, got 2.5", ZOO_ERR_ARG},
        {"dropout", "1.5", "dropout: expected a number in [0, 1], got 1.5", ZOO_ERR_ARG},
        {"dropout", "nan", "dropout: expected a number in [0, 1], got nan", ZOO_ERR_ARG},
        {"bias", "yes", "bias: expected true or false, got \"yes\"", ZOO_ERR_ARG},
        {"activation", "tanh", "activation: expected one of gelu, relu, got \"tanh\"", ZOO_ERR_ARG},
        {"n_layers", "3", "unknown hyperparameter 'n_layers' (did you mean 'n_layer'?)",
         ZOO_ERR_NOTFOUND},
        {"zzz", "3", "unknown hyperparameter 'zzz'", ZOO_ERR_NOTFOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(zoo_hparams_set_text(hp, cases[i].name, cases[i].text), cases[i].status);
        ck_assert_str_eq(zoo_error_message(), cases[i].message);
    }
    ck_assert_int_eq(zoo_hparams_set_bool(hp, "n_layer", true), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_hparams_int(hp, "n_layer"), 4); /* nothing changed */
    zoo_hparams_free(hp);
}
END_TEST

START_TEST(test_invalid_schemas) {
    const zoo_hparam_spec dup[] = {{.name = "a", .type = ZOO_HP_INT},
                                   {.name = "a", .type = ZOO_HP_INT}};
    ck_assert_ptr_null(zoo_hparams_new(dup, 2));
    ck_assert_str_eq(zoo_error_message(), "hyperparameter schema: 'a' is declared twice");
    const zoo_hparam_spec bad_default[] = {
        {.name = "k", .type = ZOO_HP_ENUM, .default_string = "x", .choices = activations}};
    ck_assert_ptr_null(zoo_hparams_new(bad_default, 1));
    ck_assert_str_eq(zoo_error_message(), "hyperparameter schema: the default of 'k' is invalid");
}
END_TEST

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/zoo-io-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(test_npy_round_trip) {
    make_dir();
    zoo_graph *g = zoo_graph_new(0);
    const int64_t shapes[][4] = {{7}, {2, 3}, {1, 2, 3}, {2, 1, 3, 2}};
    for (int s = 0; s < 4; s++)
        for (int dtype = 0; dtype < 2; dtype++) {
            zoo_tensor *t = zoo_tensor_new(g, dtype, s + 1, shapes[s]);
            for (int64_t i = 0; i < t->numel; i++)
                if (dtype == ZOO_F32)
                    zoo_f32(t)[i] = 0.5f * (float)i - 1;
                else
                    zoo_i32(t)[i] = (int32_t)(i * 7 - 3);
            char path[300];
            snprintf(path, sizeof path, "%s/t%d%d.npy", dir, s, dtype);
            ck_assert_int_eq(zoo_npy_write(path, t), ZOO_OK);
            zoo_tensor *back = zoo_npy_read(g, path);
            ck_assert_msg(back, "%s", zoo_error_message());
            ck_assert_int_eq(back->dtype, dtype);
            ck_assert(zoo_tensor_same_shape(t, back));
            ck_assert_int_eq(memcmp(t->data, back->data, (size_t)t->numel * 4), 0);
            size_t len;
            char *raw = zoo_read_file(path, &len);
            ck_assert_int_eq((len - (size_t)t->numel * 4) % 64, 0); /* header padded to 64 bytes */
            free(raw);
        }
    char path[300];
    snprintf(path, sizeof path, "%s/bad.npy", dir);
    ck_assert_int_eq(zoo_write_file_atomic(path, "\x93NUMPY\x01\x00\x10\x00{'descr': '<f8',", 26),
                     ZOO_OK);
    ck_assert_ptr_null(zoo_npy_read(g, path));
    ck_assert(strstr(zoo_error_message(), "bad.npy: "));
    zoo_graph_free(g);
}
END_TEST

START_TEST(test_atomic_write_keeps_the_old_file_on_failure) {
    make_dir();
    char path[300];
    snprintf(path, sizeof path, "%s/file.txt", dir);
    ck_assert_int_eq(zoo_write_file_atomic(path, "old", 3), ZOO_OK);
    chmod(dir, 0500); /* no temporary file can be created beside it */
    int st = zoo_write_file_atomic(path, "new content", 11);
    chmod(dir, 0700);
    if (geteuid() != 0) { /* root ignores the permission; the test then only checks success */
        ck_assert_int_eq(st, ZOO_ERR_IO);
        ck_assert(strstr(zoo_error_message(), "cannot create a temporary file beside it"));
        char *text = zoo_read_file(path, NULL);
        ck_assert_str_eq(text, "old");
        free(text);
    }
    /* a directory in the way of the rename: the write fails, nothing is left behind */
    char sub[320];
    snprintf(sub, sizeof sub, "%s/taken", dir);
    mkdir(sub, 0700);
    char inner[340];
    snprintf(inner, sizeof inner, "%s/x", sub);
    ck_assert_int_eq(zoo_write_file_atomic(inner, "x", 1), ZOO_OK);
    ck_assert_int_eq(zoo_write_file_atomic(sub, "data", 4), ZOO_ERR_IO);
    struct stat st_sub;
    ck_assert_int_eq(stat(inner, &st_sub), 0); /* the directory and its file are intact */
}
END_TEST

/* mkdir -p: nested directories made, an existing one fine, a file in the way named */
START_TEST(test_make_dirs) {
    make_dir();
    char nested[300], file[300], below[320];
    snprintf(nested, sizeof nested, "%s/a/b/c", dir);
    ck_assert_int_eq(zoo_make_dirs(nested), ZOO_OK);
    struct stat st;
    ck_assert(stat(nested, &st) == 0 && S_ISDIR(st.st_mode));
    ck_assert_int_eq(zoo_make_dirs(nested), ZOO_OK); /* already there */
    snprintf(file, sizeof file, "%s/plain", dir);
    ck_assert_int_eq(zoo_write_file_atomic(file, "x", 1), ZOO_OK);
    ck_assert_int_eq(zoo_make_dirs(file), ZOO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "not a directory"));
    snprintf(below, sizeof below, "%s/under", file);
    ck_assert_int_eq(zoo_make_dirs(below), ZOO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), file));
    ck_assert_int_eq(zoo_make_dirs(""), ZOO_ERR_ARG);
}
END_TEST

START_TEST(test_paths_and_sha256) {
    char *p = zoo_path_relative_to("/etc/zoo/registry.json", "../lib/a.so");
    ck_assert_str_eq(p, "/etc/zoo/../lib/a.so");
    free(p);
    p = zoo_path_relative_to("registry.json", "a.so");
    ck_assert_str_eq(p, "a.so");
    free(p);
    p = zoo_path_relative_to("/x/registry.json", "/abs/a.so");
    ck_assert_str_eq(p, "/abs/a.so");
    free(p);
    make_dir();
    char path[300], hex[65];
    snprintf(path, sizeof path, "%s/abc", dir);
    ck_assert_int_eq(zoo_write_file_atomic(path, "abc", 3), ZOO_OK);
    ck_assert_int_eq(zoo_sha256_file(path, hex), ZOO_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(zoo_sha256_file("/nonexistent", hex), ZOO_ERR_IO);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hparams_io");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults_and_setters);
    tcase_add_test(tc, test_errors_say_what_was_expected);
    tcase_add_test(tc, test_invalid_schemas);
    tcase_add_test(tc, test_npy_round_trip);
    tcase_add_test(tc, test_atomic_write_keeps_the_old_file_on_failure);
    tcase_add_test(tc, test_make_dirs);
    tcase_add_test(tc, test_paths_and_sha256);
    suite_add_tcase(s, tc);
    return s;
}
