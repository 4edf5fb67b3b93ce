#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "metrics.h"
#include "zoo/status.h"

/* Plain lines (not a terminal) come at most this often. */
#define PLAIN_INTERVAL_S 10.0

struct zoo_progress {
    FILE *metrics;
    int64_t total;
    bool quiet, live;
    bool line_open; /* a live line is on screen */
    double last_plain;
};

zoo_progress *zoo_progress_open(const char *run_dir, int64_t total_steps, bool quiet) {
    FILE *f = NULL;
    if (run_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
        if (!(f = fopen(path, "a"))) {
            zoo_error(ZOO_ERR_IO, "%s: cannot open for appending", path);
            return NULL;
        }
    }
    zoo_progress *p = calloc(1, sizeof *p);
    if (!p) {
        if (f) fclose(f);
        zoo_error(ZOO_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->metrics = f;
    p->total = total_steps;
    p->quiet = quiet;
    p->live = !quiet && isatty(STDERR_FILENO);
    p->last_plain = -1e9;
    return p;
}

void zoo_progress_close(zoo_progress *p) {
    if (!p) return;
    if (p->line_open) fputc('\n', stderr);
    if (p->metrics) fclose(p->metrics);
    free(p);
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
    if (p->metrics) {
        fprintf(p->metrics, "{\"step\":%lld", (long long)r->step);
        number(p->metrics, "loss", r->loss);
        number(p->metrics, "lr", r->lr);
        number(p->metrics, "grad_norm", r->grad_norm);
        number(p->metrics, "tokens_per_s", r->tokens_per_s);
        number(p->metrics, "elapsed_s", r->elapsed);
        fprintf(p->metrics, ",\"tokens\":%lld", (long long)r->tokens);
        plugin_metrics(p->metrics, r->metrics);
        fputs("}\n", p->metrics);
        fflush(p->metrics);
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
    if (p->metrics) {
        fprintf(p->metrics, "{\"step\":%lld", (long long)step);
        number(p->metrics, "val_loss", val_loss);
        number(p->metrics, "elapsed_s", r->elapsed);
        fprintf(p->metrics, ",\"tokens\":%lld", (long long)r->tokens);
        plugin_metrics(p->metrics, metrics);
        fputs("}\n", p->metrics);
        fflush(p->metrics);
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
