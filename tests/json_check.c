/* json_check [--lines]: exits 0 when standard input is one valid JSON
 * document (white space around it allowed), or with --lines when every
 * non-empty line is one (JSON Lines) and there is at least one; otherwise
 * says on stderr what is wrong and where, and exits 1. The CLI tests pipe
 * every command's --json through it (tests/cli/test_json.sh), so that they
 * need no Python or jq. */
#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether text[0..len) is exactly one JSON value; says why not, naming `where`. */
static int check_one(const char *text, size_t len, const char *where) {
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        fprintf(stderr, "json_check: %s: not JSON near byte %ld: %.40s\n", where,
                at ? (long)(at - text) : -1L, at ? at : "");
        return 1;
    }
    cJSON_Delete(doc);
    size_t rest = (size_t)(end - text);
    while (rest < len && is_space(text[rest])) rest++;
    if (rest < len) {
        fprintf(stderr, "json_check: %s: more after the document at byte %zu: %.40s\n", where, rest,
                text + rest);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    bool lines = argc == 2 && strcmp(argv[1], "--lines") == 0;
    if (argc > 2 || (argc == 2 && !lines)) {
        fputs("usage: json_check [--lines] < INPUT\n", stderr);
        return 2;
    }
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    for (size_t n; text && (n = fread(text + len, 1, cap - len, stdin)) > 0;) {
        len += n;
        if (len == cap) {
            char *more = realloc(text, cap *= 2);
            if (!more) free(text);
            text = more;
        }
    }
    if (!text) return 2;
    int bad = 0;
    if (!lines) {
        size_t i = 0;
        while (i < len && is_space(text[i])) i++;
        if (i == len)
            fputs("json_check: no JSON document, only white space\n", stderr), bad = 1;
        else
            bad = check_one(text, len, "input");
    } else {
        int n = 0, number = 0;
        for (size_t at = 0; at < len && !bad;) {
            char *nl = memchr(text + at, '\n', len - at);
            size_t end = nl ? (size_t)(nl - text) : len;
            number++;
            size_t i = at;
            while (i < end && is_space(text[i])) i++;
            if (i < end) {
                char where[32];
                snprintf(where, sizeof where, "line %d", number);
                bad = check_one(text + at, end - at, where);
                n++;
            }
            at = end + 1;
        }
        if (!bad && n == 0) fputs("json_check: no JSON line\n", stderr), bad = 1;
    }
    free(text);
    return bad;
}
