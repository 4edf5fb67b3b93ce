#include "model_card.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/status.h"

/* One size field: a number, a hyperparameter's value, or `absent`. */
static int size_of(const zoo_reg_entry *e, const zoo_hparams *hp, const char *field,
                   const char *text, int64_t absent, int64_t *out) {
    *out = absent;
    if (!text) return ZOO_OK;
    if (isdigit((unsigned char)text[0])) {
        *out = strtoll(text, NULL, 10);
        return ZOO_OK;
    }
    const zoo_hparam_spec *s = zoo_hparams_find(hp, text);
    if (!s || s->type != ZOO_HP_INT)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: %scard.%s: '%s' is not an integer hyperparameter of "
                         "plugin '%s'",
                         e->source, e->where, field, text, e->name);
    *out = zoo_hparams_int(hp, text);
    return ZOO_OK;
}

int zoo_card_sizes_of(const zoo_reg_entry *e, const zoo_hparams *hp, zoo_card_sizes *out) {
    int st = size_of(e, hp, "layers", e->card.layers, -1, &out->layers);
    if (!st) st = size_of(e, hp, "width", e->card.width, -1, &out->width);
    if (!st) st = size_of(e, hp, "context", e->card.context, 0, &out->context);
    return st;
}

bool zoo_card_is_head(const zoo_reg_entry *e, const char *param_name) {
    for (int i = 0; i < e->card.n_heads; i++)
        if (strncmp(param_name, e->card.heads[i], strlen(e->card.heads[i])) == 0) return true;
    return false;
}
