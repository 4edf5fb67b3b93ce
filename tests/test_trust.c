/* What zoo trusts (host/plugins/trust.h, registry pins, the loader's
 * policy): a path another user could change is refused naming the file or
 * directory and the chmod that fixes it; a drop-in is pinned by a registry
 * file naming the same library, never by its own manifest; under
 * require_pinned an unpinned library is refused before it is opened; a
 * directory is offered only to the plugins that declare its format. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "files.h"
#include "loader.h"
#include "registry.h"
#include "trust.h"

static char dir[256];

static void make_dir(void) {
    make_temp_dir(dir, sizeof dir, "zoo-trust-test");
}

/* Removes the test's directory, after each test (a checked fixture). */
static void remove_dir(void) {
    if (*dir) remove_temp_dir(dir);
    *dir = '\0';
}

static const char *write_file(const char *name, const char *text) {
    return write_in_dir(dir, name, text);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) fwrite(buf, 1, n, out);
    fclose(in), fclose(out);
    chmod(to, 0755);
}

static void expect_refused(const char *path, const char *what, const char *want) {
    ck_assert_int_eq(zoo_trust_check_path(path, what), ZOO_ERR_STATE);
    const char *got = zoo_error_message();
    ck_assert_msg(strstr(got, want), "expected\n  %s\nin\n  %s", want, got);
    ck_assert_msg(strstr(got, path) == got, "the message does not start with the path: %s", got);
}

START_TEST(test_writable_paths_refused) {
    make_dir();
    const char *lib = write_file("lib.so", "x");
    chmod(lib, 0644);
    ck_assert_int_eq(zoo_trust_check_path(lib, "plugin library"), ZOO_OK);
    chmod(lib, 0664);
    expect_refused(lib, "plugin library",
                   "refusing the plugin library: it is writable by its group (mode 0664)");
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "fix: chmod go-w"));
    chmod(lib, 0646);
    expect_refused(lib, "plugin library", "writable by everyone (mode 0646)");
    chmod(lib, 0644);
    /* an ancestor: world-writable refuses, the sticky bit (as /tmp's) excuses it */
    chmod(dir, 0777);
    char msg[600];
    snprintf(msg, sizeof msg,
             "the directory %s is writable by everyone (mode 0777) without the sticky bit", dir);
    expect_refused(lib, "registry", msg);
    chmod(dir, 01777);
    ck_assert_int_eq(zoo_trust_check_path(lib, "registry"), ZOO_OK);
    /* a directory checked as itself: the sticky bit does not excuse it */
    expect_refused(dir, "drop-in directory",
                   "refusing the drop-in directory: it is writable by everyone");
    chmod(dir, 0700);
    /* through a symbolic link: the file it resolves to is checked */
    char link[600];
    snprintf(link, sizeof link, "%s/link.so", dir);
    ck_assert_int_eq(symlink(lib, link), 0);
    chmod(lib, 0666);
    ck_assert_int_eq(zoo_trust_check_path(link, "plugin library"), ZOO_ERR_STATE);
    chmod(lib, 0644);
    ck_assert_int_eq(zoo_trust_check_path(link, "plugin library"), ZOO_OK);
    if (geteuid() == 0) { /* owned by someone else */
        ck_assert_int_eq(chown(lib, 65534, 65534), 0);
        expect_refused(lib, "plugin library", "is owned by uid 65534, neither root nor you");
        ck_assert_int_eq(chown(lib, 0, 0), 0);
    }
    ck_assert_int_eq(zoo_trust_check_path("/nonexistent/x.so", "plugin library"), ZOO_ERR_IO);
}
END_TEST

#define ENTRY(name, lib, extra)                                                                    \
    "{\"name\": \"" name "\", \"version\": \"1.0.0\", \"summary\": \"s\", \"abi\": \"1.3\", "      \
    "\"library\": \"" lib "\"" extra "}"

START_TEST(test_dropin_pinned_by_registry_only) {
    make_dir();
    char drop[300], lib[400], pins_text[1024];
    snprintf(drop, sizeof drop, "%s/drop", dir);
    ck_assert_int_eq(mkdir(drop, 0755), 0);
    snprintf(lib, sizeof lib, "%s/good.so", drop);
    copy_file(ZOO_FIXTURE_DIR "/good.so", lib);
    char hex[65];
    ck_assert_int_eq(zoo_sha256_file(lib, hex), ZOO_OK);
    char manifest[400];
    snprintf(manifest, sizeof manifest, "%s/good.json", drop);
    FILE *f = fopen(manifest, "w");
    /* its own sha256 beside it: checked, but no pin */
    fprintf(f,
            "{\"name\": \"good\", \"version\": \"1.0.0\", \"summary\": \"s\", \"abi\": \"1.3\", "
            "\"sha256\": \"%s\"}",
            hex);
    fclose(f);
    snprintf(pins_text, sizeof pins_text,
             "{\"format\": 1, \"plugins\": [{\"name\": \"good\", \"version\": \"1.0.0\", "
             "\"summary\": \"s\", \"abi\": \"1.3\", \"library\": \"%s\", \"sha256\": \"%s\"}]}",
             lib, hex);
    const char *pins = write_file("pins.json", pins_text);

    zoo_registry_sources alone = {.env_plugin_path = drop};
    zoo_registry *r = zoo_registry_load(&alone);
    ck_assert_int_eq(r->count, 1);
    const zoo_reg_entry *e = &r->entries[0];
    ck_assert(e->dropin);
    ck_assert_ptr_null(e->pin);
    zoo_plugin_set_policy(true, NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(e, &p), ZOO_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "is a drop-in that no registry pins"));
    ck_assert_ptr_nonnull(strstr(zoo_error_message(), "zoo registry pin FILE"));
    zoo_registry_free(r);

    /* the shipped registry (lowest precedence) pins it: the drop-in still wins, pinned */
    zoo_registry_sources both = {.env_plugin_path = drop, .default_registry = pins};
    r = zoo_registry_load(&both);
    ck_assert_int_eq(r->count, 2);
    e = zoo_registry_find(r, "good");
    ck_assert(e->dropin && e->shadows);
    ck_assert_str_eq(e->pin, hex);
    ck_assert_str_eq(e->pin_source, pins);
    ck_assert_int_eq(zoo_plugin_load(e, &p), ZOO_OK);
    zoo_plugin_unload(p);
    /* a changed library: refused by the registry's pin, naming it */
    FILE *g = fopen(lib, "ab");
    fputc('x', g);
    fclose(g);
    ck_assert_int_eq(zoo_plugin_load(e, &p), ZOO_ERR_STATE);
    ck_assert_msg(strstr(zoo_error_message(), pins) == zoo_error_message(), "%s",
                  zoo_error_message());
    zoo_plugin_set_policy(false, NULL);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_policy_notice_once) {
    make_dir();
    char drop[300], lib[400];
    snprintf(drop, sizeof drop, "%s/drop", dir);
    ck_assert_int_eq(mkdir(drop, 0755), 0);
    snprintf(lib, sizeof lib, "%s/good.so", drop);
    copy_file(ZOO_FIXTURE_DIR "/good.so", lib);
    write_file("drop/good.json", ENTRY("good", "good.so", ""));
    zoo_registry_sources src = {.env_plugin_path = drop};
    zoo_registry *r = zoo_registry_load(&src);
    char *text = NULL;
    size_t len = 0;
    FILE *notices = open_memstream(&text, &len);
    zoo_plugin_set_policy(false, notices);
    for (int i = 0; i < 2; i++) {
        zoo_loaded *p = NULL;
        ck_assert_int_eq(zoo_plugin_load(&r->entries[0], &p), ZOO_OK);
        zoo_plugin_unload(p);
    }
    zoo_plugin_set_policy(false, NULL);
    fclose(notices);
    ck_assert_ptr_eq(strstr(text, "zoo: notice: loading drop-in plugin 'good' from"), text);
    ck_assert_ptr_eq(strchr(text, '\n'), text + len - 1); /* one line for two loads */
    free(text);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_imports_declared) {
    make_dir();
    const char *path = write_file(
        "r.json", "{\"format\": 1, \"plugins\": [" ENTRY(
                      "good", ZOO_FIXTURE_DIR "/good.so",
                      ", \"imports\": {\"hf_model_types\": [\"gpt2\"], \"files\": [\"table.txt\"], "
                      "\"tokenizer_files\": [\"vocab.json\"]}") "]}");
    zoo_registry_sources src = {.registry_files = (const char *const[]){path},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    const zoo_reg_entry *e = &r->entries[0];
    ck_assert_ptr_null(e->error);
    ck_assert(e->imports.declared);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/m", dir);
    mkdir(sub, 0755);
    ck_assert(!zoo_registry_imports_dir(e, sub, false));
    write_file("m/config.json", "{\"model_type\": \"bert\"}");
    ck_assert(!zoo_registry_imports_dir(e, sub, false));
    write_file("m/config.json", "{\"model_type\": \"gpt2\"}");
    ck_assert(zoo_registry_imports_dir(e, sub, false));
    ck_assert(zoo_registry_imports_dir(e, sub, true)); /* model types count for tokenizers too */
    write_file("m/config.json", "[1, 2]");
    ck_assert(!zoo_registry_imports_dir(e, sub, false));
    write_file("m/table.txt", "16 0.25");
    ck_assert(zoo_registry_imports_dir(e, sub, false));
    ck_assert(!zoo_registry_imports_dir(e, sub, true));
    write_file("m/vocab.json", "{}");
    ck_assert(zoo_registry_imports_dir(e, sub, true));
    zoo_registry_free(r);
    /* errors name the field */
    const char *bad = write_file("bad.json", "{\"format\": 1, \"plugins\": [" ENTRY(
                                                 "good", ZOO_FIXTURE_DIR "/good.so",
                                                 ", \"imports\": {\"files\": [\"../x\"]}") "]}");
    src.registry_files = (const char *const[]){bad};
    r = zoo_registry_load(&src);
    ck_assert_ptr_nonnull(r->entries[0].error);
    ck_assert_ptr_nonnull(strstr(r->entries[0].error,
                                 "plugins[0].imports.files[0]: \"../x\" is not a plain file name"));
    zoo_registry_free(r);
    bad = write_file("bad2.json", "{\"format\": 1, \"plugins\": [" ENTRY(
                                      "good", ZOO_FIXTURE_DIR "/good.so",
                                      ", \"imports\": {\"model_types\": []}") "]}");
    src.registry_files = (const char *const[]){bad};
    r = zoo_registry_load(&src);
    ck_assert_ptr_nonnull(strstr(r->entries[0].error,
                                 "plugins[0].imports.model_types: unknown field (did you mean "
                                 "'hf_model_types'?)"));
    zoo_registry_free(r);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("trust");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, NULL, remove_dir);
    tcase_add_test(tc, test_writable_paths_refused);
    tcase_add_test(tc, test_dropin_pinned_by_registry_only);
    tcase_add_test(tc, test_policy_notice_once);
    tcase_add_test(tc, test_imports_declared);
    suite_add_tcase(s, tc);
    return s;
}
