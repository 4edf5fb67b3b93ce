#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "metrics.h"
#include "zoo/io.h"
#include "zoo/status.h"

/* Plain lines (not a terminal) come at most this often. */
#define PLAIN_INTERVAL_S 10.0

struct zoo_progress {
    int metrics; /* RUN_DIR/metrics.jsonl opened O_APPEND, or -1 */
    int64_t total;
    bool quiet, live;
    bool line_open; /* a live line is on screen */
    double last_plain;
};

zoo_progress *zoo_progress_open(const char *run_dir, int64_t total_steps, bool quiet) {
    int fd = -1;
    if (run_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
        if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
            zoo_error(ZOO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
            return NULL;
        }
    }
    zoo_progress *p = calloc(1, sizeof *p);
    if (!p) {
        if (fd >= 0) close(fd);
        zoo_error(ZOO_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->metrics = fd;
    p->total = total_steps;
    p->quiet = quiet;
    p->live = !quiet && isatty(STDERR_FILENO);
    p->last_plain = -1e9;
    return p;
}

void zoo_progress_close(zoo_progress *p) {
    if (!p) return;
    if (p->line_open) fputc('\n', stderr);
    if (p->metrics >= 0) close(p->metrics);
    free(p);
}

/* A metrics line is assembled in memory and appended with one write(2): a
 * process killed between two lines leaves whole lines only. A write that
 * fails part-way (a full disk) is cut off again, so that the next line does
 * not continue a torn one; the run goes on without that line. */
typedef struct metrics_line {
    FILE *f;
    char *text;
    size_t len;
} metrics_line;

static bool line_begin(const zoo_progress *p, metrics_line *l) {
    *l = (metrics_line){0};
    return p->metrics >= 0 && (l->f = open_memstream(&l->text, &l->len));
}

static void line_end(zoo_progress *p, metrics_line *l) {
    fputs("}\n", l->f);
    bool ok = !ferror(l->f);
    ok &= fclose(l->f) == 0;
    off_t end = lseek(p->metrics, 0, SEEK_END);
    for (size_t done = 0; ok && done < l->len;) {
        ssize_t n = write(p->metrics, l->text + done, l->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            /* the torn line cut off again; should that fail too, a resume drops it */
            if (done > 0 && end >= 0 && ftruncate(p->metrics, end) != 0) errno = 0;
            break;
        }
        done += (size_t)n;
    }
    free(l->text);
}

/* A JSON number, or null for NaN and infinities (which JSON cannot carry). */
static void number(FILE *f, const char *key, double v) {
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.9g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

static void write_number(void *f, const char *name, double value) {
    number(f, name, value);
}

/* The plugin's metrics, and the perplexity of each PREFIX_loss (metrics.h). */
static void plugin_metrics(FILE *f, const zoo_metrics *m) {
    zoo_metrics_each(m, write_number, f);
}

/* "  forward_loss 4.1234  forward_perplexity 61.78" or "  mlm_accuracy 0.4210
 * nsp_accuracy 0.6100  majority_accuracy 0.1500" for the evaluation's note:
 * the metrics that are losses with their perplexities, and accuracies (the
 * model's own beside its yardsticks), in the order the task gave them. */
typedef struct losses_text {
    char text[1024];
    size_t len;
} losses_text;

static void add_loss(void *ctx, const char *name, double value) {
    losses_text *t = ctx;
    size_t n = strlen(name);
    bool loss = n > 5 && strcmp(name + n - 5, "_loss") == 0;
    bool ppl = n > 11 && strcmp(name + n - 11, "_perplexity") == 0;
    bool acc = n >= 8 && strcmp(name + n - 8, "accuracy") == 0;
    if ((loss || ppl || acc) && t->len < sizeof t->text)
        t->len +=
            (size_t)snprintf(t->text + t->len, sizeof t->text - t->len, "  %s %.4f", name, value);
}

void zoo_progress_step(zoo_progress *p, const zoo_step_report *r) {
    metrics_line l;
    if (line_begin(p, &l)) {
        fprintf(l.f, "{\"step\":%lld", (long long)r->step);
        number(l.f, "loss", r->loss);
        number(l.f, "lr", r->lr);
        number(l.f, "grad_norm", r->grad_norm);
        number(l.f, "tokens_per_s", r->tokens_per_s);
        number(l.f, "elapsed_s", r->elapsed);
        fprintf(l.f, ",\"tokens\":%lld", (long long)r->tokens);
        if (r->world_size > 1) { /* a data-parallel run; absent: one process */
            fprintf(l.f, ",\"world_size\":%d", r->world_size);
            number(l.f, "comm_s", r->comm_s);
        }
        plugin_metrics(l.f, r->metrics);
        line_end(p, &l);
    }
    if (p->quiet) return;
    double eta = r->step > 0 ? r->elapsed / (double)r->step * (double)(p->total - r->step) : 0;
    char line[256];
    snprintf(line, sizeof line, "step %lld/%lld  loss %.4f  lr %.3g  %.0f tok/s  ETA %.0fs",
             (long long)r->step, (long long)p->total, r->loss, r->lr, r->tokens_per_s, eta);
    if (p->live) {
        fprintf(stderr, "\r%-79s", line);
        p->line_open = true;
    } else if (zoo_now() - p->last_plain >= PLAIN_INTERVAL_S || r->step == p->total) {
        fprintf(stderr, "%s\n", line);
        p->last_plain = zoo_now();
    }
}

void zoo_progress_eval(zoo_progress *p, const zoo_step_report *r, double val_loss) {
    int64_t step = r->step;
    const zoo_metrics *metrics = r->metrics;
    metrics_line l;
    if (line_begin(p, &l)) {
        fprintf(l.f, "{\"step\":%lld", (long long)step);
        number(l.f, "val_loss", val_loss);
        number(l.f, "elapsed_s", r->elapsed);
        fprintf(l.f, ",\"tokens\":%lld", (long long)r->tokens);
        plugin_metrics(l.f, metrics);
        line_end(p, &l);
    }
    losses_text t = {.len = 0};
    zoo_metrics_each(metrics, add_loss, &t);
    zoo_progress_note(p, "step %lld: val_loss %.4f%s", (long long)step, val_loss, t.text);
}

void zoo_progress_end_line(zoo_progress *p) {
    if (p && p->line_open) fputc('\n', stderr), p->line_open = false;
}

void zoo_progress_note(zoo_progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    if (p->line_open) fputc('\n', stderr), p->line_open = false;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The step of a line {"step":N,...}; false for any other line. */
static bool line_step(const char *line, long long *step) {
    static const char prefix[] = "{\"step\":";
    if (strncmp(line, prefix, sizeof prefix - 1) != 0) return false;
    char *end;
    errno = 0;
    *step = strtoll(line + sizeof prefix - 1, &end, 10);
    return errno == 0 && end != line + sizeof prefix - 1 && (*end == ',' || *end == '}');
}

int zoo_metrics_log_trim(const char *run_dir, int64_t step) {
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0; /* nothing logged yet */
    size_t len;
    char *text = zoo_read_file(path, &len);
    if (!text) return -1;
    size_t kept = 0;
    int dropped = 0;
    for (size_t at = 0; at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        long long s;
        text[end - 1 + !nl] = '\0'; /* for line_step; the newline is put back below */
        bool keep = nl && !(line_step(text + at, &s) && s > step);
        if (nl) *nl = '\n';
        if (keep) {
            memmove(text + kept, text + at, end - at);
            kept += end - at;
        } else {
            dropped++;
        }
        at = end;
    }
    int status = dropped ? zoo_write_file_atomic(path, text, kept) : ZOO_OK;
    free(text);
    return status == ZOO_OK ? dropped : -1;
}
