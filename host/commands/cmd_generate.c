/* zoo generate MODEL --prompt TEXT... [--max-new-tokens N] [--temperature T]
 *              [--top-k K] [--top-p P] [--seed S] [--stop-at-context] [--json]
 * Each prompt in turn, each as it would be alone (the same seed for each).
 * Text generation through a plugin's one-token decode step and its cache; a
 * causal language model without one runs forward over the growing sequence.
 * Past the model's context each token is predicted from the last `context`
 * tokens, as nanoGPT's sampler crops its input: a cache holds positions
 * 0..context-1 only (learned positions cannot slide), so from there on every
 * token costs a forward over the whole window. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "model_card.h"
#include "sampler.h"
#include "saved_model.h"
#include "text_input.h"
#include "zoo/io.h"
#include "zoo/status.h"

typedef struct gen_opts {
    int64_t max_new;
    zoo_sampler sampler;
    uint64_t seed;
    bool stream;  /* print the text as tokens come (not with --json) */
    int64_t skip; /* leading ids not printed: the start token of an empty prompt */
} gen_opts;

/* Prints what the text of ids has beyond `printed` bytes. A token may end in
 * the middle of a character (decoded as U+FFFD): that tail waits for the
 * next token, unless this is the last call. */
static void stream_text(const zoo_tokenizer *tok, const zoo_ids *ids, int64_t skip, size_t *printed,
                        bool last) {
    size_t len;
    char *text = zoo_tokenizer_decode(tok, ids->ids + skip, ids->count - skip, &len);
    if (!text) return;
    size_t upto = len;
    if (!last && len >= 3 && memcmp(text + len - 3, "\xEF\xBF\xBD", 3) == 0) upto = len - 3;
    if (upto > *printed) {
        fwrite(text + *printed, 1, upto - *printed, stdout);
        fflush(stdout);
        *printed = upto;
    }
    free(text);
}

/* Token bytes for a plugin that reads them (W > 0, forward path only): the
 * prompt's from its text, a generated token's its vocabulary string. */
typedef struct token_text {
    int32_t W;
    int32_t *bytes; /* [n_prompt + max_new, W], or NULL */
} token_text;

/* The logits of the token after ids[0..t] (at least V floats), or NULL with
 * the reason in *why. With a cache, ids[t] goes through the plugin's decode
 * step (everything before it is cached); without one, forward runs over the
 * last `window` ids (all of them when window is 0) and its last row is used. */
static const float *next_logits(const zoo_plugin_ops *ops, zoo_model *model, void *cache,
                                zoo_graph *g, const zoo_ids *ids, int64_t t, int64_t window,
                                int64_t V, const token_text *tt, const char **why) {
    *why = NULL;
    if (cache) {
        zoo_tensor *logits = NULL;
        if (ops->decode_step(model, g, cache, &ids->ids[t], 1, &logits) != ZOO_OK || !logits ||
            zoo_graph_status(g))
            return NULL;
        if (logits->ndim != 2 || logits->shape[0] != 1 || logits->shape[1] < V) {
            *why = "the decode step gave no logits [1,V] for the tokenizer's V tokens";
            return NULL;
        }
        return zoo_f32(logits);
    }
    int64_t start = window > 0 && t + 1 > window ? t + 1 - window : 0, n = t + 1 - start;
    zoo_batch batch = {.size = sizeof batch, .B = 1, .T = n, .ids = ids->ids + start};
    if (tt->bytes) batch.token_bytes = tt->bytes + start * tt->W, batch.W = tt->W;
    zoo_outputs out = {.size = sizeof out};
    if (ops->forward(model, g, &batch, &out) != ZOO_OK || zoo_graph_status(g)) return NULL;
    const zoo_tensor *y = out.logits;
    if (!y || y->ndim != 3 || y->shape[0] != 1 || y->shape[1] != n || y->shape[2] < V) {
        *why = "forward gave no logits [1,T,V] for the sequence";
        return NULL;
    }
    return zoo_f32(y) + (n - 1) * y->shape[2];
}

/* Runs the prompt (through the cache, or the model's forward when it has no
 * decode step), then samples; appends to ids. `window` is the model's context
 * (0: none): the cache holds that many positions, and a token past them comes
 * from a forward over the last `window` ids, as does every token without a
 * cache. */
static int generate(const zoo_cli *cli, zoo_saved_model *m, const gen_opts *o, zoo_ids *ids,
                    int64_t n_prompt, int64_t window, const char *prompt, const zoo_span *spans) {
    const zoo_plugin_ops *ops = m->plugin->plugin->ops;
    bool cached = m->plugin->plugin->capabilities & ZOO_CAP_DECODE;
    int64_t V = zoo_tokenizer_vocab_size(m->tokenizer);
    int32_t eos = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_EOS);
    token_text tt = {.W = zoo_plugin_token_bytes(m->plugin->plugin)};
    int64_t total = n_prompt + o->max_new;
    int64_t cap = window > 0 && total > window ? window : total; /* the cache's positions */
    if (cached && n_prompt > cap) cached = false; /* the prompt alone is past the context */
    if (tt.W > 0 && (!cached || cap < total)) {
        if (!(tt.bytes = malloc((size_t)((n_prompt + o->max_new) * tt.W) * sizeof *tt.bytes)))
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
        zoo_token_bytes_fill(m->tokenizer, ids->ids, prompt, spans, n_prompt, tt.W, tt.bytes);
    }
    void *cache = NULL;
    if (cached && ops->cache_new(m->model->model, 1, cap, &cache) != ZOO_OK)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    zoo_graph *g = zoo_graph_new(0);
    float *probs = malloc((size_t)V * sizeof *probs);
    int32_t *order = malloc((size_t)V * sizeof *order);
    zoo_rng rng;
    zoo_rng_seed(&rng, o->seed);
    int status = 0;
    zoo_graph_set_recording(g, false);
    size_t printed = 0;
    if (o->stream) stream_text(m->tokenizer, ids, o->skip, &printed, false);
    /* the cache reads the prompt a token at a time; forward reads it whole */
    for (int64_t t = cached ? 0 : n_prompt - 1; t < total - 1; t++) {
        zoo_graph_reset(g);
        const char *why;
        void *step_cache = t < cap ? cache : NULL; /* past it: forward over the window */
        const float *logits =
            next_logits(ops, m->model->model, step_cache, g, ids, t, window, V, &tt, &why);
        if (!logits) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s %lld: %s",
                                  step_cache ? "decode step" : "forward at position", (long long)t,
                                  why                   ? why
                                  : zoo_graph_status(g) ? zoo_graph_error(g)
                                                        : zoo_error_message());
            break;
        }
        if (t + 1 < n_prompt) continue; /* still reading the prompt */
        int32_t next = zoo_sample(&o->sampler, logits, V, &rng, probs, order);
        if (zoo_ids_push(ids, next) != ZOO_OK) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
            break;
        }
        if (tt.bytes) /* no text of its own */
            zoo_token_bytes_fill(m->tokenizer, &next, NULL, NULL, 1, tt.W,
                                 tt.bytes + (ids->count - 1) * tt.W);
        if (o->stream) stream_text(m->tokenizer, ids, o->skip, &printed, false);
        if (next == eos) break;
    }
    if (o->stream && !status) {
        stream_text(m->tokenizer, ids, o->skip, &printed, true);
        putchar('\n');
        fflush(stdout);
    }
    free(probs), free(order), free(tt.bytes);
    zoo_graph_free(g);
    if (cache) ops->cache_free(m->model->model, cache);
    return status;
}

typedef struct generate_args {
    const char *model;
    zoo_text_input in;
    int64_t max_new, top_k;
    double temperature, top_p;
    uint64_t seed;
    bool stop_at_context;
} generate_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(generate_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint or run directory"},
    {"--text", ZOO_OPT_STRING, offsetof(generate_args, in.texts), ZOO_OPT_REPEAT, .value = "TEXT",
     .alias = "--prompt", ZOO_OPT_ARRAY(generate_args, in.texts, in.n_texts),
     .help = "the text to continue; --prompt TEXT is the same. Given again, another,\n"
             "continued in turn as it would be alone (or --text-file FILE, - for\n"
             "standard input: its whole content as one text)"},
    {"--text-file", ZOO_OPT_PATH, offsetof(generate_args, in.file), .value = "FILE"},
    {"--max-new-tokens", ZOO_OPT_INT, offsetof(generate_args, max_new), .value = "N", .def = "100",
     ZOO_OPT_MIN(1),
     .help = "tokens to add (default 100); only an end-of-text token stops earlier.\n"
             "Past the model's context (its card's, or block_size) each token is\n"
             "predicted from the last context tokens, as nanoGPT does: the cache holds\n"
             "the first context positions, and every token after them costs a forward\n"
             "over the whole window (learned positions cannot slide) - slower"},
    {"--stop-at-context", ZOO_OPT_FLAG, offsetof(generate_args, stop_at_context),
     .help = "stop when the text fills the model's context instead"},
    {"--temperature", ZOO_OPT_FLOAT, offsetof(generate_args, temperature), .value = "T", .def = "1",
     ZOO_OPT_MIN(0), .help = "0 is greedy; higher is more random (default 1)"},
    {"--top-k", ZOO_OPT_INT, offsetof(generate_args, top_k), .value = "K", ZOO_OPT_MIN(0),
     .help = "sample only from the K most likely tokens (default: all); it filters\n"
             "the sampling distribution, where --top N elsewhere (similar, fill-mask,\n"
             "classify) counts the results shown"},
    {"--top-p", ZOO_OPT_FLOAT, offsetof(generate_args, top_p), .value = "P", .def = "1",
     ZOO_OPT_RANGE(0, 1), .min_open = true,
     .help = "... or from the fewest whose probability reaches P (default 1)"},
    {"--seed", ZOO_OPT_UINT, offsetof(generate_args, seed), .value = "S",
     .help = "the sampler's seed (default 0): the same seed, the same text"},
    {0}};

/* Continues one prompt and prints it: streamed as it comes, or with --json
 * one object on a line at the end. `o` is this prompt's copy. */
static int generate_one(const zoo_cli *cli, zoo_saved_model *m, gen_opts o, int64_t context,
                        bool stop_at_context, const char *prompt, size_t prompt_len) {
    int status = 0;
    zoo_ids ids = {0};
    zoo_spans spans = {0}; /* for a plugin that reads token bytes */
    if ((zoo_plugin_token_bytes(m->plugin->plugin) > 0
             ? zoo_tokenizer_encode_spans(m->tokenizer, prompt, prompt_len, &ids, &spans)
             : zoo_tokenizer_encode(m->tokenizer, prompt, prompt_len, &ids)) != ZOO_OK)
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--prompt: %s", zoo_error_message());
    else if (ids.count == 0) {
        int32_t bos = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_BOS);
        if (bos < 0) bos = zoo_tokenizer_special(m->tokenizer, ZOO_TOK_EOS);
        if (bos < 0)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                                  "the prompt is empty and the tokenizer has no start token");
        else /* read, never printed */
            zoo_ids_push(&ids, bos), zoo_spans_push(&spans, -1, -1), o.skip = 1;
    }
    int64_t n_prompt = ids.count;
    if (!status && stop_at_context && context > 0 && n_prompt >= context)
        status = zoo_cli_usage(cli, "the prompt (%lld tokens) fills the model's context of %lld",
                               (long long)n_prompt, (long long)context);
    bool clipped = !status && stop_at_context && context > 0 && n_prompt + o.max_new > context;
    if (clipped) o.max_new = context - n_prompt;
    o.stream = !cli->json;
    if (!status)
        status = generate(cli, m, &o, &ids, n_prompt, context, prompt,
                          spans.count == ids.count ? spans.spans : NULL);
    if (!status && clipped && ids.count == context)
        fprintf(stderr, "zoo generate: stopped at the model's context of %lld tokens\n",
                (long long)context);
    if (!status && cli->json) { /* the text went to stdout as it came otherwise */
        char *text = zoo_tokenizer_decode(m->tokenizer, ids.ids + o.skip, ids.count - o.skip, NULL);
        char *generated =
            zoo_tokenizer_decode(m->tokenizer, ids.ids + n_prompt, ids.count - n_prompt, NULL);
        if (!text || !generated) {
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        } else {
            printf("{\"text\": ");
            zoo_print_json_string(stdout, text);
            printf(", \"generated\": ");
            zoo_print_json_string(stdout, generated);
            printf(", \"ids\": [");
            for (int64_t i = 0; i < ids.count; i++) printf("%s%d", i ? ", " : "", ids.ids[i]);
            printf("], \"prompt_tokens\": %lld}\n", (long long)n_prompt);
        }
        free(text), free(generated);
    }
    zoo_ids_free(&ids);
    zoo_spans_free(&spans);
    return status;
}

static int cmd_generate(zoo_cli *cli, void *args) {
    generate_args *a = args;
    gen_opts o = {.max_new = a->max_new,
                  .sampler = {.temperature = a->temperature, .top_k = a->top_k, .top_p = a->top_p},
                  .seed = a->seed};
    zoo_text_input *in = &a->in;
    int status = 0;
    if (!in->n_texts && !in->file)
        return zoo_cli_usage(cli, "give the prompt as --prompt TEXT or --text-file FILE");
    if ((status = zoo_text_input_load_each(cli, in))) return status;

    zoo_saved_model m;
    if ((status =
             zoo_cli_open_model(cli, a->model, ZOO_NEEDS_GENERATE | ZOO_NEEDS_TOKENIZER, &m))) {
        zoo_text_input_free(in);
        return status;
    }
    /* the context: the card's (the registry entry names the hyperparameter),
     * else a block_size; 0 for a model that takes any length */
    zoo_card_sizes sizes;
    int64_t context = 0;
    if (m.plugin->entry && zoo_card_sizes_of(m.plugin->entry, m.model->hp, &sizes) == ZOO_OK)
        context = sizes.context;
    if (context <= 0 && zoo_hparams_find(m.model->hp, "block_size"))
        context = zoo_hparams_int(m.model->hp, "block_size");
    for (int i = 0; !status && i < zoo_text_input_count(in); i++) { /* each prompt in turn */
        size_t len;
        const char *prompt = zoo_text_input_nth(in, i, &len);
        status = generate_one(cli, &m, o, context, a->stop_at_context, prompt, len);
    }
    zoo_cli_close_model(&m);
    zoo_text_input_free(in);
    return status;
}

const zoo_command zoo_cmd_generate = {
    .name = "generate",
    .takes_tokenizer = true,
    .takes_quantize = true,
    .run = cmd_generate,
    .options = OPTIONS,
    .opts_size = sizeof(generate_args),
    .usage =
        "zoo generate MODEL --prompt TEXT... [--max-new-tokens N] [--temperature T] [--top-k K] "
        "[--top-p P] [--seed S] [--stop-at-context] [--json]",
    .summary = "generate text from a prompt with a causal language model (its decode step, or "
               "repeated forward)",
    .json_help = "one JSON object per text (JSON Lines), in order: {\"text\", \"generated\",\n"
                 "\"ids\", \"prompt_tokens\"} at each text's end, instead of the text streamed\n"
                 "as it is produced (ids and prompt_tokens count the start\n"
                 "token an empty prompt begins with; text leaves it out)",
};
