/* A fork-aware pool of sleeping workers. One job runs at a time: the caller
 * publishes it under the mutex, bumps `generation` and wakes the workers that
 * sleep; workers and the caller take ranges from an atomic counter; the last
 * one to finish wakes the caller if it sleeps.
 *
 * Who waits (a worker for the next job, the caller for the workers) first
 * yields the CPU in a loop for YIELD_US, then sleeps on a condition variable.
 * A training step runs hundreds of jobs with microseconds between them, and
 * a futex wake-up each time cost 3-4% of a small-BERT step; yielding, not
 * spinning, hands the core to any other runnable thread, so with two such
 * processes on two cores the steps were no slower than with sleeping alone
 * (346-353 ms against 344-364 ms; a pure spin instead: 356-361 ms). */
#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "zoo/threads.h"

typedef struct job {
    zoo_range_fn fn;
    void *ctx;
    int64_t n, chunk;
    atomic_int_fast64_t next; /* next range start */
    atomic_int unfinished;    /* participants still working */
} job;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_t *workers;
    int n_workers; /* threads besides the caller */
    atomic_ulong generation;
    int sleeping;        /* workers waiting on `wake`, under the mutex */
    bool caller_waiting; /* the caller waits on `done`, under the mutex */
    job *current;
    bool stopping;
} pool;

static pthread_mutex_t config_mu = PTHREAD_MUTEX_INITIALIZER;
static pool *the_pool;
static int thread_count; /* 0 until configured: then the CPU count */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local bool inside_task;

static void run_ranges(job *j) {
    bool was_inside = inside_task;
    inside_task = true;
    for (;;) {
        int64_t begin = atomic_fetch_add(&j->next, j->chunk);
        if (begin >= j->n) break;
        int64_t end = begin + j->chunk < j->n ? begin + j->chunk : j->n;
        j->fn(j->ctx, begin, end);
    }
    inside_task = was_inside;
}

#define YIELD_US 50.0

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* True while a waiter that started yielding at `start` (now_us()) should
 * go on yielding; the clock is read every 16th round. */
static bool keep_yielding(double start, int round) {
    if (round % 16 == 0 && now_us() > start + YIELD_US) return false;
    sched_yield();
    return true;
}

static void finish(pool *p, job *j) {
    /* the caller may return (and j go) as soon as the count reaches 0 */
    if (atomic_fetch_sub(&j->unfinished, 1) != 1) return;
    pthread_mutex_lock(&p->mu);
    if (p->caller_waiting) pthread_cond_signal(&p->done);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg) {
    pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (!p->stopping && atomic_load(&p->generation) == seen) {
            pthread_mutex_unlock(&p->mu);
            double start = now_us();
            for (int i = 0; atomic_load(&p->generation) == seen && keep_yielding(start, i); i++) {
            }
            pthread_mutex_lock(&p->mu);
        }
        while (!p->stopping && atomic_load(&p->generation) == seen) {
            p->sleeping++;
            pthread_cond_wait(&p->wake, &p->mu);
            p->sleeping--;
        }
        if (p->stopping) break;
        seen = atomic_load(&p->generation);
        job *j = p->current;
        pthread_mutex_unlock(&p->mu);
        run_ranges(j);
        finish(p, j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int zoo_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The child of a fork has only the forking thread: forget the parent's pool
 * (its threads do not exist here) and build a new one on first use. */
static void after_fork_in_child(void) {
    the_pool = NULL;
    pthread_mutex_init(&config_mu, NULL);
}

static void register_atfork(void) {
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static void pool_destroy(pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

static pool *pool_create(int n_threads) {
    pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = calloc((size_t)(n_threads > 1 ? n_threads - 1 : 1), sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return NULL;
    }
    for (int i = 0; i < n_threads - 1; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) break;
        p->n_workers++;
    }
    return p;
}

/* At exit the workers are joined, so a process ends with no thread of zoo's
 * alive: memcheck counts a live worker's thread-local storage as possibly
 * lost, and a worker must not run on while libraries unload. Skipped when
 * exit is called from a pool task (the join would wait on itself) or while
 * another thread configures the pool. */
__attribute__((destructor)) static void pool_at_exit(void) {
    if (inside_task || pthread_mutex_trylock(&config_mu) != 0) return;
    pool *p = the_pool;
    the_pool = NULL;
    pthread_mutex_unlock(&config_mu);
    pool_destroy(p);
}

void zoo_threads_set(int n) {
    pthread_once(&atfork_once, register_atfork);
    if (n <= 0) n = zoo_cpu_count();
    pthread_mutex_lock(&config_mu);
    if (n != thread_count) {
        pool_destroy(the_pool);
        the_pool = NULL;
        thread_count = n;
    }
    pthread_mutex_unlock(&config_mu);
    /* OpenBLAS stays single-threaded: zoo's pool shares out the big products
     * (matmul.c) and everything else, and its workers sleep when idle. */
    openblas_set_num_threads(1);
}

int zoo_threads_count(void) {
    pthread_mutex_lock(&config_mu);
    int n = thread_count > 0 ? thread_count : zoo_cpu_count();
    pthread_mutex_unlock(&config_mu);
    return n;
}

static pool *pool_get(void) {
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&config_mu);
    if (thread_count <= 0) thread_count = zoo_cpu_count();
    if (!the_pool && thread_count > 1) the_pool = pool_create(thread_count);
    pool *p = the_pool;
    pthread_mutex_unlock(&config_mu);
    return p;
}

void zoo_parallel_for(int64_t n, int64_t grain, zoo_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    pool *p = (inside_task || n <= grain) ? NULL : pool_get();
    if (!p || p->n_workers == 0) {
        fn(ctx, 0, n);
        return;
    }
    int participants = p->n_workers + 1;
    int64_t chunk = (n + participants - 1) / participants;
    if (chunk < grain) chunk = grain;
    /* Several chunks per thread would balance better, but each thread's
     * range stays contiguous so that loops read memory in order. */
    job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk, .unfinished = participants};
    atomic_init(&j.next, 0);
    /* Jobs come from one thread at a time: concurrent callers (threads the
     * user made) queue here rather than interleave. */
    static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&submit_mu);
    pthread_mutex_lock(&p->mu);
    p->current = &j;
    atomic_fetch_add(&p->generation, 1);
    if (p->sleeping) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_ranges(&j);

    if (atomic_fetch_sub(&j.unfinished, 1) != 1) {
        double start = now_us();
        for (int i = 0; atomic_load(&j.unfinished) > 0 && keep_yielding(start, i); i++) {
        }
    }
    pthread_mutex_lock(&p->mu);
    p->caller_waiting = true;
    while (atomic_load(&j.unfinished) > 0) pthread_cond_wait(&p->done, &p->mu);
    p->caller_waiting = false;
    p->current = NULL;
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&submit_mu);
}

typedef struct run_ctx {
    zoo_worker_fn fn;
    void *ctx;
    int n;
} run_ctx;

static void run_one(void *arg, int64_t begin, int64_t end) {
    run_ctx *r = arg;
    for (int64_t i = begin; i < end; i++) r->fn(r->ctx, (int)i, r->n);
}

void zoo_parallel_run(int n_workers, zoo_worker_fn fn, void *ctx) {
    if (n_workers < 1) n_workers = 1;
    run_ctx r = {fn, ctx, n_workers};
    zoo_parallel_for(n_workers, 1, run_one, &r);
}
