/* zoo_json (zoo/json.h): reading by key with messages naming file and key;
 * building an object and writing it in HuggingFace's layout, numbers in
 * their shortest exact form; what a setter refuses; the checks every JSON
 * file gets (UTF-8, no NUL, no key given twice). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

#include "check_util.h"

static char path[64];

static void write_text(const char *text) {
    write_temp_file(path, sizeof path, "zoo-json-test", text);
}

START_TEST(test_read) {
    write_text("{\"n\": 3, \"x\": 0.5, \"b\": true, \"s\": \"t\\u00e9\", \"a\": [1]}");
    zoo_json *doc = zoo_json_load(path);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(zoo_json_path(doc), path);
    double v;
    bool b;
    ck_assert_int_eq(zoo_json_number(doc, "x", &v), ZOO_OK);
    ck_assert(v == 0.5);
    ck_assert_int_eq(zoo_json_bool(doc, "b", &b), ZOO_OK);
    ck_assert(b);
    ck_assert_str_eq(zoo_json_string(doc, "s"), "t\xc3\xa9");
    ck_assert_ptr_null(zoo_json_string(doc, "n"));
    ck_assert(zoo_json_has(doc, "a") && !zoo_json_has(doc, "z"));
    ck_assert_int_eq(zoo_json_number(doc, "z", &v), ZOO_ERR_NOTFOUND);
    ck_assert(strstr(zoo_error_message(), path) && strstr(zoo_error_message(), "z: missing"));
    ck_assert_int_eq(zoo_json_bool(doc, "n", &b), ZOO_ERR_FORMAT);
    ck_assert(strstr(zoo_error_message(), "n: expected true or false"));
    zoo_json_free(doc);
    unlink(path);
}
END_TEST

START_TEST(test_build_and_write) {
    zoo_json *doc = zoo_json_new();
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(zoo_json_path(doc), "");
    const char *arch[] = {"A\"B", "C"};
    ck_assert_int_eq(zoo_json_set_string(doc, "model_type", "old"), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_strings(doc, "architectures", arch, 2), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_number(doc, "n", 50257), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_number(doc, "eps", 1e-5), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_number(doc, "std", 0.02), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_number(doc, "third", 1.0 / 3), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_number(doc, "neg", -2), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_bool(doc, "tie", false), ZOO_OK);
    ck_assert_int_eq(zoo_json_set_string(doc, "model_type", "new"), ZOO_OK); /* keeps its place */
    /* what JSON cannot hold */
    ck_assert_int_eq(zoo_json_set_number(doc, "inf", 1.0 / 0.0), ZOO_ERR_ARG);
    ck_assert(strstr(zoo_error_message(), "inf"));
    ck_assert_int_eq(zoo_json_set_string(doc, "s", "\xff"), ZOO_ERR_ARG);
    ck_assert_int_eq(zoo_json_set_string(doc, "\xc0\x80", "x"), ZOO_ERR_ARG);
    const char *bad[] = {"ok", "\xed\xa0\x80"}; /* a surrogate */
    ck_assert_int_eq(zoo_json_set_strings(doc, "list", bad, 2), ZOO_ERR_ARG);
    ck_assert(!zoo_json_has(doc, "inf") && !zoo_json_has(doc, "s") && !zoo_json_has(doc, "list"));

    write_text("old content");
    ck_assert_int_eq(zoo_json_write(doc, path), ZOO_OK);
    char *text = zoo_read_file(path, NULL);
    ck_assert_str_eq(text, "{\n"
                           "  \"model_type\": \"new\",\n"
                           "  \"architectures\": [\"A\\\"B\",\"C\"],\n"
                           "  \"n\": 50257,\n"
                           "  \"eps\": 1e-05,\n"
                           "  \"std\": 0.02,\n"
                           "  \"third\": 0.3333333333333333,\n"
                           "  \"neg\": -2,\n"
                           "  \"tie\": false\n"
                           "}\n");
    free(text);
    zoo_json_free(doc);

    /* and it reads back to the same doubles */
    doc = zoo_json_load(path);
    ck_assert_ptr_nonnull(doc);
    double v;
    ck_assert_int_eq(zoo_json_number(doc, "third", &v), ZOO_OK);
    ck_assert(v == 1.0 / 3);
    ck_assert_int_eq(zoo_json_number(doc, "eps", &v), ZOO_OK);
    ck_assert(v == 1e-5);
    zoo_json_free(doc);

    /* an empty object; a path that cannot be written is named */
    doc = zoo_json_new();
    ck_assert_int_eq(zoo_json_write(doc, path), ZOO_OK);
    text = zoo_read_file(path, NULL);
    ck_assert_str_eq(text, "{}\n");
    free(text);
    ck_assert_int_eq(zoo_json_write(doc, "/nonexistent-dir/config.json"), ZOO_ERR_IO);
    ck_assert(strstr(zoo_error_message(), "/nonexistent-dir/config.json"));
    zoo_json_free(doc);
    unlink(path);
}
END_TEST

/* Text: a NUL or a byte that is not UTF-8 is refused with its line and
 * offset; surrogates and overlong forms are not UTF-8 either. */
START_TEST(test_check_text) {
    static const char ok[] = "{\"a\": \"t\xc3\xa9\"}\n";
    ck_assert_int_eq(zoo_json_check_text("f.json", ok, sizeof ok - 1), ZOO_OK);
    static const char nul[] = "{\n\"a\": \"x\0y\"}";
    ck_assert_int_eq(zoo_json_check_text("f.json", nul, sizeof nul - 1), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "f.json:2: a NUL byte (at offset 9)");
    static const char bad[] = "{\"a\": \"\xff\"}";
    ck_assert_int_eq(zoo_json_check_text("f.json", bad, sizeof bad - 1), ZOO_ERR_FORMAT);
    ck_assert_str_eq(zoo_error_message(), "f.json:1: invalid UTF-8 (byte 0xFF at offset 7)");
    static const char *const invalid[] = {"\xed\xa0\x80", "\xc0\xaf", "\xe2\x82",
                                          "\xf4\x90\x80\x80"};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(zoo_json_check_text("f", invalid[i], strlen(invalid[i])), ZOO_ERR_FORMAT);
}
END_TEST

/* Keys: a key given twice is named by its path, nested in objects and
 * arrays; the same key in two different objects is fine; zoo_json_load
 * refuses such a file. */
START_TEST(test_check_keys) {
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"{\"a\": 1, \"b\": {\"a\": 2}, \"c\": [{\"a\": 1}, {\"a\": 2}]}", NULL},
        {"{\"a\": 1, \"a\": 2}", "f.json: a: the key is given twice"},
        {"{\"m\": {\"x\": 1, \"y\": 2, \"x\": 3}}", "f.json: m.x: the key is given twice"},
        {"{\"p\": [{}, {\"n\": {\"k\": 1, \"k\": 1}}]}",
         "f.json: p[1].n.k: the key is given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *doc = cJSON_Parse(cases[i].text);
        ck_assert_ptr_nonnull(doc);
        int st = zoo_json_check_keys("f.json", doc);
        cJSON_Delete(doc);
        ck_assert_int_eq(st, cases[i].error ? ZOO_ERR_FORMAT : ZOO_OK);
        if (cases[i].error) ck_assert_str_eq(zoo_error_message(), cases[i].error);
    }
    write_text("{\"n_layer\": 2, \"n_layer\": 200}");
    ck_assert_ptr_null(zoo_json_load(path));
    ck_assert(strstr(zoo_error_message(), "n_layer: the key is given twice"));
    write_text("{\"model_type\": \"gpt\xff\"}");
    ck_assert_ptr_null(zoo_json_load(path));
    ck_assert(strstr(zoo_error_message(), ":1: invalid UTF-8 (byte 0xFF at offset 19)"));
    unlink(path);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_build_and_write);
    tcase_add_test(tc, test_check_text);
    tcase_add_test(tc, test_check_keys);
    suite_add_tcase(s, tc);
    return s;
}
