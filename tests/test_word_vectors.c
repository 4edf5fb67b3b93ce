/* Word vectors: text and binary round trips, lookups (exact, Unicode case,
 * restricted), nearest neighbours and analogies on a hand-made set whose
 * answers are worked out below, both evaluations on hand-made files, load
 * errors naming the file, and gensim's two real word2vec files from
 * ../shared/data when present. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "word_vector_eval.h"
#include "zoo/io.h"
#include "zoo/word_vectors.h"

static char dir[256];

static const char *temp_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/zoo-word-vectors-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

static const char *temp_path(const char *name) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", temp_dir(), name);
    return p;
}

static const char *write_temp(const char *name, const void *data, size_t len) {
    const char *p = temp_path(name);
    ck_assert_int_eq(zoo_write_file_atomic(p, data, len), ZOO_OK);
    return p;
}

static const char *write_text(const char *name, const char *text) {
    return write_temp(name, text, strlen(text));
}

/* 3-D: man = e1, woman = e2, king = e1 + e3, queen = e2 + e3, royal = e3 and
 * twin = man again (a tie that the row index breaks). king - man + woman
 * (unit vectors) = (1/√2 - 1, 1, 1/√2), nearest queen with cosine
 * (1/√2 + 1/2) / |q|, |q|² = (1/√2 - 1)² + 1 + 1/2. */
enum { MAN, WOMAN, KING, QUEEN, ROYAL, TWIN, N_ROYAL };
static const char *const royal_words[] = {"man", "woman", "king", "queen", "royal", "twin"};
static const float royal_data[] = {1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0};

static zoo_word_vectors *royal(void) {
    zoo_word_vectors *v = zoo_word_vectors_new(N_ROYAL, 3, royal_words, royal_data);
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    return v;
}

static void check_round_trip(bool binary) {
    const char *words[] = {"the", "café", "Ünïcödé", "x"};
    /* thirds, signed zero, denormals, the largest float; the last row zero */
    const float data[] = {1.0f / 3,        -0.0f,  1e-30f,      3.4e38f, 0.1f, -2.5f,
                          1.17549435e-38f, 1e-45f, 123456.789f, 0,       0,    0};
    zoo_word_vectors *v = zoo_word_vectors_new(4, 3, words, data);
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    const char *path = temp_path(binary ? "round.bin" : "round.txt");
    ck_assert_msg(zoo_word_vectors_save(v, path, binary) == ZOO_OK, "%s", zoo_error_message());
    zoo_word_vectors *back = zoo_word_vectors_load(path);
    ck_assert_msg(back != NULL, "%s", zoo_error_message());
    ck_assert_int_eq(back->count, 4);
    ck_assert_int_eq(back->dim, 3);
    for (int r = 0; r < 4; r++) ck_assert_str_eq(back->words[r], words[r]);
    ck_assert_int_eq(memcmp(back->data, data, sizeof data), 0);
    /* the zero row stays zero; others have length 1 */
    for (int j = 0; j < 3; j++) ck_assert(back->unit[9 + j] == 0.0f);
    double len = 0;
    for (int j = 0; j < 3; j++) len += (double)back->unit[j] * back->unit[j];
    ck_assert_double_eq_tol(len, 1.0, 1e-6);
    zoo_word_vectors_free(back);
    zoo_word_vectors_free(v);
}

START_TEST(test_round_trip_text) {
    check_round_trip(false);
}
END_TEST

START_TEST(test_round_trip_binary) {
    check_round_trip(true);
}
END_TEST

/* gensim writes binary rows without word2vec.c's '\n'; Windows text has "\r\n". */
START_TEST(test_load_variants) {
    unsigned char bin[64];
    size_t n = 0;
    memcpy(bin, "2 1\r\n", 5), n += 5;
    float one = 1.0f, two = -2.0f;
    memcpy(bin + n, "a ", 2), n += 2;
    memcpy(bin + n, &one, 4), n += 4;
    memcpy(bin + n, "b ", 2), n += 2;
    memcpy(bin + n, &two, 4), n += 4;
    zoo_word_vectors *v = zoo_word_vectors_load(write_temp("nonl.bin", bin, n));
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    ck_assert_str_eq(v->words[1], "b");
    ck_assert(v->data[0] == 1.0f && v->data[1] == -2.0f);
    zoo_word_vectors_free(v);

    v = zoo_word_vectors_load(write_text("crlf.txt", "2 2\r\nw 1 2\r\nv\t3.5  -4e1 \r\n"));
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    ck_assert_str_eq(v->words[1], "v");
    ck_assert(v->data[2] == 3.5f && v->data[3] == -40.0f);
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_find) {
    const char *words[] = {"a", "café", "Apple", "apple", "ΣΟΦΙΑ"};
    float data[5] = {1, 2, 3, 4, 5};
    zoo_word_vectors *v = zoo_word_vectors_new(5, 1, words, data);
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    ck_assert_int_eq(zoo_word_vectors_find(v, "café", 0, false), 1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "CAFÉ", 0, false), -1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "CAFÉ", 0, true), 1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "nope", 0, true), -1);
    /* exact wins over an earlier case-insensitive match */
    ck_assert_int_eq(zoo_word_vectors_find(v, "apple", 0, true), 3);
    /* otherwise the first row whose lower case matches */
    ck_assert_int_eq(zoo_word_vectors_find(v, "APPLE", 0, true), 2);
    ck_assert_int_eq(zoo_word_vectors_find(v, "σοφια", 0, true), 4);
    /* restrict_to leaves out later rows, exact or not */
    ck_assert_int_eq(zoo_word_vectors_find(v, "apple", 3, false), -1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "apple", 3, true), 2);
    ck_assert_int_eq(zoo_word_vectors_find(v, "Apple", 2, true), -1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "café", 1, true), -1);
    ck_assert_int_eq(zoo_word_vectors_find(v, "a", 1, false), 0);
    ck_assert_int_eq(zoo_word_vectors_find(v, "\xff", 0, true), -1);
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_nearest) {
    zoo_word_vectors *v = royal();
    int64_t rows[8];
    float cos[8];
    const float e1[] = {2, 0, 0}; /* any length */
    ck_assert_int_eq(zoo_word_vectors_nearest(v, e1, 0, NULL, 0, 6, rows, cos), 6);
    /* man and twin tie at 1, then king; woman, queen, royal tie at 0 */
    const int64_t want[] = {MAN, TWIN, KING, WOMAN, QUEEN, ROYAL};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(rows[i], want[i]);
    ck_assert_float_eq_tol(cos[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(cos[2], (float)M_SQRT1_2, 1e-6f);
    ck_assert_float_eq_tol(cos[3], 0.0f, 1e-6f);
    int64_t ex[] = {MAN};
    ck_assert_int_eq(zoo_word_vectors_nearest(v, e1, 3, ex, 1, 8, rows, cos), 2);
    ck_assert_int_eq(rows[0], KING);
    ck_assert_int_eq(rows[1], WOMAN);
    ck_assert_int_eq(zoo_word_vectors_nearest(v, e1, 0, ex, 1, 1, rows, cos), 1);
    ck_assert_int_eq(rows[0], TWIN);
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_analogy) {
    zoo_word_vectors *v = royal();
    int64_t rows[3];
    float cos[3];
    ck_assert_int_eq(zoo_word_vectors_analogy(v, MAN, KING, WOMAN, 0, 3, rows, cos), 3);
    ck_assert_int_eq(rows[0], QUEEN);
    double r = M_SQRT1_2, q = sqrt((r - 1) * (r - 1) + 1.5);
    ck_assert_double_eq_tol(cos[0], (r + 0.5) / q, 1e-6);
    ck_assert_int_eq(rows[1], ROYAL);
    ck_assert_double_eq_tol(cos[1], r / q, 1e-6);
    for (int i = 0; i < 3; i++) ck_assert(rows[i] != MAN && rows[i] != KING && rows[i] != WOMAN);
    /* among the first three rows every candidate is excluded; four add queen */
    ck_assert_int_eq(zoo_word_vectors_analogy(v, MAN, KING, WOMAN, 3, 3, rows, cos), 0);
    ck_assert_int_eq(zoo_word_vectors_analogy(v, MAN, KING, WOMAN, 4, 3, rows, cos), 1);
    ck_assert_int_eq(rows[0], QUEEN);
    ck_assert_int_lt(zoo_word_vectors_analogy(v, MAN, KING, 99, 0, 1, rows, cos), 0);
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_eval_analogy) {
    zoo_word_vectors *v = royal();
    /* royalty: the first two correct, the third asked but wrong (queen
     * beats royal), the fourth skipped; gender: queen - king + man is
     * (1 - 1/√2) e1 + e2/√2, nearest woman. */
    const char *path = write_text("questions.txt", ": royalty\n"
                                                   "man king woman queen\n"
                                                   "MAN King WOMAN QUEEN\r\n"
                                                   "man king woman royal\n"
                                                   "man king woman jester\n"
                                                   "\n"
                                                   ": gender\n"
                                                   "king queen man woman\n");
    zoo_analogy_result res;
    ck_assert_msg(zoo_word_vectors_eval_analogy(v, path, 0, &res) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(res.n_sections, 2);
    ck_assert_str_eq(res.sections[0].name, "royalty");
    ck_assert_int_eq(res.sections[0].correct, 2);
    ck_assert_int_eq(res.sections[0].asked, 3);
    ck_assert_int_eq(res.sections[0].skipped, 1);
    ck_assert_str_eq(res.sections[1].name, "gender");
    ck_assert_int_eq(res.sections[1].correct, 1);
    ck_assert_int_eq(res.sections[1].asked, 1);
    ck_assert_int_eq(res.sections[1].skipped, 0);
    ck_assert_int_eq(res.correct, 3);
    ck_assert_int_eq(res.asked, 4);
    ck_assert_int_eq(res.skipped, 1);
    zoo_analogy_result_free(&res);

    /* restricted to the first three rows, queen is unknown everywhere */
    ck_assert_int_eq(zoo_word_vectors_eval_analogy(v, path, 3, &res), ZOO_OK);
    ck_assert_int_eq(res.asked, 0);
    ck_assert_int_eq(res.skipped, 5);
    zoo_analogy_result_free(&res);

    char want[600];
    path = write_text("three.txt", ": s\nman king woman queen\nman king woman\n");
    ck_assert_int_ne(zoo_word_vectors_eval_analogy(v, path, 0, &res), ZOO_OK);
    snprintf(want, sizeof want, "%s:3: expected four words", path);
    ck_assert_msg(strstr(zoo_error_message(), want), "%s", zoo_error_message());
    ck_assert_int_eq(res.n_sections, 0);
    ck_assert_ptr_null(res.sections);

    path = write_text("nosection.txt", "\nman king woman queen\n");
    ck_assert_int_ne(zoo_word_vectors_eval_analogy(v, path, 0, &res), ZOO_OK);
    snprintf(want, sizeof want, "%s:2:", path);
    ck_assert_msg(strstr(zoo_error_message(), want), "%s", zoo_error_message());
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_eval_pairs) {
    zoo_word_vectors *v = royal();
    /* cosines 1/√2, 0, 1, 1/2, 1/√2, 1/√2 rank 4, 1, 6, 2, 4, 4; scores
     * 5, 1, 10, 3, 5, 7 rank 3.5, 1, 6, 2, 3.5, 5. Around the mean rank
     * 3.5: Σdxdy = 15.5, Σdx² = 17, Σdy² = 15.5, so rho = √(15.5/17). */
    const char *path = write_text("pairs.tsv", "# Word 1\tWord 2\tHuman (mean)\n"
                                               "man\tKING\t5\n"
                                               "man woman 1.0\r\n"
                                               "\n"
                                               "man\ttwin\t10.00\n"
                                               "king  queen\t3\n"
                                               "woman\tqueen\t5\n"
                                               "king\tjester\t9\n"
                                               "king\troyal\t7\n");
    zoo_pairs_result res;
    ck_assert_msg(zoo_word_vectors_eval_pairs(v, path, 0, &res) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(res.used, 6);
    ck_assert_int_eq(res.skipped, 1);
    ck_assert_double_eq_tol(res.spearman, sqrt(15.5 / 17), 1e-9);

    path = write_text("one.tsv", "man\tking\t5\n");
    ck_assert_int_eq(zoo_word_vectors_eval_pairs(v, path, 0, &res), ZOO_OK);
    ck_assert_int_eq(res.used, 1);
    ck_assert(isnan(res.spearman));

    char want[600];
    path = write_text("two.tsv", "man\tking\t5\nman\tking\n");
    ck_assert_int_ne(zoo_word_vectors_eval_pairs(v, path, 0, &res), ZOO_OK);
    snprintf(want, sizeof want, "%s:2:", path);
    ck_assert_msg(strstr(zoo_error_message(), want), "%s", zoo_error_message());
    path = write_text("score.tsv", "# c\nman\tking\tfive\n");
    ck_assert_int_ne(zoo_word_vectors_eval_pairs(v, path, 0, &res), ZOO_OK);
    snprintf(want, sizeof want, "%s:2:", path);
    ck_assert_msg(strstr(zoo_error_message(), want), "%s", zoo_error_message());
    zoo_word_vectors_free(v);
}
END_TEST

/* Loading `path` fails with a message naming it and containing `what`. */
static void expect_load_error(const char *path, const char *what) {
    zoo_error_clear();
    ck_assert_ptr_null(zoo_word_vectors_load(path));
    const char *msg = zoo_error_message();
    ck_assert_msg(strstr(msg, path) && strstr(msg, what), "\"%s\" lacks \"%s\"", msg, what);
}

START_TEST(test_errors) {
    zoo_word_vectors *v = royal();
    const char *full = temp_path("full.bin");
    ck_assert_int_eq(zoo_word_vectors_save(v, full, true), ZOO_OK);
    size_t len;
    char *bytes = zoo_read_file(full, &len);
    ck_assert_ptr_nonnull(bytes);
    expect_load_error(write_temp("cut.bin", bytes, len - 6), "row 5");
    free(bytes);

    expect_load_error(write_text("header.txt", "two 3\na 1 2 3\n"), "header");
    expect_load_error(write_text("zero.txt", "0 3\n"), "header");
    expect_load_error(write_text("huge.txt", "1 2000000\na 1\n"), "header");
    expect_load_error(write_text("few.txt", "2 3\na 1 2 3\nb 1 2\n"), "line 3");
    expect_load_error(write_text("bad.txt", "2 3\na 1 2 3\nb 1 2x 3\n"), "line 3");
    expect_load_error(write_text("short.txt", "3 3\na 1 2 3\nb 1 2 3\n"), "rows");
    expect_load_error(write_text("dup.txt", "3 2\na 1 2\nb 3 4\na 5 6\n"),
                      "duplicate word \"a\" in rows 0 and 2");
    expect_load_error(write_text("utf8.txt", "1 2\n\xc3\x28 1 2\n"), "UTF-8");
    expect_load_error(temp_path("missing.txt"), "");

    /* NaN or infinite numbers, text and binary: named with file, word and position */
    char want[640];
    const char *nan_txt = write_text("nan.txt", "2 3\na 1 2 3\nb 1 nan 3\n");
    snprintf(want, sizeof want, "%s: line 3 (\"b\"): number 2 of 3 is NaN; vectors must be finite",
             nan_txt);
    expect_load_error(nan_txt, want);
    const char *inf_txt = write_text("inf.txt", "1 2\na 1e39 2\n"); /* past float's range */
    snprintf(want, sizeof want,
             "%s: line 2 (\"a\"): number 1 of 2 is infinite; vectors must be finite", inf_txt);
    expect_load_error(inf_txt, want);
    unsigned char bin[64] = "1 2\nxy ";
    size_t at = strlen((char *)bin);
    const float row[2] = {1, NAN};
    memcpy(bin + at, row, sizeof row); /* little-endian, as the format is */
    const char *nan_bin = write_temp("nan.bin", bin, at + sizeof row);
    snprintf(want, sizeof want, "%s: row 0 (\"xy\"): number 2 of 2 is NaN; vectors must be finite",
             nan_bin);
    expect_load_error(nan_bin, want);
    const char *one[] = {"a"};
    float inf_data[2] = {1, -INFINITY};
    ck_assert_ptr_null(zoo_word_vectors_new(1, 2, one, inf_data));
    ck_assert_str_eq(zoo_error_message(), "word vectors: \"a\": number 2 of 2 is infinite");

    const char *dup[] = {"a", "a"};
    float data[2] = {1, 2};
    ck_assert_ptr_null(zoo_word_vectors_new(2, 1, dup, data));
    ck_assert_msg(strstr(zoo_error_message(), "duplicate"), "%s", zoo_error_message());
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_shared_binary) {
    char buf[512];
    const char *path =
        shared_data_path("embeddings_fixtures/euclidean_vectors.bin", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_shared_binary: embeddings_fixtures/euclidean_vectors.bin not found\n");
        return;
    }
    zoo_word_vectors *v = zoo_word_vectors_load(path);
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    ck_assert_int_eq(v->count, 2747);
    ck_assert_int_eq(v->dim, 10);
    int64_t war = zoo_word_vectors_find(v, "war", 0, false);
    ck_assert_int_ge(war, 0);
    int64_t rows[5];
    float cos[5];
    ck_assert_int_eq(zoo_word_vectors_nearest(v, v->data + war * v->dim, 0, &war, 1, 5, rows, cos),
                     5);
    const char *want[] = {"conflict", "administration", "terrorism", "call", "israel"};
    const float want_cos[] = {0.9331f, 0.9235f, 0.9169f, 0.8996f, 0.8847f};
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(v->words[rows[i]], want[i]);
        ck_assert_float_eq_tol(cos[i], want_cos[i], 1e-4f);
    }
    zoo_word_vectors_free(v);
}
END_TEST

START_TEST(test_shared_text) {
    char buf[512];
    const char *path = shared_data_path(
        "embeddings_fixtures/EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_shared_text: embeddings_fixtures/EN.1-10...txt not found\n");
        return;
    }
    zoo_word_vectors *v = zoo_word_vectors_load(path);
    ck_assert_msg(v != NULL, "%s", zoo_error_message());
    ck_assert_int_eq(v->count, 20);
    ck_assert_int_eq(v->dim, 300);
    ck_assert_int_eq(zoo_word_vectors_find(v, "one", 0, false), 0);
    ck_assert_float_eq_tol(v->data[0], -1.671300083398818970e-02f, 1e-9f);
    zoo_word_vectors_free(v);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("word_vectors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip_text);
    tcase_add_test(tc, test_round_trip_binary);
    tcase_add_test(tc, test_load_variants);
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_nearest);
    tcase_add_test(tc, test_analogy);
    tcase_add_test(tc, test_eval_analogy);
    tcase_add_test(tc, test_eval_pairs);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_shared_binary);
    tcase_add_test(tc, test_shared_text);
    suite_add_tcase(s, tc);
    return s;
}
