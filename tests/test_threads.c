/* The thread pool: every index covered once, workers that sleep when idle,
 * nested calls that do not deadlock, and a fresh pool in a forked child. */
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"

typedef struct {
    atomic_int *hits;
} cover_ctx;

static void mark(void *arg, int64_t begin, int64_t end) {
    cover_ctx *c = arg;
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void check_coverage(int64_t n, int64_t grain) {
    atomic_int *hits = calloc((size_t)n, sizeof *hits);
    cover_ctx c = {hits};
    zoo_parallel_for(n, grain, mark, &c);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(hits[i] == 1, "index %lld ran %d times", (long long)i, hits[i]);
    free(hits);
}

START_TEST(test_every_index_once) {
    for (int threads = 1; threads <= 4; threads++) {
        zoo_threads_set(threads);
        ck_assert_int_eq(zoo_threads_count(), threads);
        const int64_t sizes[] = {1, 2, 3, 17, 1000, 100003};
        for (int s = 0; s < 6; s++) {
            check_coverage(sizes[s], 1);
            check_coverage(sizes[s], 64);
        }
    }
    zoo_parallel_for(0, 1, mark, NULL); /* nothing to do: fn is never called */
}
END_TEST

typedef struct {
    atomic_int seen[8];
    atomic_int concurrent, max_concurrent;
    int n_workers_reported;
} run_ctx;

static void worker(void *arg, int index, int n_workers) {
    run_ctx *r = arg;
    atomic_fetch_add(&r->seen[index], 1);
    r->n_workers_reported = n_workers;
    int now = atomic_fetch_add(&r->concurrent, 1) + 1;
    int prev = atomic_load(&r->max_concurrent);
    while (now > prev && !atomic_compare_exchange_weak(&r->max_concurrent, &prev, now)) {
    }
    usleep(20000); /* long enough for the other worker to arrive */
    atomic_fetch_sub(&r->concurrent, 1);
}

START_TEST(test_parallel_run_uses_threads) {
    zoo_threads_set(2);
    run_ctx r = {0};
    zoo_parallel_run(2, worker, &r);
    ck_assert_int_eq(r.seen[0], 1);
    ck_assert_int_eq(r.seen[1], 1);
    ck_assert_int_eq(r.n_workers_reported, 2);
    ck_assert_int_eq(r.max_concurrent, 2); /* the two workers really ran at the same time */
    run_ctx more = {0};
    zoo_parallel_run(5, worker, &more); /* more workers than threads: each still runs once */
    for (int i = 0; i < 5; i++) ck_assert_int_eq(more.seen[i], 1);
}
END_TEST

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Idle workers end up waiting on a condition variable: a pool of 4 that sits
 * idle for 300 ms costs (almost) no CPU time (the 50 us each worker yields
 * first is nothing). A spinning pool would burn ~1.2 s. */
START_TEST(test_idle_workers_sleep) {
    zoo_threads_set(4);
    check_coverage(100000, 1); /* the pool exists and has just worked */
    double before = cpu_seconds();
    usleep(300000);
    double spent = cpu_seconds() - before;
    ck_assert_msg(spent < 0.05, "idle pool used %.3f s of CPU in 0.3 s", spent);
}
END_TEST

/* Jobs back to back (workers still in their yield window), and jobs after
 * pauses on both sides of that window (workers asleep): every one completes
 * and covers its range once. A lost wake-up would hang here. */
START_TEST(test_back_to_back_and_spaced_jobs) {
    for (int threads = 2; threads <= 4; threads += 2) {
        zoo_threads_set(threads);
        for (int k = 0; k < 20000; k++) check_coverage(7, 1);
        const useconds_t pauses[] = {0, 10, 40, 60, 200, 1000};
        for (int k = 0; k < 300; k++) {
            usleep(pauses[k % 6]);
            check_coverage(64, 1);
        }
    }
}
END_TEST

static void nested(void *arg, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) check_coverage(50, 1); /* runs serially inside a task */
    (void)arg;
}

START_TEST(test_nested_calls_do_not_deadlock) {
    zoo_threads_set(3);
    zoo_parallel_for(12, 1, nested, NULL);
}
END_TEST

START_TEST(test_pool_survives_fork) {
    zoo_threads_set(2);
    check_coverage(10000, 1); /* the parent's pool is running */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* the child has none of the parent's workers and must build its own */
        atomic_int hits[1000] = {0};
        cover_ctx c = {hits};
        zoo_parallel_for(1000, 1, mark, &c);
        for (int i = 0; i < 1000; i++)
            if (hits[i] != 1) _exit(1);
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    check_coverage(10000, 1); /* and the parent's still works */
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_index_once);
    tcase_add_test(tc, test_parallel_run_uses_threads);
    tcase_add_test(tc, test_idle_workers_sleep);
    tcase_add_test(tc, test_back_to_back_and_spaced_jobs);
    tcase_add_test(tc, test_nested_calls_do_not_deadlock);
    tcase_add_test(tc, test_pool_survives_fork);
    suite_add_tcase(s, tc);
    return s;
}
