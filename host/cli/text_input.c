#include "text_input.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "zoo/io.h"
#include "zoo/status.h"

char *zoo_text_read_file(const char *path, size_t *len) {
    if (strcmp(path, "-") != 0) return zoo_read_file(path, len);
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0;) {
        n += got;
        if (n == cap) {
            char *more = realloc(buf, (cap *= 2) + 1);
            if (!more) free(buf);
            buf = more;
        }
    }
    if (!buf) {
        zoo_error(ZOO_ERR_NOMEM, "standard input: out of memory");
        return NULL;
    }
    if (ferror(stdin)) {
        free(buf);
        zoo_error(ZOO_ERR_IO, "standard input: read error");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int zoo_text_input_load(const zoo_cli *cli, zoo_text_input *in) {
    if (in->n_texts && in->file)
        return zoo_cli_usage(cli, "give the text once: --text TEXT or --text-file FILE, not both");
    if (!in->n_texts && !in->file)
        return zoo_cli_usage(cli, "give the text as --text TEXT or --text-file FILE");
    in->lines = in->file || in->n_texts > 1;
    if (in->file) {
        in->owned = zoo_text_read_file(in->file, &in->len);
        if (!in->owned)
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text-file: %s", zoo_error_message());
        in->text = in->owned;
    } else if (in->n_texts == 1) {
        in->text = in->texts[0];
        in->len = strlen(in->text);
    } else { /* a line each */
        size_t total = 0;
        for (int i = 0; i < in->n_texts; i++) total += strlen(in->texts[i]) + 1;
        if (!(in->owned = malloc(total + 1)))
            return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory");
        size_t at = 0;
        for (int i = 0; i < in->n_texts; i++) {
            size_t n = strlen(in->texts[i]);
            memcpy(in->owned + at, in->texts[i], n);
            at += n;
            in->owned[at++] = '\n';
        }
        in->owned[at] = '\0';
        in->text = in->owned, in->len = at;
    }
    return 0;
}

int zoo_text_input_load_each(const zoo_cli *cli, zoo_text_input *in) {
    if (in->n_texts && in->file)
        return zoo_cli_usage(cli, "give the text once: --text TEXT or --text-file FILE, not both");
    if (!in->n_texts && !in->file)
        return zoo_cli_usage(cli, "give the text as --text TEXT or --text-file FILE");
    in->lines = false;
    if (!in->file) return 0;
    in->owned = zoo_text_read_file(in->file, &in->len);
    if (!in->owned)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text-file: %s", zoo_error_message());
    in->text = in->owned;
    return 0;
}

int zoo_text_input_count(const zoo_text_input *in) {
    return in->file ? 1 : in->n_texts;
}

const char *zoo_text_input_nth(const zoo_text_input *in, int i, size_t *len) {
    const char *text = in->file ? in->text : in->texts[i];
    *len = in->file ? in->len : strlen(text);
    return text;
}

void zoo_text_input_free(zoo_text_input *in) {
    free(in->owned);
}

bool zoo_text_input_next_line(const zoo_text_input *in, zoo_line_cursor *c, const char **line,
                              size_t *len) {
    while (c->at < in->len) {
        const char *start = in->text + c->at, *end = memchr(start, '\n', in->len - c->at);
        size_t n = end ? (size_t)(end - start) : in->len - c->at;
        c->at += n + (end ? 1 : 0);
        c->number++;
        if (n && start[n - 1] == '\r') n--;
        for (size_t i = 0; i < n; i++)
            if (!isspace((unsigned char)start[i])) {
                *line = start, *len = n;
                return true;
            }
    }
    return false;
}

/* Pushes an id that has no text of its own (and its span, when kept). */
static int push_inserted(zoo_ids *ids, zoo_spans *spans, int32_t id) {
    int st = zoo_ids_push(ids, id);
    if (!st && spans) st = zoo_spans_push(spans, -1, -1);
    return st;
}

bool zoo_encode_wraps(const zoo_tokenizer *tok) {
    return zoo_tokenizer_special(tok, ZOO_TOK_CLS) >= 0 &&
           zoo_tokenizer_special(tok, ZOO_TOK_SEP) >= 0;
}

/* Appends text's ids, and when spans is not NULL each token's span in text
 * ({-1, -1} for the tokens added). */
static int encode_for_model(const zoo_cli *cli, const zoo_tokenizer *tok, const char *text,
                            size_t len, bool masks, zoo_ids *ids, zoo_spans *spans) {
    int32_t cls = zoo_tokenizer_special(tok, ZOO_TOK_CLS),
            sep = zoo_tokenizer_special(tok, ZOO_TOK_SEP);
    int32_t mask = zoo_tokenizer_special(tok, ZOO_TOK_MASK);
    bool wrap = zoo_encode_wraps(tok);
    if (masks && mask < 0)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "the model's tokenizer has no [MASK] token");
    int st = wrap ? push_inserted(ids, spans, cls) : ZOO_OK;
    const char *marker = "[MASK]";
    for (size_t at = 0; !st && at <= len;) {
        const char *hit = masks ? memmem(text + at, len - at, marker, strlen(marker)) : NULL;
        size_t end = hit ? (size_t)(hit - text) : len;
        if (end > at && !spans) st = zoo_tokenizer_encode(tok, text + at, end - at, ids);
        if (end > at && spans) {
            int64_t first = spans->count;
            st = zoo_tokenizer_encode_spans(tok, text + at, end - at, ids, spans);
            for (int64_t i = first; !st && i < spans->count; i++) /* relative to text */
                if (spans->spans[i].begin >= 0)
                    spans->spans[i].begin += (int64_t)at, spans->spans[i].end += (int64_t)at;
        }
        if (!st && hit) st = push_inserted(ids, spans, mask);
        if (!hit) break;
        at = end + strlen(marker);
    }
    if (!st && wrap) st = push_inserted(ids, spans, sep);
    if (st) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text: %s", zoo_error_message());
    return 0;
}

int zoo_encode_with_bytes(const zoo_cli *cli, const zoo_tokenizer *tok, const char *text,
                          size_t len, bool masks, int32_t W, zoo_ids *ids, int32_t **bytes) {
    *bytes = NULL;
    if (W <= 0) return encode_for_model(cli, tok, text, len, masks, ids, NULL);
    zoo_spans spans = {0};
    int64_t first = ids->count;
    int status = encode_for_model(cli, tok, text, len, masks, ids, &spans);
    int64_t n = ids->count - first;
    if (!status && !(*bytes = malloc((size_t)((n ? n : 1) * W) * sizeof **bytes)))
        status = zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "out of memory for token bytes");
    if (!status) zoo_token_bytes_fill(tok, ids->ids + first, text, spans.spans, n, W, *bytes);
    zoo_spans_free(&spans);
    return status;
}
