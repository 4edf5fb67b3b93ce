/* zoo tokenize MODEL --text TEXT... [--special] [--no-special] [--json]:
 * the token ids of each text under a model's tokenizer, in order, from a checkpoint, or
 * from a foreign directory (a HuggingFace model, or its tokenizer files
 * alone) through the plugin that imports it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saved_model.h"
#include "text_input.h"
#include "zoo/status.h"
#include "zoo/tokenizer.h"

/* s[0..len) as a JSON string: tokens may hold U+0000 (a char tokenizer's). */
static void print_json_bytes(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_ids(const zoo_cli *cli, const zoo_tokenizer *tok, const zoo_ids *ids) {
    if (!cli->json) {
        for (int64_t i = 0; i < ids->count; i++) printf("%s%d", i ? " " : "", (int)ids->ids[i]);
        putchar('\n');
        return;
    }
    fputs("{\"ids\": [", stdout);
    for (int64_t i = 0; i < ids->count; i++) printf("%s%d", i ? ", " : "", (int)ids->ids[i]);
    fputs("], \"tokens\": [", stdout);
    for (int64_t i = 0; i < ids->count; i++) {
        size_t len;
        const char *token = zoo_tokenizer_token(tok, ids->ids[i], &len);
        fputs(i ? ", " : "", stdout);
        print_json_bytes(token, len);
    }
    fputs("]}\n", stdout);
}

typedef struct tokenize_args {
    const char *model;
    zoo_text_input in;
    bool special, no_special;
} tokenize_args;

static const zoo_option OPTIONS[] = {
    {"MODEL", ZOO_OPT_PATH, offsetof(tokenize_args, model), ZOO_OPT_REQUIRED,
     .help = "a checkpoint or run directory, or a foreign model directory or one\n"
             "of tokenizer files alone, read by the plugin that imports it: GPT-2's\n"
             "vocab.json and merges.txt (or encoder.json and vocab.bpe), or BERT's\n"
             "vocab.txt (lowercasing as its tokenizer_config.json says, else when\n"
             "the vocabulary has no uppercase letters)"},
    ZOO_TEXT_INPUT_OPTIONS(tokenize_args, in,
                           "the text; given again, another, each tokenized in turn (or\n"
                           "--text-file FILE, - for standard input: its whole content as\n"
                           "one text)"),
    {"--special", ZOO_OPT_FLAG, offsetof(tokenize_args, special),
     .help = "special-token strings in the text (<|endoftext|>, [MASK]) are those tokens;\n"
             "without it they are plain text"},
    {"--no-special", ZOO_OPT_FLAG, offsetof(tokenize_args, no_special),
     .help = "do not add [CLS] and [SEP] around the text (tokenizers that have them)"},
    {0}};

static int cmd_tokenize(zoo_cli *cli, void *args) {
    const tokenize_args *a = args;
    zoo_text_input in = a->in;
    const char *model = a->model;
    bool special = a->special, wrap = !a->no_special;
    int status = zoo_text_input_load_each(cli, &in);
    if (status) return status;

    zoo_tokenizer *own = NULL;   /* imported from a foreign directory, without weights */
    zoo_loaded *importer = NULL; /* the plugin that imported it */
    zoo_registry *r = NULL;      /* the importer's */
    zoo_saved_model m = {0};
    const zoo_tokenizer *tok = NULL;
    if (zoo_is_foreign_directory(model)) {
        r = zoo_cli_registry(cli);
        status = r ? zoo_foreign_tokenizer_open(cli, r, cli->tokenizer ? cli->tokenizer : model,
                                                &own, &importer)
                   : ZOO_EXIT_FAILURE;
        tok = own;
    } else if (!(status = zoo_cli_open_model(cli, model, ZOO_NEEDS_TOKENIZER, &m))) {
        tok = m.tokenizer;
    }

    /* [CLS] ... [SEP] around each text for tokenizers that have both (BERT's) */
    int32_t cls = tok ? zoo_tokenizer_special(tok, ZOO_TOK_CLS) : -1;
    int32_t sep = tok ? zoo_tokenizer_special(tok, ZOO_TOK_SEP) : -1;
    wrap = wrap && cls >= 0 && sep >= 0;
    zoo_ids ids = {0};
    for (int i = 0; !status && i < zoo_text_input_count(&in); i++) {
        size_t len;
        const char *text = zoo_text_input_nth(&in, i, &len);
        ids.count = 0;
        int st = wrap ? zoo_ids_push(&ids, cls) : ZOO_OK;
        if (!st)
            st = special ? zoo_tokenizer_encode_special(tok, text, len, &ids)
                         : zoo_tokenizer_encode(tok, text, len, &ids);
        if (!st && wrap) st = zoo_ids_push(&ids, sep);
        if (st)
            status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %s", in.file ? in.file : "--text",
                                  zoo_error_message());
        else
            print_ids(cli, tok, &ids);
    }
    zoo_ids_free(&ids);
    zoo_tokenizer_free(own);
    zoo_plugin_unload(importer);
    zoo_cli_close_model(&m);
    zoo_registry_free(r);
    zoo_text_input_free(&in);
    return status;
}

const zoo_command zoo_cmd_tokenize = {
    .name = "tokenize",
    .takes_tokenizer = true,
    .run = cmd_tokenize,
    .options = OPTIONS,
    .opts_size = sizeof(tokenize_args),
    .usage = "zoo tokenize MODEL --text TEXT... [--special] [--no-special] [--json]",
    .summary = "the token ids of each text under a model's tokenizer",
    .json_help = "one JSON object per text (JSON Lines), in order: {\"ids\": [...], \"tokens\":\n"
                 "[...]} with the tokens' vocabulary strings (Ġthe); without it each text's\n"
                 "ids on a line of their own, separated by spaces",
};
