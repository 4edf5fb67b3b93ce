/* The two standard evaluations of word vectors, as zoo eval-analogy and
 * zoo eval-pairs run them. */
#ifndef ZOO_WORD_VECTOR_EVAL_H
#define ZOO_WORD_VECTOR_EVAL_H

#include <stdint.h>

#include "zoo/word_vectors.h"

/* Evaluation on questions-words.txt: sections start with ": name", each
 * question is four words "A B C D" (is D the answer of A : B :: C : ?).
 * Words are looked up ignoring case among the first restrict_to rows; a
 * question with any word outside them is skipped and counted as such. */
typedef struct zoo_analogy_section {
    char *name;
    int64_t correct, asked, skipped; /* asked: questions with all four words known */
} zoo_analogy_section;

typedef struct zoo_analogy_result {
    zoo_analogy_section *sections;
    int n_sections;
    int64_t correct, asked, skipped; /* over all sections */
} zoo_analogy_result;

/* Errors name the file and line (a question that is not four words, a
 * question before any section). */
int zoo_word_vectors_eval_analogy(const zoo_word_vectors *v, const char *path, int64_t restrict_to,
                                  zoo_analogy_result *out);
void zoo_analogy_result_free(zoo_analogy_result *r);

/* Evaluation on word pairs with human scores (WordSim-353's tab-separated
 * "word1 word2 score" lines; lines starting with '#' are comments): the
 * Spearman rank correlation (ties get their average rank) between the
 * scores and the vectors' cosines over the pairs whose two words are known
 * (ignoring case, among the first restrict_to rows). */
typedef struct zoo_pairs_result {
    double spearman;
    int64_t used, skipped; /* pairs scored, pairs with an unknown word */
} zoo_pairs_result;

int zoo_word_vectors_eval_pairs(const zoo_word_vectors *v, const char *path, int64_t restrict_to,
                                zoo_pairs_result *out);

#endif
