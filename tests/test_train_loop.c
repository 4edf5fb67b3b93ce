/* The training loop (host/runs/train.h) driven through a toy task: logistic
 * regression on a stream of batches, with dropout so that the run's generator
 * matters. Learning, evaluation and checkpoint cadence, keep, a run stopped
 * and resumed bit for bit, a non-finite loss, Ctrl-C, self-updating tasks,
 * and a run without a directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "train.h"

#define NF 3 /* features */
#define NC 2 /* classes */
#define NB 8 /* examples per batch */
#define HELD 64

typedef struct toy {
    zoo_params *params;
    zoo_tensor *w, *b;    /* (NC,NF) (NC) */
    int64_t cursor;       /* batches delivered */
    float x[NB * NF];     /* the batch (NB,NF) */
    int32_t y[NB];        /* (NB) */
    int64_t nan_at;       /* > 0: that batch holds a NaN */
    int64_t interrupt_at; /* > 0: Ctrl-C arrives while that batch is made */
    const zoo_run_state *state;
    int64_t eval_steps[64]; /* the steps evaluated at */
    int n_evals, losses;    /* evaluations, loss calls */
    double accuracy;
    zoo_plugin desc; /* what a checkpoint names as its plugin */
    zoo_loaded loaded;
    zoo_host_model model;
} toy;

/* Example i of a stream: x ~ N(0,1), label 1 when x0 + x1/2 - x2 > 0. */
static void example(uint64_t seed, float *x, int32_t *y) {
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int d = 0; d < NF; d++) x[d] = zoo_rng_normal(&rng);
    *y = x[0] + 0.5f * x[1] - x[2] > 0;
}

static int toy_next_batch(void *ctx, zoo_batch *batch) {
    toy *t = ctx;
    for (int r = 0; r < NB; r++)
        example(1000 + (uint64_t)(t->cursor * NB + r), t->x + r * NF, &t->y[r]);
    if (t->nan_at && t->cursor + 1 == t->nan_at)
        for (int i = 0; i < NB * NF; i++) t->x[i] = NAN;
    if (t->interrupt_at && t->cursor + 1 == t->interrupt_at) raise(SIGINT);
    t->cursor++;
    *batch = (zoo_batch){.size = sizeof *batch, .B = NB, .T = 1, .labels = t->y};
    return ZOO_OK;
}

static zoo_tensor *logits(toy *t, zoo_graph *g, float *x, int64_t n, zoo_rng *rng) {
    zoo_tensor *in = zoo_tensor_wrap(g, ZOO_F32, 2, ZOO_SHAPE(n, NF), x);
    return zoo_linear(g, rng ? zoo_dropout(g, in, 0.1f, rng) : in, t->w, t->b, ZOO_W_OUT_IN);
}

static int toy_loss(void *ctx, zoo_graph *g, const zoo_batch *batch, zoo_rng *rng,
                    zoo_tensor **loss, zoo_metrics *metrics, int64_t *tokens) {
    toy *t = ctx;
    t->losses++;
    zoo_metrics_add(metrics, "toy_metric", 0.5);
    *tokens = batch->B;
    *loss = zoo_cross_entropy(g, logits(t, g, t->x, NB, rng),
                              zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(NB), t->y), ZOO_IGNORE);
    return ZOO_OK;
}

static int toy_evaluate(void *ctx, zoo_graph *g, double *loss, zoo_metrics *metrics) {
    toy *t = ctx;
    static float x[HELD * NF];
    static int32_t y[HELD];
    for (int i = 0; i < HELD; i++) example(7 + (uint64_t)i, x + i * NF, &y[i]);
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, false);
    zoo_graph_set_training(g, false);
    zoo_tensor *z = logits(t, g, x, HELD, NULL);
    zoo_tensor *l =
        zoo_cross_entropy(g, z, zoo_tensor_wrap(g, ZOO_I32, 1, ZOO_SHAPE(HELD), y), ZOO_IGNORE);
    ck_assert_msg(l, "%s", zoo_graph_error(g));
    int right = 0;
    for (int i = 0; i < HELD; i++) right += (zoo_f32(z)[i * NC + 1] > zoo_f32(z)[i * NC]) == y[i];
    *loss = zoo_f32(l)[0];
    t->accuracy = right / (double)HELD;
    zoo_metrics_add(metrics, "accuracy", t->accuracy);
    if (t->n_evals < 64) t->eval_steps[t->n_evals++] = t->state->step;
    return ZOO_OK;
}

static void toy_save_cursor(void *ctx, char *text, size_t cap) {
    snprintf(text, cap, "toy1 %lld", (long long)((toy *)ctx)->cursor);
}

static int toy_restore_cursor(void *ctx, const char *text) {
    long long c;
    if (sscanf(text, "toy1 %lld", &c) != 1 || c < 0)
        return zoo_error(ZOO_ERR_FORMAT, "not a toy cursor: %s", text);
    ((toy *)ctx)->cursor = c;
    return ZOO_OK;
}

static int toy_save(void *ctx, const char *path, const zoo_run_state *state) {
    return zoo_checkpoint_save(path, &((toy *)ctx)->model, "{}", NULL, state, true);
}

/* A self-updating step: plain SGD on the same loss, computed by hand. */
static int toy_update(void *ctx, const zoo_batch *batch, float lr, zoo_rng *rng,
                      zoo_step_stats *stats) {
    (void)batch, (void)rng;
    toy *t = ctx;
    float *w = zoo_f32(t->w), *b = zoo_f32(t->b);
    double total = 0;
    for (int r = 0; r < NB; r++) {
        float z[NC], p[NC];
        for (int k = 0; k < NC; k++) {
            z[k] = b[k];
            for (int d = 0; d < NF; d++) z[k] += w[k * NF + d] * t->x[r * NF + d];
        }
        float m = fmaxf(z[0], z[1]), s = expf(z[0] - m) + expf(z[1] - m);
        for (int k = 0; k < NC; k++) p[k] = expf(z[k] - m) / s;
        total -= log(p[t->y[r]]);
        for (int k = 0; k < NC; k++) {
            float g = (p[k] - (k == t->y[r])) / NB;
            b[k] -= lr * g;
            for (int d = 0; d < NF; d++) w[k * NF + d] -= lr * g * t->x[r * NF + d];
        }
    }
    stats->loss = total / NB;
    stats->tokens = NB;
    return ZOO_OK;
}

static void toy_init(toy *t) {
    memset(t, 0, sizeof *t);
    t->params = zoo_params_new();
    zoo_rng rng;
    zoo_rng_seed(&rng, 3);
    t->w = zoo_params_add_normal(t->params, "w", 2, ZOO_SHAPE(NC, NF), 0, &rng, 0.1f);
    t->b = zoo_params_add(t->params, "b", 1, ZOO_SHAPE(NC), ZOO_PARAM_NO_DECAY);
    ck_assert(t->w && t->b);
    t->desc = (zoo_plugin){.size = sizeof t->desc, .name = "toy"};
    t->loaded = (zoo_loaded){.plugin = &t->desc};
    t->model = (zoo_host_model){.plugin = &t->loaded, .params = t->params};
}

static zoo_train_task toy_task(toy *t) {
    return (zoo_train_task){.ctx = t,
                            .params = t->params,
                            .next_batch = toy_next_batch,
                            .loss = toy_loss,
                            .evaluate = toy_evaluate,
                            .save_cursor = toy_save_cursor,
                            .restore_cursor = toy_restore_cursor,
                            .save = toy_save};
}

static zoo_train_plan toy_plan(int64_t steps, const char *run_dir) {
    return (zoo_train_plan){
        .total_steps = steps,
        .optim = zoo_optim_defaults(ZOO_OPTIM_ADAMW),
        .schedule = {.kind = ZOO_SCHEDULE_COSINE, .lr = 0.1f, .warmup = 5, .total_steps = steps},
        .grad_clip = 1.0f,
        .keep = 3,
        .run_dir = run_dir,
        .command = "zoo test",
    };
}

static const zoo_cli cli = {.command = "test"};

/* Runs t with plan from *state, reporting to a quiet display. */
static int run(toy *t, const zoo_train_plan *plan, zoo_run_state *state) {
    zoo_train_task task = toy_task(t);
    t->state = state;
    zoo_progress *p = zoo_progress_open(plan->run_dir, plan->total_steps, true);
    ck_assert_msg(p, "%s", zoo_error_message());
    int status = zoo_train_loop(&cli, &task, plan, p, state);
    zoo_progress_close(p);
    return status;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static char dir_made[64];

static void remove_dir(void) {
    if (dir_made[0]) nftw(dir_made, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory, removed after the test (a failed test leaves it to look at). */
static char *temp_dir(void) {
    snprintf(dir_made, sizeof dir_made, "/tmp/zoo-loop-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir_made));
    return dir_made;
}

static bool exists_in(const char *dir, const char *name) {
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static int count_lines(const char *dir, const char *needle) {
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

START_TEST(test_learns_and_evaluates_on_cadence) {
    toy t;
    toy_init(&t);
    zoo_train_plan plan = toy_plan(210, NULL);
    plan.eval_every = 50;
    zoo_run_state state = {0};
    zoo_rng_seed(&state.rng, 1);
    ck_assert_int_eq(run(&t, &plan, &state), 0);
    ck_assert_int_eq(state.step, 210);
    ck_assert_int_eq(t.cursor, 210);
    ck_assert_int_eq(t.losses, 210);
    const int64_t want[] = {50, 100, 150, 200, 210}; /* every 50, and the last */
    ck_assert_int_eq(t.n_evals, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(t.eval_steps[i], want[i]);
    ck_assert_msg(t.accuracy > 0.9, "held-out accuracy %g", t.accuracy);
    zoo_params_free(t.params);
}
END_TEST

START_TEST(test_checkpoints_and_metrics) {
    char *dir = temp_dir();
    toy t;
    toy_init(&t);
    zoo_train_plan plan = toy_plan(45, dir);
    plan.eval_every = 20, plan.checkpoint_every = 10, plan.keep = 2;
    zoo_run_state state = {0};
    ck_assert_int_eq(run(&t, &plan, &state), 0);
    ck_assert(exists_in(dir, "step-00000040.safetensors"));
    ck_assert(exists_in(dir, "step-00000045.safetensors"));  /* the end, whatever the cadence */
    ck_assert(!exists_in(dir, "step-00000030.safetensors")); /* keep = 2 */
    char a[512], b[512];
    struct stat sa, sb;
    snprintf(a, sizeof a, "%s/latest.safetensors", dir);
    snprintf(b, sizeof b, "%s/step-00000045.safetensors", dir);
    ck_assert(stat(a, &sa) == 0 && stat(b, &sb) == 0);
    ck_assert_int_eq(sa.st_ino, sb.st_ino); /* latest: a second name of the newest */
    ck_assert_int_eq(count_lines(dir, "\"loss\":"), 45);
    ck_assert_int_eq(count_lines(dir, "\"grad_norm\":0"), 45);
    ck_assert_int_eq(count_lines(dir, "\"toy_metric\":0.5}"), 45);
    ck_assert_int_eq(count_lines(dir, "\"val_loss\":"), 3); /* 20, 40, 45 */
    ck_assert_int_eq(count_lines(dir, "\"accuracy\":"), 3);
    zoo_checkpoint *ck = NULL;
    ck_assert_int_eq(zoo_checkpoint_open(dir, &ck), ZOO_OK);
    ck_assert_int_eq(ck->state.step, 45);
    ck_assert_str_eq(ck->state.data_cursor, "toy1 45");
    ck_assert_str_eq(ck->plugin, "toy");
    zoo_checkpoint_close(ck);
    zoo_params_free(t.params);
}
END_TEST

START_TEST(test_stopped_and_resumed_to_the_bit) {
    char *dir = temp_dir(), whole[128];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    toy a, b;
    toy_init(&a), toy_init(&b);
    zoo_train_plan plan = toy_plan(60, whole);
    plan.eval_every = 25;
    zoo_run_state sa = {0}, sb = {0};
    zoo_rng_seed(&sa.rng, 9), zoo_rng_seed(&sb.rng, 9);
    mkdir(whole, 0755);
    ck_assert_int_eq(run(&a, &plan, &sa), 0);

    plan.run_dir = dir;
    plan.stop_after = 23;
    ck_assert_int_eq(run(&b, &plan, &sb), 0);
    ck_assert_int_eq(sb.step, 23); /* stopped, with a checkpoint */
    ck_assert(exists_in(dir, "step-00000023.safetensors"));
    zoo_params_free(b.params);

    toy c; /* a fresh process: everything from the checkpoint */
    toy_init(&c);
    zoo_train_task task = toy_task(&c);
    zoo_checkpoint *ck = NULL;
    zoo_run_state sc = {0};
    ck_assert_int_eq(zoo_checkpoint_open(dir, &ck), ZOO_OK);
    ck_assert_int_eq(zoo_train_resume(&task, ck, &sc), ZOO_OK);
    zoo_checkpoint_close(ck);
    ck_assert_int_eq(sc.step, 23);
    ck_assert_int_eq(c.cursor, 23);
    plan.stop_after = 0;
    ck_assert_int_eq(run(&c, &plan, &sc), 0);
    ck_assert_int_eq(sc.step, 60);
    ck_assert_mem_eq(a.w->data, c.w->data, NC * NF * sizeof(float));
    ck_assert_mem_eq(a.b->data, c.b->data, NC * sizeof(float));
    zoo_param *pa = zoo_params_find(a.params, "w"), *pc = zoo_params_find(c.params, "w");
    ck_assert_mem_eq(pa->m, pc->m, NC * NF * sizeof(float)); /* Adam's moments too */
    ck_assert_mem_eq(pa->v, pc->v, NC * NF * sizeof(float));
    ck_assert_mem_eq(sa.rng.s, sc.rng.s, sizeof sa.rng.s); /* and the dropout generator */
    ck_assert_double_eq(a.accuracy, c.accuracy);
    zoo_params_free(a.params), zoo_params_free(c.params);
}
END_TEST

START_TEST(test_resume_refuses_a_foreign_cursor) {
    char *dir = temp_dir();
    toy t;
    toy_init(&t);
    zoo_train_plan plan = toy_plan(3, dir);
    zoo_run_state state = {0};
    ck_assert_int_eq(run(&t, &plan, &state), 0);
    zoo_train_task task = toy_task(&t);
    zoo_checkpoint *ck = NULL;
    ck_assert_int_eq(zoo_checkpoint_open(dir, &ck), ZOO_OK);
    snprintf(ck->state.data_cursor, sizeof ck->state.data_cursor, "batcher1 0");
    zoo_run_state fresh = {.step = 0};
    ck_assert_int_eq(zoo_train_resume(&task, ck, &fresh), ZOO_ERR_FORMAT);
    ck_assert_int_eq(fresh.step, 0); /* unchanged */
    ck_assert(strstr(zoo_error_message(), "not a toy cursor"));
    zoo_checkpoint_close(ck);
    zoo_params_free(t.params);
}
END_TEST

START_TEST(test_non_finite_loss_stops) {
    char *dir = temp_dir();
    toy t;
    toy_init(&t);
    t.nan_at = 7;
    zoo_train_plan plan = toy_plan(20, dir);
    plan.checkpoint_every = 1, plan.keep = 100;
    zoo_run_state state = {0};
    ck_assert_int_eq(run(&t, &plan, &state), ZOO_EXIT_FAILURE);
    ck_assert_int_eq(state.step, 6);
    ck_assert(exists_in(dir, "step-00000006.safetensors")); /* the last good one stays */
    ck_assert(!exists_in(dir, "step-00000007.safetensors"));
    ck_assert_int_eq(count_lines(dir, "\"loss\":"), 6);
    zoo_params_free(t.params);
}
END_TEST

START_TEST(test_ctrl_c_saves_and_exits_130) {
    char *dir = temp_dir();
    toy t;
    toy_init(&t);
    t.interrupt_at = 12;
    zoo_train_plan plan = toy_plan(1000, dir);
    zoo_run_state state = {0};
    ck_assert_int_eq(run(&t, &plan, &state), 130);
    ck_assert_int_eq(state.step, 12); /* the step under way is finished, then saved */
    ck_assert(exists_in(dir, "step-00000012.safetensors"));
    ck_assert(exists_in(dir, "latest.safetensors"));
    /* without a run directory Ctrl-C just stops */
    toy u;
    toy_init(&u);
    u.interrupt_at = 5;
    plan.run_dir = NULL;
    zoo_run_state su = {0};
    ck_assert_int_eq(run(&u, &plan, &su), 130);
    ck_assert_int_eq(su.step, 5);
    zoo_params_free(t.params), zoo_params_free(u.params);
}
END_TEST

START_TEST(test_self_updating_task) {
    char *dir = temp_dir();
    toy t;
    toy_init(&t);
    zoo_train_task task = toy_task(&t);
    task.update = toy_update;
    zoo_train_plan plan = toy_plan(150, dir);
    plan.schedule.kind = ZOO_SCHEDULE_CONSTANT, plan.schedule.lr = 0.5f;
    zoo_run_state state = {0};
    t.state = &state;
    zoo_progress *p = zoo_progress_open(dir, plan.total_steps, true);
    ck_assert_int_eq(zoo_train_loop(&cli, &task, &plan, p, &state), 0);
    zoo_progress_close(p);
    ck_assert_int_eq(t.losses, 0); /* no tape */
    ck_assert_int_eq(count_lines(dir, "\"grad_norm\":null"), 150);
    ck_assert_msg(t.accuracy > 0.9, "held-out accuracy %g", t.accuracy);
    zoo_params_free(t.params);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("train_loop");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, NULL, remove_dir);
    tcase_add_test(tc, test_learns_and_evaluates_on_cadence);
    tcase_add_test(tc, test_checkpoints_and_metrics);
    tcase_add_test(tc, test_stopped_and_resumed_to_the_bit);
    tcase_add_test(tc, test_resume_refuses_a_foreign_cursor);
    tcase_add_test(tc, test_non_finite_loss_stops);
    tcase_add_test(tc, test_ctrl_c_saves_and_exits_130);
    tcase_add_test(tc, test_self_updating_task);
    suite_add_tcase(s, tc);
    return s;
}
