/* Core file helpers (zoo/io.h) against special files: reads refuse devices,
 * FIFOs and directories at once (a FIFO must not block: alarm() kills a test
 * that hangs) and files past their cap; atomic writes refuse to rename over
 * a device, FIFO or directory, leaving it as it was, and write through a
 * symbolic link, keeping the link; a child's output renamed into place
 * (zoo_rename_synced) leaves the old content when it cannot be. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* --- helpers ------------------------------------------------------------- */

static char dir[256];

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

static void assert_content(const char *path, const char *text) {
    size_t len;
    char *got = zoo_read_file(path, &len);
    ck_assert_msg(got != NULL, "%s: %s", path, zoo_error_message());
    ck_assert_str_eq(got, text);
    ck_assert_uint_eq(len, strlen(text));
    free(got);
}

static void assert_error(const char *expected) {
    ck_assert_msg(strstr(zoo_error_message(), expected) != NULL, "message \"%s\", expected \"%s\"",
                  zoo_error_message(), expected);
}

static int entries_in_dir(void) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
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
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
    const char *fifo = in_dir("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    alarm(10); /* no writer: a blocking open would wait forever */
    ck_assert_ptr_null(zoo_read_file(fifo, NULL));
    assert_error(": is a FIFO, not a regular file");
    int fd = 123;
    ck_assert_int_ne(zoo_open_regular(fifo, UINT64_MAX, &fd, NULL), ZOO_OK);
    ck_assert_int_eq(fd, -1);
    alarm(0);
    remove_temp_dir(dir);
}
END_TEST

START_TEST(test_read_refuses_a_directory) {
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
    ck_assert_ptr_null(zoo_read_file(dir, NULL));
    char expected[512];
    snprintf(expected, sizeof expected, "%s: is a directory, not a regular file", dir);
    ck_assert_str_eq(zoo_error_message(), expected);
    remove_temp_dir(dir);
}
END_TEST

START_TEST(test_read_caps_the_size) {
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
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
    remove_temp_dir(dir);
}
END_TEST

/* --- writing ------------------------------------------------------------- */

START_TEST(test_write_through_a_symlink) {
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
    ck_assert_int_eq(mkdir(in_dir("sub"), 0700), 0);
    const char *target = in_dir("sub/real.txt"), *link = in_dir("link.txt");
    write_text(target, "old");
    ck_assert_int_eq(symlink("sub/real.txt", link), 0); /* relative, as users make them */
    ck_assert_int_eq(zoo_write_file_atomic(link, "new content", 11), ZOO_OK);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    assert_content(target, "new content");
    assert_content(link, "new content");

    /* a chain of links ends at the same file; no temporary file is left */
    const char *link2 = in_dir("link2.txt");
    ck_assert_int_eq(symlink(link, link2), 0);
    ck_assert_int_eq(zoo_write_file_atomic(link2, "third", 5), ZOO_OK);
    ck_assert_int_eq(lstat(link2, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    assert_content(target, "third");
    ck_assert_int_eq(entries_in_dir(), 3); /* sub, link.txt, link2.txt */
    DIR *d = opendir(in_dir("sub"));
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(n, 1);
    remove_temp_dir(dir);
}
END_TEST

START_TEST(test_write_refuses_non_regular_targets) {
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
    struct stat st;
    /* /dev/null itself: refused, still the character device */
    ck_assert_int_ne(zoo_write_file_atomic("/dev/null", "x", 1), ZOO_OK);
    ck_assert_str_eq(zoo_error_message(),
                     "/dev/null: is a character device, not a regular file: not replaced");
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    zoo_atomic_file *f = (zoo_atomic_file *)1;
    ck_assert_int_ne(zoo_atomic_file_open("/dev/null", &f), ZOO_OK);
    ck_assert_ptr_null(f);

    /* a link to it: refused, the link kept */
    const char *link = in_dir("null-link");
    ck_assert_int_eq(symlink("/dev/null", link), 0);
    ck_assert_int_ne(zoo_write_file_atomic(link, "x", 1), ZOO_OK);
    assert_error("null-link: a symbolic link to /dev/null, which is a character device, not a "
                 "regular file: not replaced");
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));

    /* a FIFO and a directory stay what they are */
    alarm(10);
    const char *fifo = in_dir("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_ne(zoo_write_file_atomic(fifo, "x", 1), ZOO_OK);
    assert_error("fifo: is a FIFO, not a regular file: not replaced");
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    alarm(0);
    const char *sub = in_dir("sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_ne(zoo_write_file_atomic(sub, "x", 1), ZOO_OK);
    assert_error("sub: is a directory, not a regular file: not replaced");
    ck_assert_int_eq(lstat(sub, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));

    /* a dangling link: refused, nothing created */
    const char *dangling = in_dir("dangling");
    ck_assert_int_eq(symlink("missing", dangling), 0);
    ck_assert_int_ne(zoo_write_file_atomic(dangling, "x", 1), ZOO_OK);
    assert_error("dangling: a symbolic link that cannot be followed");
    ck_assert_int_eq(entries_in_dir(), 4); /* null-link, fifo, sub, dangling */

    /* a regular file and a new one are written as before */
    const char *plain = in_dir("plain");
    ck_assert_int_eq(zoo_write_file_atomic(plain, "a", 1), ZOO_OK);
    ck_assert_int_eq(zoo_write_file_atomic(plain, "bc", 2), ZOO_OK);
    assert_content(plain, "bc");
    ck_assert_int_eq(lstat(plain, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    remove_temp_dir(dir);
}
END_TEST

/* a child's output given its name: the old content until the rename, the new after */
START_TEST(test_rename_synced) {
    make_temp_dir(dir, sizeof dir, "zoo-io-test");
    const char *to = in_dir("eval.json"), *from = in_dir("eval.json.tmp");
    write_text(to, "old");
    write_text(from, "new");
    ck_assert_int_eq(zoo_rename_synced(from, to), ZOO_OK);
    assert_content(to, "new");
    ck_assert_int_eq(access(from, F_OK), -1);
    /* a missing source: the target kept, the source named */
    ck_assert_int_ne(zoo_rename_synced(from, to), ZOO_OK);
    assert_error("eval.json.tmp: No such file or directory");
    assert_content(to, "new");
    /* a rename that cannot be made names both */
    write_text(from, "newer");
    ck_assert_int_ne(zoo_rename_synced(from, in_dir("missing/eval.json")), ZOO_OK);
    assert_error("eval.json.tmp: rename to ");
    assert_error("missing/eval.json failed: No such file or directory");
    assert_content(to, "new");
    remove_temp_dir(dir);
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
    tcase_add_test(tc, test_write_through_a_symlink);
    tcase_add_test(tc, test_write_refuses_non_regular_targets);
    tcase_add_test(tc, test_rename_synced);
    suite_add_tcase(s, tc);
    return s;
}
