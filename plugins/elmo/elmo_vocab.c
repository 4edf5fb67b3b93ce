/* vocab.txt <-> the word tokenizer (elmo_allennlp.h), and import_tokenizer. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "elmo_allennlp.h"

/* vocab.txt's lines, each stripped of surrounding blanks (as bilm-tf's
 * line.strip()); tokens point into text. */
typedef struct vocab {
    char *text;
    const char **tokens;
    int32_t n;
} vocab;

static void vocab_free(vocab *v) {
    free(v->text);
    free(v->tokens);
    memset(v, 0, sizeof *v);
}

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* DIR/vocab.txt; ZOO_ERR_NOTFOUND, without a message, when there is none. */
static int vocab_read(const char *dir, vocab *v) {
    char file[PATH_MAX];
    memset(v, 0, sizeof *v);
    int st = elmo_path(file, sizeof file, dir, "vocab.txt");
    if (st) return st;
    if (!elmo_file_exists(file)) return ZOO_ERR_NOTFOUND;
    size_t len, lines = 0;
    if (!(v->text = zoo_read_file(file, &len))) return ZOO_ERR_IO;
    const char *nul = memchr(v->text, '\0', len);
    if (nul)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: a NUL byte at offset %zu", file,
                       (size_t)(nul - v->text));
    for (size_t i = 0; i < len; i++) lines += v->text[i] == '\n';
    lines += len > 0 && v->text[len - 1] != '\n';
    if (!st && lines == 0) st = zoo_error(ZOO_ERR_FORMAT, "%s: empty", file);
    if (!st && lines > INT32_MAX / 2)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %zu lines, too many", file, lines);
    if (!st && !(v->tokens = malloc(lines * sizeof *v->tokens)))
        st = zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    for (char *s = v->text; !st && v->n < (int32_t)lines;) {
        char *end = strchr(s, '\n'), *next = end ? end + 1 : s + strlen(s);
        if (!end) end = s + strlen(s);
        while (s < end && blank(*s)) s++;
        while (end > s && blank(end[-1])) end--;
        if (s == end)
            st = zoo_error(ZOO_ERR_FORMAT, "%s:%d: an empty line (a token a line)", file,
                           (int)v->n + 1);
        *end = '\0';
        v->tokens[v->n++] = s;
        s = next;
    }
    if (st) vocab_free(v);
    return st;
}

typedef struct line_ref {
    const char *token;
    int32_t line;
} line_ref;

static int by_token(const void *a, const void *b) {
    const line_ref *x = a, *y = b;
    int c = strcmp(x->token, y->token);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A word tokenizer refuses a token twice; say which lines. */
static int no_duplicates(const char *file, const char *const *tokens, int32_t n) {
    line_ref *order = malloc((size_t)n * sizeof *order);
    if (!order) return zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    for (int32_t i = 0; i < n; i++) order[i] = (line_ref){tokens[i], i + 1};
    qsort(order, (size_t)n, sizeof *order, by_token);
    int st = ZOO_OK;
    for (int32_t i = 1; i < n && !st; i++)
        if (strcmp(order[i - 1].token, order[i].token) == 0)
            st = zoo_error(ZOO_ERR_FORMAT, "%s:%d: '%s' is already line %d", file,
                           (int)order[i].line, order[i].token, (int)order[i - 1].line);
    free(order);
    return st;
}

/* bilm-tf's own marks: a vocabulary of its has them first */
static const char *const bilm_specials[] = {"<S>", "</S>", "<UNK>"};
static const zoo_special bilm_roles[] = {ZOO_TOK_BOS, ZOO_TOK_EOS, ZOO_TOK_UNK};

static const char *const role_names[ZOO_TOK_N_SPECIAL] = {
    [ZOO_TOK_UNK] = "unk", [ZOO_TOK_PAD] = "pad", [ZOO_TOK_MASK] = "mask", [ZOO_TOK_CLS] = "cls",
    [ZOO_TOK_SEP] = "sep", [ZOO_TOK_BOS] = "bos", [ZOO_TOK_EOS] = "eos"};

/* A "word" tokenizer (whitespace, case kept) of these tokens in this order.
 * Each special role goes to the first token spelled as zoo's ("[UNK]") or
 * bilm-tf's ("<UNK>", "<S>", "</S>") mark of it; there must be an unknown. */
static int tokenizer_build(const char *file, const char *const *tokens, int32_t n,
                           zoo_tokenizer **out) {
    int st = no_duplicates(file, tokens, n);
    if (st) return st;
    int32_t role_id[ZOO_TOK_N_SPECIAL];
    for (int r = 0; r < ZOO_TOK_N_SPECIAL; r++) role_id[r] = -1;
    for (int32_t i = 0; i < n; i++) {
        int r = zoo_special_from_token(tokens[i]);
        for (int k = 0; r < 0 && k < 3; k++)
            if (strcmp(tokens[i], bilm_specials[k]) == 0) r = (int)bilm_roles[k];
        if (r >= 0 && role_id[r] < 0) role_id[r] = i;
    }
    if (role_id[ZOO_TOK_UNK] < 0)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: no <UNK> (or [UNK]) line: a word outside the vocabulary would have "
                         "no id",
                         file);
    /* libzoo's tokenizer JSON (an add to a NULL object fails) */
    cJSON *root = cJSON_CreateObject(), *special = cJSON_AddObjectToObject(root, "special");
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON *list = cJSON_CreateStringArray(tokens, (int)n);
    bool ok = cJSON_AddItemToObject(model, "tokens", list);
    if (!ok) cJSON_Delete(list);
    ok = ok && cJSON_AddNumberToObject(root, "version", 1) &&
         cJSON_AddStringToObject(root, "type", "word") &&
         cJSON_AddFalseToObject(model, "lowercase") &&
         cJSON_AddStringToObject(model, "split", "whitespace");
    for (int r = 0; ok && r < ZOO_TOK_N_SPECIAL; r++)
        if (role_id[r] >= 0) ok = cJSON_AddNumberToObject(special, role_names[r], role_id[r]);
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    st = json ? zoo_tokenizer_from_json(json, out)
              : zoo_error(ZOO_ERR_NOMEM, "%s: out of memory", file);
    cJSON_free(json);
    return st && json ? elmo_rewrap(st, file, "as a word tokenizer") : st;
}

int elmo_vocab_tokenizer(const char *dir, zoo_tokenizer **out) {
    char file[PATH_MAX];
    *out = NULL;
    vocab v = {0};
    int st = elmo_path(file, sizeof file, dir, "vocab.txt");
    if (!st) st = vocab_read(dir, &v);
    if (st == ZOO_ERR_NOTFOUND) return tokenizer_build(file, bilm_specials, 3, out);
    if (!st) st = tokenizer_build(file, v.tokens, v.n, out);
    vocab_free(&v);
    return st;
}

int elmo_import_tokenizer(const char *path, zoo_tokenizer **out) {
    char file[PATH_MAX];
    *out = NULL;
    int st = elmo_options_path(path, file, sizeof file);
    return st ? st : elmo_vocab_tokenizer(path, out);
}

char *elmo_vocab_text(const zoo_tokenizer *tok, size_t *len_out) {
    int32_t n = zoo_tokenizer_vocab_size(tok);
    const char **tokens = malloc((size_t)(n > 0 ? n : 1) * sizeof *tokens);
    char *text = NULL;
    size_t len = 0;
    FILE *f = tokens ? open_memstream(&text, &len) : NULL;
    if (!f) {
        free(tokens);
        zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
        return NULL;
    }
    int st = ZOO_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        size_t k;
        const char *s = zoo_tokenizer_token(tok, i, &k);
        if (!s || k == 0 || strlen(s) != k || strpbrk(s, "\n\r") || blank(s[0]) || blank(s[k - 1]))
            st = zoo_error(ZOO_ERR_ARG,
                           "elmo: export: token %d ('%.*s') cannot be a line of vocab.txt", (int)i,
                           (int)(s && k < 64 ? k : 0), s ? s : "");
        tokens[i] = s;
        fprintf(f, "%s\n", s ? s : "");
    }
    zoo_tokenizer *back = NULL;
    if (!st && (st = tokenizer_build("vocab.txt", tokens, n, &back))) {
        char why[512];
        snprintf(why, sizeof why, "%s", zoo_error_message());
        st = zoo_error(st, "elmo: export: the tokenizer would not read back: %s", why);
    }
    zoo_tokenizer_free(back);
    free(tokens);
    if (fclose(f) != 0 && !st) st = zoo_error(ZOO_ERR_NOMEM, "elmo: export: out of memory");
    if (st) {
        free(text);
        return NULL;
    }
    *len_out = len;
    return text;
}
