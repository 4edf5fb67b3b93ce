/* The conformance suite (host/conformance.h) on fixture plugins: a good one
 * passes, a wrong backward fails the gradient check by name, layers stacked
 * out of order fail embed, an importer that claims any directory fails
 * import-foreign, a plugin that cannot create a model fails create
 * and skips the rest, and the suite's own errors are values that leave
 * nothing on disk. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "check_util.h"
#include "conformance.h"
#include "loader.h"

#define N_CHECKS 15
static const char *const order[N_CHECKS] = {"create",         "forward",
                                            "embed",          "loss",
                                            "gradients",      "decode",
                                            "fill-mask",      "export-import",
                                            "import-foreign", "threads-forward",
                                            "threads-loss",   "threads-gradients",
                                            "train-step",     "threads-train-step",
                                            "arena"};

typedef struct seen {
    int n;
    char name[N_CHECKS + 1][32];
    zoo_check_outcome outcome[N_CHECKS + 1];
    char detail[N_CHECKS + 1][1024];
} seen;

static void record(void *ctx, const char *check, zoo_check_outcome o, const char *detail) {
    seen *s = ctx;
    ck_assert_int_lt(s->n, N_CHECKS);
    snprintf(s->name[s->n], sizeof s->name[0], "%s", check);
    snprintf(s->detail[s->n], sizeof s->detail[0], "%s", detail);
    s->outcome[s->n++] = o;
}

static int find(const seen *s, const char *check) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->name[i], check) == 0) return i;
    ck_abort_msg("no check named %s", check);
    return -1;
}

static void expect(const seen *s, const char *check, zoo_check_outcome o, const char *detail_has) {
    int i = find(s, check);
    ck_assert_msg(s->outcome[i] == o, "%s: expected %s, got %s %s", check,
                  zoo_check_outcome_name(o), zoo_check_outcome_name(s->outcome[i]), s->detail[i]);
    if (detail_has)
        ck_assert_msg(strstr(s->detail[i], detail_has), "%s: expected \"%s\" in \"%s\"", check,
                      detail_has, s->detail[i]);
}

/* A registry of the fixtures, each under its own name, in a temporary directory. */
static char reg_dir[64];
static zoo_registry *fixture_registry(void) {
    static const char *names[] = {"good",         "wrong_backward", "masked",       "create_fails",
                                  "wrong_layers", "import_dir",     "import_greedy"};
    snprintf(reg_dir, sizeof reg_dir, "/tmp/zoo-conformance-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(reg_dir));
    char path[128];
    snprintf(path, sizeof path, "%s/registry.json", reg_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format\": 1, \"plugins\": [", f);
    for (int i = 0; i < 7; i++)
        fprintf(f,
                "%s{\"name\": \"%s\", \"version\": \"1.0.0\", \"summary\": \"a bigram table for "
                "the loader tests\", \"library\": \"%s/%s.so\", \"abi\": \"%d.%d\"}",
                i ? ", " : "", names[i], ZOO_FIXTURE_DIR, names[i], ZOO_ABI_MAJOR, ZOO_ABI_MINOR);
    fputs("]}", f);
    fclose(f);
    zoo_registry_sources src = {.registry_files = (const char *const[]){path},
                                .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    ck_assert_int_eq(r->n_file_errors, 0);
    unlink(path);
    rmdir(reg_dir);
    return r;
}

/* Runs the suite on fixture `name` and checks it reported every check once, in order. */
static void run_fixture(const char *name, const zoo_conformance_opts *opts, seen *s,
                        zoo_conformance_summary *sum) {
    zoo_registry *r = fixture_registry();
    zoo_loaded *p = NULL;
    ck_assert_msg(zoo_plugin_load(zoo_registry_find(r, name), &p) == ZOO_OK, "%s",
                  zoo_error_message());
    memset(s, 0, sizeof *s);
    ck_assert_msg(zoo_conformance_run(p, opts, record, s, sum) == ZOO_OK, "%s",
                  zoo_error_message());
    ck_assert_int_eq(p->live_models, 0);
    ck_assert_int_eq(zoo_plugin_unload(p), ZOO_OK);
    zoo_registry_free(r);
    ck_assert_int_eq(s->n, N_CHECKS);
    for (int i = 0; i < N_CHECKS; i++) ck_assert_str_eq(s->name[i], order[i]);
    ck_assert_int_eq(sum->passed + sum->failed + sum->skipped, N_CHECKS);
}

START_TEST(test_good_plugin_passes) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("good", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 0);
    ck_assert_int_eq(sum.passed, 9);
    /* 40 words and [UNK]; the other hyperparameters at their defaults */
    ck_assert_str_eq(sum.config, "vocab_size=41 init_std=0.02 activation=gelu");
    expect(&s, "create", ZOO_CHECK_PASS, "1 parameter, 1681 scalars");
    expect(&s, "forward", ZOO_CHECK_PASS, "logits [2,16,41], hidden [2,16,41]");
    expect(&s, "embed", ZOO_CHECK_PASS, "vectors [2,16,41], every layer (one) [2,16,41]");
    expect(&s, "loss", ZOO_CHECK_PASS, NULL);
    expect(&s, "gradients", ZOO_CHECK_PASS, "32 elements of 1 parameter");
    expect(&s, "decode", ZOO_CHECK_SKIP, "ZOO_CAP_DECODE");
    expect(&s, "fill-mask", ZOO_CHECK_SKIP, "ZOO_CAP_FILL_MASK");
    expect(&s, "export-import", ZOO_CHECK_SKIP, "the plugin sets neither");
    expect(&s, "import-foreign", ZOO_CHECK_SKIP, "does not set ZOO_CAP_IMPORT");
    expect(&s, "threads-forward", ZOO_CHECK_PASS, "(B = 128, T = 16)");
    expect(&s, "threads-loss", ZOO_CHECK_PASS, NULL);
    expect(&s, "threads-gradients", ZOO_CHECK_PASS, NULL);
    expect(&s, "train-step", ZOO_CHECK_SKIP, "ZOO_CAP_SELF_UPDATE");
    expect(&s, "threads-train-step", ZOO_CHECK_SKIP, "no train_step");
    expect(&s, "arena", ZOO_CHECK_PASS, "from step 2 through step 5");
}
END_TEST

/* The fixture doubles its logits behind the tape's back: finite
 * differences see twice what backward gives, and nothing else is wrong. */
START_TEST(test_wrong_backward_fails_by_name) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("wrong_backward", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 1);
    expect(&s, "gradients", ZOO_CHECK_FAIL, "> tolerance");
    const char *d = s.detail[find(&s, "gradients")];
    long long index = -1;
    double analytic = 0, numeric = 0;
    ck_assert_msg(sscanf(d, "table.weight[%lld]: backward gives %lf, finite differences %lf",
                         &index, &analytic, &numeric) == 3,
                  "%s", d);
    ck_assert(index >= 0 && index < 41 * 41);
    ck_assert_msg(fabs(numeric - 2 * analytic) <= 0.02 * fabs(numeric), "%s", d);
    expect(&s, "threads-gradients", ZOO_CHECK_PASS, NULL); /* wrong, but the same on 3 threads */
}
END_TEST

/* Every layer at once (ZOO_EMBED_ALL_LAYERS) must stack the layers in
 * order: the fixture reverses its three, and only embed notices. */
START_TEST(test_layers_out_of_order_fail_embed) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("wrong_layers", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 1);
    expect(&s, "embed", ZOO_CHECK_FAIL,
           "layer 0 of embed(ZOO_EMBED_ALL_LAYERS) differs from embed(layer = 0)");
}
END_TEST

/* Every directory that is not a zoo run is offered to every importing
 * plugin: one in another format must be passed on (ZOO_ERR_NOTFOUND). The
 * fixture that imports its own format does; the greedy one claims it. */
START_TEST(test_import_of_another_format) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("import_dir", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 0);
    expect(&s, "import-foreign", ZOO_CHECK_PASS, "notes.txt: ZOO_ERR_NOTFOUND");
    expect(&s, "export-import", ZOO_CHECK_SKIP, "import only");
    run_fixture("import_greedy", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 1);
    expect(&s, "import-foreign", ZOO_CHECK_FAIL,
           "import_config of a directory holding only notes.txt answered ZOO_OK, not "
           "ZOO_ERR_NOTFOUND");
}
END_TEST

/* A masked-LM plugin gets masked-LM batches, and fill_mask its [MASK]s. */
START_TEST(test_masked_plugin_fills_masks) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("masked", NULL, &s, &sum);
    ck_assert_int_eq(sum.failed, 0);
    /* [PAD] [UNK] [CLS] [SEP] [MASK] and 40 words */
    ck_assert_str_eq(sum.config, "vocab_size=45 init_std=0.02 activation=gelu");
    expect(&s, "fill-mask", ZOO_CHECK_PASS, "masked positions: logits [");
}
END_TEST

START_TEST(test_create_failure_skips_the_rest) {
    seen s;
    zoo_conformance_summary sum;
    run_fixture("create_fails", NULL, &s, &sum);
    expect(&s, "create", ZOO_CHECK_FAIL, "could not create a model: vocab_size 41 is too large");
    for (int i = 1; i < N_CHECKS; i++) expect(&s, order[i], ZOO_CHECK_SKIP, "create failed");
    ck_assert_int_eq(sum.failed, 1);
    ck_assert_int_eq(sum.skipped, N_CHECKS - 1);
}
END_TEST

/* --set comes after the shrinking, and the seed reaches the data. */
START_TEST(test_sets_and_seed) {
    seen s;
    zoo_conformance_summary sum;
    zoo_conformance_opts o = {
        .size = sizeof o, .sets = (const char *const[]){"vocab_size=50"}, .n_sets = 1};
    run_fixture("good", &o, &s, &sum);
    ck_assert_str_eq(sum.config, "vocab_size=50 init_std=0.02 activation=gelu");
    expect(&s, "forward", ZOO_CHECK_PASS, "logits [2,16,50]");
    char loss[1024];
    snprintf(loss, sizeof loss, "%s", s.detail[find(&s, "loss")]);
    o = (zoo_conformance_opts){.size = sizeof o, .seed = 7};
    run_fixture("good", &o, &s, &sum);
    ck_assert_str_ne(s.detail[find(&s, "loss")], loss); /* another corpus, other batches */
}
END_TEST

static int entries(const char *path) {
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(test_errors_are_values_and_nothing_stays) {
    zoo_loaded *p = load_built_plugin("gpt");
    char tmp[] = "/tmp/zoo-conformance-tmp.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    zoo_conformance_opts o = {.size = sizeof o, .tmp_dir = tmp};
    zoo_conformance_summary sum;
    seen s = {0};
    /* export-import writes a HuggingFace directory there; it is gone after */
    ck_assert_int_eq(zoo_conformance_run(p, &o, record, &s, &sum), ZOO_OK);
    expect(&s, "export-import", ZOO_CHECK_PASS, "format hf");
    ck_assert_int_eq(entries(tmp), 0);

    o.sets = (const char *const[]){"n_embd=15"}; /* the schema takes it; create does not */
    o.n_sets = 1;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(zoo_conformance_run(p, &o, record, &s, &sum), ZOO_OK);
    expect(&s, "create", ZOO_CHECK_FAIL, "n_embd 15 is not divisible by n_head 4");
    ck_assert_int_eq(entries(tmp), 0);

    o.sets = (const char *const[]){"n_emb=16"};
    ck_assert_int_eq(zoo_conformance_run(p, &o, NULL, NULL, &sum), ZOO_ERR_NOTFOUND);
    ck_assert_msg(strstr(zoo_error_message(), "--set n_emb=16: ") &&
                      strstr(zoo_error_message(), "n_embd"),
                  "%s", zoo_error_message());
    o.sets = (const char *const[]){"n_embd"};
    ck_assert_int_eq(zoo_conformance_run(p, &o, NULL, NULL, &sum), ZOO_ERR_ARG);
    ck_assert_str_eq(zoo_error_message(), "--set n_embd: expected NAME=VALUE");
    ck_assert_int_eq(entries(tmp), 0);
    rmdir(tmp);

    o = (zoo_conformance_opts){.size = sizeof o, .tmp_dir = "/nonexistent/zoo"};
    ck_assert_int_eq(zoo_conformance_run(p, &o, NULL, NULL, &sum), ZOO_ERR_IO);
    ck_assert_msg(
        strstr(zoo_error_message(), "/nonexistent/zoo: cannot make a temporary directory: "), "%s",
        zoo_error_message());
    ck_assert_int_eq(zoo_conformance_run(NULL, &o, NULL, NULL, &sum), ZOO_ERR_ARG);
    unload_built_plugin(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("conformance");
    tcase_add_test(tc, test_good_plugin_passes);
    tcase_add_test(tc, test_wrong_backward_fails_by_name);
    tcase_add_test(tc, test_layers_out_of_order_fail_embed);
    tcase_add_test(tc, test_import_of_another_format);
    tcase_add_test(tc, test_masked_plugin_fills_masks);
    tcase_add_test(tc, test_create_failure_skips_the_rest);
    tcase_add_test(tc, test_sets_and_seed);
    tcase_add_test(tc, test_errors_are_values_and_nothing_stays);
    suite_add_tcase(s, tc);
    return s;
}
