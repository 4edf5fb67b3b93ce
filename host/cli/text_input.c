#include "text_input.h"

#include <stdlib.h>
#include <string.h>

#include "zoo/io.h"
#include "zoo/status.h"

int zoo_text_input_load(const zoo_cli *cli, zoo_text_input *in) {
    if (!in->text == !in->file)
        return zoo_cli_usage(cli, "give the text as --text TEXT or --text-file FILE");
    if (in->file) {
        in->owned = zoo_read_file(in->file, &in->len);
        if (!in->owned) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        in->text = in->owned;
    } else {
        in->len = strlen(in->text);
    }
    return 0;
}

void zoo_text_input_free(zoo_text_input *in) {
    free(in->owned);
}

int zoo_encode_for_model(const zoo_cli *cli, const zoo_tokenizer *tok, const char *text, size_t len,
                         bool masks, zoo_ids *ids) {
    int32_t cls = zoo_tokenizer_special(tok, ZOO_TOK_CLS),
            sep = zoo_tokenizer_special(tok, ZOO_TOK_SEP);
    int32_t mask = zoo_tokenizer_special(tok, ZOO_TOK_MASK);
    bool wrap = cls >= 0 && sep >= 0;
    if (masks && mask < 0)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "the model's tokenizer has no [MASK] token");
    int st = wrap ? zoo_ids_push(ids, cls) : ZOO_OK;
    const char *marker = "[MASK]";
    for (size_t at = 0; !st && at <= len;) {
        const char *hit = masks ? memmem(text + at, len - at, marker, strlen(marker)) : NULL;
        size_t end = hit ? (size_t)(hit - text) : len;
        if (end > at) st = zoo_tokenizer_encode(tok, text + at, end - at, ids);
        if (!st && hit) st = zoo_ids_push(ids, mask);
        if (!hit) break;
        at = end + strlen(marker);
    }
    if (!st && wrap) st = zoo_ids_push(ids, sep);
    if (st) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "--text: %s", zoo_error_message());
    return 0;
}
