/* zoo embed MODEL (--text TEXT | --text-file FILE) --out FILE.npy
 *           [--layer N|all|mix] [--mix W0,W1,...[,GAMMA]] [--pool none|cls|mean]:
 * the model's vectors for a text as .npy, one row per token or pooled; one
 * layer, every layer (ZOO_EMBED_ALL_LAYERS), or a scalar mix of them.
 * --text is one sequence; --text-file one per line that holds anything but
 * white space, each embedded on its own, their rows one after another. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "text_input.h"
#include "text_vectors.h"
#include "zoo/io.h"
#include "zoo/ops.h"
#include "zoo/status.h"

#define MAX_MIX 256 /* layers a mix takes: more than any model has */

/* What every sequence goes through. */
typedef struct embed_plan {
    int layer; /* embed's argument: N, -1 (the model's default) or ZOO_EMBED_ALL_LAYERS */
    bool all;  /* --layer all: the output keeps the layers' axis */
    bool mix;  /* --layer mix: the layers mixed into one */
    double mix_args[MAX_MIX + 1]; /* the weights, then gamma if given */
    int n_mix;                    /* 0: equal weights, gamma 1 */
    const char *pool;
    bool lines; /* --text-file: [lines, C] for --pool mean, not [C] */
} embed_plan;

/* Where the vectors come from: a model, or a word2vec file. */
typedef struct source {
    zoo_text_source src;
    const zoo_cli *cli;
    int64_t unknown; /* words of the text not in the file (zero rows) */
} source;

/* The output, sequence by sequence: blocks [L',n,C] one after another
 * (L' = L for --layer all, else 1; n = T, or 1 when pooled). */
typedef struct collected {
    float *data;
    size_t count, cap;
    int64_t *rows; /* n of each block */
    int64_t blocks, cap_blocks;
    int64_t L, C, R; /* R: the rows of all blocks */
} collected;

/* "--mix 0.5,1,-1" into p. */
static int parse_mix(const zoo_cli *cli, const char *text, embed_plan *p) {
    p->n_mix = 0;
    for (const char *at = text;;) {
        char *end;
        double w = strtod(at, &end);
        if (end == at || !isfinite(w) || (*end && *end != ','))
            return zoo_cli_usage(cli, "--mix: expected numbers separated by commas, got '%s'",
                                 text);
        if (p->n_mix == MAX_MIX + 1)
            return zoo_cli_usage(cli, "--mix: more than %d numbers", MAX_MIX + 1);
        p->mix_args[p->n_mix++] = w;
        if (!*end) return 0;
        at = end + 1;
    }
}

/* The scalar mix of x [L,T,C]: gamma * sum_j softmax(w)_j * x[j], [1,T,C]. */
static zoo_tensor *scalar_mix(const zoo_cli *cli, const embed_plan *p, zoo_graph *g, zoo_tensor *x,
                              int *status) {
    int64_t L = x->shape[0], n = x->numel / L;
    if (p->n_mix && p->n_mix != L && p->n_mix != L + 1) {
        *status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                               "--mix: %d number%s for a model of %lld layer%s: give %lld "
                               "weight%s, or %lld with gamma last",
                               p->n_mix, p->n_mix == 1 ? "" : "s", (long long)L, L == 1 ? "" : "s",
                               (long long)L, L == 1 ? "" : "s", (long long)L + 1);
        return NULL;
    }
    if (L > MAX_MIX) {
        *status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--layer mix: %lld layers, more than %d",
                               (long long)L, MAX_MIX);
        return NULL;
    }
    double s[MAX_MIX], top = -INFINITY, sum = 0;
    double gamma = p->n_mix == L + 1 ? p->mix_args[L] : 1; /* default: equal weights, gamma 1 */
    for (int64_t j = 0; j < L; j++) top = fmax(top, p->n_mix ? p->mix_args[j] : 0);
    for (int64_t j = 0; j < L; j++) sum += s[j] = exp((p->n_mix ? p->mix_args[j] : 0) - top);
    zoo_tensor *out = zoo_new(g, ZOO_F32, 1, x->shape[1], x->shape[2]);
    if (!out) {
        *status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_graph_error(g));
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        double acc = 0;
        for (int64_t j = 0; j < L; j++) acc += s[j] / sum * zoo_f32(x)[j * n + i];
        zoo_f32(out)[i] = (float)(gamma * acc);
    }
    return out;
}

/* Notes a word the file lacks: "zoo embed: not in VECTORS (zero rows): 'a', 'b'". */
static void note_unknown(void *ctx, const char *word) {
    source *s = ctx;
    fprintf(stderr, "%s'%s'",
            s->unknown++ ? ", " : "zoo embed: not in VECTORS (zero rows): ", word);
}

/* The vectors of one sequence of a word2vec file, [1,T,C]: its words
 * (zoo_word_rows); an unknown word gets a zero row, and a note says which. */
static int file_vectors(source *s, zoo_graph *g, const char *text, size_t len, const char *where,
                        zoo_tensor **x) {
    const zoo_word_vectors *v = s->src.v;
    int64_t *rows, n;
    if (zoo_word_rows(v, text, len, &rows, &n, note_unknown, s))
        return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_tensor *out = n ? zoo_new(g, ZOO_F32, 1, n, v->dim) : NULL;
    int status = 0;
    if (n == 0)
        status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: no words", where);
    else if (!out)
        status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
    for (int64_t t = 0; !status && t < n; t++) {
        float *dst = zoo_f32(out) + t * v->dim;
        if (rows[t] >= 0)
            memcpy(dst, v->data + rows[t] * v->dim, (size_t)v->dim * sizeof *dst);
        else
            memset(dst, 0, (size_t)v->dim * sizeof *dst);
    }
    free(rows);
    *x = out;
    return status;
}

/* The vectors of one sequence of the model, [L,T,C] (L = 1 unless every
 * layer was asked for), and for --pool cls at the default layer the
 * model's pooled output [1,C] when it has one (a pooler), else NULL. */
static int model_vectors(source *s, const embed_plan *p, zoo_graph *g, const char *text, size_t len,
                         const char *where, zoo_tensor **x, zoo_tensor **pooled) {
    const zoo_saved_model *m = s->src.m;
    const zoo_plugin *d = m->plugin->plugin;
    zoo_ids ids = {0};
    int32_t W = zoo_plugin_token_bytes(d), *bytes = NULL, *mask = NULL;
    int status = zoo_encode_with_bytes(s->cli, m->tokenizer, text, len, false, W, &ids, &bytes);
    if (!status && ids.count == 0)
        status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: no tokens", where);
    if (!status && !(mask = malloc((size_t)ids.count * sizeof *mask)))
        status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
    if (!status) {
        int64_t T = ids.count;
        for (int64_t t = 0; t < T; t++) mask[t] = 1;
        zoo_batch batch = {.size = sizeof batch,
                           .B = 1,
                           .T = T,
                           .ids = ids.ids,
                           .mask = mask,
                           .token_bytes = bytes,
                           .W = bytes ? W : 0};
        zoo_tensor *v; /* [L,1,T,C] */
        if (zoo_text_source_embed(&s->src, g, &batch, p->layer, &v)) {
            status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        } else {
            int64_t C = v->shape[3];
            *x = zoo_view(g, v, v->shape[0], T, C);
            zoo_outputs o = {.size = sizeof o};
            if (strcmp(p->pool, "cls") == 0 && p->layer < 0 && !p->all && !p->mix)
                d->ops->forward(m->model->model, g, &batch, &o);
            *pooled = o.pooled ? zoo_view(g, o.pooled, 1, 1, C) : NULL;
        }
    }
    free(mask);
    free(bytes);
    zoo_ids_free(&ids);
    return status;
}

/* Appends a block [L',n,C] to c. */
static int collect(const zoo_cli *cli, collected *c, const zoo_tensor *block) {
    int64_t L = block->shape[0], n = block->shape[1], C = block->shape[2];
    if (c->blocks == 0) c->L = L, c->C = C;
    if (L != c->L || C != c->C)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "embed: a line gave [%lld,*,%lld], another [%lld,*,%lld]", (long long)L,
                            (long long)C, (long long)c->L, (long long)c->C);
    size_t need = c->count + (size_t)block->numel;
    if (need > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < need) cap *= 2;
        float *data = realloc(c->data, cap * sizeof *data);
        if (!data) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
        c->data = data, c->cap = cap;
    }
    if (c->blocks == c->cap_blocks) {
        int64_t cap = c->cap_blocks ? 2 * c->cap_blocks : 64;
        int64_t *rows = realloc(c->rows, (size_t)cap * sizeof *rows);
        if (!rows) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
        c->rows = rows, c->cap_blocks = cap;
    }
    memcpy(c->data + c->count, zoo_f32(block), (size_t)block->numel * sizeof(float));
    c->count = need;
    c->rows[c->blocks++] = n;
    c->R += n;
    return 0;
}

/* One sequence's vectors into c: mixed or kept per layer, then pooled. */
static int embed_sequence(source *s, const embed_plan *p, zoo_graph *g, const char *text,
                          size_t len, const char *where, collected *c) {
    zoo_graph_reset(g);
    zoo_graph_set_recording(g, false);
    zoo_tensor *x = NULL, *pooled = NULL; /* [L,T,C], [1,1,C] */
    int status = s->src.m ? model_vectors(s, p, g, text, len, where, &x, &pooled)
                          : file_vectors(s, g, text, len, where, &x);
    if (!status && p->mix) x = scalar_mix(s->cli, p, g, x, &status);
    if (status) return status;
    zoo_tensor *block = x; /* [L',T,C] */
    if (strcmp(p->pool, "mean") == 0)
        block = zoo_view(g, zoo_mean(g, x, 1), x->shape[0], 1, x->shape[2]);
    else if (strcmp(p->pool, "cls") == 0)
        block = pooled ? pooled : zoo_slice(g, x, 1, 0, 1);
    if (!block || zoo_graph_status(g))
        return zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s", zoo_graph_error(g));
    return collect(s->cli, c, block);
}

/* c as p shapes it into out_path: [L,R,C] for --layer all, else [R,C]; a
 * mean of --text without its rows' axis. */
static int write_collected(const zoo_cli *cli, const embed_plan *p, const collected *c,
                           const char *out_path) {
    int64_t shape[3];
    int ndim = 0;
    if (p->all) shape[ndim++] = c->L;
    if (p->lines || strcmp(p->pool, "mean") != 0) shape[ndim++] = c->R;
    shape[ndim++] = c->C;
    zoo_graph *g = zoo_graph_new(0);
    zoo_tensor *out = g ? zoo_tensor_new(g, ZOO_F32, ndim, shape) : NULL;
    int status = 0;
    if (!out) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
    } else { /* blocks [L',n,C] -> [L',R,C] */
        int64_t r = 0;
        size_t from = 0;
        for (int64_t b = 0; b < c->blocks; b++) {
            int64_t n = c->rows[b];
            for (int64_t l = 0; l < c->L; l++, from += (size_t)(n * c->C))
                memcpy(zoo_f32(out) + (l * c->R + r) * c->C, c->data + from,
                       (size_t)(n * c->C) * sizeof(float));
            r += n;
        }
        if (zoo_npy_write(out_path, out) != ZOO_OK) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        } else if (cli->json) { /* what was written where */
            printf("{\"file\": ");
            zoo_print_json_string(stdout, out_path);
            printf(", \"shape\": [");
            for (int i = 0; i < ndim; i++) printf("%s%lld", i ? ", " : "", (long long)shape[i]);
            printf("]}\n");
        }
    }
    zoo_graph_free(g);
    return status;
}

/* Every sequence of in: the text, or each line of the file. */
static int embed_all(source *s, const embed_plan *p, const zoo_text_input *in,
                     const char *out_path) {
    zoo_graph *g = zoo_graph_new(0);
    collected c = {0};
    int status = g ? 0 : zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "out of memory");
    if (!status && !in->lines) {
        status = embed_sequence(s, p, g, in->text, in->len, "--text", &c);
    } else if (!status) {
        zoo_line_cursor lines = {0};
        const char *line;
        size_t len;
        char where[4200];
        while (!status && zoo_text_input_next_line(in, &lines, &line, &len)) {
            if (in->file)
                snprintf(where, sizeof where, "%s:%lld", in->file, (long long)lines.number);
            else /* the joined --text values: a line each */
                snprintf(where, sizeof where, "--text %lld", (long long)lines.number);
            status = embed_sequence(s, p, g, line, len, where, &c);
        }
        if (!status && c.blocks == 0)
            status = zoo_cli_fail(s->cli, ZOO_EXIT_FAILURE, "%s: no line holds any text",
                                  in->file ? in->file : "--text");
    }
    if (s->unknown) fputc('\n', stderr);
    if (!status) status = write_collected(s->cli, p, &c, out_path);
    free(c.data);
    free(c.rows);
    zoo_graph_free(g);
    return status;
}

typedef struct embed_args {
    const char *model, *out, *pool, *mix;
    zoo_text_input in;
    zoo_int_choice layer;
} embed_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(embed_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint, run directory or foreign model directory, or a word2vec\n"
             "file (one layer: the text split at white space, unknown words zero)"},
    ZOO_TEXT_INPUT_OPTIONS(embed_args, in,
                           "the text, one sequence; given again, one sequence each, as the\n"
                           "lines of a file (or --text-file FILE, - for standard input: one\n"
                           "sequence a line, blank lines skipped); [CLS]/[SEP] are added for\n"
                           "tokenizers that have them"),
    {"--out", ZOO_OPT_PATH, offsetof(embed_args, out), ZOO_OPT_REQUIRED, .value = "FILE.npy",
     .help = "float32 [T,C] with --pool none (default): one row per token, the rows of\n"
             "the lines one after another; [1,C] with cls, one row a line: the pooled\n"
             "[CLS] output of a model with a pooler (BERT) at its default layer, else\n"
             "the first position; [C] with mean, [lines,C] for --text-file. With\n"
             "--layer all each shape gains a first axis, L: [L,T,C], [L,lines,C] ..."},
    {"--layer", ZOO_OPT_INT_CHOICE, offsetof(embed_args, layer), .value = "N", .def = "-1",
     ZOO_OPT_MIN(-1), .choices = "all|mix",
     .help = "layer N of a model with several (default -1: the model's choice);\n"
             "all: every layer, stacked; mix: every layer mixed into one (--mix)"},
    {"--mix", ZOO_OPT_STRING, offsetof(embed_args, mix), .value = "W0,W1,...",
     .help = "the scalar mix, gamma * sum_j softmax(w)_j * layer_j: a weight per\n"
             "layer, then gamma if given (default: equal weights, gamma 1); implies\n"
             "--layer mix"},
    {"--pool", ZOO_OPT_CHOICE, offsetof(embed_args, pool), .def = "none",
     .choices = "none|cls|mean", .help = "one row per token, or pooled to one (see --out)"},
    {0}};

static int cmd_embed(zoo_cli *cli, void *args) {
    const embed_args *a = args;
    zoo_text_input in = a->in;
    const char *choice = a->layer.choice;
    embed_plan p = {.layer = (int)a->layer.n,
                    .all = choice && strcmp(choice, "all") == 0,
                    .mix = (choice && strcmp(choice, "mix") == 0) || a->mix,
                    .pool = a->pool};
    if (a->mix && choice && strcmp(choice, "mix") != 0)
        return zoo_cli_usage(cli, "--mix mixes every layer: it goes with --layer mix, not %s",
                             choice);
    if (a->mix && !choice && a->layer.n != -1)
        return zoo_cli_usage(cli, "--mix mixes every layer: it goes with --layer mix, not %lld",
                             (long long)a->layer.n);
    int status = a->mix ? parse_mix(cli, a->mix, &p) : 0;
    if (status || (status = zoo_text_input_load(cli, &in))) return status;
    if (p.all || p.mix) p.layer = ZOO_EMBED_ALL_LAYERS;
    p.lines = in.lines;
    source s = {.cli = cli};
    if (!(status = zoo_text_source_open(cli, a->model, &s.src)))
        status = embed_all(&s, &p, &in, a->out);
    zoo_text_source_close(&s.src);
    zoo_text_input_free(&in);
    return status;
}

const zoo_command zoo_cmd_embed = {
    .name = "embed",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_embed,
    .options = OPTIONS,
    .opts_size = sizeof(embed_args),
    .usage = "zoo embed MODEL (--text TEXT | --text-file FILE) --out FILE.npy "
             "[--layer N|all|mix] [--mix W0,W1,...] [--pool none|cls|mean]",
    .summary = "the model's vectors for a text as .npy: one row per token, or pooled; one "
               "layer, every layer, or their scalar mix",
    .json_help = "{\"file\", \"shape\"} of the array written",
};
