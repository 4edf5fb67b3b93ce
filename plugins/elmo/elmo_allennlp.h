/* AllenNLP's ELMo directories, the plugin's import and export (elmo.h's
 * elmo_import_config, elmo_import_weights, elmo_import_tokenizer and
 * elmo_export), one file each: options.json (bilm-tf's options), weights.hdf5
 * (bilm-tf's variables, read and written with libhdf5) and, for a model zoo
 * trained, vocab.txt (one word a line, in id order). elmo.h has the names,
 * shapes and conversions of the parameters.
 *
 *   elmo_options.c  options.json <-> the hyperparameters; import_config
 *   elmo_vocab.c    vocab.txt <-> the word tokenizer; import_tokenizer
 *   elmo_hdf5.c     weights.hdf5 <-> the parameters; import_weights
 *   elmo_export.c   export: the three files, written atomically
 *
 * - A directory without options.json is not ours (ZOO_ERR_NOTFOUND); any
 *   other fault is an error naming the file and the field or dataset.
 * - The vocabulary is the tokenizer's: vocab.txt's lines (stripped, as
 *   bilm-tf reads them) or, without one, bilm-tf's <S> </S> <UNK> alone (a
 *   published model embeds any word from its characters). The tokenizer is
 *   zoo's "word" one (whitespace, case kept); <UNK>/[UNK], <S>, </S> and
 *   zoo's own marks take their roles; an unknown-word token is required.
 * - softmax/W and softmax/b are used when the file has them and a vocab.txt
 *   names their rows (the line count must be the row count); otherwise the
 *   model has no softmax and they are ignored.
 * - Import checks every dataset's presence, type and shape before reading
 *   any, so those faults leave the model as it was. Any numeric dtype reads
 *   as float32; a NaN or infinite value is refused (with its dataset and
 *   index). Export writes little-endian float32.
 * - Export, then import, gives back every bit: the conversions only move
 *   values and negate some (the carry gate), and B is kept as the file has it
 *   (bilm-tf's forget_bias of 1 is added in the cell, elmo_model.c).
 * - Export writes each file under a temporary name (libzoo's
 *   zoo_atomic_file; HDF5 builds weights.hdf5 in memory first), then
 *   renames them (weights.hdf5, vocab.txt, options.json last): a failure
 *   while writing leaves an earlier export whole. Without a tokenizer there
 *   is no vocab.txt, and an earlier one is removed.
 *
 * options.json nests, which libzoo's zoo_json (one flat object) does not
 * read or write: the plugin reads and writes it with cJSON, which it links
 * itself as it links libhdf5 (CMakeLists.txt).
 *
 * This header is what the four files share. */
#ifndef ZOO_ELMO_ALLENNLP_H
#define ZOO_ELMO_ALLENNLP_H

#include <stdio.h>
#include <sys/stat.h>

#include "elmo.h"

/* DIR/NAME into buf; ZOO_ERR_ARG when it does not fit. */
static inline int elmo_path(char *buf, size_t size, const char *dir, const char *name) {
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < size ? ZOO_OK
                                      : zoo_error(ZOO_ERR_ARG, "elmo: path too long: %s", dir);
}

static inline bool elmo_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* st, with the current message behind a prefix ("FILE: FIELD: ..."). */
static inline int elmo_rewrap(int st, const char *file, const char *field) {
    char why[512];
    snprintf(why, sizeof why, "%s", zoo_error_message());
    return zoo_error(st, "%s: %s: %s", file, field, why);
}

/* elmo_options.c: DIR/options.json into file; ZOO_ERR_NOTFOUND, with a
 * message, when there is none (not an ELMo directory). */
int elmo_options_path(const char *dir, char *file, size_t size);
/* elmo_options.c: m's options.json (keys as bilm-tf's options, AllenNLP's
 * n_characters of 262: the padding id 0 and 261 characters), the clips and
 * dropout from hp when there is one; NULL when out of memory. Free it with
 * cJSON_free. */
char *elmo_options_text(const zoo_model *m, const zoo_hparams *hp);

/* elmo_vocab.c: the tokenizer of DIR: its vocab.txt's, or bilm-tf's three
 * marks alone. */
int elmo_vocab_tokenizer(const char *dir, zoo_tokenizer **out);
/* elmo_vocab.c: tok as vocab.txt, its tokens in id order, one a line (*len
 * bytes, from malloc). NULL, with a message, when a token cannot be a line
 * (a line break, a surrounding blank) or the lines would not read back as a
 * tokenizer (no unknown-word token among them). */
char *elmo_vocab_text(const zoo_tokenizer *tok, size_t *len);

/* elmo_hdf5.c: the rows of DIR/weights.hdf5's softmax/W, -1 when it has none
 * (or there is no weights.hdf5: import_weights says so). */
int elmo_softmax_rows(const char *dir, int64_t *rows);
/* elmo_hdf5.c: m's weights.hdf5, the whole file in memory (*image, *len
 * bytes, from malloc); `file` names it in messages. */
int elmo_weights_image(zoo_model *m, const char *file, void **image, size_t *len);

#endif
