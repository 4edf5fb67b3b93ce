#include "saved_model.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zoo/status.h"

bool zoo_is_checkpoint_path(const char *model) {
    struct stat st;
    return strchr(model, '/') || strchr(model, '.') || stat(model, &st) == 0;
}

int zoo_saved_model_open(const zoo_cli *cli, const zoo_registry *r, const char *model,
                         zoo_saved_model *out) {
    memset(out, 0, sizeof *out);
    zoo_hparams *hp = NULL;
    int st = zoo_checkpoint_open(model, &out->checkpoint);
    const zoo_checkpoint *ck = out->checkpoint;
    if (!st && !(out->config = zoo_config_parse(ck->config, "zoo.config", ck->path, NULL, 0)))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.config: %s", ck->path, zoo_error_message());
    if (st) {
        zoo_saved_model_close(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    if (!(out->plugin = zoo_cli_load_plugin(cli, r, ck->plugin))) {
        zoo_saved_model_close(out);
        return ZOO_EXIT_FAILURE;
    }
    const zoo_plugin *d = out->plugin->plugin;
    if (!(hp = zoo_hparams_new(d->hparams, d->n_hparams)) ||
        zoo_config_apply_model(out->config, hp))
        st = ZOO_ERR_FORMAT;
    else if (ck->tokenizer && zoo_tokenizer_from_json(ck->tokenizer, &out->tokenizer))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.tokenizer: %s", ck->path, zoo_error_message());
    else if ((st = zoo_host_model_create(out->plugin, hp, 0, &out->model)) == ZOO_OK)
        st = zoo_checkpoint_load_params(ck, out->model->params, false);
    else
        hp = NULL; /* the model took it (and freed it on failure) */
    if (st) {
        if (!out->model) zoo_hparams_free(hp);
        zoo_saved_model_close(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    return ZOO_OK;
}

void zoo_saved_model_close(zoo_saved_model *m) {
    zoo_host_model_destroy(m->model);
    zoo_tokenizer_free(m->tokenizer);
    zoo_plugin_unload(m->plugin);
    zoo_config_free(m->config);
    zoo_checkpoint_close(m->checkpoint);
    memset(m, 0, sizeof *m);
}
