/* Tokenizer types (tok_registry.c) and what dispatches by type: types
 * registered at run time are found as the built-in ones are, refused on a
 * taken name, and kept while a tokenizer of theirs lives; loading and saving
 * go through each type's file operations. The registered type is the
 * fixtures' "bytes" (tests/fixtures/bytes_type.c). Check forks per test, so
 * each test starts with only the built-in types. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes_type.h"
#include "check_util.h"
#include "corpus_files.h"
#include "zoo/corpus.h"
#include "zoo/io.h"
#include "zoo/tokenizer.h"

static const zoo_tokenizer_def *const bytes_only[] = {&fixture_bytes_type, NULL};

static zoo_corpus *corpus_of(const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/zoo-types-test-%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    zoo_corpus *c = NULL;
    ck_assert_int_eq(zoo_corpus_open((const char *const[]){path}, 1, ZOO_UTF8_ERROR, &c), ZOO_OK);
    return c;
}

static zoo_tokenizer *train(const char *type, const zoo_tokenizer_settings *s, const char *text) {
    zoo_corpus *c = corpus_of(text);
    zoo_tokenizer *t = NULL;
    ck_assert_msg(zoo_tokenizer_train(type, s, c, &t) == ZOO_OK, "%s", zoo_error_message());
    zoo_corpus_close(c);
    return t;
}

static char *temp_dir(void) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/zoo-types-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

/* A and b have the same type, vocabulary and specials. */
static void assert_same(const zoo_tokenizer *a, const zoo_tokenizer *b) {
    char *ja = zoo_tokenizer_to_json(a), *jb = zoo_tokenizer_to_json(b);
    ck_assert_str_eq(ja, jb);
    free(ja), free(jb);
}

START_TEST(test_registered_type_is_found_and_used) {
    ck_assert(!zoo_tokenizer_type_known("bytes"));
    ck_assert_ptr_null(zoo_tokenizer_type_name(4));
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, "test"), ZOO_OK);
    ck_assert(zoo_tokenizer_type_known("bytes"));
    ck_assert(zoo_tokenizer_type_known("char"));
    ck_assert_str_eq(zoo_tokenizer_type_name(3), "wordpiece"); /* built-in ones first */
    ck_assert_str_eq(zoo_tokenizer_type_name(4), "bytes");
    ck_assert_ptr_null(zoo_tokenizer_type_name(5));

    const zoo_special specials[] = {ZOO_TOK_UNK, ZOO_TOK_EOS};
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.specials = specials, s.n_specials = 2;
    zoo_tokenizer *t = train("bytes", &s, "anything");
    ck_assert_str_eq(zoo_tokenizer_type(t), "bytes");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(t), 258);
    ck_assert_int_eq(zoo_tokenizer_special(t, ZOO_TOK_EOS), 257);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode_special(t, "h\xc3\xa9[EOS]", 8, &ids), ZOO_OK);
    ck_assert_int_eq(ids.count, 4);
    ck_assert_int_eq(ids.ids[0], 'h');
    ck_assert_int_eq(ids.ids[1], 0xc3);
    ck_assert_int_eq(ids.ids[2], 0xa9);
    ck_assert_int_eq(ids.ids[3], 257);
    zoo_ids_free(&ids);

    /* restored from its JSON, as a checkpoint's zoo.tokenizer is */
    char *json = zoo_tokenizer_to_json(t);
    ck_assert_str_eq(json,
                     "{\"version\":1,\"type\":\"bytes\",\"special\":{\"unk\":256,\"eos\":257},"
                     "\"model\":{\"n_special\":2}}");
    zoo_tokenizer *back = NULL;
    ck_assert_msg(zoo_tokenizer_from_json(json, &back) == ZOO_OK, "%s", zoo_error_message());
    assert_same(t, back);
    ck_assert_str_eq(zoo_tokenizer_token(back, 257, NULL), "[EOS]");

    /* saved and loaded through the type's file operations */
    ck_assert(zoo_tokenizer_can_save(t));
    const char *dir = temp_dir();
    ck_assert_msg(zoo_tokenizer_save(t, dir) == ZOO_OK, "%s", zoo_error_message());
    zoo_tokenizer *loaded = NULL;
    ck_assert_msg(zoo_tokenizer_load("bytes", dir, NULL, &loaded) == ZOO_OK, "%s",
                  zoo_error_message());
    assert_same(t, loaded);

    zoo_tokenizer_free(loaded);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(t);
    free(json);
}
END_TEST

/* A type goes only when no tokenizer of it lives: each holds its operations,
 * which in a plugin are code that dlclose unmaps. */
START_TEST(test_type_stays_while_its_tokenizers_live) {
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, "test"), ZOO_OK);
    zoo_tokenizer *a = train("bytes", NULL, "x"), *b = train("bytes", NULL, "y");
    char *json = zoo_tokenizer_to_json(a);
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'bytes' still has 2 live tokenizer(s)");
    zoo_tokenizer_free(a);
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'bytes' still has 1 live tokenizer(s)");
    ck_assert(zoo_tokenizer_type_known("bytes")); /* a refusal changes nothing */
    zoo_tokenizer_free(b);
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_OK);
    ck_assert(!zoo_tokenizer_type_known("bytes"));
    ck_assert_ptr_null(zoo_tokenizer_type_name(4));

    /* gone: its checkpoints no longer restore, with the type named */
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_tokenizer_from_json(json, &t), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(),
                     "unknown tokenizer type 'bytes' (known: char, word, gpt2, wordpiece)");
    ck_assert_ptr_null(t);
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'bytes' is not registered");
    free(json);
}
END_TEST

/* The same definition registered twice (a library loaded twice) needs two
 * unregistrations; the live count matters only for the last. */
START_TEST(test_same_definition_counts_registrations) {
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, "first"), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, "second"), ZOO_OK);
    ck_assert_ptr_null(zoo_tokenizer_type_name(5)); /* listed once */
    zoo_tokenizer *t = train("bytes", NULL, "x");
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_OK);
    ck_assert(zoo_tokenizer_type_known("bytes"));
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_ERR_STATE);
    zoo_tokenizer_free(t);
    ck_assert_int_eq(zoo_tokenizer_unregister_types(bytes_only), ZOO_OK);
    ck_assert(!zoo_tokenizer_type_known("bytes"));
}
END_TEST

static int never(const char *json, zoo_tokenizer **out) {
    (void)json, (void)out;
    return ZOO_ERR_STATE;
}

START_TEST(test_taken_names_are_refused) {
    const zoo_tokenizer_def other_bytes = {
        .size = sizeof(zoo_tokenizer_def), .name = "bytes", .from_json = never};
    const zoo_tokenizer_def char_again = {
        .size = sizeof(zoo_tokenizer_def), .name = "char", .from_json = never};
    const zoo_tokenizer_def fresh = {
        .size = sizeof(zoo_tokenizer_def), .name = "fresh", .from_json = never};

    ck_assert_int_eq(zoo_tokenizer_register_types(
                         (const zoo_tokenizer_def *const[]){&char_again, NULL}, "lib.so"),
                     ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(),
                     "tokenizer type 'char' is already registered (built into libzoo)");
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, "/plugins/a.so"), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_register_types(
                         (const zoo_tokenizer_def *const[]){&other_bytes, NULL}, "/plugins/b.so"),
                     ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(),
                     "tokenizer type 'bytes' is already registered by /plugins/a.so");
    ck_assert_int_eq(zoo_tokenizer_register_types(
                         (const zoo_tokenizer_def *const[]){&fresh, &fresh, NULL}, NULL),
                     ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'fresh' is listed twice");

    /* all or none: the fresh type is not registered beside the refused one */
    ck_assert_int_eq(zoo_tokenizer_register_types(
                         (const zoo_tokenizer_def *const[]){&fresh, &other_bytes, NULL}, NULL),
                     ZOO_ERR_STATE);
    ck_assert(!zoo_tokenizer_type_known("fresh"));
    ck_assert_str_eq(zoo_tokenizer_type_name(4), "bytes");
    ck_assert_ptr_null(zoo_tokenizer_type_name(5));
    /* nor unregistered beside one that is not registered */
    ck_assert_int_eq(zoo_tokenizer_unregister_types(
                         (const zoo_tokenizer_def *const[]){&fixture_bytes_type, &fresh, NULL}),
                     ZOO_ERR_NOTFOUND);
    ck_assert(zoo_tokenizer_type_known("bytes"));
}
END_TEST

START_TEST(test_malformed_definitions_are_refused) {
    const struct {
        zoo_tokenizer_def def;
        const char *message;
    } cases[] = {
        {{.size = sizeof(size_t), .name = "short", .from_json = never},
         "tokenizer types[0]: the definition is too short (size 8, at least 32: set it to "
         "sizeof(zoo_tokenizer_def))"},
        {{.size = sizeof(zoo_tokenizer_def), .name = "Bytes", .from_json = never},
         "tokenizer types[0]: the name \"Bytes\" is not 1 to 63 of a-z, 0-9, '_' and '-'"},
        {{.size = sizeof(zoo_tokenizer_def), .name = "", .from_json = never},
         "tokenizer types[0]: the name \"\" is not 1 to 63 of a-z, 0-9, '_' and '-'"},
        {{.size = sizeof(zoo_tokenizer_def), .name = "no-json"},
         "tokenizer type 'no-json' has no from_json (checkpoints restore tokenizers with it)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const zoo_tokenizer_def *const types[] = {&cases[i].def, NULL};
        ck_assert_int_eq(zoo_tokenizer_register_types(types, NULL), ZOO_ERR_ARG);
        ck_assert_str_eq(zoo_error_message(), cases[i].message);
    }
    ck_assert_ptr_null(zoo_tokenizer_type_name(4));
    ck_assert_int_eq(zoo_tokenizer_register_types(NULL, NULL), ZOO_OK); /* nothing to do */
    ck_assert_int_eq(zoo_tokenizer_unregister_types(NULL), ZOO_OK);
}
END_TEST

/* An operation must make a tokenizer of its own type. */
static int train_a_char(const zoo_tokenizer_settings *s, const zoo_corpus *c, zoo_tokenizer **out) {
    return zoo_tokenizer_train("char", s, c, out);
}

START_TEST(test_an_operation_making_another_type_is_refused) {
    const zoo_tokenizer_def liar = {.size = sizeof(zoo_tokenizer_def),
                                    .name = "liar",
                                    .train = train_a_char,
                                    .from_json = never};
    ck_assert_int_eq(
        zoo_tokenizer_register_types((const zoo_tokenizer_def *const[]){&liar, NULL}, NULL),
        ZOO_OK);
    zoo_corpus *c = corpus_of("abc");
    zoo_tokenizer *t = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_tokenizer_train("liar", NULL, c, &t), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'liar': train made a tokenizer of type "
                                          "'char'");
    ck_assert_ptr_null(t);
    zoo_corpus_close(c);
}
END_TEST

/* gpt2 and wordpiece load and save by name, as zoo_tokenizer_load_* and
 * zoo_tokenizer_save_* do. */
START_TEST(test_builtin_file_operations) {
    const char *text = "the lord said unto him, the lord god of the land\n";
    zoo_tokenizer_settings s = ZOO_TOKENIZER_SETTINGS_INIT;
    s.max_size = 300;
    zoo_tokenizer *gpt2 = train("gpt2", &s, text);
    const char *dir = temp_dir();
    ck_assert(zoo_tokenizer_can_save(gpt2));
    ck_assert_msg(zoo_tokenizer_save(gpt2, dir) == ZOO_OK, "%s", zoo_error_message());
    zoo_tokenizer *back = NULL, *direct = NULL;
    ck_assert_msg(zoo_tokenizer_load("gpt2", dir, NULL, &back) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(zoo_tokenizer_load_gpt2(dir, &direct), ZOO_OK);
    assert_same(gpt2, back);
    assert_same(direct, back);
    zoo_tokenizer_free(back), zoo_tokenizer_free(direct), zoo_tokenizer_free(gpt2);

    const zoo_special specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                    ZOO_TOK_MASK};
    s = (zoo_tokenizer_settings)ZOO_TOKENIZER_SETTINGS_INIT;
    s.lowercase = true, s.specials = specials, s.n_specials = 5;
    zoo_tokenizer *wp = train("wordpiece", &s, text);
    dir = temp_dir();
    ck_assert_msg(zoo_tokenizer_save(wp, dir) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_msg(zoo_tokenizer_load("wordpiece", dir, NULL, &back) == ZOO_OK, "%s",
                  zoo_error_message());
    assert_same(wp, back); /* lowercasing as tokenizer_config.json says */
    zoo_tokenizer_free(back);
    zoo_tokenizer_load_opts keep_case = ZOO_TOKENIZER_LOAD_OPTS_INIT;
    keep_case.lowercase = 0;
    ck_assert_int_eq(zoo_tokenizer_load("wordpiece", dir, &keep_case, &back), ZOO_OK);
    zoo_ids ids = {0};
    ck_assert_int_eq(zoo_tokenizer_encode(back, "LORD", 4, &ids), ZOO_OK);
    ck_assert_int_eq(ids.ids[0], zoo_tokenizer_special(back, ZOO_TOK_UNK)); /* not lowercased */
    zoo_ids_free(&ids);
    zoo_tokenizer_free(back);
    zoo_tokenizer_free(wp);

    ck_assert_int_eq(zoo_tokenizer_load("gpt2", "/nonexistent", NULL, &back), ZOO_ERR_NOTFOUND);
    ck_assert_ptr_null(back);
}
END_TEST

START_TEST(test_types_without_files) {
    zoo_tokenizer *t = train("char", NULL, "abc"), *out = (zoo_tokenizer *)1;
    ck_assert(!zoo_tokenizer_can_save(t));
    ck_assert_int_eq(zoo_tokenizer_save(t, "/tmp"), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'char' has no file form to save (types "
                                          "that have: gpt2, wordpiece)");
    ck_assert_int_eq(zoo_tokenizer_load("word", "/tmp", NULL, &out), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'word' does not load from files (types "
                                          "that do: gpt2, wordpiece)");
    ck_assert_ptr_null(out);
    ck_assert_int_eq(zoo_tokenizer_load("bpe", "/tmp", NULL, &out), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(),
                     "unknown tokenizer type 'bpe' (known: char, word, gpt2, wordpiece)");
    zoo_tokenizer_load_opts bad = {.size = 1000};
    ck_assert_int_eq(zoo_tokenizer_load("gpt2", "/tmp", &bad, &out), ZOO_ERR_ARG);
    ck_assert(strstr(zoo_error_message(), "tokenizer load options: size is 1000"));

    /* a registered type with files is listed with them */
    ck_assert_int_eq(zoo_tokenizer_register_types(bytes_only, NULL), ZOO_OK);
    ck_assert_int_eq(zoo_tokenizer_save(t, "/tmp"), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "tokenizer type 'char' has no file form to save (types "
                                          "that have: gpt2, wordpiece, bytes)");
    zoo_tokenizer_free(t);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("tokenizer_types");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_registered_type_is_found_and_used);
    tcase_add_test(tc, test_type_stays_while_its_tokenizers_live);
    tcase_add_test(tc, test_same_definition_counts_registrations);
    tcase_add_test(tc, test_taken_names_are_refused);
    tcase_add_test(tc, test_malformed_definitions_are_refused);
    tcase_add_test(tc, test_an_operation_making_another_type_is_refused);
    tcase_add_test(tc, test_builtin_file_operations);
    tcase_add_test(tc, test_types_without_files);
    suite_add_tcase(s, tc);
    return s;
}
