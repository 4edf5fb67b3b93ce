/* Corpora: memory-mapped UTF-8 files, invalid bytes refused or replaced. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "corpus_files.h"
#include "zoo/corpus.h"

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/zoo-corpus-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Writes bytes to dir/name and returns the path (a static buffer per slot). */
static const char *write_file(int slot, const char *name, const void *bytes, size_t len) {
    static char paths[4][300];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", dir, name);
    FILE *f = fopen(paths[slot], "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return paths[slot];
}

/* Whether p lies in a mapping of the file `path` (from /proc/self/maps). */
static bool mapped_from(const void *p, const char *path) {
    char real[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(path, real));
    FILE *maps = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(maps);
    char line[PATH_MAX + 128];
    bool found = false;
    while (!found && fgets(line, sizeof line, maps)) {
        uintptr_t lo, hi;
        char name[PATH_MAX] = "";
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %4095s", &lo, &hi, name) >= 2)
            found = (uintptr_t)p >= lo && (uintptr_t)p < hi && strcmp(name, real) == 0;
    }
    fclose(maps);
    return found;
}

START_TEST(test_files_are_mapped_in_order) {
    make_dir();
    const char *a = write_file(0, "a.txt", "hello\n", 6);
    const char *b = write_file(1, "b.txt", "中文 text\n", 11);
    const char *c0 = write_file(2, "empty.txt", "", 0);
    const char *paths[] = {a, c0, b};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 3, ZOO_UTF8_ERROR, &c), ZOO_OK);
    ck_assert_int_eq(zoo_corpus_count(c), 3);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    ck_assert_uint_eq(len, 6);
    ck_assert_int_eq(memcmp(text, "hello\n", 6), 0);
    ck_assert(mapped_from(text, a)); /* read in place, not copied */
    ck_assert_uint_eq((zoo_corpus_file(c, 1, &len), len), 0);
    text = zoo_corpus_file(c, 2, &len);
    ck_assert_uint_eq(len, 11);
    ck_assert_int_eq(memcmp(text, "中文 text\n", 11), 0);
    ck_assert_str_eq(zoo_corpus_path(c, 2), b);
    ck_assert_int_eq(zoo_corpus_bytes(c), 17);
    ck_assert_int_eq(zoo_corpus_replacements(c), 0);
    ck_assert_ptr_null(zoo_corpus_file(c, 3, &len)); /* out of range: NULL, length 0 */
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_null(zoo_corpus_path(c, -1));
    ck_assert_int_eq(c->size, sizeof(zoo_corpus)); /* the view a trainer reads */
    ck_assert_int_eq(zoo_corpus_count(c), 3);
    zoo_corpus_close(c);
}
END_TEST

/* Each ill-formed case: the bytes, where Python's decoder says the error is,
 * and what errors='replace' makes of them (the maximal-subpart practice). */
static const struct {
    const char *bytes;
    size_t len;
    size_t offset;
    int line;
    const char *reason;
    const char *replaced;
    int replacements;
} bad[] = {
    /* a sequence cut short by the end of the file */
    {"abc\xE4\xB8", 5, 3, 1, "byte 0xE4, truncated at end of file", "abc\xEF\xBF\xBD", 1},
    {"\xE4\xB8\xAD\xE6\x96", 5, 3, 1, "byte 0xE6, truncated at end of file",
     "\xE4\xB8\xAD\xEF\xBF\xBD", 1},
    {"\xF0\x9F\x98", 3, 0, 1, "byte 0xF0, truncated at end of file", "\xEF\xBF\xBD", 1},
    /* overlong encodings, two to four bytes */
    {"a\xC0\xAF"
     "b",
     4, 1, 1, "byte 0xC0, invalid start byte",
     "a\xEF\xBF\xBD\xEF\xBF\xBD"
     "b",
     2},
    {"ab\xE0\x80\xAF", 5, 2, 1, "byte 0xE0, invalid continuation byte",
     "ab\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3},
    {"\xF0\x80\x80\xAF", 4, 0, 1, "byte 0xF0, invalid continuation byte",
     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4},
    /* a UTF-16 surrogate */
    {"x\xED\xA0\x80", 4, 1, 1, "byte 0xED, invalid continuation byte",
     "x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3},
    /* beyond U+10FFFF, and bytes that never occur */
    {"\xF4\x90\x80\x80", 4, 0, 1, "byte 0xF4, invalid continuation byte",
     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4},
    {"\xF5\x80\x80\x80", 4, 0, 1, "byte 0xF5, invalid start byte",
     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4},
    {"\xFF", 1, 0, 1, "byte 0xFF, invalid start byte", "\xEF\xBF\xBD", 1},
    /* a lone continuation byte, on line 3 */
    {"line1\nline2\nok\x80", 15, 14, 3, "byte 0x80, invalid start byte",
     "line1\nline2\nok\xEF\xBF\xBD", 1},
    /* the Unicode standard's own example (ch. 3, "U+FFFD Substitution of Maximal Subparts") */
    {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13, 1, 1,
     "byte 0xF1, invalid continuation byte",
     "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
     "b\xEF\xBF\xBD"
     "c\xEF\xBF\xBD\xEF\xBF\xBD"
     "d",
     6},
};

START_TEST(test_invalid_utf8_is_named) {
    make_dir();
    const char *good = write_file(0, "good.txt", "fine\n", 5);
    const char *path = write_file(1, "bad.txt", bad[_i].bytes, bad[_i].len);
    const char *paths[] = {good, path};
    zoo_corpus *c = (zoo_corpus *)1;
    ck_assert_int_eq(zoo_corpus_open(paths, 2, ZOO_UTF8_ERROR, &c), ZOO_ERR_FORMAT);
    ck_assert_ptr_null(c);
    char expected[512];
    snprintf(expected, sizeof expected, "%s: invalid UTF-8 at byte offset %zu (line %d, %s)", path,
             bad[_i].offset, bad[_i].line, bad[_i].reason);
    ck_assert_str_eq(zoo_error_message(), expected);
}
END_TEST

START_TEST(test_invalid_utf8_is_replaced) {
    make_dir();
    const char *good = write_file(0, "good.txt", "fine\n", 5);
    const char *path = write_file(1, "bad.txt", bad[_i].bytes, bad[_i].len);
    const char *paths[] = {good, path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 2, ZOO_UTF8_REPLACE, &c), ZOO_OK);
    size_t len;
    const char *text = zoo_corpus_file(c, 1, &len);
    ck_assert_uint_eq(len, strlen(bad[_i].replaced));
    ck_assert_int_eq(memcmp(text, bad[_i].replaced, len), 0);
    ck_assert_int_eq(zoo_corpus_replacements(c), bad[_i].replacements);
    ck_assert_int_eq(zoo_corpus_file_replacements(c, 1), bad[_i].replacements);
    ck_assert_int_eq(zoo_corpus_file_replacements(c, 0), 0);
    ck_assert(mapped_from(zoo_corpus_file(c, 0, NULL), good)); /* only the bad file is copied */
    ck_assert(!mapped_from(text, path));
    zoo_corpus_close(c);
}
END_TEST

START_TEST(test_replacements_add_up_over_files) {
    make_dir();
    const char *paths[] = {write_file(0, "1.txt", "\xFF\xFE x \x80", 6),
                           write_file(1, "2.txt", "ok", 2), write_file(2, "3.txt", "\xC3", 1)};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 3, ZOO_UTF8_REPLACE, &c), ZOO_OK);
    ck_assert_int_eq(zoo_corpus_replacements(c), 4);
    ck_assert_int_eq(zoo_corpus_file_replacements(c, 0), 3);
    ck_assert_int_eq(zoo_corpus_file_replacements(c, 2), 1);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    ck_assert_uint_eq(len, 12);
    ck_assert_int_eq(memcmp(text, "\xEF\xBF\xBD\xEF\xBF\xBD x \xEF\xBF\xBD", 12), 0);
    ck_assert_int_eq(zoo_corpus_bytes(c), 12 + 2 + 3);
    zoo_corpus_close(c);
}
END_TEST

START_TEST(test_empty_corpus_is_an_error) {
    make_dir();
    const char *paths[] = {write_file(0, "e1.txt", "", 0), write_file(1, "e2.txt", "", 0)};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 2, ZOO_UTF8_ERROR, &c), ZOO_ERR_ARG);
    char expected[700];
    snprintf(expected, sizeof expected, "corpus is empty: %s, %s have no text", paths[0], paths[1]);
    ck_assert_str_eq(zoo_error_message(), expected);
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_REPLACE, &c), ZOO_ERR_ARG);
    snprintf(expected, sizeof expected, "corpus is empty: %s has no text", paths[0]);
    ck_assert_str_eq(zoo_error_message(), expected);
    ck_assert_int_eq(zoo_corpus_open(paths, 0, ZOO_UTF8_ERROR, &c), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "corpus: no files given");
}
END_TEST

START_TEST(test_unreadable_paths_are_named) {
    make_dir();
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.txt", dir);
    const char *paths[] = {missing};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_ERR_IO);
    char expected[400];
    snprintf(expected, sizeof expected, "%s: No such file or directory", missing);
    ck_assert_str_eq(zoo_error_message(), expected);
    paths[0] = dir;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_ERR_IO);
    snprintf(expected, sizeof expected, "%s: is a directory, not a regular file", dir);
    ck_assert_str_eq(zoo_error_message(), expected);
    /* a device is refused before it is mapped or read */
    paths[0] = "/dev/zero";
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_ERR_IO);
    ck_assert_str_eq(zoo_error_message(), "/dev/zero: is a character device, not a regular file");
    paths[0] = dir;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, (zoo_utf8_policy)7, &c), ZOO_ERR_ARG);
}
END_TEST

/* A corpus larger than a page in every part: the ASCII fast path, multibyte
 * text and a repair far from the start must all keep their offsets. */
START_TEST(test_large_file_offsets) {
    make_dir();
    size_t n = 3 << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
    for (size_t i = 0; i + 3 <= n / 2; i += 1000) memcpy(big + i, "é", 2); /* some 2-byte text */
    big[n - 12345] = '\xC0';
    const char *paths[] = {write_file(0, "big.txt", big, n)};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_ERR_FORMAT);
    char expected[400];
    snprintf(expected, sizeof expected,
             "%s: invalid UTF-8 at byte offset %zu (line 1, byte 0xC0, invalid start byte)",
             paths[0], n - 12345);
    ck_assert_str_eq(zoo_error_message(), expected);
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_REPLACE, &c), ZOO_OK);
    ck_assert_int_eq(zoo_corpus_replacements(c), 1);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    ck_assert_uint_eq(len, n + 2);
    ck_assert_int_eq(memcmp(text, big, n - 12345), 0);
    ck_assert_int_eq(memcmp(text + n - 12345, "\xEF\xBF\xBD", 3), 0);
    ck_assert_int_eq(memcmp(text + n - 12342, big + n - 12344, 12344), 0);
    zoo_corpus_close(c);
    free(big);
}
END_TEST

/* TREC.train: one stray 0xF0 on line 66 (byte offset 3695, from Python). */
START_TEST(test_trec_has_one_invalid_byte) {
    char buf[512];
    const char *path = shared_data_path("classification/trec/TREC.train", buf, sizeof buf);
    if (!path) {
        printf("SKIP test_trec_has_one_invalid_byte: ../shared/data/classification/trec/TREC.train "
               "not found\n");
        return;
    }
    const char *paths[] = {path};
    zoo_corpus *c;
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_ERROR, &c), ZOO_ERR_FORMAT);
    char expected[700];
    snprintf(expected, sizeof expected,
             "%s: invalid UTF-8 at byte offset 3695 (line 66, byte 0xF0, invalid continuation "
             "byte)",
             path);
    ck_assert_str_eq(zoo_error_message(), expected);
    ck_assert_int_eq(zoo_corpus_open(paths, 1, ZOO_UTF8_REPLACE, &c), ZOO_OK);
    ck_assert_int_eq(zoo_corpus_replacements(c), 1);
    size_t len;
    const char *text = zoo_corpus_file(c, 0, &len);
    ck_assert_uint_eq(len, 335858 + 2);
    ck_assert_int_eq(memcmp(text + 3695 - 6,
                            "sister\xEF\xBF\xBD"
                            "city",
                            13),
                     0);
    zoo_corpus_close(c);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("corpus");
    tcase_add_test(tc, test_files_are_mapped_in_order);
    tcase_add_loop_test(tc, test_invalid_utf8_is_named, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_loop_test(tc, test_invalid_utf8_is_replaced, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_replacements_add_up_over_files);
    tcase_add_test(tc, test_empty_corpus_is_an_error);
    tcase_add_test(tc, test_unreadable_paths_are_named);
    tcase_add_test(tc, test_large_file_offsets);
    tcase_add_test(tc, test_trec_has_one_invalid_byte);
    suite_add_tcase(s, tc);
    return s;
}
