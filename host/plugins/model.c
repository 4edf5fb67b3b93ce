#include "model.h"

#include <stdlib.h>

#include "zoo/status.h"

static int model_create(zoo_loaded *p, zoo_hparams *hp, uint64_t seed, const zoo_tokenizer *tok,
                        bool empty, zoo_host_model **out) {
    *out = NULL;
    zoo_host_model *m = calloc(1, sizeof *m);
    zoo_params *params = zoo_params_new();
    if (!m || !params) {
        free(m);
        zoo_params_free(params);
        zoo_hparams_free(hp);
        return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    }
    zoo_params_skip_init(params, empty);
    zoo_rng rng;
    zoo_rng_seed(&rng, seed);
    zoo_error_clear();
    zoo_model *model = NULL;
    const zoo_plugin_ops *ops = p->plugin->ops;
    int st = ops->create(hp, params, &rng, &model);
    if (st == ZOO_OK && !model) st = zoo_error(ZOO_ERR_STATE, "create returned no model");
    if (st == ZOO_OK && tok && ZOO_OPS_SLOT(ops, set_tokenizer) &&
        (st = ops->set_tokenizer(model, tok)) != ZOO_OK)
        ops->destroy(model);
    if (st != ZOO_OK) {
        const char *why = *zoo_error_message() ? zoo_error_message() : zoo_status_str(st);
        st = zoo_error(st < 0 ? st : ZOO_ERR_STATE, "plugin '%s' could not create a model: %s",
                       p->entry->name, why);
        zoo_params_free(params);
        zoo_hparams_free(hp);
        free(m);
        return st;
    }
    zoo_params_skip_init(params, false);
    *m = (zoo_host_model){.plugin = p, .model = model, .params = params, .hp = hp};
    p->live_models++;
    *out = m;
    return ZOO_OK;
}

int zoo_host_model_create(zoo_loaded *p, zoo_hparams *hp, uint64_t seed, const zoo_tokenizer *tok,
                          zoo_host_model **out) {
    return model_create(p, hp, seed, tok, false, out);
}

int zoo_host_model_create_empty(zoo_loaded *p, zoo_hparams *hp, const zoo_tokenizer *tok,
                                zoo_host_model **out) {
    return model_create(p, hp, 0, tok, true, out);
}

void zoo_host_model_destroy(zoo_host_model *m) {
    if (!m) return;
    m->plugin->plugin->ops->destroy(m->model);
    m->plugin->live_models--;
    zoo_params_free(m->params);
    zoo_hparams_free(m->hp);
    free(m);
}
