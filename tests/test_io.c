/* Core file helpers (zoo/io.h) against special files: reads refuse devices,
 * FIFOs and directories at once (a FIFO must not block: alarm() kills a test
 * that hangs) and files past their cap. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* --- helpers ------------------------------------------------------------- */

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/zoo-io-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_dir(void) {
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *in_dir(const char *name) {
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void assert_error(const char *expected) {
    ck_assert_msg(strstr(zoo_error_message(), expected) != NULL, "message \"%s\", expected \"%s\"",
                  zoo_error_message(), expected);
}

/* --- reading ------------------------------------------------------------- */

START_TEST(test_read_refuses_a_device) {
    alarm(10); /* /dev/zero read to its end would never finish */
    ck_assert_ptr_null(zoo_read_file("/dev/zero", NULL));
    ck_assert_str_eq(zoo_error_message(), "/dev/zero: is a character device, not a regular file");
    ck_assert_ptr_null(zoo_read_file_max("/dev/null", NULL, ZOO_READ_MAX_JSON));
    ck_assert_str_eq(zoo_error_message(), "/dev/null: is a character device, not a regular file");
    alarm(0);
}
END_TEST

START_TEST(test_read_refuses_a_fifo_without_blocking) {
    make_dir();
    const char *fifo = in_dir("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    alarm(10); /* no writer: a blocking open would wait forever */
    ck_assert_ptr_null(zoo_read_file(fifo, NULL));
    assert_error(": is a FIFO, not a regular file");
    int fd = 123;
    ck_assert_int_ne(zoo_open_regular(fifo, UINT64_MAX, &fd, NULL), ZOO_OK);
    ck_assert_int_eq(fd, -1);
    alarm(0);
    remove_dir();
}
END_TEST

START_TEST(test_read_refuses_a_directory) {
    make_dir();
    ck_assert_ptr_null(zoo_read_file(dir, NULL));
    char expected[512];
    snprintf(expected, sizeof expected, "%s: is a directory, not a regular file", dir);
    ck_assert_str_eq(zoo_error_message(), expected);
    remove_dir();
}
END_TEST

START_TEST(test_read_caps_the_size) {
    make_dir();
    /* a sparse file one byte past the JSON cap: refused from its size alone */
    const char *big = in_dir("big.json");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)ZOO_READ_MAX_JSON + 1), 0);
    close(fd);
    ck_assert_ptr_null(zoo_read_file_max(big, NULL, ZOO_READ_MAX_JSON));
    char expected[600];
    snprintf(expected, sizeof expected,
             "%s: 67108865 bytes, more than the 64 MiB a file of this kind can need", big);
    ck_assert_str_eq(zoo_error_message(), expected);

    /* the cap itself is allowed, one byte more is not */
    const char *small = in_dir("five");
    write_text(small, "12345");
    size_t len = 0;
    char *text = zoo_read_file_max(small, &len, 5);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "12345");
    ck_assert_uint_eq(len, 5);
    free(text);
    ck_assert_ptr_null(zoo_read_file_max(small, NULL, 4));
    assert_error("five: 5 bytes, more than the 4 bytes a file of this kind can need");

    /* a regular file opens blocking, with its size */
    uint64_t size = 0;
    ck_assert_int_eq(zoo_open_regular(small, 5, &fd, &size), ZOO_OK);
    ck_assert_uint_eq(size, 5);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    close(fd);
    remove_dir();
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("special files");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_read_refuses_a_device);
    tcase_add_test(tc, test_read_refuses_a_fifo_without_blocking);
    tcase_add_test(tc, test_read_refuses_a_directory);
    tcase_add_test(tc, test_read_caps_the_size);
    suite_add_tcase(s, tc);
    return s;
}
