/* Where the word-vector commands (similar, analogy, eval-analogy,
 * eval-pairs, embed) get their VECTORS: a word2vec file in Google's text or
 * binary format, or a zoo checkpoint (a .safetensors file or a run
 * directory) of a word-vector model such as word2vec, whose vectors are the
 * plugin's embedding of every word of its vocabulary (specials left out),
 * most frequent first as in the tokenizer. */
#ifndef ZOO_HOST_VECTORS_SOURCE_H
#define ZOO_HOST_VECTORS_SOURCE_H

#include "cli.h"
#include "zoo/word_vectors.h"

/* True when path names a word2vec file: not a directory, not .safetensors. */
bool zoo_is_word2vec_file(const char *path);

/* The vectors of path, or NULL after printing one error naming it. */
zoo_word_vectors *zoo_vectors_open(const zoo_cli *cli, const char *path);

#endif
