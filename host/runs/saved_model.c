#include "saved_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quantize.h"
#include "tokenizers.h"
#include "zoo/json.h"
#include "zoo/status.h"
#include "zoo/tokenizer.h"

bool zoo_is_checkpoint_path(const char *model) {
    struct stat st;
    return strchr(model, '/') || strchr(model, '.') || stat(model, &st) == 0;
}

bool zoo_is_foreign_directory(const char *path) {
    char file[4200];
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    snprintf(file, sizeof file, "%s/latest.safetensors", path);
    return stat(file, &st) != 0;
}

/* The first plugin, in registry order, whose entry declares it imports the
 * directory (zoo_registry_imports_dir: config.json's model_type or a file of
 * its own format, read without opening any plugin) and whose import_config
 * accepts it, loaded, with the hyperparameters it read. Only those plugins
 * are opened: a HuggingFace directory runs no other plugin's code. A plugin
 * may still pass (ZOO_ERR_NOTFOUND: not its variant of the format).
 * ZOO_ERR_NOTFOUND when none does, `asked` then naming the plugins that
 * declare imports ("a, b"; "" for none); another status, with its message,
 * when the directory's plugin cannot be loaded or finds the directory broken. */
static int find_importer(const zoo_registry *r, const char *dir, zoo_loaded **plugin,
                         zoo_hparams **hp, char *asked, size_t asked_size) {
    *plugin = NULL;
    *hp = NULL;
    size_t len = 0;
    asked[0] = '\0';
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        if (e->shadowed || e->error || !e->imports.declared) continue;
        if (len < asked_size)
            len +=
                (size_t)snprintf(asked + len, asked_size - len, "%s%s", len ? ", " : "", e->name);
        if (!zoo_registry_imports_dir(e, dir, false)) continue;
        zoo_loaded *p = NULL;
        int st = zoo_plugin_load(e, &p);
        if (st != ZOO_OK) return st; /* the directory's plugin, refused or broken */
        *hp = zoo_hparams_new(p->plugin->hparams, p->plugin->n_hparams);
        st = *hp ? p->plugin->ops->import_config(dir, *hp) : ZOO_ERR_NOMEM;
        if (st == ZOO_OK) {
            *plugin = p;
            return ZOO_OK;
        }
        zoo_hparams_free(*hp), *hp = NULL;
        zoo_plugin_unload(p);
        if (st != ZOO_ERR_NOTFOUND) return st; /* ours, but broken */
    }
    return ZOO_ERR_NOTFOUND;
}

static void saved_model_close(zoo_saved_model *m) {
    zoo_host_model_destroy(m->model);
    zoo_tokenizer_free(m->tokenizer); /* before the plugins that hold its type's code */
    zoo_plugin_unload(m->plugin);
    zoo_plugin_unload(m->tokenizer_plugin);
    zoo_config_free(m->config);
    zoo_checkpoint_close(m->checkpoint);
    memset(m, 0, sizeof *m);
}

/* Ids past the model's vocabulary would index past its embeddings and its
 * logits (a small model beside the standard 50,257-token GPT-2 vocab.json),
 * so a tokenizer larger than the model's vocab_size is refused at every
 * load: the one of --tokenizer, else `source`'s (`what`: "zoo.tokenizer",
 * "its tokenizer"). ZOO_OK or a status with its message. */
static int tokenizer_fits(const zoo_cli *cli, const char *source, const char *what,
                          const zoo_hparams *hp, const zoo_tokenizer *tok) {
    if (!tok || !zoo_hparams_find(hp, "vocab_size")) return ZOO_OK;
    long long V = (long long)zoo_tokenizer_vocab_size(tok);
    long long model_v = (long long)zoo_hparams_int(hp, "vocab_size");
    if (V <= model_v) return ZOO_OK;
    if (cli->tokenizer)
        return zoo_error(
            ZOO_ERR_FORMAT,
            "--tokenizer %s: its %lld tokens do not fit the model's vocab_size of %lld",
            cli->tokenizer, V, model_v);
    return zoo_error(ZOO_ERR_FORMAT,
                     "%s: %s has %lld tokens, more than the model's vocab_size of %lld", source,
                     what, V, model_v);
}

/* The error for a foreign directory no plugin imports; ZOO_EXIT_FAILURE.
 * A config.json that does not parse is why no plugin's model_type matched:
 * its own error (file, line and column) says more than "no plugin". */
static int no_importer(const zoo_cli *cli, const char *dir, const char *asked) {
    char config[4200];
    struct stat st;
    snprintf(config, sizeof config, "%s/config.json", dir);
    if (stat(config, &st) == 0) {
        zoo_json *doc = zoo_json_load(config);
        if (!doc) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
        zoo_json_free(doc);
    }
    if (!*asked)
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                            "%s: not a zoo run (no latest.safetensors), and no plugin in the "
                            "registry imports foreign models",
                            dir);
    return zoo_cli_fail(cli, ZOO_EXIT_FAILURE,
                        "%s: no plugin imports this directory: it is not a zoo run (no "
                        "latest.safetensors), and no plugin that imports models (%s) reads its "
                        "files",
                        dir, asked);
}

static int find_tokenizer(const zoo_registry *r, const char *dir, zoo_tokenizer **tok,
                          zoo_loaded **plugin);

/* The tokenizer of --tokenizer DIR into out, when given: a zoo run's or
 * checkpoint's own, else tokenizer files read as zoo_foreign_tokenizer_open
 * reads them. ZOO_OK or a status with its message. */
static int tokenizer_option(const zoo_cli *cli, const zoo_registry *r, zoo_saved_model *out) {
    const char *dir = cli->tokenizer;
    if (!dir) return ZOO_OK;
    struct stat sb;
    int st;
    if (stat(dir, &sb) == 0 && !zoo_is_foreign_directory(dir)) {
        zoo_checkpoint *ck = NULL;
        st = zoo_checkpoint_open(dir, &ck);
        if (!st && !ck->tokenizer)
            st = zoo_error(ZOO_ERR_NOTFOUND, "%s: the checkpoint has no tokenizer", dir);
        if (!st)
            st = zoo_tokenizer_restore(r, ck->tokenizer, &out->tokenizer, &out->tokenizer_plugin);
        zoo_checkpoint_close(ck);
    } else {
        st = find_tokenizer(r, dir, &out->tokenizer, &out->tokenizer_plugin);
    }
    return st ? zoo_error(st, "--tokenizer: %s", zoo_error_message()) : ZOO_OK;
}

/* A foreign model directory, imported by its plugin. */
static int open_foreign(const zoo_cli *cli, const zoo_registry *r, const char *dir,
                        zoo_saved_model *out) {
    zoo_hparams *hp = NULL;
    char asked[512];
    int found = find_importer(r, dir, &out->plugin, &hp, asked, sizeof asked);
    if (found == ZOO_ERR_NOTFOUND) return no_importer(cli, dir, asked);
    if (found != ZOO_OK) return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    /* a config as a run would have, for the commands that read one: its
     * training data is the directory itself, whatever files the format has */
    char *text = NULL;
    int st = ZOO_OK;
    long long seq =
        zoo_hparams_find(hp, "block_size") ? (long long)zoo_hparams_int(hp, "block_size") : 64;
    if (asprintf(&text,
                 "{\"model\": {\"plugin\": \"%s\"}, \"data\": {\"train\": \".\", "
                 "\"seq_len\": %lld}, \"train\": {\"steps\": 1, \"batch_size\": 1}}",
                 out->plugin->plugin->name, seq) < 0 ||
        !(out->config = zoo_config_parse(text, "(imported)", dir, NULL, 0)))
        st = ZOO_ERR_FORMAT;
    free(text);
    if (!st) zoo_config_store_model(out->config, hp);
    if (!st && cli->tokenizer) {
        st = tokenizer_option(cli, r, out);
    } else if (!st) { /* its tokenizer, when the directory has one the plugin reads */
        int tst = zoo_plugin_import_tokenizer(out->plugin, dir, &out->tokenizer);
        if (tst == ZOO_ERR_NOTFOUND) { /* which files it looked for, without "DIR: " */
            const char *why = zoo_error_message();
            size_t n = strlen(dir);
            if (strncmp(why, dir, n) == 0 && strncmp(why + n, ": ", 2) == 0) why += n + 2;
            snprintf(out->no_tokenizer, sizeof out->no_tokenizer, "%s",
                     *why ? why : "the plugin found no tokenizer files");
        } else if (tst != ZOO_OK) {
            st = tst;
        }
    }
    if (!st) st = tokenizer_fits(cli, dir, "its tokenizer", hp, out->tokenizer);
    if (st)
        zoo_hparams_free(hp);
    else if ((st = zoo_host_model_create(out->plugin, hp, 0, out->tokenizer, &out->model)) ==
             ZOO_OK)
        st = out->plugin->plugin->ops->import_weights(out->model->model, out->model->params, dir);
    else /* the sizes its config gives: name the directory they came from */
        st = zoo_error(st, "%s: %s", dir, zoo_error_message());
    if (!st && cli->quantize && (st = zoo_model_quantize(out->model)) != ZOO_OK)
        st = zoo_error(st, "%s: %s", dir, zoo_error_message());
    if (st) {
        saved_model_close(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    return ZOO_OK;
}

/* ck's weights into m, quantized (quantize.h) when asked or saved so. */
static int load_weights(const zoo_checkpoint *ck, zoo_host_model *m, bool quantize) {
    int *axes = NULL, st = quantize ? zoo_model_quant_axes(m, &axes) : ZOO_OK;
    if (st) return zoo_error(st, "%s: %s", ck->path, zoo_error_message());
    st = zoo_checkpoint_load_params(ck, m->params, false, axes);
    free(axes);
    return st;
}

/* MODEL with the plugins of r. A directory that is not a zoo run is
 * imported by the first plugin whose import_config accepts it, its
 * tokenizer by that plugin's import_tokenizer (none when it has none or
 * finds none). Prints its own error; ZOO_OK or an exit status. */
static int saved_model_open(const zoo_cli *cli, const zoo_registry *r, const char *model,
                            zoo_saved_model *out) {
    memset(out, 0, sizeof *out);
    if (zoo_is_foreign_directory(model)) return open_foreign(cli, r, model, out);
    zoo_hparams *hp = NULL;
    int st = zoo_checkpoint_open(model, &out->checkpoint);
    const zoo_checkpoint *ck = out->checkpoint;
    if (!st && !(out->config = zoo_config_parse(ck->config, "zoo.config", ck->path, NULL, 0)))
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.config: %s", ck->path, zoo_error_message());
    if (st) {
        saved_model_close(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    char where[4200];
    snprintf(where, sizeof where, "%s: zoo.plugin", ck->path);
    if (!(out->plugin = zoo_cli_load_plugin_at(cli, r, ck->plugin, where))) {
        saved_model_close(out);
        return ZOO_EXIT_FAILURE;
    }
    const zoo_plugin *d = out->plugin->plugin;
    if (!(hp = zoo_hparams_new(d->hparams, d->n_hparams)) ||
        zoo_config_apply_model(out->config, hp))
        st = ZOO_ERR_FORMAT;
    else if (cli->tokenizer)
        st = tokenizer_option(cli, r, out);
    else if (ck->tokenizer && (st = zoo_tokenizer_restore(r, ck->tokenizer, &out->tokenizer,
                                                          &out->tokenizer_plugin)) != ZOO_OK)
        st = zoo_error(st, "%s: zoo.tokenizer: %s", ck->path, zoo_error_message());
    if (!st) st = tokenizer_fits(cli, ck->path, "zoo.tokenizer", hp, out->tokenizer);
    bool quantize = ck->quantization || cli->quantize;
    if (!st) {
        /* every value comes from the checkpoint, so none is drawn first; a
         * quantized model's weights are quantized as they come, and their
         * float32 pages never touched */
        if ((st = zoo_host_model_create_empty(out->plugin, hp, out->tokenizer, &out->model)) ==
            ZOO_OK)
            st = load_weights(ck, out->model, quantize);
        else
            hp = NULL; /* the model took it (and freed it on failure) */
    }
    if (st) {
        if (!out->model) zoo_hparams_free(hp);
        saved_model_close(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message());
    }
    return ZOO_OK;
}

/* The first of `needs` the model lacks, as the end of a sentence; NULL when it has them all. */
static const char *lacking(const zoo_saved_model *m, unsigned needs, char *buf, size_t size) {
    const zoo_plugin *d = m->plugin->plugin;
    if ((needs & ZOO_NEEDS_GENERATE) && !(d->capabilities & ZOO_CAP_DECODE) &&
        d->objective != ZOO_OBJ_CAUSAL_LM)
        snprintf(buf, size,
                 "plugin '%s' cannot generate (it has no decode step and is not a causal "
                 "language model)",
                 d->name);
    else if ((needs & ZOO_NEEDS_FILL_MASK) && !(d->capabilities & ZOO_CAP_FILL_MASK))
        snprintf(buf, size, "plugin '%s' cannot fill masks (it is not a masked language model)",
                 d->name);
    else if ((needs & ZOO_NEEDS_WORD_VECTORS) && d->objective != ZOO_OBJ_WORD_VECTORS)
        snprintf(buf, size,
                 "a '%s' model, which has no static word vectors (VECTORS is a word2vec file or a "
                 "checkpoint of a word-vector model such as word2vec)",
                 d->name);
    else if ((needs & ZOO_NEEDS_TOKENIZER) && !m->tokenizer && *m->no_tokenizer)
        snprintf(buf, size, "no tokenizer: %s; --tokenizer DIR reads them from another directory",
                 m->no_tokenizer);
    else if ((needs & ZOO_NEEDS_TOKENIZER) && !m->tokenizer)
        snprintf(buf, size, "the checkpoint has no tokenizer");
    else
        return NULL;
    return buf;
}

int zoo_cli_open_model(const zoo_cli *cli, const char *model, unsigned needs,
                       zoo_saved_model *out) {
    memset(out, 0, sizeof *out);
    zoo_registry *r = zoo_cli_registry(cli);
    if (!r) return ZOO_EXIT_FAILURE;
    int status = saved_model_open(cli, r, model, out);
    if (status) {
        zoo_registry_free(r);
        return status;
    }
    out->registry = r;
    char why[1024];
    if (lacking(out, needs, why, sizeof why)) {
        zoo_cli_close_model(out);
        return zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s: %s", model, why);
    }
    return 0;
}

void zoo_cli_close_model(zoo_saved_model *m) {
    zoo_registry *r = m->registry; /* after the plugins loaded from its entries */
    saved_model_close(m);
    zoo_registry_free(r);
}

/* zoo_foreign_tokenizer_open without printing: ZOO_OK, or a status with its message. */
static int find_tokenizer(const zoo_registry *r, const char *dir, zoo_tokenizer **tok,
                          zoo_loaded **plugin) {
    *tok = NULL;
    *plugin = NULL;
    zoo_hparams *hp = NULL;
    zoo_loaded *p = NULL;
    char asked[512];
    int st = find_importer(r, dir, &p, &hp, asked, sizeof asked);
    zoo_hparams_free(hp);
    if (st == ZOO_OK) { /* the model's own plugin first, as saved_model_open asks it */
        st = zoo_plugin_import_tokenizer(p, dir, tok);
        if (st == ZOO_OK) {
            *plugin = p;
            return ZOO_OK;
        }
        zoo_plugin_unload(p);
    }
    if (st != ZOO_ERR_NOTFOUND) return st;
    /* tokenizer files alone: the first plugin that declares and reads them;
     * what each missed ("found vocab.json but not merges.txt beside it") when
     * none does */
    char missed[1024] = "";
    size_t n = strlen(dir), at = 0;
    for (int i = 0; i < r->count; i++) {
        const zoo_reg_entry *e = &r->entries[i];
        if (e->shadowed || e->error || !zoo_registry_imports_dir(e, dir, true)) continue;
        if ((st = zoo_plugin_load(e, &p)) != ZOO_OK) return st;
        st = zoo_plugin_import_tokenizer(p, dir, tok);
        if (st == ZOO_OK) {
            *plugin = p;
            return ZOO_OK;
        }
        zoo_plugin_unload(p);
        if (st != ZOO_ERR_NOTFOUND) return st;
        const char *why = zoo_error_message();
        if (strncmp(why, dir, n) == 0 && strncmp(why + n, ": ", 2) == 0) why += n + 2;
        if (*why && strstr(why, "found ") && at < sizeof missed) {
            int k =
                snprintf(missed + at, sizeof missed - at, "%s%s: %s", at ? "; " : "", e->name, why);
            at += k > 0 ? (size_t)k : 0;
        }
    }
    if (*missed)
        return zoo_error(ZOO_ERR_NOTFOUND,
                         "%s: no plugin reads a tokenizer from this directory (%s)", dir, missed);
    return zoo_error(ZOO_ERR_NOTFOUND,
                     "%s: no plugin reads a tokenizer from this directory (zoo info shows which "
                     "plugins can: import-tokenizer among their capabilities)",
                     dir);
}

int zoo_foreign_tokenizer_open(const zoo_cli *cli, const zoo_registry *r, const char *dir,
                               zoo_tokenizer **tok, zoo_loaded **plugin) {
    return find_tokenizer(r, dir, tok, plugin)
               ? zoo_cli_fail(cli, ZOO_EXIT_FAILURE, "%s", zoo_error_message())
               : ZOO_OK;
}
