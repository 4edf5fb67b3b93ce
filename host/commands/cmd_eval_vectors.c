/* zoo eval-analogy VECTORS questions-words.txt [--restrict N] and
 * zoo eval-pairs VECTORS pairs.tsv [--restrict N]: the two standard
 * evaluations of word vectors, with words looked up ignoring case among the
 * N most frequent (the file's first N rows; default 30000, 0 for all), and
 * coverage reported beside the score so tools with different vocabularies
 * compare fairly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vectors_source.h"
#include "word_vector_eval.h"
#include "zoo/status.h"
#include "zoo/word_vectors.h"

typedef struct eval_args {
    const char *vectors, *file;
    int64_t restrict_to;
} eval_args;

#define VECTORS_HELP                                                                               \
    "a word2vec file (Google's text or binary format, or .vec), or a\n"                            \
    "checkpoint or run directory of a word2vec model"
#define RESTRICT_HELP "only the N most frequent words (the first N rows; default 30000, 0: all)"

static const zoo_option ANALOGY[] = {
    {"VECTORS", ZOO_OPT_PATH, offsetof(eval_args, vectors), ZOO_OPT_REQUIRED, .help = VECTORS_HELP},
    {"QUESTIONS", ZOO_OPT_PATH, offsetof(eval_args, file), ZOO_OPT_REQUIRED,
     .help = "\": section\" lines, then \"A B C D\" questions (is D the answer to A:B::C:?)"},
    {"--restrict", ZOO_OPT_INT, offsetof(eval_args, restrict_to), .value = "N", .def = "30000",
     ZOO_OPT_MIN(0),
     .help = RESTRICT_HELP ";\na question with another word is skipped and counted as skipped"},
    {0}};

static const zoo_option PAIRS[] = {
    {"VECTORS", ZOO_OPT_PATH, offsetof(eval_args, vectors), ZOO_OPT_REQUIRED, .help = VECTORS_HELP},
    {"PAIRS", ZOO_OPT_PATH, offsetof(eval_args, file), ZOO_OPT_REQUIRED,
     .help = "\"word1<TAB>word2<TAB>score\" lines; '#' starts a comment"},
    {"--restrict", ZOO_OPT_INT, offsetof(eval_args, restrict_to), .value = "N", .def = "30000",
     ZOO_OPT_MIN(0), .help = RESTRICT_HELP},
    {0}};

static double ratio(int64_t a, int64_t b) {
    return b ? (double)a / (double)b : NAN;
}

static int cmd_eval_analogy(zoo_cli *cli, void *args) {
    const eval_args *a = args;
    const char *file = a->file;
    int64_t restrict_to = a->restrict_to;
    zoo_word_vectors *v = zoo_vectors_open(cli, a->vectors);
    if (!v) return ZOO_EXIT_FAILURE;
    zoo_analogy_result r;
    if (zoo_word_vectors_eval_analogy(v, file, restrict_to, &r)) {
        int status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        zoo_word_vectors_free(v);
        return status;
    }
    if (cli->json) printf("{\"sections\": [");
    for (int i = 0; i < r.n_sections; i++) {
        const zoo_analogy_section *s = &r.sections[i];
        if (cli->json) {
            printf("%s{\"name\": ", i ? ", " : "");
            zoo_print_json_string(stdout, s->name);
            printf(", \"correct\": %lld, \"asked\": %lld, \"skipped\": %lld}",
                   (long long)s->correct, (long long)s->asked, (long long)s->skipped);
        } else
            printf("%-28s %6.2f%%  (%lld/%lld, %lld skipped)\n", s->name,
                   100 * ratio(s->correct, s->asked), (long long)s->correct, (long long)s->asked,
                   (long long)s->skipped);
    }
    int64_t total = r.asked + r.skipped;
    if (cli->json) {
        printf("], \"accuracy\": ");
        zoo_print_json_number(stdout, "%.6f", ratio(r.correct, r.asked));
        printf(", \"correct\": %lld, \"asked\": %lld, \"skipped\": %lld, \"coverage\": ",
               (long long)r.correct, (long long)r.asked, (long long)r.skipped);
        zoo_print_json_number(stdout, "%.6f", ratio(r.asked, total));
        printf("}\n");
    } else
        printf("overall accuracy %.2f%% (%lld/%lld); coverage %.2f%% (%lld of %lld questions "
               "skipped)\n",
               100 * ratio(r.correct, r.asked), (long long)r.correct, (long long)r.asked,
               100 * ratio(r.asked, total), (long long)r.skipped, (long long)total);
    zoo_analogy_result_free(&r);
    zoo_word_vectors_free(v);
    return 0;
}

static int cmd_eval_pairs(zoo_cli *cli, void *args) {
    const eval_args *a = args;
    const char *file = a->file;
    int64_t restrict_to = a->restrict_to;
    zoo_word_vectors *v = zoo_vectors_open(cli, a->vectors);
    if (!v) return ZOO_EXIT_FAILURE;
    int status = 0;
    zoo_pairs_result r;
    if (zoo_word_vectors_eval_pairs(v, file, restrict_to, &r))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (cli->json) {
        printf("{\"spearman\": ");
        zoo_print_json_number(stdout, "%.6f", r.spearman);
        printf(", \"used\": %lld, \"skipped\": %lld, \"coverage\": ", (long long)r.used,
               (long long)r.skipped);
        zoo_print_json_number(stdout, "%.6f", ratio(r.used, r.used + r.skipped));
        printf("}\n");
    } else
        printf("spearman %.4f over %lld pairs; coverage %.2f%% (%lld skipped)\n", r.spearman,
               (long long)r.used, 100 * ratio(r.used, r.used + r.skipped), (long long)r.skipped);
    zoo_word_vectors_free(v);
    return status;
}

const zoo_command zoo_cmd_eval_analogy = {
    .name = "eval-analogy",
    .run = cmd_eval_analogy,
    .options = ANALOGY,
    .opts_size = sizeof(eval_args),
    .summary =
        "analogy accuracy per section and overall (questions-words.txt format), with coverage",
    .json_help = "{\"sections\": [{\"name\", \"correct\", \"asked\", \"skipped\"}...], "
                 "\"accuracy\",\n\"correct\", \"asked\", \"skipped\", \"coverage\"}",
};

const zoo_command zoo_cmd_eval_pairs = {
    .name = "eval-pairs",
    .run = cmd_eval_pairs,
    .options = PAIRS,
    .opts_size = sizeof(eval_args),
    .summary = "Spearman correlation of cosines with human similarity scores (WordSim-353 "
               "format), with coverage",
    .json_help = "{\"spearman\", \"used\", \"skipped\", \"coverage\"}",
};
