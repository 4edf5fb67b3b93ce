/* Labeled examples (host/runs/labeled_examples.h): the three formats, blank
 * lines and '\r', labels numbered as first seen and shared with a held-out
 * set, and each error's message naming the file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* unlink */

#include "check_util.h"
#include "labeled_examples.h"
#include "zoo/status.h"

static char path[64];

/* A scratch file holding text; its name in path. */
static void write_file(const char *text) {
    write_temp_file(path, sizeof path, "zoo-labeled", text);
}

/* Example i is label `label` with text `text`. */
static void expect(const zoo_labeled_examples *ex, const zoo_labels *ls, int64_t i,
                   const char *label, const char *text) {
    ck_assert_str_eq(ls->names[ex->labels[i]], label);
    ck_assert_str_eq(ex->texts[i], text);
    ck_assert_uint_eq(ex->lens[i], strlen(text));
}

START_TEST(test_formats) {
    zoo_labels ls = {0};
    zoo_labeled_examples ex = {0};
    write_file("pos\tthe lord said\r\n\nneg\tof the people\n\r\nneg\t\n");
    ck_assert_int_eq(zoo_labeled_examples_read(&ex, &ls, path, "x", "tsv", ZOO_UTF8_ERROR, true),
                     ZOO_OK);
    unlink(path);
    ck_assert_int_eq(ex.n, 3);
    ck_assert_int_eq(ls.n, 2);
    expect(&ex, &ls, 0, "pos", "the lord said");
    expect(&ex, &ls, 1, "neg", "of the people");
    expect(&ex, &ls, 2, "neg", ""); /* a label with no text is an example */
    zoo_labeled_examples_free(&ex);
    zoo_labels_free(&ls);
}
END_TEST

START_TEST(test_sst_and_trec) {
    zoo_labels ls = {0};
    zoo_labeled_examples ex = {0};
    write_file("1 a gripping film\n0 dull\tand long\n");
    ck_assert_int_eq(zoo_labeled_examples_read(&ex, &ls, path, "x", "sst", ZOO_UTF8_ERROR, true),
                     ZOO_OK);
    unlink(path);
    expect(&ex, &ls, 0, "1", "a gripping film");
    expect(&ex, &ls, 1, "0", "dull\tand long");
    write_file("NUM:date When was it ?\nDESC:def What is it ?\nNUM:count How many ?\n");
    ck_assert_int_eq(zoo_labeled_examples_read(&ex, &ls, path, "x", "trec", ZOO_UTF8_ERROR, true),
                     ZOO_OK);
    unlink(path);
    ck_assert_int_eq(ex.n, 5); /* appended */
    ck_assert_int_eq(ls.n, 4);
    expect(&ex, &ls, 2, "NUM", "When was it ?");
    expect(&ex, &ls, 3, "DESC", "What is it ?");
    expect(&ex, &ls, 4, "NUM", "How many ?");
    ck_assert_int_eq(ex.labels[2], ex.labels[4]);
    zoo_labeled_examples_free(&ex);
    zoo_labels_free(&ls);
}
END_TEST

START_TEST(test_errors) {
    zoo_labels ls = {0};
    zoo_labeled_examples ex = {0}, held = {0};
    char want[256];
    write_file("pos the lord\n\nnolabel\n");
    ck_assert_int_eq(zoo_labeled_examples_read(&ex, &ls, path, "x", "sst", ZOO_UTF8_ERROR, true),
                     ZOO_ERR_FORMAT);
    snprintf(want, sizeof want, "%s:3: expected a label, then the text", path);
    ck_assert_str_eq(zoo_error_message(), want);
    unlink(path);
    ck_assert_int_eq(ex.n, 1); /* what came before stays */
    write_file("pos the lord\nmaybe so\n");
    ck_assert_int_eq(zoo_labeled_examples_read(&held, &ls, path, "x", "sst", ZOO_UTF8_ERROR, false),
                     ZOO_ERR_FORMAT);
    snprintf(want, sizeof want,
             "%s:2: a label the training examples do not have (or more than 64 labels)", path);
    ck_assert_str_eq(zoo_error_message(), want);
    unlink(path);
    write_file("");
    ck_assert_int_ne(
        zoo_labeled_examples_read(&held, &ls, path, "--test", "sst", ZOO_UTF8_ERROR, false),
        ZOO_OK);
    snprintf(want, sizeof want, "--test: corpus is empty: %s has no text", path);
    ck_assert_str_eq(zoo_error_message(), want);
    ck_assert_int_eq(zoo_labeled_examples_read(&held, &ls, "/nonexistent/x.tsv", "--train", "tsv",
                                               ZOO_UTF8_ERROR, false),
                     ZOO_ERR_IO);
    ck_assert_str_eq(zoo_error_message(), "--train: /nonexistent/x.tsv: No such file or directory");
    ck_assert_int_eq(zoo_labeled_examples_read(&held, &ls, path, "x", "csv", ZOO_UTF8_ERROR, false),
                     ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "format: expected tsv, sst or trec, got 'csv'");
    unlink(path);
    zoo_labeled_examples_free(&ex), zoo_labeled_examples_free(&held);
    zoo_labels_free(&ls);
}
END_TEST

START_TEST(test_at_most_64_labels) {
    zoo_labels ls = {0};
    zoo_labeled_examples ex = {0};
    char text[2048] = "";
    for (int i = 0; i < 65; i++) sprintf(text + strlen(text), "l%d x\n", i);
    write_file(text);
    ck_assert_int_eq(zoo_labeled_examples_read(&ex, &ls, path, "x", "sst", ZOO_UTF8_ERROR, true),
                     ZOO_ERR_FORMAT);
    unlink(path);
    ck_assert_int_eq(ls.n, ZOO_MAX_LABELS);
    ck_assert_int_eq(ex.n, 64);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), ":65: a label the training examples"));
    zoo_labeled_examples_free(&ex);
    zoo_labels_free(&ls);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("labeled_examples");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_formats);
    tcase_add_test(tc, test_sst_and_trec);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_at_most_64_labels);
    suite_add_tcase(s, tc);
    return s;
}
