/* What commands that read text share: --text TEXT (repeatable) or
 * --text-file FILE ("-": standard input), and encoding it as a model expects
 * ([CLS] ... [SEP] around it for tokenizers that have both, as BERT's do; a
 * literal [MASK] as the mask token).
 *
 * Every command refuses text given both ways with one message:
 *   give the text once: --text TEXT or --text-file FILE, not both
 * A command that reads records (classify, embed) takes each --text as one,
 * and the file a record a line (zoo_text_input_load); one that reads texts
 * whole (tokenize, fill-mask, generate) takes each --text as one text and the
 * file as one more (zoo_text_input_load_each).
 * zoo generate's --prompt is its --text; zoo fill-mask's positional TEXT is one more way. */
#ifndef ZOO_HOST_TEXT_INPUT_H
#define ZOO_HOST_TEXT_INPUT_H

#include <stdbool.h>

#include "cli.h"
#include "zoo/tokenizer.h"

#define ZOO_TEXT_MAX 64 /* --text given at most this many times */

typedef struct zoo_text_input {
    const char *texts[ZOO_TEXT_MAX]; /* --text, in order */
    int n_texts;
    const char *file; /* --text-file, or NULL */
    /* after zoo_text_input_load: the text (the one --text, the file's, or
     * the --text values a line each) and its length; after
     * zoo_text_input_load_each: the file's, if any */
    const char *text;
    size_t len;
    /* the text holds one record a line (classify's examples, embed's
     * sequences): --text-file, or --text given more than once */
    bool lines;
    char *owned; /* the file's content, or the joined --text values */
} zoo_text_input;

/* The table entries (options.h) of a zoo_text_input `member` of the options
 * struct `type`: --text TEXT (repeatable), with text_help, and --text-file
 * FILE, which text_help mentions ("... (or --text-file FILE)"). */
#define ZOO_TEXT_INPUT_OPTIONS(type, member, text_help)                                            \
    {"--text",           ZOO_OPT_STRING,  offsetof(type, member.texts),                            \
     ZOO_OPT_REPEAT,     .value = "TEXT", ZOO_OPT_ARRAY(type, member.texts, member.n_texts),       \
     .help = (text_help)},                                                                         \
    {                                                                                              \
        "--text-file", ZOO_OPT_PATH, offsetof(type, member.file), .value = "FILE"                  \
    }
/* Reads the file, if any (standard input for "-"), and checks exactly one
 * source was given; several --text values are joined, one a line. Prints the
 * error and returns an exit status. */
int zoo_text_input_load(const zoo_cli *cli, zoo_text_input *in);
/* The same checks, for a command that reads each text whole: the file, if
 * any, is one text (in->text, in->len), and each --text another; nothing is
 * joined. Prints the error and returns an exit status. */
int zoo_text_input_load_each(const zoo_cli *cli, zoo_text_input *in);
/* After zoo_text_input_load_each: how many texts (1 for a file, else one per
 * --text), and the i-th of them, 0-based, with its length in *len. */
int zoo_text_input_count(const zoo_text_input *in);
const char *zoo_text_input_nth(const zoo_text_input *in, int i, size_t *len);
/* A file's content, or standard input's for "-", from malloc; NULL with
 * zoo_error set. A path must name a regular file (zoo_read_file: a device or
 * FIFO is refused at once); "-" is the one stream read, to its end. */
char *zoo_text_read_file(const char *path, size_t *len);
void zoo_text_input_free(zoo_text_input *in);

/* Where zoo_text_input_next_line is in the text: start it zeroed. */
typedef struct zoo_line_cursor {
    size_t at;      /* the byte after the last line returned */
    int64_t number; /* the 1-based number of the last line returned */
} zoo_line_cursor;

/* The next line of in's text that holds something but white space, into
 * *line and *len (without its newline, nor a '\r' before it): one example
 * or sequence a line, for the commands that read them so (zoo classify, zoo
 * embed --text-file). False at the end of the text. */
bool zoo_text_input_next_line(const zoo_text_input *in, zoo_line_cursor *c, const char **line,
                              size_t *len);

/* True when the tokenizer has both [CLS] and [SEP]: what zoo_encode_with_bytes
 * wraps every text in (the first id and the last). */
bool zoo_encode_wraps(const zoo_tokenizer *tok);

/* Encodes text for a model: wrapped in [CLS] [SEP] when the tokenizer has
 * both (zoo_encode_wraps), and with masks, each literal "[MASK]" becoming the mask token;
 * appends to ids. For a plugin that reads W > 0 token bytes, also their
 * bytes [n,W] for the n ids appended, from malloc in *bytes, as a batch
 * carries them (zoo_token_bytes_fill: the text's, the vocabulary string of a
 * token added); W = 0: ids only, *bytes NULL. Prints the error and returns an
 * exit status on failure. */
int zoo_encode_with_bytes(const zoo_cli *cli, const zoo_tokenizer *tok, const char *text,
                          size_t len, bool masks, int32_t W, zoo_ids *ids, int32_t **bytes);

#endif
