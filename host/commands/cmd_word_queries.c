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

#define MAX_TOP 10000

/* VECTORS, then exactly n_words words, and --top N. */
static int parse(zoo_cli *cli, int argc, char **argv, int n_words, const char **vectors,
                 const char **words, int64_t *top) {
    int status = 0, got = 0;
    *vectors = NULL;
    for (int i = 1; i < argc; i++) {
        if (zoo_cli_value(cli, argc, argv, i, "--top", &status)) {
            char *end;
            *top = strtoll(argv[++i], &end, 10);
            if (*end || *top < 1 || *top > MAX_TOP)
                return zoo_cli_usage(cli, "--top: expected an integer in [1, %d], got \"%s\"",
                                     MAX_TOP, argv[i]);
        } else if (status)
            return status;
        else if (argv[i][0] == '-' && argv[i][1])
            return zoo_cli_usage(cli, "unknown option '%s' (see zoo %s --help)", argv[i],
                                 cli->command);
        else if (!*vectors)
            *vectors = argv[i];
        else if (got < n_words)
            words[got++] = argv[i];
        else
            return zoo_cli_usage(cli, "too many words (see zoo %s --help)", cli->command);
    }
    if (!*vectors || got < n_words)
        return zoo_cli_usage(cli, "expected VECTORS and %d word%s (see zoo %s --help)", n_words,
                             n_words > 1 ? "s" : "", cli->command);
    return 0;
}

static void print_results(const zoo_cli *cli, const zoo_word_vectors *v, const int64_t *rows,
                          const float *cosines, int64_t n) {
    if (cli->json) printf("{\"results\": [");
    for (int64_t i = 0; i < n; i++) {
        if (cli->json) {
            printf("%s{\"word\": ", i ? ", " : "");
            zoo_print_json_string(stdout, v->words[rows[i]]);
            printf(", \"cosine\": %.6f}", cosines[i]);
        } else
            printf("%s %.4f\n", v->words[rows[i]], cosines[i]);
    }
    if (cli->json) printf("]}\n");
}

/* similar (one word) or analogy (three). */
static int query(zoo_cli *cli, int argc, char **argv, int n_words) {
    const char *path, *words[3];
    int64_t top = 10;
    int status = parse(cli, argc, argv, n_words, &path, words, &top);
    if (status) return status;
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

static int cmd_similar(zoo_cli *cli, int argc, char **argv) {
    return query(cli, argc, argv, 1);
}
static int cmd_analogy(zoo_cli *cli, int argc, char **argv) {
    return query(cli, argc, argv, 3);
}

const zoo_command zoo_cmd_similar = {
    .name = "similar",
    cmd_similar,
    "zoo similar VECTORS WORD [--top N] [--json]",
    "the words nearest to a word, by cosine of their vectors",
    "  VECTORS   a word2vec file (Google's text or binary format, or .vec), or a\n"
    "            checkpoint or run directory of a word2vec model\n"
    "  WORD      matched exactly, else ignoring case\n"
    "  --top N   how many (default 10), best first, each with its cosine\n"};

const zoo_command zoo_cmd_analogy = {
    .name = "analogy",
    cmd_analogy,
    "zoo analogy VECTORS A B C [--top N] [--json]",
    "a : b :: c : ?  - the words nearest to b - a + c (unit vectors), the three excluded",
    "  VECTORS   a word2vec file (Google's text or binary format, or .vec), or a\n"
    "            checkpoint or run directory of a word2vec model\n"
    "  A B C     e.g. man king woman (expecting queen); matched exactly, else ignoring case\n"
    "  --top N   how many (default 10), best first, each with its cosine\n"};
