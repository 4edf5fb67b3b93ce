/* zoo similar VECTORS WORD [--top N] and zoo analogy VECTORS A B C [--top N]:
 * the words nearest to a word, or to b - a + c, by cosine. VECTORS is a
 * word2vec file in Google's text or binary format, or a checkpoint of a
 * word-vector model (vectors_source.h). A word is matched exactly, else
 * ignoring case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vectors_source.h"
#include "zoo/status.h"
#include "zoo/word_vectors.h"

typedef struct query_args {
    const char *vectors, *words[3];
    int64_t top;
} query_args;

#define VECTORS_HELP                                                                               \
    "a word2vec file (Google's text or binary format, or .vec), or a\n"                            \
    "checkpoint or run directory of a word2vec model"
#define TOP_HELP "how many words to show (default 10), best first, each with its cosine"

static const zoo_option SIMILAR[] = {{"VECTORS", ZOO_OPT_PATH, offsetof(query_args, vectors),
                                      ZOO_OPT_REQUIRED, .help = VECTORS_HELP},
                                     {"WORD", ZOO_OPT_STRING, offsetof(query_args, words[0]),
                                      ZOO_OPT_REQUIRED,
                                      .help = "matched exactly, else ignoring case"},
                                     {"--top", ZOO_OPT_INT, offsetof(query_args, top), .value = "N",
                                      .def = "10", ZOO_OPT_RANGE(1, 10000), .help = TOP_HELP},
                                     {0}};

static const zoo_option ANALOGY[] = {
    {"VECTORS", ZOO_OPT_PATH, offsetof(query_args, vectors), ZOO_OPT_REQUIRED,
     .help = VECTORS_HELP},
    {"A", ZOO_OPT_STRING, offsetof(query_args, words[0]), ZOO_OPT_REQUIRED,
     .help = "a of a : b :: c : ?, e.g. man"},
    {"B", ZOO_OPT_STRING, offsetof(query_args, words[1]), ZOO_OPT_REQUIRED, .help = "b, e.g. king"},
    {"C", ZOO_OPT_STRING, offsetof(query_args, words[2]), ZOO_OPT_REQUIRED,
     .help = "c, e.g. woman (expecting queen); each word is matched exactly,\n"
             "else ignoring case"},
    {"--top", ZOO_OPT_INT, offsetof(query_args, top), .value = "N", .def = "10",
     ZOO_OPT_RANGE(1, 10000), .help = TOP_HELP},
    {0}};

static void print_results(const zoo_cli *cli, const zoo_word_vectors *v, const int64_t *rows,
                          const float *cosines, int64_t n) {
    if (cli->json) printf("{\"results\": [");
    for (int64_t i = 0; i < n; i++) {
        if (cli->json) {
            printf("%s{\"word\": ", i ? ", " : "");
            zoo_print_json_string(stdout, v->words[rows[i]]);
            printf(", \"cosine\": ");
            zoo_print_json_number(stdout, "%.6f", cosines[i]);
            printf("}");
        } else
            printf("%s %.4f\n", v->words[rows[i]], cosines[i]);
    }
    if (cli->json) printf("]}\n");
}

/* similar (one word) or analogy (three). */
static int query(zoo_cli *cli, const query_args *a, int n_words) {
    const char *path = a->vectors, *const *words = a->words;
    int64_t top = a->top;
    int status = 0;
    zoo_word_vectors *v = zoo_vectors_open(cli, path);
    if (!v) return ZOO_EXIT_FAILURE;
    int64_t *found = malloc((size_t)top * sizeof *found);
    float *cosines = malloc((size_t)top * sizeof *cosines);
    int64_t n = found && cosines ? zoo_word_vectors_query(v, words, n_words, top, found, cosines)
                                 : zoo_error(ZOO_ERR_NOMEM, "out of memory");
    if (n >= 0)
        print_results(cli, v, found, cosines, n);
    else
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %s", path, zoo_error_message());
    free(found), free(cosines);
    zoo_word_vectors_free(v);
    return status;
}

static int cmd_similar(zoo_cli *cli, void *args) {
    return query(cli, args, 1);
}
static int cmd_analogy(zoo_cli *cli, void *args) {
    return query(cli, args, 3);
}

const zoo_command zoo_cmd_similar = {
    .name = "similar",
    .run = cmd_similar,
    .options = SIMILAR,
    .opts_size = sizeof(query_args),
    .summary = "the words nearest to a word, by cosine of their vectors",
    .json_help = "{\"results\": [{\"word\", \"cosine\"}...]}",
};

const zoo_command zoo_cmd_analogy = {
    .name = "analogy",
    .run = cmd_analogy,
    .options = ANALOGY,
    .opts_size = sizeof(query_args),
    .summary =
        "a : b :: c : ?  - the words nearest to b - a + c (unit vectors), the three excluded",
    .json_help = "{\"results\": [{\"word\", \"cosine\"}...]}",
};
