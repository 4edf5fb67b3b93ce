/* The conformance suite's setting up: the tiny configuration, the synthetic
 * corpus, its tokenizer and batches, and the run (see conformance.h). The
 * checks themselves are in conformance_checks.c. */
#include "conformance.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batcher.h"
#include "conformance_suite.h"
#include "corpus_files.h"
#include "zoo/zoo.h"

#define TINY 16     /* INT hyperparameters shrink towards this */
#define WORDS 40    /* kinds of words in the corpus */
#define LINES 1000  /* corpus lines, a blank one every DOCUMENT */
#define DOCUMENT 40 /* lines per document */
#define SMALL_B 2   /* the small batch */
#define BIG_B 128   /* the thread checks' batch */
#define T_WINDOW 16 /* positions per row; block_size */
#define CHUNK_SMALL 256
#define CHUNK_BIG 4096

const char *zoo_check_outcome_name(zoo_check_outcome o) {
    return o == ZOO_CHECK_PASS ? "PASS" : o == ZOO_CHECK_FAIL ? "FAIL" : "SKIP";
}

void suite_report(suite *s, const char *check, zoo_check_outcome o, const char *fmt, ...) {
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (o == ZOO_CHECK_PASS)
        s->sum->passed++;
    else if (o == ZOO_CHECK_FAIL)
        s->sum->failed++;
    else
        s->sum->skipped++;
    if (s->fn) s->fn(s->ctx, check, o, detail);
}

/* --- the tiny configuration ------------------------------------------- */

static int set_int(zoo_hparams *hp, const char *name, int64_t v, const char *why) {
    if (zoo_hparams_set_int(hp, name, v) != ZOO_OK)
        return zoo_error(ZOO_ERR_ARG, "the tiny configuration sets %s = %lld (%s): %s", name,
                         (long long)v, why, zoo_error_message());
    return ZOO_OK;
}

static int tiny_hparams(suite *s, const zoo_conformance_opts *o) {
    const zoo_plugin *d = s->p->plugin;
    zoo_hparams *hp = zoo_hparams_new(d->hparams, d->n_hparams);
    if (!hp) return ZOO_ERR_ARG; /* the schema itself is broken; the message says how */
    int st = ZOO_OK;
    for (int i = 0; !st && i < zoo_hparams_count(hp); i++) {
        const zoo_hparam_spec *spec = zoo_hparams_spec(hp, i);
        if (spec->type != ZOO_HP_INT) continue;
        if (strcmp(spec->name, "vocab_size") == 0) {
            st = set_int(hp, spec->name, zoo_tokenizer_vocab_size(s->tok), "the tokenizer's size");
        } else if (strcmp(spec->name, "block_size") == 0) {
            st = set_int(hp, spec->name, T_WINDOW, "the batches' T");
        } else {
            int64_t v = zoo_hparams_int(hp, spec->name);
            while (v > TINY && v % 2 == 0 && (!spec->has_min || (double)(v / 2) >= spec->min))
                v /= 2;
            st = set_int(hp, spec->name, v, "halved from the default");
        }
    }
    for (int i = 0; !st && i < o->n_sets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char name[128];
        if (!eq) {
            st = zoo_error(ZOO_ERR_ARG, "--set %s: expected NAME=VALUE", o->sets[i]);
            break;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
        if ((st = zoo_hparams_set_text(hp, name, eq + 1)) != ZOO_OK)
            st = zoo_error(st, "--set %s: %s", o->sets[i], zoo_error_message());
    }
    if (st) {
        zoo_hparams_free(hp);
        return st;
    }
    const zoo_hparam_spec *vocab = zoo_hparams_find(hp, "vocab_size");
    s->V = vocab && vocab->type == ZOO_HP_INT ? zoo_hparams_int(hp, "vocab_size") : 0;
    size_t len = 0;
    for (int i = 0; i < zoo_hparams_count(hp) && len < sizeof s->sum->config; i++) {
        char value[128];
        len += (size_t)snprintf(s->sum->config + len, sizeof s->sum->config - len, "%s%s=%s",
                                i ? " " : "", zoo_hparams_spec(hp, i)->name,
                                zoo_hparams_text(hp, i, value, sizeof value));
    }
    s->hp = hp;
    return ZOO_OK;
}

/* --- the data ---------------------------------------------------------- */

/* Lines of 3 to 12 words w00..w39, word k drawn with weight 1/(k+1). */
static int write_corpus(const char *path, uint64_t seed) {
    FILE *f = fopen(path, "w");
    if (!f) return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    double cumulative[WORDS], total = 0;
    for (int k = 0; k < WORDS; k++) cumulative[k] = total += 1.0 / (k + 1);
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    for (int line = 0; line < LINES; line++) {
        int n = line % DOCUMENT == DOCUMENT - 1 ? 0 : 3 + (int)zoo_rng_below(&rng, 10);
        for (int j = 0; j < n; j++) {
            double u = zoo_rng_uniform(&rng) * total;
            int k = 0;
            while (k < WORDS - 1 && cumulative[k] <= u) k++;
            fprintf(f, "%sw%02d", j ? " " : "", k);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) return zoo_error(ZOO_ERR_IO, "%s: %s", path, strerror(errno));
    return ZOO_OK;
}

/* The tokenizer `zoo train` would train for the objective, and every line encoded. */
static int make_data(suite *s, zoo_ids *ids, int64_t **lines, int64_t *n_lines) {
    static const zoo_special mlm_specials[] = {ZOO_TOK_PAD, ZOO_TOK_UNK, ZOO_TOK_CLS, ZOO_TOK_SEP,
                                               ZOO_TOK_MASK};
    static const zoo_special unk_only[] = {ZOO_TOK_UNK};
    char path[sizeof s->dir + 16];
    snprintf(path, sizeof path, "%s/corpus.txt", s->dir);
    int st = write_corpus(path, s->seed);
    zoo_corpus *corpus = NULL;
    if (!st) st = zoo_corpus_open((const char *const[]){path}, 1, ZOO_UTF8_ERROR, &corpus);
    zoo_tokenizer_settings ts = ZOO_TOKENIZER_SETTINGS_INIT;
    bool masked = s->p->plugin->objective == ZOO_OBJ_MASKED_LM;
    ts.specials = masked ? mlm_specials : unk_only;
    ts.n_specials = masked ? 5 : 1;
    if (!st) st = zoo_tokenizer_train("word", &ts, corpus, &s->tok);
    size_t len = 0;
    const char *text = st ? NULL : zoo_corpus_file(corpus, 0, &len);
    *lines = st ? NULL : malloc(LINES * sizeof **lines);
    if (!st && !*lines) st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
    *n_lines = 0;
    for (size_t at = 0; !st && at < len;) { /* as zoo train: the newline is the line's */
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        (*lines)[(*n_lines)++] = ids->count;
        st = zoo_tokenizer_encode(s->tok, text + at, end - at, ids);
        at = end;
    }
    zoo_corpus_close(corpus);
    return st;
}

static void batch_free(owned_batch *ob) {
    free(ob->data);
    memset(ob, 0, sizeof *ob);
}

/* A copy of b that outlives its batcher. */
static int batch_copy(owned_batch *ob, const zoo_batch *b) {
    int64_t n = b->B * b->T;
    const int32_t *arrays[4] = {b->ids, b->targets, b->mask, b->types};
    int64_t nb = b->token_bytes ? n * b->W : 0;
    ob->data = malloc((size_t)(4 * n + b->B + nb) * sizeof *ob->data);
    if (!ob->data) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    ob->b = (zoo_batch){.size = sizeof ob->b, .B = b->B, .T = b->T};
    const int32_t **into[4] = {&ob->b.ids, &ob->b.targets, &ob->b.mask, &ob->b.types};
    for (int k = 0; k < 4; k++)
        if (arrays[k]) {
            memcpy(ob->data + k * n, arrays[k], (size_t)n * sizeof *ob->data);
            *into[k] = ob->data + k * n;
        }
    if (b->labels) {
        memcpy(ob->data + 4 * n, b->labels, (size_t)b->B * sizeof *ob->data);
        ob->b.labels = ob->data + 4 * n;
    }
    if (b->token_bytes) {
        memcpy(ob->data + 4 * n + b->B, b->token_bytes, (size_t)nb * sizeof *ob->data);
        ob->b.token_bytes = ob->data + 4 * n + b->B;
        ob->b.W = b->W;
    }
    return ZOO_OK;
}

/* The first batch of a batcher configured as zoo train configures its own. */
static int first_batch(suite *s, const zoo_dataset *data, int64_t B, int64_t T, owned_batch *out) {
    zoo_objective obj = s->p->plugin->objective;
    zoo_batcher_config bc = zoo_batcher_defaults(obj);
    bc.B = B, bc.T = T, bc.seed = s->seed;
    bc.vocab_size = zoo_tokenizer_vocab_size(s->tok);
    int32_t specials[ZOO_TOK_N_SPECIAL];
    for (int k = 0; k < ZOO_TOK_N_SPECIAL; k++)
        if ((specials[bc.n_special] = zoo_tokenizer_special(s->tok, (zoo_special)k)) >= 0)
            bc.n_special++;
    bc.special_ids = specials;
    bc.mask_id = zoo_tokenizer_special(s->tok, ZOO_TOK_MASK);
    bc.cls_id = zoo_tokenizer_special(s->tok, ZOO_TOK_CLS);
    bc.sep_id = zoo_tokenizer_special(s->tok, ZOO_TOK_SEP);
    bc.pad_id = zoo_tokenizer_special(s->tok, ZOO_TOK_PAD);
    bc.nsp = obj == ZOO_OBJ_MASKED_LM && data->line_starts != NULL;
    bc.token_bytes = zoo_plugin_token_bytes(s->p->plugin); /* vocabulary strings */
    bc.tok = s->tok;
    zoo_batcher *batcher = zoo_batcher_new(data, &bc);
    if (!batcher) return zoo_error(ZOO_ERR_ARG, "the batcher: %s", zoo_error_message());
    zoo_batch b;
    zoo_batcher_next(batcher, &b, NULL);
    int st = batch_copy(out, &b);
    zoo_batcher_free(batcher);
    return st;
}

static int make_batches(suite *s) {
    zoo_ids ids = {0};
    int64_t *lines = NULL, n_lines = 0;
    int st = make_data(s, &ids, &lines, &n_lines);
    zoo_objective obj = s->p->plugin->objective;
    bool vectors = obj == ZOO_OBJ_WORD_VECTORS;
    bool with_lines = obj == ZOO_OBJ_MASKED_LM || vectors; /* as zoo train */
    zoo_dataset data = {.ids = ids.ids,
                        .n = ids.count,
                        .line_starts = with_lines ? lines : NULL,
                        .n_lines = with_lines ? n_lines : 0};
    if (!st)
        st = first_batch(s, &data, vectors ? 1 : SMALL_B, vectors ? CHUNK_SMALL : T_WINDOW,
                         &s->small);
    if (!st)
        st = first_batch(s, &data, vectors ? 1 : BIG_B, vectors ? CHUNK_BIG : T_WINDOW, &s->big);
    zoo_ids_free(&ids);
    free(lines);
    return st;
}

/* --- the temporary directory ------------------------------------------- */

static int make_dir(suite *s, const char *tmp_dir) {
    const char *root = tmp_dir ? tmp_dir : getenv("TMPDIR");
    if (!root || !*root) root = "/tmp";
    if (snprintf(s->dir, sizeof s->dir, "%s/zoo-check-XXXXXX", root) >= (int)sizeof s->dir)
        return zoo_error(ZOO_ERR_ARG, "%s: path too long", root);
    if (!mkdtemp(s->dir)) {
        int st = zoo_error(ZOO_ERR_IO, "%s: cannot make a temporary directory: %s", root,
                           strerror(errno));
        s->dir[0] = '\0';
        return st;
    }
    return ZOO_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void suite_remove_tree(const char *path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- the run ------------------------------------------------------------ */

int zoo_conformance_run(zoo_loaded *p, const zoo_conformance_opts *opts, zoo_conformance_fn fn,
                        void *ctx, zoo_conformance_summary *summary) {
    zoo_conformance_summary local;
    if (!summary) summary = &local;
    memset(summary, 0, sizeof *summary);
    zoo_conformance_opts o = {0};
    if (opts) memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    if (!p) return zoo_error(ZOO_ERR_ARG, "zoo_conformance_run: no plugin");
    suite *s = calloc(1, sizeof *s);
    if (!s) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    *s = (suite){
        .p = p, .ops = p->plugin->ops, .seed = o.seed, .fn = fn, .ctx = ctx, .sum = summary};
    int st = make_dir(s, o.tmp_dir);
    if (!st) st = make_batches(s);
    if (!st) st = tiny_hparams(s, &o);
    if (!st) suite_run_checks(s);
    batch_free(&s->small);
    batch_free(&s->big);
    zoo_hparams_free(s->hp);
    zoo_tokenizer_free(s->tok);
    if (s->dir[0]) suite_remove_tree(s->dir);
    free(s);
    return st;
}
