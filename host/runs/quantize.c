#include "quantize.h"

#include <stdlib.h>

#include "zoo/quant.h"
#include "zoo/status.h"

/* The forward of one sequence of two tokens, recorded on g. */
static int trace_forward(zoo_host_model *m, zoo_graph *g) {
    const zoo_plugin *d = m->plugin->plugin;
    int32_t ids[2] = {0, 0}, ones[2] = {1, 1}, zeros[2] = {0, 0}, ignore[2] = {ZOO_IGNORE, 0};
    int32_t W = zoo_plugin_token_bytes(d), *bytes = NULL;
    if (W > 0) { /* "a" at both positions */
        if (!(bytes = malloc((size_t)(2 * W) * sizeof *bytes)))
            return zoo_error(ZOO_ERR_NOMEM, "out of memory");
        for (int32_t i = 0; i < 2 * W; i++) bytes[i] = i % W == 0 ? 'a' : -1;
    }
    zoo_batch batch = {.size = sizeof batch,
                       .B = 1,
                       .T = 2,
                       .ids = ids,
                       .targets = ignore,
                       .mask = ones,
                       .types = zeros,
                       .labels = zeros,
                       .token_bytes = bytes,
                       .W = W > 0 ? W : 0};
    zoo_graph_set_recording(g, true); /* the tape is what shows each parameter's uses */
    zoo_outputs out = {.size = sizeof out};
    int st = d->ops->forward(m->model, g, &batch, &out);
    if (!st && zoo_graph_status(g)) st = zoo_graph_status(g);
    if (st)
        st = zoo_error(st, "plugin '%s': the forward that finds the weights to quantize failed: %s",
                       d->name, zoo_graph_status(g) ? zoo_graph_error(g) : zoo_error_message());
    free(bytes);
    return st;
}

int zoo_model_quant_axes(zoo_host_model *m, int **axes) {
    *axes = malloc(((size_t)zoo_params_count(m->params) + 1) * sizeof **axes);
    zoo_graph *g = *axes ? zoo_graph_new(0) : NULL;
    int st = g ? trace_forward(m, g) : zoo_error(ZOO_ERR_NOMEM, "out of memory");
    int count = st ? 0 : zoo_quant_axes(g, m->params, *axes);
    if (!st && count < 0) st = ZOO_ERR_NOMEM;
    if (!st && count == 0)
        st = zoo_error(ZOO_ERR_ARG,
                       "plugin '%s' has no linear weights to quantize (int8 quantizes the "
                       "weights of products; lookups stay float32)",
                       m->plugin->plugin->name);
    zoo_graph_free(g);
    if (st) {
        free(*axes);
        *axes = NULL;
    }
    return st;
}

int zoo_model_quantize(zoo_host_model *m) {
    int *axes = NULL, st = zoo_model_quant_axes(m, &axes);
    for (int i = 0; !st && i < zoo_params_count(m->params); i++)
        if (axes[i] >= 0) st = zoo_params_quantize(m->params, zoo_params_at(m->params, i), axes[i]);
    free(axes);
    return st;
}

int zoo_model_quantized_count(const zoo_host_model *m) {
    int n = 0;
    for (int i = 0; i < zoo_params_count(m->params); i++)
        n += zoo_params_at(m->params, i)->value->dtype == ZOO_I8;
    return n;
}
