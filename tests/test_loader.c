/* Loading plugins: the ABI is checked first, every failure is one message
 * naming the library or registry file, and loading is leak-free. */
#include <stdio.h>
#include <unistd.h>

#include "files.h"
#include "zoo/io.h"
#include "zoo/tokenizer.h"

#include "check_util.h"
#include "loader.h"
#include "model_card.h"
#include "model.h"
#include "tokenizers.h"

static char dir[256];
static char registry_path[512];

/* The ABI registry_for registers a fixture for: this host's, unless a test says otherwise. */
static char registered_abi[16];

/* A registry with one entry for fixture `lib`, registered as `name`. */
static zoo_registry *registry_for(const char *name, const char *lib, const char *extra_fields) {
    if (!registered_abi[0])
        snprintf(registered_abi, sizeof registered_abi, "%d.%d", ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
    snprintf(dir, sizeof dir, "/tmp/zoo-loader-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(registry_path, sizeof registry_path, "%s/registry.json", dir);
    FILE *f = fopen(registry_path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": 1, \"plugins\": [{\"name\": \"%s\", \"version\": \"1.0.0\", "
            "\"summary\": \"a bigram table for the loader tests\", \"library\": \"%s\", \"abi\": "
            "\"%s\"%s}]}",
            name, lib, registered_abi, extra_fields ? extra_fields : "");
    fclose(f);
    zoo_registry_sources src = {.registry_files = (const char *const[]){registry_path},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    ck_assert_int_eq(r->n_file_errors, 0);
    return r;
}

#define FIXTURE(name) ZOO_FIXTURE_DIR "/" name ".so"

/* Loading fixture `lib` as `name` fails with a message containing want. */
static void expect_refusal(const char *name, const char *lib, const char *extra, const char *want) {
    zoo_registry *r = registry_for(name, lib, extra);
    zoo_loaded *p = NULL;
    int st = zoo_plugin_load(zoo_registry_find(r, name), &p);
    ck_assert_int_ne(st, ZOO_OK);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(zoo_error_message(), want), "expected\n  %s\nin\n  %s", want,
                  zoo_error_message());
    zoo_registry_free(r);
}

START_TEST(test_good_plugin_loads_and_runs) {
    zoo_registry *r = registry_for("good", FIXTURE("good"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    ck_assert_str_eq(p->plugin->name, "good");
    ck_assert_ptr_null(zoo_plugin_mismatches(p));
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "vocab_size", "5"), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(p, hp, 7, NULL, &m), ZOO_OK);
    ck_assert_int_eq(zoo_params_numel(m->params), 25);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_ERR_STATE); /* a model is alive */
    ck_assert_str_eq(zoo_error_message(),
                     "plugin 'good' still has 1 live model(s); not unloading it");

    int32_t ids[4] = {0, 1, 2, 4}, targets[4] = {1, 2, 3, 0};
    zoo_batch batch = {.size = sizeof batch, .B = 2, .T = 2, .ids = ids, .targets = targets};
    zoo_graph *g = zoo_graph_new(0);
    zoo_outputs out = {.size = sizeof out};
    ck_assert_int_eq(p->plugin->ops->forward(m->model, g, &batch, &out), ZOO_OK);
    ck_assert_int_eq(out.logits->shape[2], 5);
    zoo_tensor *loss = NULL;
    ck_assert_int_eq(p->plugin->ops->loss(m->model, g, &batch, NULL, &loss, NULL), ZOO_OK);
    ck_assert_int_eq(zoo_backward(g, loss), ZOO_OK);
    zoo_graph_free(g);
    zoo_host_model_destroy(m);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_each_failure_has_its_message) {
    expect_refusal("wrong_major", FIXTURE("wrong_major"), NULL,
                   "plugin 'wrong_major' was built for ABI 2.0, this host supports 1.0 to 1.3");
    expect_refusal("newer_minor", FIXTURE("newer_minor"), NULL,
                   "plugin 'newer_minor' was built for ABI 1.4, this host supports 1.0 to 1.3");
    expect_refusal("no_entry", FIXTURE("no_entry"), NULL,
                   "no_entry.so: no symbol 'zoo_plugin_entry': not a zoo plugin");
    expect_refusal("null_entry", FIXTURE("null_entry"), NULL,
                   "null_entry.so: zoo_plugin_entry() returned NULL");
    expect_refusal(
        "missing_op", FIXTURE("missing_op"), NULL,
        "missing_op.so: plugin 'missing_op' lacks the required operation 'forward' (NULL)");
    expect_refusal("cap_without_op", FIXTURE("cap_without_op"), NULL,
                   "plugin 'cap_without_op' announces the capability of 'cache_new' but the "
                   "operation is NULL");
    expect_refusal(
        "bad_schema", FIXTURE("bad_schema"), NULL,
        "plugin 'bad_schema': hyperparameter schema: the default of 'vocab_size' is invalid");
    expect_refusal("impostor", FIXTURE("good"), NULL, "the library calls itself 'good' but");
    expect_refusal(
        "good", FIXTURE("good"),
        ", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\"",
        "sha256 of plugin 'good' does not match: the registry pins 0000");

    /* a file that is not a library: the dynamic loader's own words are quoted */
    char bogus[300];
    snprintf(bogus, sizeof bogus, "/tmp/zoo-loader-bogus-%d.so", (int)getpid());
    FILE *f = fopen(bogus, "w");
    fputs("this is not an ELF file\n", f);
    fclose(f);
    expect_refusal("bogus", bogus, NULL, "cannot load plugin 'bogus': ");
    unlink(bogus);
}
END_TEST

/* A plugin built for ABI 1.0 (an operations table without set_tokenizer)
 * loads on this host, unless it raises a flag its table cannot hold. */
START_TEST(test_older_minor_loads) {
    snprintf(registered_abi, sizeof registered_abi, "1.0");
    zoo_registry *r = registry_for("abi_1_0", FIXTURE("abi_1_0"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "abi_1_0"), &p), ZOO_OK);
    ck_assert_int_eq(p->plugin->abi_minor, 0);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_OK);
    zoo_host_model_destroy(m);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    expect_refusal("abi_1_0_new_flag", FIXTURE("abi_1_0_new_flag"), NULL,
                   "plugin 'abi_1_0_new_flag' announces the capability of 'set_tokenizer' but the "
                   "operation is NULL");
    registered_abi[0] = '\0';
}
END_TEST

/* ABI 1.3's token_bytes: read from a 1.3 descriptor and checked against the
 * host's limit; a 1.2 descriptor, too short to hold it, fills it in past its
 * size with a value the host would refuse, and loads with 0. */
START_TEST(test_token_bytes_field) {
    zoo_registry *r = registry_for("chars", FIXTURE("chars"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, "chars"), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(zoo_plugin_token_bytes(p->plugin), 16);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    expect_refusal("chars_too_wide", FIXTURE("chars_too_wide"), NULL,
                   "plugin 'chars_too_wide' asks for 4096 token bytes; expected 0 to 1024");
    snprintf(registered_abi, sizeof registered_abi, "1.2");
    r = registry_for("abi_1_2", FIXTURE("abi_1_2"), NULL);
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, "abi_1_2"), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(p->plugin->abi_minor, 2);
    ck_assert_int_eq(p->plugin->token_bytes, -7); /* what a careless host would read */
    ck_assert_int_eq(zoo_plugin_token_bytes(p->plugin), 0);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    registered_abi[0] = '\0';
}
END_TEST

/* A plugin built for ABI 1.1 (no tokenizer types in its descriptor, no
 * import_tokenizer in its table) loads on this host and its 1.1
 * operation is called. Its structs fill in both 1.2 fields past the size
 * they declare (bogus values): the host must not read them. */
START_TEST(test_abi_1_1_loads) {
    snprintf(registered_abi, sizeof registered_abi, "1.1");
    zoo_registry *r = registry_for("abi_1_1", FIXTURE("abi_1_1"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, "abi_1_1"), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(p->plugin->abi_minor, 1);
    ck_assert_ptr_null(p->tokenizers);
    ck_assert_ptr_null(ZOO_PLUGIN_FIELD(p->plugin, tokenizers));
    ck_assert_ptr_null(ZOO_OPS_SLOT(p->plugin->ops, import_tokenizer));
    ck_assert_ptr_nonnull(p->plugin->tokenizers); /* what a careless host would read */
    zoo_tokenizer *tok = NULL;
    ck_assert_int_eq(zoo_plugin_import_tokenizer(p, "/tmp", &tok), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(), "plugin 'abi_1_1' imports no tokenizer");
    zoo_tokenizer *small = tokenizer_from_text("char", NULL, "abcabc");
    zoo_host_model *m = NULL;
    ck_assert_int_eq(
        zoo_host_model_create(p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1,
                              small, &m),
        ZOO_ERR_ARG); /* set_tokenizer (ABI 1.1) was called and refused it */
    ck_assert(strstr(zoo_error_message(), "the tokenizer has 3 tokens, the table 16"));
    zoo_tokenizer_free(small);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    expect_refusal("abi_1_1_new_flag", FIXTURE("abi_1_1_new_flag"), NULL,
                   "plugin 'abi_1_1_new_flag' announces the capability of 'import_tokenizer' but "
                   "the operation is NULL");
    /* a 1.1 entry cannot declare tokenizer types */
    zoo_registry *r2 = registry_for("abi_1_1", FIXTURE("abi_1_1"), ", \"tokenizers\": [\"bytes\"]");
    ck_assert(strstr(r2->entries[0].error,
                     "plugins[0].tokenizers: plugins provide tokenizer types from ABI 1.2 on, the "
                     "entry says 1.1"));
    zoo_registry_free(r2);
    registered_abi[0] = '\0';
}
END_TEST

#define DECLARES_BYTES ", \"tokenizers\": [\"bytes\"]"

/* A directory holding the fixture's tokenizer file, bytes.tokenizer. */
static const char *bytes_dir(const char *specials) {
    static char path[300];
    snprintf(path, sizeof path, "/tmp/zoo-loader-bytes.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(path));
    char file[400];
    snprintf(file, sizeof file, "%s/bytes.tokenizer", path);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(specials, f);
    fclose(f);
    return path;
}

/* A plugin's tokenizer types are registered while it is loaded, and it is
 * not unloaded while a tokenizer of them lives. */
START_TEST(test_plugin_tokenizer_types) {
    ck_assert(!zoo_tokenizer_type_known("bytes"));
    zoo_registry *r = registry_for("bytes", FIXTURE("bytes"), DECLARES_BYTES);
    zoo_loaded *p = NULL;
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, "bytes"), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert(zoo_tokenizer_type_known("bytes"));
    ck_assert_str_eq(p->tokenizers[0]->name, "bytes");
    zoo_tokenizer *tok = tokenizer_from_text("bytes", NULL, "anything");
    ck_assert_int_eq(zoo_tokenizer_vocab_size(tok), 256);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_ERR_STATE);
    ck_assert_str_eq(zoo_error_message(), "plugin 'bytes': tokenizer type 'bytes' still has 1 live "
                                          "tokenizer(s); not unloading it");
    ck_assert(zoo_tokenizer_type_known("bytes"));

    /* the same library loaded twice: one definition, registered twice */
    zoo_loaded *again = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "bytes"), &again), ZOO_OK);
    ck_assert_int_eq(zoo_plugin_unload(again), ZOO_OK);
    ck_assert(zoo_tokenizer_type_known("bytes"));

    zoo_tokenizer_free(tok);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    ck_assert(!zoo_tokenizer_type_known("bytes"));
    zoo_registry_free(r);
}
END_TEST

/* import_tokenizer: a directory's tokenizer, of the plugin's own type. */
START_TEST(test_plugin_imports_a_tokenizer) {
    zoo_registry *r = registry_for("bytes", FIXTURE("bytes"), DECLARES_BYTES);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "bytes"), &p), ZOO_OK);
    zoo_tokenizer *tok = (zoo_tokenizer *)1;
    ck_assert_int_eq(zoo_plugin_import_tokenizer(p, "/tmp/zoo-no-such-dir", &tok),
                     ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(), "/tmp/zoo-no-such-dir: no bytes.tokenizer");
    ck_assert_ptr_null(tok);
    const char *dir = bytes_dir("[UNK]\n[EOS]\n");
    ck_assert_msg(zoo_plugin_import_tokenizer(p, dir, &tok) == ZOO_OK, "%s", zoo_error_message());
    ck_assert_str_eq(zoo_tokenizer_type(tok), "bytes");
    ck_assert_int_eq(zoo_tokenizer_special(tok, ZOO_TOK_EOS), 257);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_ERR_STATE);
    zoo_tokenizer_free(tok);
    dir = bytes_dir("[UNK]\nnot special\n");
    ck_assert_int_eq(zoo_plugin_import_tokenizer(p, dir, &tok), ZOO_ERR_FORMAT);
    ck_assert(strstr(zoo_error_message(), "bytes.tokenizer:2: \"not special\" is not a special "
                                          "token"));
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

/* The entry's "tokenizers" and the library must agree, both ways. */
START_TEST(test_tokenizer_declaration_must_match) {
    expect_refusal("good", FIXTURE("good"), DECLARES_BYTES,
                   "registry.json: plugins[0].tokenizers[0]: the entry declares tokenizer type "
                   "'bytes', but the library " FIXTURE("good") " does not provide it");
    expect_refusal("bytes", FIXTURE("bytes"), NULL,
                   "registry.json: plugins[0].tokenizers: the library " FIXTURE(
                       "bytes") " provides tokenizer type 'bytes', which the entry does not "
                                "declare");
    expect_refusal("bytes", FIXTURE("bytes"), ", \"tokenizers\": [\"bytes\", \"words\"]",
                   "plugins[0].tokenizers[1]: the entry declares tokenizer type 'words', but");
    ck_assert(!zoo_tokenizer_type_known("bytes")); /* nothing left registered */
}
END_TEST

/* A card's sizes resolve against the model's hyperparameters; one naming a
 * hyperparameter the plugin lacks is refused at load. */
START_TEST(test_card_sizes) {
    zoo_registry *r = registry_for(
        "good", FIXTURE("good"),
        ", \"card\": {\"layers\": 2, \"width\": \"vocab_size\", \"context\": 9}");
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    zoo_hparams *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
    ck_assert_int_eq(zoo_hparams_set_text(hp, "vocab_size", "37"), ZOO_OK);
    zoo_card_sizes sizes;
    ck_assert_int_eq(zoo_card_sizes_of(p->entry, hp, &sizes), ZOO_OK);
    ck_assert_int_eq(sizes.layers, 2);
    ck_assert_int_eq(sizes.width, 37);
    ck_assert_int_eq(sizes.context, 9);
    zoo_hparams_free(hp);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    expect_refusal("good", FIXTURE("good"), ", \"card\": {\"width\": \"n_embd\"}",
                   "registry.json: plugins[0].card.width: 'n_embd' is not an integer "
                   "hyperparameter of plugin 'good'");
    expect_refusal("good", FIXTURE("good"), ", \"card\": {\"layers\": \"init_std\"}",
                   "plugins[0].card.layers: 'init_std' is not an integer hyperparameter");
}
END_TEST

/* Two libraries cannot provide one type name, nor take a built-in one. */
START_TEST(test_duplicate_tokenizer_type_is_refused) {
    zoo_registry *r = registry_for("bytes", FIXTURE("bytes"), DECLARES_BYTES);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "bytes"), &p), ZOO_OK);
    expect_refusal("bytes_again", FIXTURE("bytes_again"), DECLARES_BYTES,
                   FIXTURE("bytes_again") ": plugin 'bytes_again': tokenizer type 'bytes' is "
                                          "already registered by " FIXTURE("bytes"));
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    /* with the first one gone, the second loads */
    zoo_registry *r2 = registry_for("bytes_again", FIXTURE("bytes_again"), DECLARES_BYTES);
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r2, "bytes_again"), &p), ZOO_OK);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    expect_refusal("char_type", FIXTURE("char_type"), ", \"tokenizers\": [\"char\"]",
                   "char_type.so: plugin 'char_type': tokenizer type 'char' is already registered "
                   "(built into libzoo)");
    zoo_registry_free(r2);
    zoo_registry_free(r);
}
END_TEST

/* A type named by a config or checkpoint loads the plugin that declares it. */
START_TEST(test_provider_is_found_by_declaration) {
    zoo_registry *r = registry_for("bytes", FIXTURE("bytes"), DECLARES_BYTES);
    zoo_loaded *provider = (zoo_loaded *)1;
    ck_assert_int_eq(zoo_tokenizer_provide(r, "char", &provider), ZOO_OK);
    ck_assert_ptr_null(provider); /* built in: nothing to load */
    ck_assert_int_eq(zoo_tokenizer_provide(r, "bytes", &provider), ZOO_OK);
    ck_assert_ptr_nonnull(provider);
    ck_assert_str_eq(provider->plugin->name, "bytes");
    zoo_loaded *second = (zoo_loaded *)1;
    ck_assert_int_eq(zoo_tokenizer_provide(r, "bytes", &second), ZOO_OK);
    ck_assert_ptr_null(second); /* already known */

    zoo_tokenizer *tok = tokenizer_from_text("bytes", NULL, "x");
    char *json = zoo_tokenizer_to_json(tok);
    zoo_tokenizer_free(tok);
    ck_assert_int_eq(zoo_plugin_unload(provider), ZOO_OK);
    ck_assert(!zoo_tokenizer_type_known("bytes"));
    ck_assert_int_eq(zoo_tokenizer_restore(r, json, &tok, &provider), ZOO_OK);
    ck_assert_str_eq(zoo_tokenizer_type(tok), "bytes");
    ck_assert_ptr_nonnull(provider);
    zoo_tokenizer_free(tok);
    ck_assert_int_eq(zoo_plugin_unload(provider), ZOO_OK);
    free(json);

    ck_assert_int_eq(zoo_tokenizer_provide(r, "words", &provider), ZOO_ERR_NOTFOUND);
    ck_assert_str_eq(zoo_error_message(),
                     "unknown tokenizer type 'words' (known: char, word, gpt2, wordpiece); no "
                     "plugin in the registry declares it (an entry's \"tokenizers\")");
    ck_assert_ptr_null(provider);
    ck_assert_int_eq(zoo_tokenizer_restore(r, "{\"version\":1,\"type\":\"words\",\"model\":{}}",
                                           &tok, &provider),
                     ZOO_ERR_NOTFOUND);
    ck_assert_ptr_null(tok);
    zoo_registry_free(r);
}
END_TEST

/* The host hands a ZOO_CAP_TOKENIZER plugin its tokenizer right after
 * create; the plugin's refusal fails the creation, with its reason. */
START_TEST(test_set_tokenizer_is_called) {
    zoo_registry *r = registry_for("tokenizer", FIXTURE("tokenizer"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "tokenizer"), &p), ZOO_OK);
    zoo_tokenizer *small = tokenizer_from_text("char", NULL, "abcabc"),
                  *big = tokenizer_from_text("char", NULL, "abcdefghijklmnopq");
    zoo_host_model *m = NULL;
    ck_assert_int_eq(
        zoo_host_model_create(p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1,
                              small, &m),
        ZOO_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(zoo_error_message(), "plugin 'tokenizer' could not create a model: the "
                                          "tokenizer has 3 tokens, the table 16");
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, big, &m),
                     ZOO_OK);
    zoo_host_model_destroy(m);
    zoo_tokenizer_free(small);
    zoo_tokenizer_free(big);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_init_failure_is_reported) {
    zoo_registry *r = registry_for("create_fails", FIXTURE("create_fails"), NULL);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "create_fails"), &p), ZOO_OK);
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(zoo_error_message(), "plugin 'create_fails' could not create a model: "
                                          "vocab_size 16 is too large for this fixture");
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_checksum_pin_accepts_the_right_sum) {
    char hex[65], field[128];
    ck_assert_int_eq(zoo_sha256_file(FIXTURE("good"), hex), ZOO_OK);
    snprintf(field, sizeof field, ", \"sha256\": \"%s\"", hex);
    zoo_registry *r = registry_for("good", FIXTURE("good"), field);
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_missing_extra_is_disabled_not_fatal) {
    zoo_registry *r =
        registry_for("good", FIXTURE("good"),
                     ", \"exports\": [{\"name\": \"vocab\", \"symbol\": \"fixture_vocab\", "
                     "\"returns\": \"int64\", \"args\": [\"model\"]}, {\"name\": \"nope\"}]");
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(zoo_registry_find(r, "good"), &p), ZOO_OK);
    ck_assert_int_eq(p->n_extras, 2);
    ck_assert_ptr_null(p->extras[0].error);
    ck_assert(strstr(p->extras[1].error, "symbol 'nope' not found"));
    zoo_host_model *m = NULL;
    ck_assert_int_eq(zoo_host_model_create(
                         p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), 1, NULL, &m),
                     ZOO_OK);
    char *result = NULL;
    ck_assert_int_eq(zoo_extra_call(&p->extras[0], "good", m->model, NULL, 0, &result), ZOO_OK);
    ck_assert_str_eq(result, "16");
    free(result);
    zoo_host_model_destroy(m);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

START_TEST(test_version_mismatch_is_reported) {
    zoo_registry *r = registry_for("good", FIXTURE("good"), NULL);
    free(r->entries[0].version);
    r->entries[0].version = strdup("9.9.9");
    zoo_loaded *p = NULL;
    ck_assert_int_eq(zoo_plugin_load(&r->entries[0], &p), ZOO_OK);
    char *m = zoo_plugin_mismatches(p);
    ck_assert(m && strstr(m, "version: the registry says 9.9.9, the library 1.0.0"));
    free(m);
    zoo_plugin_unload(p);
    zoo_registry_free(r);
}
END_TEST

/* Run under the sanitizer build, this is the leak check of load and unload. */
START_TEST(test_load_unload_100_times) {
    /* the fixtures, and every plugin zoo ships */
    const char *names[] = {"good", "create_fails", "extras_plugin", "bytes", "bigram"};
    for (int k = 0; k < 5; k++) {
        char lib[512];
        if (k == 4)
            snprintf(lib, sizeof lib, ZOO_BINARY_DIR "/plugins/%s.so", names[k]);
        else
            snprintf(lib, sizeof lib, ZOO_FIXTURE_DIR "/%s.so", names[k]);
        zoo_registry *r = registry_for(names[k], lib, k == 3 ? DECLARES_BYTES : NULL);
        for (int i = 0; i < 100; i++) {
            zoo_loaded *p = NULL;
            ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, names[k]), &p) == ZOO_OK, "%s",
                          zoo_error_message());
            zoo_host_model *m = NULL;
            if (k == 0) {
                ck_assert_int_eq(
                    zoo_host_model_create(
                        p, zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams), i, NULL, &m),
                    ZOO_OK);
                zoo_host_model_destroy(m);
            }
            ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
        }
        zoo_registry_free(r);
    }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_good_plugin_loads_and_runs);
    tcase_add_test(tc, test_each_failure_has_its_message);
    tcase_add_test(tc, test_init_failure_is_reported);
    tcase_add_test(tc, test_older_minor_loads);
    tcase_add_test(tc, test_abi_1_1_loads);
    tcase_add_test(tc, test_token_bytes_field);
    tcase_add_test(tc, test_plugin_tokenizer_types);
    tcase_add_test(tc, test_plugin_imports_a_tokenizer);
    tcase_add_test(tc, test_tokenizer_declaration_must_match);
    tcase_add_test(tc, test_duplicate_tokenizer_type_is_refused);
    tcase_add_test(tc, test_provider_is_found_by_declaration);
    tcase_add_test(tc, test_set_tokenizer_is_called);
    tcase_add_test(tc, test_checksum_pin_accepts_the_right_sum);
    tcase_add_test(tc, test_missing_extra_is_disabled_not_fatal);
    tcase_add_test(tc, test_version_mismatch_is_reported);
    tcase_add_test(tc, test_load_unload_100_times);
    tcase_add_test(tc, test_card_sizes);
    suite_add_tcase(s, tc);
    return s;
}
