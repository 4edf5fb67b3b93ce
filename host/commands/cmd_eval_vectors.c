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

/* VECTORS FILE [--restrict N]; the vectors loaded. */
static int open_args(zoo_cli *cli, int argc, char **argv, zoo_word_vectors **v,
                     const char **vectors, const char **file, int64_t *restrict_to) {
    int status = 0;
    *vectors = *file = NULL;
    *restrict_to = 30000;
    for (int i = 1; i < argc; i++) {
        if (zoo_cli_value(cli, argc, argv, i, "--restrict", &status)) {
            char *end;
            *restrict_to = strtoll(argv[++i], &end, 10);
            if (*end || *restrict_to < 0)
                return zoo_cli_usage(cli, "--restrict: expected a count >= 0, got \"%s\"", argv[i]);
        } else if (status)
            return status;
        else if (argv[i][0] == '-' && argv[i][1])
            return zoo_cli_usage(cli, "unknown option '%s' (see zoo %s --help)", argv[i],
                                 cli->command);
        else if (!*vectors)
            *vectors = argv[i];
        else if (!*file)
            *file = argv[i];
        else
            return zoo_cli_usage(cli, "expected VECTORS FILE (see zoo %s --help)", cli->command);
    }
    if (!*file)
        return zoo_cli_usage(cli, "expected VECTORS FILE (see zoo %s --help)", cli->command);
    *v = zoo_vectors_open(cli, *vectors);
    return *v ? 0 : ZOO_EXIT_FAILURE;
}

static double ratio(int64_t a, int64_t b) {
    return b ? (double)a / (double)b : NAN;
}

static int cmd_eval_analogy(zoo_cli *cli, int argc, char **argv) {
    zoo_word_vectors *v;
    const char *vectors, *file;
    int64_t restrict_to;
    int status = open_args(cli, argc, argv, &v, &vectors, &file, &restrict_to);
    if (status) return status;
    zoo_analogy_result r;
    if (zoo_word_vectors_eval_analogy(v, file, restrict_to, &r)) {
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
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
    if (cli->json)
        printf("], \"accuracy\": %.6f, \"correct\": %lld, \"asked\": %lld, \"skipped\": %lld, "
               "\"coverage\": %.6f}\n",
               ratio(r.correct, r.asked), (long long)r.correct, (long long)r.asked,
               (long long)r.skipped, ratio(r.asked, total));
    else
        printf("overall accuracy %.2f%% (%lld/%lld); coverage %.2f%% (%lld of %lld questions "
               "skipped)\n",
               100 * ratio(r.correct, r.asked), (long long)r.correct, (long long)r.asked,
               100 * ratio(r.asked, total), (long long)r.skipped, (long long)total);
    zoo_analogy_result_free(&r);
    zoo_word_vectors_free(v);
    return 0;
}

static int cmd_eval_pairs(zoo_cli *cli, int argc, char **argv) {
    zoo_word_vectors *v;
    const char *vectors, *file;
    int64_t restrict_to;
    int status = open_args(cli, argc, argv, &v, &vectors, &file, &restrict_to);
    if (status) return status;
    zoo_pairs_result r;
    if (zoo_word_vectors_eval_pairs(v, file, restrict_to, &r))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    else if (cli->json)
        printf("{\"spearman\": %.6f, \"used\": %lld, \"skipped\": %lld, \"coverage\": %.6f}\n",
               r.spearman, (long long)r.used, (long long)r.skipped,
               ratio(r.used, r.used + r.skipped));
    else
        printf("spearman %.4f over %lld pairs; coverage %.2f%% (%lld skipped)\n", r.spearman,
               (long long)r.used, 100 * ratio(r.used, r.used + r.skipped), (long long)r.skipped);
    zoo_word_vectors_free(v);
    return status;
}

const zoo_command zoo_cmd_eval_analogy = {
    .name = "eval-analogy",
    cmd_eval_analogy,
    "zoo eval-analogy VECTORS QUESTIONS [--restrict N] [--json]",
    "analogy accuracy per section and overall (questions-words.txt format), with coverage",
    "  VECTORS        a word2vec file (Google's text or binary format, or .vec), or a\n"
    "                 checkpoint or run directory of a word2vec model\n"
    "  QUESTIONS      \": section\" lines, then \"A B C D\" questions (is D the answer to "
    "A:B::C:?)\n"
    "  --restrict N   only the N most frequent words (the first N rows; default 30000, 0: all);\n"
    "                 a question with another word is skipped and counted as skipped\n"};

const zoo_command zoo_cmd_eval_pairs = {
    .name = "eval-pairs",
    cmd_eval_pairs,
    "zoo eval-pairs VECTORS PAIRS [--restrict N] [--json]",
    "Spearman correlation of cosines with human similarity scores (WordSim-353 format), with "
    "coverage",
    "  VECTORS        a word2vec file (Google's text or binary format, or .vec), or a\n"
    "                 checkpoint or run directory of a word2vec model\n"
    "  PAIRS          \"word1<TAB>word2<TAB>score\" lines; '#' starts a comment\n"
    "  --restrict N   only the N most frequent words (the first N rows; default 30000, 0: all)\n"};
