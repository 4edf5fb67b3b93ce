#include "checkpoint.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quantize.h"
#include "zoo/quant.h"
#include "zoo/status.h"

static int add_param_tensors(zoo_st_writer *w, zoo_params *params, bool with_optim) {
    int st = ZOO_OK;
    for (int i = 0; i < zoo_params_count(params) && !st; i++) {
        zoo_param *p = zoo_params_at(params, i);
        zoo_tensor *t = p->value;
        char name[512];
        int axis = 0;
        const float *scales = zoo_q8_scales(t, &axis);
        st = zoo_st_writer_add(w, p->name, scales ? ZOO_I8 : ZOO_F32, t->ndim, t->shape, t->data);
        if (!st && scales) { /* W_scale: W's shape with 1 along the input axis */
            int64_t shape[ZOO_MAX_DIMS];
            memcpy(shape, t->shape, sizeof shape);
            shape[1 - axis] = 1;
            snprintf(name, sizeof name, "%s%s", p->name, ZOO_QUANT_SCALE_SUFFIX);
            st = zoo_st_writer_add(w, name, ZOO_F32, t->ndim, shape, scales);
        }
        if (!st && with_optim && p->m) {
            snprintf(name, sizeof name, "optim.%s.m", p->name);
            st = zoo_st_writer_add(w, name, ZOO_F32, t->ndim, t->shape, p->m);
        }
        if (!st && with_optim && p->v) {
            snprintf(name, sizeof name, "optim.%s.v", p->name);
            st = zoo_st_writer_add(w, name, ZOO_F32, t->ndim, t->shape, p->v);
        }
    }
    return st;
}

int zoo_checkpoint_save(const char *path, const zoo_host_model *m, const char *config,
                        const char *tokenizer, const zoo_run_state *state, bool with_optim) {
    zoo_st_writer *w = zoo_st_writer_new();
    if (!w) return ZOO_ERR_NOMEM;
    char step[32], rng[96], elapsed[32], tokens[32], world[32];
    snprintf(step, sizeof step, "%" PRId64, state->step);
    snprintf(world, sizeof world, "%" PRId64, state->world_size > 0 ? state->world_size : 1);
    snprintf(tokens, sizeof tokens, "%" PRId64, state->tokens);
    snprintf(rng, sizeof rng, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64,
             state->rng.s[0], state->rng.s[1], state->rng.s[2], state->rng.s[3]);
    snprintf(elapsed, sizeof elapsed, "%.3f", state->elapsed);
    int st = zoo_st_writer_add_metadata(w, "zoo.format", ZOO_CHECKPOINT_FORMAT);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.plugin", m->plugin->plugin->name);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.config", config);
    if (!st && tokenizer) st = zoo_st_writer_add_metadata(w, "zoo.tokenizer", tokenizer);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.step", step);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.rng", rng);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.data_cursor", state->data_cursor);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.elapsed", elapsed);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.tokens", tokens);
    if (!st) st = zoo_st_writer_add_metadata(w, "zoo.world_size", world);
    if (!st && zoo_model_quantized_count(m) > 0)
        st = zoo_st_writer_add_metadata(w, ZOO_QUANT_METADATA, ZOO_QUANT_SCHEME);
    if (!st) st = add_param_tensors(w, m->params, with_optim);
    if (!st) st = zoo_st_writer_write(w, path);
    zoo_st_writer_free(w);
    return st;
}

static int parse_rng(const char *text, zoo_rng *rng) {
    if (!text || strlen(text) != 64) return -1;
    for (int i = 0; i < 4; i++) {
        char part[17];
        memcpy(part, text + 16 * i, 16);
        part[16] = '\0';
        char *end;
        rng->s[i] = strtoull(part, &end, 16);
        if (*end) return -1;
    }
    return 0;
}

/* The checkpoint to use for MODEL: a file as it is, a directory's
 * latest.safetensors. From malloc. */
static char *checkpoint_resolve(const char *model) {
    struct stat st;
    if (stat(model, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *path = NULL;
        if (asprintf(&path, "%s/latest.safetensors", model) < 0) return NULL;
        return path;
    }
    return strdup(model);
}

int zoo_checkpoint_open(const char *model, zoo_checkpoint **out) {
    *out = NULL;
    char *path = checkpoint_resolve(model);
    if (!path) return zoo_error(ZOO_ERR_NOMEM, "out of memory");
    zoo_st_file *f = NULL;
    int st = zoo_st_open(path, &f);
    if (st) {
        free(path);
        return st;
    }
    zoo_checkpoint *ck = calloc(1, sizeof *ck);
    ck->file = f;
    ck->path = path;
    const char *format = zoo_st_metadata(f, "zoo.format");
    ck->plugin = zoo_st_metadata(f, "zoo.plugin");
    ck->config = zoo_st_metadata(f, "zoo.config");
    ck->tokenizer = zoo_st_metadata(f, "zoo.tokenizer");
    ck->quantization = zoo_st_metadata(f, ZOO_QUANT_METADATA);
    const char *step = zoo_st_metadata(f, "zoo.step"), *rng = zoo_st_metadata(f, "zoo.rng");
    const char *cursor = zoo_st_metadata(f, "zoo.data_cursor"),
               *elapsed = zoo_st_metadata(f, "zoo.elapsed"),
               *tokens = zoo_st_metadata(f, "zoo.tokens"),
               *world = zoo_st_metadata(f, "zoo.world_size");
    char *end = NULL;
    if (!format)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: not a zoo checkpoint (no zoo.format in its metadata)",
                       path);
    else if (strcmp(format, ZOO_CHECKPOINT_FORMAT) != 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.format is \"%s\", this zoo reads \"%s\"", path,
                       format, ZOO_CHECKPOINT_FORMAT);
    else if (!ck->plugin || !*ck->plugin)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.plugin: missing", path);
    else if (!ck->config)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.config: missing", path);
    else if (ck->quantization && strcmp(ck->quantization, ZOO_QUANT_SCHEME) != 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: %s is \"%s\", this zoo reads \"%s\"", path,
                       ZOO_QUANT_METADATA, ck->quantization, ZOO_QUANT_SCHEME);
    else if (!step || (ck->state.step = strtoll(step, &end, 10), *end) || ck->state.step < 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.step: expected a non-negative integer", path);
    else if (parse_rng(rng, &ck->state.rng) != 0)
        st = zoo_error(ZOO_ERR_FORMAT, "%s: zoo.rng: expected 64 hexadecimal digits", path);
    if (!st) {
        snprintf(ck->state.data_cursor, sizeof ck->state.data_cursor, "%s", cursor ? cursor : "");
        ck->state.elapsed = elapsed ? strtod(elapsed, NULL) : 0;
        ck->state.tokens = tokens ? strtoll(tokens, NULL, 10) : 0;
        if (ck->state.tokens < 0) ck->state.tokens = 0;
        ck->state.world_size = world ? strtoll(world, NULL, 10) : 1;
        if (ck->state.world_size < 1) ck->state.world_size = 1;
        *out = ck;
    } else {
        zoo_checkpoint_close(ck);
    }
    return st;
}

void zoo_checkpoint_close(zoo_checkpoint *ck) {
    if (!ck) return;
    zoo_st_close(ck->file);
    free(ck->path);
    free(ck);
}

int zoo_checkpoint_trainable(const zoo_checkpoint *ck) {
    if (!ck->quantization) return ZOO_OK;
    return zoo_error(ZOO_ERR_ARG,
                     "%s: a quantized (%s) checkpoint is for inference; train from the float32 "
                     "checkpoint it was made from",
                     ck->path, ck->quantization);
}

/* Reads tensor `name` into out (the shape of `like`). */
static int read_tensor(const zoo_checkpoint *ck, const char *name, const zoo_tensor *like,
                       float *out) {
    int i = zoo_st_find(ck->file, name);
    if (i < 0) return zoo_error(ZOO_ERR_FORMAT, "%s: tensor '%s' is missing", ck->path, name);
    zoo_tensor view = *like;
    view.data = out;
    int st = zoo_st_read_into(ck->file, i, &view);
    zoo_st_evict(ck->file, i);
    return st;
}

/* Parameter p, quantized along axis (-1: the plugin does not use it as a
 * linear weight; -2: the model is not loaded quantized), from tensor i, an
 * I8 one, and its scales. */
static int read_quantized(const zoo_checkpoint *ck, zoo_params *params, zoo_param *p, int i,
                          int axis) {
    const zoo_tensor *t = p->value;
    char name[512];
    snprintf(name, sizeof name, "%s%s", p->name, ZOO_QUANT_SCALE_SUFFIX);
    if (axis == -2)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: tensor '%s' is I8 in a checkpoint without %s: int8 weights come "
                         "from zoo quantize, which marks its files",
                         ck->path, p->name, ZOO_QUANT_METADATA);
    if (t->ndim != 2 || axis < 0)
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: tensor '%s' is I8, but plugin '%s' does not use '%s' as a linear "
                         "weight (only those are quantized)",
                         ck->path, p->name, ck->plugin, p->name);
    int s = zoo_st_find(ck->file, name), ndim = 0;
    const char *dtype = NULL;
    int64_t shape[ZOO_MAX_DIMS], want[2] = {t->shape[0], t->shape[1]};
    want[1 - axis] = 1;
    if (s < 0)
        return zoo_error(ZOO_ERR_FORMAT, "%s: tensor '%s' is I8 but its scales '%s' are missing",
                         ck->path, p->name, name);
    zoo_st_info(ck->file, i, NULL, &ndim, shape);
    if (ndim != 2 || shape[0] != t->shape[0] || shape[1] != t->shape[1])
        return zoo_error(
            ZOO_ERR_FORMAT, "%s: tensor '%s' has shape [%lld,%lld]; the model's is [%lld,%lld]",
            ck->path, p->name, (long long)shape[0], (long long)(ndim > 1 ? shape[1] : 1),
            (long long)t->shape[0], (long long)t->shape[1]);
    zoo_st_info(ck->file, s, &dtype, &ndim, shape);
    if (strcmp(dtype, "F32") != 0 || ndim != 2 || shape[0] != want[0] || shape[1] != want[1])
        return zoo_error(ZOO_ERR_FORMAT,
                         "%s: tensor '%s' must be F32 of shape [%lld,%lld] (one scale per output "
                         "channel of '%s'), not %s of %lld elements",
                         ck->path, name, (long long)want[0], (long long)want[1], p->name, dtype,
                         (long long)zoo_st_numel(ck->file, s));
    int64_t channels = t->shape[axis];
    float *scales = malloc((size_t)channels * sizeof *scales);
    if (!scales) return zoo_error(ZOO_ERR_NOMEM, "out of memory for %s", name);
    int st = zoo_st_read_f32(ck->file, s, scales, channels);
    if (!st) {
        st = zoo_params_set_quantized(params, p, axis, zoo_st_data(ck->file, i, NULL), scales);
        zoo_st_evict(ck->file, i);
        if (st) st = zoo_error(st, "%s: %s", ck->path, zoo_error_message());
    }
    free(scales);
    return st;
}

int zoo_checkpoint_load_params(const zoo_checkpoint *ck, zoo_params *params, bool with_optim,
                               const int *axes) {
    for (int i = 0; i < zoo_params_count(params); i++) {
        zoo_param *p = zoo_params_at(params, i);
        int k = zoo_st_find(ck->file, p->name);
        const char *dtype = NULL;
        if (k >= 0) zoo_st_info(ck->file, k, &dtype, NULL, NULL);
        int st = dtype && strcmp(dtype, "I8") == 0
                     ? read_quantized(ck, params, p, k, axes ? axes[i] : -2)
                     : read_tensor(ck, p->name, p->value, p->value->data);
        if (!st && axes && axes[i] >= 0 && p->value->dtype == ZOO_F32) /* --quantize */
            st = zoo_params_quantize(params, p, axes[i]);
        if (st) return st;
        if (!with_optim) continue;
        char name[512];
        float **slots[2] = {&p->m, &p->v};
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "optim.%s.%c", p->name, k ? 'v' : 'm');
            if (zoo_st_find(ck->file, name) < 0) continue;
            if (!*slots[k] && !(*slots[k] = calloc((size_t)p->value->numel, sizeof(float))))
                return zoo_error(ZOO_ERR_NOMEM, "out of memory for %s", name);
            if ((st = read_tensor(ck, name, p->value, *slots[k]))) return st;
        }
    }
    return ZOO_OK;
}

/* step-DIGITS.safetensors: *step gets DIGITS. */
static bool is_step_name(const char *name, size_t len, long long *step) {
    static const char prefix[] = "step-", suffix[] = ".safetensors";
    size_t p = sizeof prefix - 1, q = sizeof suffix - 1;
    if (len <= p + q || strncmp(name, prefix, p) != 0 || strncmp(name + len - q, suffix, q) != 0)
        return false;
    long long s = 0;
    for (size_t i = p; i < len - q; i++) {
        if (!isdigit((unsigned char)name[i]) || s > (LLONG_MAX - 9) / 10) return false;
        s = s * 10 + (name[i] - '0');
    }
    *step = s;
    return true;
}

/* A checkpoint's temporary: C.tmp.XXXXXX (mkstemp's six letters or digits)
 * with C latest.safetensors or a step file, or latest.safetensors.tmp. */
static bool is_temporary(const char *name) {
    static const char latest[] = "latest.safetensors";
    if (strcmp(name, "latest.safetensors.tmp") == 0) return true;
    const char *tmp = strstr(name, ".tmp.");
    if (!tmp || strlen(tmp + 5) != 6) return false;
    for (const char *c = tmp + 5; *c; c++)
        if (!isalnum((unsigned char)*c)) return false;
    size_t len = (size_t)(tmp - name);
    long long step;
    return (len == sizeof latest - 1 && strncmp(name, latest, len) == 0) ||
           is_step_name(name, len, &step);
}

typedef struct step_file {
    long long step;
    char name[256];
} step_file;

static int compare_steps(const void *a, const void *b) {
    long long x = ((const step_file *)a)->step, y = ((const step_file *)b)->step;
    return (x > y) - (x < y);
}

/* Removes the temporaries and, keep >= 0, the step files but the newest keep. */
static int sweep(const char *run_dir, int64_t keep) {
    DIR *d = opendir(run_dir);
    if (!d) return 0;
    char path[4200];
    struct stat latest;
    snprintf(path, sizeof path, "%s/latest.safetensors", run_dir);
    bool has_latest = stat(path, &latest) == 0;
    int removed = 0, n = 0, cap = 0;
    step_file *steps = NULL;
    for (struct dirent *e; (e = readdir(d));) {
        long long s;
        if (is_temporary(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
            removed += unlink(path) == 0;
        } else if (keep >= 0 && is_step_name(e->d_name, strlen(e->d_name), &s)) {
            if (n == cap) {
                step_file *more = realloc(steps, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *more);
                if (!more) { /* a partial list could name newer files as older: prune none */
                    keep = -1;
                    continue;
                }
                steps = more;
            }
            steps[n].step = s;
            snprintf(steps[n++].name, sizeof steps->name, "%s", e->d_name);
        }
    }
    closedir(d);
    if (n > 1) qsort(steps, (size_t)n, sizeof *steps, compare_steps);
    for (int i = 0; keep >= 0 && i + keep < n; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", run_dir, steps[i].name);
        if (has_latest && stat(path, &st) == 0 && st.st_dev == latest.st_dev &&
            st.st_ino == latest.st_ino)
            continue; /* latest's data: removing this name frees nothing */
        removed += unlink(path) == 0;
    }
    free(steps);
    return removed;
}

int zoo_checkpoint_remove_temporaries(const char *run_dir) {
    return sweep(run_dir, -1);
}

int zoo_checkpoint_prune(const char *run_dir, int64_t keep) {
    return sweep(run_dir, keep < 0 ? 0 : keep);
}
